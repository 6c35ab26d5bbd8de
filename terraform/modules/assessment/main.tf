# What a DMS premigration assessment run needs (`dms-tui task assess`, StartReplicationTaskAssessmentRun): a bucket
# DMS writes each individual assessment's JSON result to, and a role DMS assumes to write there
# (ServiceAccessRoleArn). Private, encrypted, versioned, TLS only; the role may touch this bucket and nothing else.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  # Bucket names are global: the environment, the account and the region make this one unique.
  bucket_name   = "${var.name_prefix}-dms-assessments-${data.aws_caller_identity.current.account_id}-${var.region}"
  dms_principal = "dms.${data.aws_partition.current.dns_suffix}"
}

resource "aws_s3_bucket" "results" {
  #checkov:skip=CKV_AWS_18:access logs would need a second bucket; only DMS writes here, through the role below
  #checkov:skip=CKV_AWS_144:cross-region replication is pointless: an assessment run is repeated in minutes
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES-256) encrypts at rest; the results describe schemas, not row data
  #checkov:skip=CKV2_AWS_62:nothing reacts to new results: dms-tui reads them through the DMS API
  bucket        = local.bucket_name
  force_destroy = true # cleanup's terraform destroy removes the results with the bucket
}

resource "aws_s3_bucket_public_access_block" "results" {
  bucket                  = aws_s3_bucket.results.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "results" {
  bucket = aws_s3_bucket.results.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "results" {
  bucket = aws_s3_bucket.results.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "results" {
  bucket = aws_s3_bucket.results.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "results" {
  bucket = aws_s3_bucket.results.id
  rule {
    id     = "old-assessment-results"
    status = "Enabled"
    filter {}
    expiration {
      days = var.results_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.results]
}

resource "aws_s3_bucket_policy" "results" {
  bucket = aws_s3_bucket.results.id
  policy = data.aws_iam_policy_document.results_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.results]
}

data "aws_iam_policy_document" "results_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.results.arn, "${aws_s3_bucket.results.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# --- The role DMS assumes to write the results ----------------------------------------------------------------

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [local.dms_principal]
    }
  }
}

# The permissions the DMS user guide lists for a premigration assessment's ServiceAccessRoleArn, on this bucket only.
data "aws_iam_policy_document" "write_results" {
  statement {
    sid       = "WriteAssessmentResults"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:GetObject", "s3:PutObjectTagging"]
    resources = ["${aws_s3_bucket.results.arn}/*"]
  }
  statement {
    sid       = "FindTheBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.results.arn]
  }
}

resource "aws_iam_role" "assessment" {
  name_prefix        = "${var.name_prefix}-dms-assess-"
  description        = "Lets DMS write premigration assessment results to the environment's assessment bucket"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy" "assessment" {
  name   = "write-assessment-results"
  role   = aws_iam_role.assessment.id
  policy = data.aws_iam_policy_document.write_results.json
}
