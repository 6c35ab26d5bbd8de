variable "names" {
  type        = list(string)
  description = "one secret per name (no value: nothing secret is recorded)"
}

resource "aws_secretsmanager_secret" "db" {
  for_each                = toset(var.names)
  name                    = "record-${each.key}"
  recovery_window_in_days = 0
}

output "arns" {
  value = { for k, s in aws_secretsmanager_secret.db : k => s.arn }
}
