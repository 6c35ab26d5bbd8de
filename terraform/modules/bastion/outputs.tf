output "instance_id" {
  description = "ID of the bastion instance (aws ssm start-session --target <id>)."
  value       = aws_instance.bastion.id
}

output "role_arn" {
  description = "ARN of the bastion's IAM role."
  value       = aws_iam_role.bastion.arn
}

output "s3_vpc_endpoint_id" {
  description = "ID of the S3 gateway endpoint of the DMS VPC (the wheelhouse is read only through it)."
  value       = aws_vpc_endpoint.s3.id
}
