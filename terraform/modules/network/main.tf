# One isolated VPC with private subnets only: no internet gateway, no NAT, no public IPs. The three VPCs of the
# pattern may share a CIDR because nothing routes between them; PrivateLink carries the database traffic.

resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11:no internet path, only PrivateLink and AWS endpoints; flow logs (log group + role) are a production add-on
  cidr_block = var.cidr
  # Interface endpoints with private DNS (Secrets Manager, SSM) need both.
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = "${var.name_prefix}-${var.name}" }
}

resource "aws_subnet" "private" {
  count = length(var.private_subnets)

  vpc_id                  = aws_vpc.this.id
  cidr_block              = var.private_subnets[count.index]
  availability_zone       = var.azs[count.index]
  map_public_ip_on_launch = false

  tags = { Name = "${var.name_prefix}-${var.name}-private-${var.azs[count.index]}" }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name_prefix}-${var.name}-private" }
}

resource "aws_route_table_association" "private" {
  count = length(var.private_subnets)

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# Adopt the default security group and strip its rules so nothing lands in an allow-all group by accident.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name_prefix}-${var.name}-default-deny" }
}
