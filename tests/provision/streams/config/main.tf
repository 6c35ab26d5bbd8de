# A tiny stand-in for the bundle, used only to record real `terraform -json` streams against moto
# (tests/provision/record_streams.py). Two local modules so planned changes carry module addresses.
terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

variable "endpoint" {
  type        = string
  description = "moto server URL every AWS service is pointed at"
}

variable "subnet_cidrs" {
  type        = list(string)
  description = "private subnets of the recording VPC"
  default     = ["10.0.1.0/24", "10.0.2.0/24"]
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    ec2            = var.endpoint
    secretsmanager = var.endpoint
    sts            = var.endpoint
    iam            = var.endpoint
  }
}

module "network" {
  source       = "./modules/network"
  cidr         = "10.0.0.0/16"
  subnet_cidrs = var.subnet_cidrs
}

module "secrets" {
  source = "./modules/secrets"
  names  = ["source", "target"]
}

resource "aws_security_group" "dms" {
  name        = "record-dms"
  description = "recording only"
  vpc_id      = module.network.vpc_id
}

output "vpc_id" {
  value = module.network.vpc_id
}

output "secret_arns" {
  value = module.secrets.arns
}
