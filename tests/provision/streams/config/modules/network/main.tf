variable "cidr" {
  type        = string
  description = "VPC CIDR"
}

variable "subnet_cidrs" {
  type        = list(string)
  description = "subnet CIDRs"
}

resource "aws_vpc" "this" {
  cidr_block = var.cidr
  tags       = { Name = "record" }
}

resource "aws_subnet" "private" {
  count      = length(var.subnet_cidrs)
  vpc_id     = aws_vpc.this.id
  cidr_block = var.subnet_cidrs[count.index]
}

output "vpc_id" {
  value = aws_vpc.this.id
}
