# What the app reads back (dms_tui/provision/outputs.py OUTPUT_NAMES). Secrets appear only as ARNs.

output "source_vpc_id" {
  description = "ID of the source VPC."
  value       = module.vpc["source"].vpc_id
}

output "source_vpc_cidr" {
  description = "CIDR of the source VPC."
  value       = module.vpc["source"].vpc_cidr
}

output "source_cluster_identifier" {
  description = "Aurora cluster identifier of the source database."
  value       = module.source_db.cluster_identifier
}

output "source_database_name" {
  description = "Database name on the source side."
  value       = module.source_db.database_name
}

output "source_port" {
  description = "PostgreSQL port of the source database."
  value       = module.source_db.port
}

output "source_secret_arn" {
  description = "ARN of the source credentials secret (never its value)."
  value       = module.source_db.secret_arn
}

output "source_nlb_arn" {
  description = "ARN of the internal NLB in front of the source writer."
  value       = module.source_link.nlb_arn
}

output "source_target_group_arn" {
  description = "ARN of the source NLB target group (writer address)."
  value       = module.source_link.target_group_arn
}

output "source_endpoint_service_id" {
  description = "ID of the source VPC endpoint service."
  value       = module.source_link.endpoint_service_id
}

output "source_vpc_endpoint_id" {
  description = "ID of the source interface endpoint in the DMS VPC."
  value       = module.source_link.vpc_endpoint_id
}

output "source_endpoint_dns_name" {
  description = "DNS name DMS connects to for the source database (interface endpoint in the DMS VPC)."
  value       = module.source_link.endpoint_dns_name
}

output "source_dms_endpoint_arn" {
  description = "ARN of the DMS source endpoint."
  value       = module.dms.source_endpoint_arn
}

output "target_vpc_id" {
  description = "ID of the target VPC."
  value       = module.vpc["target"].vpc_id
}

output "target_vpc_cidr" {
  description = "CIDR of the target VPC."
  value       = module.vpc["target"].vpc_cidr
}

output "target_cluster_identifier" {
  description = "Aurora cluster identifier of the target database."
  value       = module.target_db.cluster_identifier
}

output "target_database_name" {
  description = "Database name on the target side."
  value       = module.target_db.database_name
}

output "target_port" {
  description = "PostgreSQL port of the target database."
  value       = module.target_db.port
}

output "target_secret_arn" {
  description = "ARN of the target credentials secret (never its value)."
  value       = module.target_db.secret_arn
}

output "target_nlb_arn" {
  description = "ARN of the internal NLB in front of the target writer."
  value       = module.target_link.nlb_arn
}

output "target_target_group_arn" {
  description = "ARN of the target NLB target group (writer address)."
  value       = module.target_link.target_group_arn
}

output "target_endpoint_service_id" {
  description = "ID of the target VPC endpoint service."
  value       = module.target_link.endpoint_service_id
}

output "target_vpc_endpoint_id" {
  description = "ID of the target interface endpoint in the DMS VPC."
  value       = module.target_link.vpc_endpoint_id
}

output "target_endpoint_dns_name" {
  description = "DNS name DMS connects to for the target database (interface endpoint in the DMS VPC)."
  value       = module.target_link.endpoint_dns_name
}

output "target_dms_endpoint_arn" {
  description = "ARN of the DMS target endpoint."
  value       = module.dms.target_endpoint_arn
}

output "dms_vpc_id" {
  description = "ID of the DMS VPC."
  value       = module.vpc["dms"].vpc_id
}

output "dms_vpc_cidr" {
  description = "CIDR of the DMS VPC."
  value       = module.vpc["dms"].vpc_cidr
}

output "dms_replication_instance_arn" {
  description = "ARN of the DMS replication instance."
  value       = module.dms.replication_instance_arn
}

output "dms_access_role_arn" {
  description = "ARN of the role DMS assumes to read the credential secrets."
  value       = module.dms.access_role_arn
}

output "bastion_instance_id" {
  description = "ID of the bastion (aws ssm start-session --target <id>)."
  value       = module.bastion.instance_id
}

output "bastion_wheelhouse_bucket" {
  description = "Bucket the bastion installs dms-tui from (dms-tui bastion ship uploads the wheelhouse there)."
  value       = module.wheelhouse.bucket_name
}

output "region" {
  description = "AWS region of the deployment."
  value       = var.aws_region
}

output "assessment_bucket" {
  description = "Bucket DMS premigration assessment runs write their results to."
  value       = module.assessment.bucket_name
}

output "assessment_role_arn" {
  description = "ARN of the role DMS assumes to write premigration assessment results."
  value       = module.assessment.role_arn
}
