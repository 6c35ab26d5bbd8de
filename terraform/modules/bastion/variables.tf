variable "name_prefix" {
  type        = string
  description = "Prefix for resource names (the environment)."
}

variable "region" {
  type        = string
  description = "AWS region (interface endpoint service names, ARNs)."
}

variable "vpc_id" {
  type        = string
  description = "The DMS VPC, where the bastion runs."
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR of the DMS VPC."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets of the DMS VPC; the bastion uses the first, the SSM endpoints all of them."
}

variable "route_table_id" {
  type        = string
  description = "Private route table of the DMS VPC (S3 gateway endpoint)."
}

variable "aws_endpoints_security_group_id" {
  type        = string
  description = "Security group allowing HTTPS from the VPC to AWS interface endpoints."
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type of the bastion."
}

variable "database_ports" {
  type        = list(number)
  description = "PostgreSQL ports reachable through the interface endpoints."
}

variable "secret_arns" {
  type        = list(string)
  description = "Credential secrets the wizard on the bastion may read."
}

variable "wheelhouse_bucket_name" {
  type        = string
  description = "Bucket holding the wheelhouse the bastion installs dms-tui from (no package index)."
}

variable "wheelhouse_bucket_arn" {
  type        = string
  description = "ARN of the wheelhouse bucket (the role may read it)."
}

variable "wheelhouse_prefix" {
  type        = string
  description = "Key prefix of the wheelhouse in the bucket."
  default     = "wheelhouse"
}
