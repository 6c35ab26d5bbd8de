# The wheelhouse bucket: dms-tui and every dependency, built for the bastion's platform, uploaded by
# `dms-tui bastion ship` and installed by the bastion with `pip install --no-index --find-links`. The DMS VPC has no
# NAT, so this bucket (reached through the VPC's S3 gateway endpoint) is how the tool gets onto the bastion.
# Private, encrypted, TLS only, readable only by the bastion's role and only through the gateway endpoint.
# bucket_policy.json.tftpl is the one text of the policy: dms_tui.bastion.bucket renders the same file.

data "aws_caller_identity" "current" {}

locals {
  # The name dms_tui.bastion.bucket.bucket_name() computes from the environment, account and region.
  bucket_name = "${var.name_prefix}-dms-tui-${data.aws_caller_identity.current.account_id}-${var.region}"
}

resource "aws_s3_bucket" "wheelhouse" {
  #checkov:skip=CKV_AWS_18:access logs would need a second bucket; the objects are public open-source packages
  #checkov:skip=CKV_AWS_144:cross-region replication is pointless: `dms-tui bastion ship` rebuilds the contents
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES-256) encrypts at rest; a KMS key would cost monthly for public packages
  #checkov:skip=CKV2_AWS_62:nothing reacts to uploads: the bastion installs when `bastion ship` tells it to
  bucket        = local.bucket_name
  force_destroy = true # cleanup's terraform destroy removes the uploaded wheels with the bucket
}

resource "aws_s3_bucket_public_access_block" "wheelhouse" {
  bucket                  = aws_s3_bucket.wheelhouse.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "wheelhouse" {
  bucket = aws_s3_bucket.wheelhouse.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "wheelhouse" {
  bucket = aws_s3_bucket.wheelhouse.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "wheelhouse" {
  bucket = aws_s3_bucket.wheelhouse.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "wheelhouse" {
  bucket = aws_s3_bucket.wheelhouse.id
  rule {
    id     = "old-wheelhouses"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.wheelhouse]
}

resource "aws_s3_bucket_policy" "wheelhouse" {
  bucket = aws_s3_bucket.wheelhouse.id
  policy = templatefile("${path.module}/bucket_policy.json.tftpl", {
    bucket_arn         = aws_s3_bucket.wheelhouse.arn
    reader_role_arn    = var.reader_role_arn
    s3_vpc_endpoint_id = var.s3_vpc_endpoint_id
  })

  depends_on = [aws_s3_bucket_public_access_block.wheelhouse]
}
