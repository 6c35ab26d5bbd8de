variable "name_prefix" {
  type        = string
  description = "Prefix for resource names (the environment)."
}

variable "region" {
  type        = string
  description = "AWS region (selects the regional DMS service principal and endpoint service names)."
}

variable "vpc_id" {
  type        = string
  description = "The DMS VPC."
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR of the DMS VPC (the interface endpoints live in it)."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets of the DMS VPC (at least two AZs)."
}

variable "instance_class" {
  type        = string
  description = "Replication instance class."
}

variable "allocated_storage" {
  type        = number
  description = "Replication instance storage in GiB."
}

variable "create_service_roles" {
  type        = bool
  description = "Create the account-wide dms-vpc-role and dms-cloudwatch-logs-role."
}

variable "database_ports" {
  type        = list(number)
  description = "PostgreSQL ports of the source and target (egress from the replication instance)."
}

variable "secret_arns" {
  type        = list(string)
  description = "Credential secrets the DMS access role may read."
}

variable "source_secret_arn" {
  type        = string
  description = "Secret holding the source credentials (username, password, host, port, dbname)."
}

variable "target_secret_arn" {
  type        = string
  description = "Secret holding the target credentials (username, password, host, port, dbname)."
}

variable "source_database_name" {
  type        = string
  description = "Database to migrate from."
}

variable "target_database_name" {
  type        = string
  description = "Database to migrate into."
}
