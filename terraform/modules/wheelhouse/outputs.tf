output "bucket_name" {
  description = "Name of the wheelhouse bucket (dms-tui bastion ship uploads there)."
  value       = aws_s3_bucket.wheelhouse.bucket
}

output "bucket_arn" {
  description = "ARN of the wheelhouse bucket."
  value       = aws_s3_bucket.wheelhouse.arn
}
