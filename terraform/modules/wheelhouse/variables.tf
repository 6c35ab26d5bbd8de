variable "name_prefix" {
  type        = string
  description = "Prefix for resource names (the environment)."
}

variable "region" {
  type        = string
  description = "AWS region (part of the bucket name, which must be unique across all accounts)."
}

variable "reader_role_arn" {
  type        = string
  description = "ARN of the bastion's IAM role: the only principal that may read the wheelhouse."
}

variable "s3_vpc_endpoint_id" {
  type        = string
  description = "ID of the S3 gateway endpoint of the DMS VPC: the only network path the wheelhouse is read through."
}
