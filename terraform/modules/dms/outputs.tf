output "replication_instance_arn" {
  description = "ARN of the replication instance."
  value       = aws_dms_replication_instance.this.replication_instance_arn
}

output "access_role_arn" {
  description = "ARN of the role DMS assumes to read the credential secrets."
  value       = aws_iam_role.secrets_access.arn
}

output "source_endpoint_arn" {
  description = "ARN of the DMS source endpoint."
  value       = aws_dms_endpoint.source.endpoint_arn
}

output "target_endpoint_arn" {
  description = "ARN of the DMS target endpoint."
  value       = aws_dms_endpoint.target.endpoint_arn
}

output "security_group_id" {
  description = "Security group of the replication instance."
  value       = aws_security_group.replication.id
}

output "aws_endpoints_security_group_id" {
  description = "Security group for AWS service interface endpoints in the DMS VPC (HTTPS from the VPC)."
  value       = aws_security_group.aws_endpoints.id
}
