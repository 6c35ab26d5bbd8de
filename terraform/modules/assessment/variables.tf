variable "name_prefix" {
  type        = string
  description = "Prefix for resource names (the environment)."
}

variable "region" {
  type        = string
  description = "AWS region (part of the bucket name, which must be unique across all accounts)."
}

variable "results_retention_days" {
  type        = number
  description = "Days an assessment result is kept before S3 expires it."
  default     = 90

  validation {
    condition     = var.results_retention_days >= 1
    error_message = "results_retention_days must be at least 1."
  }
}
