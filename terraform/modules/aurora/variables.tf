variable "name_prefix" {
  type        = string
  description = "Prefix for resource names (the environment)."
}

variable "database" {
  type = object({
    cluster_name    = string
    engine_version  = string
    instance_class  = string
    database_name   = string
    master_username = string
    port            = number
  })
  description = "Cluster settings (source_db or target_db of the root module)."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cluster."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the DB subnet group (at least two AZs)."
}

variable "allowed_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach the cluster port: the subnets the NLB sits in."
}

variable "connection_host" {
  type        = string
  description = "Host name DMS connects to (the interface endpoint DNS name in the DMS VPC); stored in the secret."
}

variable "logical_replication" {
  type        = bool
  description = "Turn on rds.logical_replication (needed on a DMS CDC source)."
  default     = false
}

variable "credentials_version" {
  type        = number
  description = "Version of the write-only password; bump to rotate the password in the cluster and the secret together."
  default     = 1
}
