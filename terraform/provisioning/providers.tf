# The sandbox replaces this block's connection settings with a standard sandbox_override.tf (moto on loopback);
# on AWS the credentials come from the environment or the named profile, never from this bundle.
provider "aws" {
  region = var.aws_region

  default_tags {
    tags = var.tags
  }
}
