# PrivateLink from the DMS VPC to one database VPC: an internal NLB with an IP target (the Aurora writer), a VPC
# endpoint service in front of it, and an interface endpoint in the DMS VPC whose DNS name DMS connects to.
#
# Following the writer after a failover (known limit, not solved here): an IP target is an address, not a DNS name.
# The writer's address is looked up from its RDS network interface at plan time, so every `terraform apply`
# re-registers the current writer, but between applies the NLB keeps the old address. With the single-instance
# clusters this bundle builds, a failover replaces the instance host in place and the address normally survives;
# if it does not, the target turns unhealthy and the wizard's verify step reports it (re-run provision apply to
# re-sync). Following a writer automatically needs a scheduled function (Lambda + EventBridge), which needs a zip
# archive this offline bundle cannot build.

locals {
  name = "${var.name_prefix}-${var.name}"
  # Referencing the writer instance makes the interface lookup wait until the instance exists.
  writer_security_group_id = var.writer_instance_id != "" ? var.cluster_security_group_id : ""
}

data "aws_network_interfaces" "writer" {
  count = var.register_writer ? 1 : 0

  filter {
    name   = "group-id"
    values = [local.writer_security_group_id]
  }

  filter {
    name   = "description"
    values = ["RDSNetworkInterface"]
  }

  lifecycle {
    postcondition {
      condition     = length(self.ids) == 1
      error_message = "Expected exactly one RDS network interface (the writer) in the cluster's security group; found a different number. Check the cluster has one instance and it is available, then apply again."
    }
  }
}

data "aws_network_interface" "writer" {
  count = var.register_writer ? 1 : 0
  id    = data.aws_network_interfaces.writer[0].ids[0]
}

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_91:access logs need an S3 bucket with its own policy; TCP NLB logs carry no payload worth the cost here
  #checkov:skip=CKV_AWS_150:the wizard's clean-up destroys the NLB; deletion protection would block it
  name               = substr("${local.name}-nlb", 0, 32)
  internal           = true
  load_balancer_type = "network"
  subnets            = var.subnet_ids
  # Each endpoint ENI reaches the target in any AZ; without this an AZ without the writer would drop connections.
  enable_cross_zone_load_balancing = true
}

resource "aws_lb_target_group" "writer" {
  name        = substr("${local.name}-writer", 0, 32)
  port        = var.port
  protocol    = "TCP"
  target_type = "ip"
  vpc_id      = var.vpc_id

  health_check {
    protocol            = "TCP"
    port                = "traffic-port"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_target_group_attachment" "writer" {
  count = var.register_writer ? 1 : 0

  target_group_arn = aws_lb_target_group.writer.arn
  target_id        = data.aws_network_interface.writer[0].private_ip
  port             = var.port
}

resource "aws_lb_listener" "postgres" {
  load_balancer_arn = aws_lb.this.arn
  port              = var.port
  # TCP pass-through: PostgreSQL negotiates TLS itself (rds.force_ssl), end to end between DMS and Aurora.
  protocol = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.writer.arn
  }
}

resource "aws_vpc_endpoint_service" "this" {
  #checkov:skip=CKV_AWS_123:allowed_principals admits only this account; manual acceptance would stall the unattended apply
  acceptance_required        = false
  network_load_balancer_arns = [aws_lb.this.arn]
  allowed_principals         = var.allowed_principals

  tags = { Name = local.name }
}

resource "aws_security_group" "endpoint" {
  name        = "${local.name}-endpoint"
  description = "PostgreSQL to the ${local.name} interface endpoint from the DMS VPC"
  vpc_id      = var.consumer_vpc_id

  tags = { Name = "${local.name}-endpoint" }
}

resource "aws_vpc_security_group_ingress_rule" "postgres_from_consumer" {
  security_group_id = aws_security_group.endpoint.id
  description       = "PostgreSQL from the DMS VPC (replication instance, bastion)"
  ip_protocol       = "tcp"
  from_port         = var.port
  to_port           = var.port
  cidr_ipv4         = var.consumer_cidr
}

resource "aws_vpc_endpoint" "this" {
  vpc_id              = var.consumer_vpc_id
  service_name        = aws_vpc_endpoint_service.this.service_name
  vpc_endpoint_type   = "Interface"
  subnet_ids          = var.consumer_subnet_ids
  security_group_ids  = [aws_security_group.endpoint.id]
  private_dns_enabled = false

  tags = { Name = local.name }
}
