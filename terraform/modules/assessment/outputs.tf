output "bucket_name" {
  description = "Name of the bucket DMS writes premigration assessment results to (ResultLocationBucket)."
  value       = aws_s3_bucket.results.bucket
}

output "role_arn" {
  description = "ARN of the role DMS assumes to write assessment results (ServiceAccessRoleArn)."
  value       = aws_iam_role.assessment.arn
  # The role is usable only once its policy is attached.
  depends_on = [aws_iam_role_policy.assessment]
}
