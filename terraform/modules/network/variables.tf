variable "name_prefix" {
  type        = string
  description = "Prefix for resource names (the environment)."
}

variable "name" {
  type        = string
  description = "Name of this VPC, e.g. onprem-source."
}

variable "cidr" {
  type        = string
  description = "IPv4 CIDR of the VPC."
}

variable "azs" {
  type        = list(string)
  description = "Availability zones, one per private subnet."
}

variable "private_subnets" {
  type        = list(string)
  description = "Private subnet CIDRs, one per availability zone."
}
