# Write-only attributes (master_password_wo, secret_string_wo) need terraform >= 1.11; only the aws provider is
# used so the bundle installs offline from a filesystem mirror.
terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
