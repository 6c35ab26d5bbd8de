# An Aurora PostgreSQL cluster (one writer) plus the Secrets Manager secret DMS reads its credentials from.
#
# The master password never touches tfvars, state or outputs: an ephemeral random password is generated for the
# run and handed only to write-only attributes (master_password_wo, secret_string_wo). Both carry the same
# credentials_version; bump it to rotate the password in the cluster and the secret in one apply (also needed if
# the interface endpoint DNS name stored in the secret ever changes).

locals {
  name          = "${var.name_prefix}-${var.database.cluster_name}"
  major_version = split(".", var.database.engine_version)[0]
}

ephemeral "aws_secretsmanager_random_password" "master" {
  password_length = 32
  # Aurora refuses '/', '@', '"' and spaces in master passwords; letters and digits avoid quoting issues in URLs.
  exclude_punctuation        = true
  require_each_included_type = true
}

resource "aws_db_subnet_group" "this" {
  name        = local.name
  description = "Private subnets of ${local.name}"
  subnet_ids  = var.subnet_ids
}

resource "aws_security_group" "cluster" {
  name        = "${local.name}-aurora"
  description = "PostgreSQL from the NLB subnets of ${local.name} only"
  vpc_id      = var.vpc_id

  tags = { Name = "${local.name}-aurora" }
}

# The NLB (IP targets) connects from its own private addresses in these subnets; nothing else reaches the cluster.
resource "aws_vpc_security_group_ingress_rule" "postgres_from_nlb_subnets" {
  for_each = toset(var.allowed_cidrs)

  security_group_id = aws_security_group.cluster.id
  description       = "PostgreSQL from NLB subnet ${each.value}"
  ip_protocol       = "tcp"
  from_port         = var.database.port
  to_port           = var.database.port
  cidr_ipv4         = each.value
}

resource "aws_rds_cluster_parameter_group" "this" {
  name        = "${local.name}-params"
  family      = "aurora-postgresql${local.major_version}"
  description = "TLS required; logical replication as the migration type needs"

  # Refuse unencrypted connections: DMS endpoints use ssl_mode=require and psql/psycopg default to prefer.
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  # Slow statements are logged (CloudWatch export); statement logging stays off because log_statement would also
  # record ALTER ROLE ... PASSWORD in clear text.
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  parameter {
    name  = "log_statement"
    value = "none"
  }

  # Always written, 1 or 0, so switching it off is a visible change in the plan (a parameter dropped from the block
  # would only be reset by the provider). Static: it takes effect when the writer reboots.
  parameter {
    name         = "rds.logical_replication"
    value        = var.logical_replication ? "1" : "0"
    apply_method = "pending-reboot"
  }

  lifecycle {
    # A changed description replaces a parameter group, and the replacement fails while the cluster uses the group
    # (same name). Earlier versions of this bundle wrote one that followed logical_replication: a group created by
    # them keeps it, and a change of migration type stays an in-place update.
    ignore_changes = [description]
  }
}

resource "aws_rds_cluster" "this" {
  #checkov:skip=CKV_AWS_139:demo clusters are torn down by the wizard's clean-up step; deletion protection would block it
  #checkov:skip=CKV2_AWS_8:automated backups (7 days) cover a migration demo; an AWS Backup plan is an account-level choice
  #checkov:skip=CKV_AWS_327:encrypted with the AWS managed RDS key; a customer managed key adds key-policy upkeep beyond this demo
  cluster_identifier              = local.name
  engine                          = "aurora-postgresql"
  engine_version                  = var.database.engine_version
  database_name                   = var.database.database_name
  master_username                 = var.database.master_username
  master_password_wo              = ephemeral.aws_secretsmanager_random_password.master.random_password
  master_password_wo_version      = var.credentials_version
  port                            = var.database.port
  db_subnet_group_name            = aws_db_subnet_group.this.name
  vpc_security_group_ids          = [aws_security_group.cluster.id]
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.this.name
  storage_encrypted               = true
  backup_retention_period         = 7
  copy_tags_to_snapshot           = true
  enabled_cloudwatch_logs_exports = ["postgresql"]

  iam_database_authentication_enabled = true
  # The wizard's clean-up destroys everything; a final snapshot would outlive the demo and cost money.
  skip_final_snapshot = true
  deletion_protection = false
}

resource "aws_rds_cluster_instance" "writer" {
  #checkov:skip=CKV_AWS_118:enhanced monitoring needs an extra IAM role; CloudWatch log exports cover the demo
  #checkov:skip=CKV_AWS_353:Performance Insights is optional for a migration demo
  #checkov:skip=CKV_AWS_354:Performance Insights is not enabled, so it has no key to set
  identifier                 = "${local.name}-1"
  cluster_identifier         = aws_rds_cluster.this.id
  engine                     = aws_rds_cluster.this.engine
  engine_version             = aws_rds_cluster.this.engine_version
  instance_class             = var.database.instance_class
  db_subnet_group_name       = aws_db_subnet_group.this.name
  publicly_accessible        = false
  auto_minor_version_upgrade = true
}

resource "aws_secretsmanager_secret" "credentials" {
  #checkov:skip=CKV_AWS_149:encrypted with the AWS managed Secrets Manager key, which the DMS access role can use without a key policy
  #checkov:skip=CKV2_AWS_57:rotation would change the password behind terraform's write-only attribute; rotate by bumping credentials_version
  name_prefix = "${local.name}-dms-"
  description = "Credentials DMS uses for ${local.name} (host is the interface endpoint in the DMS VPC)"
  # Demo environments are destroyed and re-created; a recovery window would block re-using the name.
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "credentials" {
  secret_id = aws_secretsmanager_secret.credentials.id
  secret_string_wo = jsonencode({
    username = var.database.master_username
    password = ephemeral.aws_secretsmanager_random_password.master.random_password
    host     = var.connection_host
    port     = var.database.port
    dbname   = var.database.database_name
    engine   = "postgres"
  })
  secret_string_wo_version = var.credentials_version
}
