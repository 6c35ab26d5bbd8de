output "nlb_arn" {
  description = "ARN of the internal NLB."
  value       = aws_lb.this.arn
}

output "target_group_arn" {
  description = "ARN of the target group holding the writer's address."
  value       = aws_lb_target_group.writer.arn
}

output "endpoint_service_id" {
  description = "ID of the VPC endpoint service."
  value       = aws_vpc_endpoint_service.this.id
}

output "vpc_endpoint_id" {
  description = "ID of the interface endpoint in the DMS VPC."
  value       = aws_vpc_endpoint.this.id
}

output "endpoint_dns_name" {
  description = "Regional DNS name of the interface endpoint: the host DMS connects to."
  value       = aws_vpc_endpoint.this.dns_entry[0].dns_name
}
