# Wires the architecture: three isolated VPCs (their CIDRs may overlap), an Aurora cluster in the source VPC standing
# in for the on-premises database, an Aurora target, PrivateLink from the DMS VPC to each database VPC, DMS, and a
# Session Manager bastion in the DMS VPC.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name_prefix = var.environment
  # The sandbox override sets this to false: moto creates no network interfaces for RDS instances, so there is no
  # writer address to register (the sandbox's TCP forwarders stand in for NLB + PrivateLink).
  register_writer_targets = true
  account_root            = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
}

module "vpc" {
  source   = "../modules/network"
  for_each = var.vpcs

  name_prefix     = local.name_prefix
  name            = each.value.name
  cidr            = each.value.cidr
  azs             = each.value.azs
  private_subnets = each.value.private_subnets
}

# logical_replication follows the migration type chosen before Provision (Configure, or `dms-tui config
# migration-type`): on for full-load-and-cdc and cdc, off for full-load. It is chosen before the first apply because
# rds.logical_replication is static: changing it later means applying again and rebooting the writer. The Migrate
# step's CDC prerequisites read it from the source and say so when a CDC task meets a source that has it off.
module "source_db" {
  source = "../modules/aurora"

  name_prefix         = local.name_prefix
  database            = var.source_db
  vpc_id              = module.vpc["source"].vpc_id
  subnet_ids          = module.vpc["source"].private_subnet_ids
  allowed_cidrs       = var.vpcs.source.private_subnets
  connection_host     = module.source_link.endpoint_dns_name
  logical_replication = var.migration_type != "full-load" # full-load-and-cdc and cdc capture changes
}

module "target_db" {
  source = "../modules/aurora"

  name_prefix     = local.name_prefix
  database        = var.target_db
  vpc_id          = module.vpc["target"].vpc_id
  subnet_ids      = module.vpc["target"].private_subnet_ids
  allowed_cidrs   = var.vpcs.target.private_subnets
  connection_host = module.target_link.endpoint_dns_name
}

module "source_link" {
  source = "../modules/privatelink"

  name_prefix               = local.name_prefix
  name                      = "source"
  vpc_id                    = module.vpc["source"].vpc_id
  subnet_ids                = module.vpc["source"].private_subnet_ids
  port                      = var.source_db.port
  register_writer           = local.register_writer_targets
  cluster_security_group_id = module.source_db.security_group_id
  writer_instance_id        = module.source_db.writer_instance_identifier
  allowed_principals        = [local.account_root]
  consumer_vpc_id           = module.vpc["dms"].vpc_id
  consumer_subnet_ids       = module.vpc["dms"].private_subnet_ids
  consumer_cidr             = var.vpcs.dms.cidr
}

module "target_link" {
  source = "../modules/privatelink"

  name_prefix               = local.name_prefix
  name                      = "target"
  vpc_id                    = module.vpc["target"].vpc_id
  subnet_ids                = module.vpc["target"].private_subnet_ids
  port                      = var.target_db.port
  register_writer           = local.register_writer_targets
  cluster_security_group_id = module.target_db.security_group_id
  writer_instance_id        = module.target_db.writer_instance_identifier
  allowed_principals        = [local.account_root]
  consumer_vpc_id           = module.vpc["dms"].vpc_id
  consumer_subnet_ids       = module.vpc["dms"].private_subnet_ids
  consumer_cidr             = var.vpcs.dms.cidr
}

module "dms" {
  source = "../modules/dms"

  name_prefix          = local.name_prefix
  region               = var.aws_region
  vpc_id               = module.vpc["dms"].vpc_id
  vpc_cidr             = module.vpc["dms"].vpc_cidr
  subnet_ids           = module.vpc["dms"].private_subnet_ids
  instance_class       = var.dms_replication_instance_class
  allocated_storage    = var.dms_allocated_storage
  create_service_roles = var.create_dms_service_roles
  database_ports       = [var.source_db.port, var.target_db.port]
  secret_arns          = [module.source_db.secret_arn, module.target_db.secret_arn]
  source_secret_arn    = module.source_db.secret_arn
  target_secret_arn    = module.target_db.secret_arn
  source_database_name = var.source_db.database_name
  target_database_name = var.target_db.database_name
}

module "bastion" {
  source = "../modules/bastion"

  name_prefix                     = local.name_prefix
  region                          = var.aws_region
  vpc_id                          = module.vpc["dms"].vpc_id
  vpc_cidr                        = module.vpc["dms"].vpc_cidr
  subnet_ids                      = module.vpc["dms"].private_subnet_ids
  route_table_id                  = module.vpc["dms"].private_route_table_id
  aws_endpoints_security_group_id = module.dms.aws_endpoints_security_group_id
  instance_type                   = var.bastion_instance_type
  database_ports                  = [var.source_db.port, var.target_db.port]
  secret_arns                     = [module.source_db.secret_arn, module.target_db.secret_arn]
  wheelhouse_bucket_name          = module.wheelhouse.bucket_name
  wheelhouse_bucket_arn           = module.wheelhouse.bucket_arn
}

# The bucket the bastion installs dms-tui from (`dms-tui bastion ship` uploads the wheelhouse).
module "wheelhouse" {
  source = "../modules/wheelhouse"

  name_prefix        = local.name_prefix
  region             = var.aws_region
  reader_role_arn    = module.bastion.role_arn
  s3_vpc_endpoint_id = module.bastion.s3_vpc_endpoint_id
}

# The bucket and role a DMS premigration assessment run writes its results with (`dms-tui task assess` on AWS).
module "assessment" {
  source = "../modules/assessment"

  name_prefix = local.name_prefix
  region      = var.aws_region
}
