# The DMS side: account-wide service roles (optional), a private replication instance, the credentials access
# role, a Secrets Manager interface endpoint so the instance reads secrets without leaving the VPC, and the source
# and target endpoints, which reach the databases only through the PrivateLink interface endpoints.

data "aws_partition" "current" {}

locals {
  name = "${var.name_prefix}-dms"
  # DMS assumes roles through its regional service principal.
  dms_principal = "dms.${var.region}.amazonaws.com"
}

# --- Account-wide service roles: exactly these names, at most once per account -------------------------------

data "aws_iam_policy_document" "dms_service_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["dms.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "dms_vpc" {
  count              = var.create_service_roles ? 1 : 0
  name               = "dms-vpc-role"
  assume_role_policy = data.aws_iam_policy_document.dms_service_trust.json
}

resource "aws_iam_role_policy_attachment" "dms_vpc" {
  count      = var.create_service_roles ? 1 : 0
  role       = aws_iam_role.dms_vpc[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonDMSVPCManagementRole"
}

resource "aws_iam_role" "dms_cloudwatch_logs" {
  count              = var.create_service_roles ? 1 : 0
  name               = "dms-cloudwatch-logs-role"
  assume_role_policy = data.aws_iam_policy_document.dms_service_trust.json
}

resource "aws_iam_role_policy_attachment" "dms_cloudwatch_logs" {
  count      = var.create_service_roles ? 1 : 0
  role       = aws_iam_role.dms_cloudwatch_logs[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole"
}

# --- Secrets access role: DMS reads the two credential secrets, nothing else -----------------------------------

data "aws_iam_policy_document" "secrets_access_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [local.dms_principal]
    }
  }
}

data "aws_iam_policy_document" "secrets_access" {
  statement {
    sid       = "ReadMigrationCredentials"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = var.secret_arns
  }
}

resource "aws_iam_role" "secrets_access" {
  name_prefix        = "${var.name_prefix}-dms-secrets-"
  description        = "Lets DMS read the migration credential secrets"
  assume_role_policy = data.aws_iam_policy_document.secrets_access_trust.json
}

resource "aws_iam_role_policy" "secrets_access" {
  name   = "read-migration-credentials"
  role   = aws_iam_role.secrets_access.id
  policy = data.aws_iam_policy_document.secrets_access.json
}

# --- Network ---------------------------------------------------------------------------------------------------

resource "aws_security_group" "replication" {
  name        = "${local.name}-replication"
  description = "DMS replication instance: out to the interface endpoints and Secrets Manager only"
  vpc_id      = var.vpc_id

  tags = { Name = "${local.name}-replication" }
}

resource "aws_vpc_security_group_egress_rule" "replication_postgres" {
  for_each = toset([for port in distinct(var.database_ports) : tostring(port)])

  security_group_id = aws_security_group.replication.id
  description       = "PostgreSQL to the PrivateLink interface endpoints"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_vpc_security_group_egress_rule" "replication_https" {
  security_group_id = aws_security_group.replication.id
  description       = "HTTPS to the Secrets Manager interface endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_security_group" "aws_endpoints" {
  name        = "${local.name}-aws-endpoints"
  description = "HTTPS to AWS interface endpoints from inside the DMS VPC"
  vpc_id      = var.vpc_id

  tags = { Name = "${local.name}-aws-endpoints" }
}

resource "aws_vpc_security_group_ingress_rule" "aws_endpoints_https" {
  security_group_id = aws_security_group.aws_endpoints.id
  description       = "HTTPS from the DMS VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_vpc_endpoint" "secretsmanager" {
  vpc_id              = var.vpc_id
  service_name        = "com.amazonaws.${var.region}.secretsmanager"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = var.subnet_ids
  security_group_ids  = [aws_security_group.aws_endpoints.id]
  private_dns_enabled = true

  tags = { Name = "${local.name}-secretsmanager" }
}

# --- Replication instance and endpoints ------------------------------------------------------------------------

resource "aws_dms_replication_subnet_group" "this" {
  replication_subnet_group_id          = local.name
  replication_subnet_group_description = "Private subnets of the DMS VPC"
  subnet_ids                           = var.subnet_ids

  # DMS checks for dms-vpc-role when it creates the subnet group.
  depends_on = [aws_iam_role_policy_attachment.dms_vpc]
}

resource "aws_dms_replication_instance" "this" {
  #checkov:skip=CKV_AWS_212:storage is encrypted with the AWS managed DMS key; a customer managed key is beyond this demo
  replication_instance_id     = "${local.name}-instance"
  replication_instance_class  = var.instance_class
  allocated_storage           = var.allocated_storage
  replication_subnet_group_id = aws_dms_replication_subnet_group.this.id
  vpc_security_group_ids      = [aws_security_group.replication.id]
  publicly_accessible         = false
  auto_minor_version_upgrade  = true
  multi_az                    = false
  apply_immediately           = true
}

resource "aws_dms_endpoint" "source" {
  #checkov:skip=CKV_AWS_296:connection details live in Secrets Manager (AWS managed key); no endpoint-level CMK needed
  endpoint_id                     = "${var.name_prefix}-source"
  endpoint_type                   = "source"
  engine_name                     = "postgres"
  database_name                   = var.source_database_name
  secrets_manager_arn             = var.source_secret_arn
  secrets_manager_access_role_arn = aws_iam_role.secrets_access.arn
  ssl_mode                        = "require"

  depends_on = [aws_iam_role_policy.secrets_access]
}

resource "aws_dms_endpoint" "target" {
  #checkov:skip=CKV_AWS_296:connection details live in Secrets Manager (AWS managed key); no endpoint-level CMK needed
  endpoint_id                     = "${var.name_prefix}-target"
  endpoint_type                   = "target"
  engine_name                     = "aurora-postgresql"
  database_name                   = var.target_database_name
  secrets_manager_arn             = var.target_secret_arn
  secrets_manager_access_role_arn = aws_iam_role.secrets_access.arn
  ssl_mode                        = "require"

  depends_on = [aws_iam_role_policy.secrets_access]
}
