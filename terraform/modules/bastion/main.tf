# The bastion: a private EC2 instance in the DMS VPC, reached only through Session Manager (no public IP, no SSH,
# no inbound rule). It can reach the PrivateLink interface endpoints, so the wizard's verify and data steps run
# here. The VPC has no NAT: Session Manager goes through interface endpoints and dnf through the S3 gateway
# endpoint (Amazon Linux 2023 repositories are served from S3).

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  name   = "${var.name_prefix}-bastion"
  arn_ns = "${data.aws_partition.current.partition}:dms:${var.region}:${data.aws_caller_identity.current.account_id}"
}

data "aws_ssm_parameter" "al2023" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

# --- Session Manager without internet ----------------------------------------------------------------------------

resource "aws_vpc_endpoint" "ssm" {
  for_each = toset(["ssm", "ssmmessages", "ec2messages"])

  vpc_id              = var.vpc_id
  service_name        = "com.amazonaws.${var.region}.${each.value}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = var.subnet_ids
  security_group_ids  = [var.aws_endpoints_security_group_id]
  private_dns_enabled = true

  tags = { Name = "${local.name}-${each.value}" }
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [var.route_table_id]

  tags = { Name = "${local.name}-s3" }
}

# --- IAM: Session Manager plus the read/run calls the wizard makes, scoped to this migration ---------------------

data "aws_iam_policy_document" "ec2_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "wizard" {
  #checkov:skip=CKV_AWS_356:only the Describe* statement uses "*"; those DMS/ELBv2/EC2 calls have no resource-level permissions
  statement {
    sid = "DescribeMigration"
    # DMS, ELBv2 and EC2 Describe calls do not support resource-level permissions.
    actions = [
      "dms:DescribeReplicationInstances",
      "dms:DescribeEndpoints",
      "dms:DescribeConnections",
      "dms:DescribeReplicationTasks",
      "dms:DescribeTableStatistics",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
      "ec2:DescribeVpcs",
      "ec2:DescribeVpcEndpoints",
    ]
    resources = ["*"]
  }

  statement {
    sid = "RunMigrationTasks"
    actions = [
      "dms:CreateReplicationTask",
      "dms:ModifyReplicationTask",
      "dms:StartReplicationTask",
      "dms:StopReplicationTask",
      "dms:DeleteReplicationTask",
      "dms:ReloadTables",
      "dms:TestConnection",
      "dms:AddTagsToResource",
    ]
    resources = ["arn:${local.arn_ns}:*:*"]
  }

  statement {
    sid       = "ReadWheelhouse"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [var.wheelhouse_bucket_arn, "${var.wheelhouse_bucket_arn}/*"]
  }

  statement {
    sid       = "ReadMigrationCredentials"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = var.secret_arns
  }
}

resource "aws_iam_role" "bastion" {
  name_prefix        = "${local.name}-"
  description        = "Session Manager and the dms-tui wizard on the bastion"
  assume_role_policy = data.aws_iam_policy_document.ec2_trust.json
}

resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.bastion.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_role_policy" "wizard" {
  name   = "dms-tui-wizard"
  role   = aws_iam_role.bastion.id
  policy = data.aws_iam_policy_document.wizard.json
}

resource "aws_iam_instance_profile" "bastion" {
  name_prefix = "${local.name}-"
  role        = aws_iam_role.bastion.name
}

# --- Instance ----------------------------------------------------------------------------------------------------

resource "aws_security_group" "bastion" {
  name        = local.name
  description = "Bastion: no inbound; out to the interface endpoints and S3 only"
  vpc_id      = var.vpc_id

  tags = { Name = local.name }
}

resource "aws_vpc_security_group_egress_rule" "bastion_https_vpc" {
  security_group_id = aws_security_group.bastion.id
  description       = "HTTPS to AWS interface endpoints (Session Manager, Secrets Manager)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_vpc_security_group_egress_rule" "bastion_https_s3" {
  security_group_id = aws_security_group.bastion.id
  description       = "HTTPS to S3 (dnf repositories, the wheelhouse) through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}

resource "aws_vpc_security_group_egress_rule" "bastion_postgres" {
  for_each = toset([for port in distinct(var.database_ports) : tostring(port)])

  security_group_id = aws_security_group.bastion.id
  description       = "PostgreSQL to the PrivateLink interface endpoints"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_instance" "bastion" {
  ami                         = data.aws_ssm_parameter.al2023.value
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_ids[0]
  vpc_security_group_ids      = [aws_security_group.bastion.id]
  iam_instance_profile        = aws_iam_instance_profile.bastion.name
  associate_public_ip_address = false
  monitoring                  = true
  ebs_optimized               = true

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    install_script = file("${path.module}/install-dms-tui.sh")
    bucket         = var.wheelhouse_bucket_name
    prefix         = var.wheelhouse_prefix
  })
  # A new wheelhouse is installed through `dms-tui bastion ship` (ssm send-command), not by replacing the instance.
  user_data_replace_on_change = false

  # IMDSv2 only: a request forgery on the host cannot read the role's credentials with a plain GET.
  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  root_block_device {
    encrypted   = true
    volume_type = "gp3"
    volume_size = 16 # room for dnf caches and the tool's virtualenv on top of the 8 GiB AMI
  }

  tags = { Name = local.name }

  depends_on = [aws_vpc_endpoint.ssm, aws_vpc_endpoint.s3]
}
