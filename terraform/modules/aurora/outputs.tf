output "cluster_identifier" {
  description = "Aurora cluster identifier."
  value       = aws_rds_cluster.this.cluster_identifier
}

output "cluster_arn" {
  description = "Aurora cluster ARN."
  value       = aws_rds_cluster.this.arn
}

output "writer_instance_identifier" {
  description = "Identifier of the writer instance."
  value       = aws_rds_cluster_instance.writer.identifier
}

output "security_group_id" {
  description = "Security group of the cluster."
  value       = aws_security_group.cluster.id
}

output "database_name" {
  description = "Database DMS migrates."
  value       = aws_rds_cluster.this.database_name
}

output "port" {
  description = "PostgreSQL port of the cluster."
  value       = aws_rds_cluster.this.port
}

output "secret_arn" {
  description = "ARN of the credentials secret (the value is never an output)."
  value       = aws_secretsmanager_secret.credentials.arn
}
