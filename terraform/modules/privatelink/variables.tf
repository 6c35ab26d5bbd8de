variable "name_prefix" {
  type        = string
  description = "Prefix for resource names (the environment)."
}

variable "name" {
  type        = string
  description = "Short name of the database side, e.g. source or target."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the database (where the NLB lives)."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets of the database VPC for the NLB."
}

variable "port" {
  type        = number
  description = "PostgreSQL port (listener, target and endpoint)."
}

variable "register_writer" {
  type        = bool
  description = "Look up the writer's network interface and register its address as the NLB target (false in the sandbox, where moto has no RDS interfaces)."
  default     = true
}

variable "cluster_security_group_id" {
  type        = string
  description = "Security group of the Aurora cluster (finds the writer's network interface)."
}

variable "writer_instance_id" {
  type        = string
  description = "Identifier of the writer instance (orders the interface lookup after the instance exists)."
}

variable "allowed_principals" {
  type        = list(string)
  description = "Principals allowed to connect to the endpoint service (this account)."
}

variable "consumer_vpc_id" {
  type        = string
  description = "VPC of the interface endpoint (the DMS VPC)."
}

variable "consumer_subnet_ids" {
  type        = list(string)
  description = "Subnets of the interface endpoint in the DMS VPC."
}

variable "consumer_cidr" {
  type        = string
  description = "CIDR allowed to reach the interface endpoint (the DMS VPC)."
}
