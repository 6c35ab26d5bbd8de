# The contract with dms_tui/config.py: exactly these variables, written by the wizard to
# ../variables/<env>/common.tfvars.json. The validation blocks apply the rules of config_rules.json, the one table the
# wizard's model reads too, so a hand-edited file is refused at plan time for the same reasons the wizard would refuse
# it (tests/test_config_rules_corpus.py feeds the same corpus to both and expects the same verdicts).
# What terraform cannot see: a value's JSON type before conversion ("5432" becomes 5432, "true" becomes true) and
# attributes it silently drops; dms_tui.config refuses those on its own. And terraform skips the validation of a
# variable whose rules read another variable that is itself invalid (vpcs reads aws_region, target_db reads
# source_db), so it may name those problems only once the first ones are fixed; the wizard lists all at once.

locals {
  rules = jsondecode(file("${path.module}/config_rules.json"))

  # AWS's tag text: letters, separators, numbers (Unicode categories) and a few punctuation marks.
  rule_tag_text = format(
    "^[%s%s]*$",
    join("", [for category in local.rules.tags.text_unicode_categories : "\\p{${category}}"]),
    replace(local.rules.tags.text_other_characters, "-", "\\-"),
  )
  rule_aurora_classes = flatten([
    for family, sizes in local.rules.aurora_postgresql_classes : [for size in sizes : "${family}.${size}"]
  ])
  rule_dms_classes = flatten([
    for family, sizes in local.rules.dms_replication_classes : [for size in sizes : "${family}.${size}"]
  ])
  rule_database_names_refused = concat(local.rules.postgres_reserved_words, local.rules.reserved_database_names)
  rule_usernames_refused      = concat(local.rules.postgres_reserved_words, local.rules.reserved_role_names)
}

variable "environment" {
  type        = string
  description = "Environment name; prefixes resource names and selects ../variables/<environment>/."

  validation {
    condition     = can(regex(local.rules.resource_name.pattern, var.environment)) && length(var.environment) <= local.rules.resource_name.max_length.environment
    error_message = "environment must be 1-16 characters: a lowercase letter, then lowercase letters, digits or single hyphens, not ending with a hyphen (e.g. dev)."
  }
}

variable "aws_region" {
  type        = string
  description = "AWS region to deploy into, e.g. us-east-1."

  validation {
    condition     = contains(keys(local.rules.regions), var.aws_region)
    error_message = "aws_region must be an AWS region code such as us-east-1 (one of the regions in config_rules.json)."
  }
}

variable "vpcs" {
  type = object({
    source = object({
      name            = string
      cidr            = string
      azs             = list(string)
      private_subnets = list(string)
    })
    dms = object({
      name            = string
      cidr            = string
      azs             = list(string)
      private_subnets = list(string)
    })
    target = object({
      name            = string
      cidr            = string
      azs             = list(string)
      private_subnets = list(string)
    })
  })
  description = "The three isolated VPCs (on-premises source, DMS, Aurora target). Their CIDRs may overlap: PrivateLink, not routing, joins them."

  validation {
    condition = alltrue(flatten([
      for vpc in values(var.vpcs) : [
        for block in concat([vpc.cidr], vpc.private_subnets) : try(
          tonumber(split("/", block)[1]) >= local.rules.cidr.min_prefix && tonumber(split("/", block)[1]) <= local.rules.cidr.max_prefix,
          false,
        )
      ]
    ]))
    error_message = "Each VPC cidr and private subnet must have a prefix between /16 and /28 (e.g. 10.0.0.0/16, 10.0.1.0/24)."
  }

  validation {
    condition = alltrue([
      for vpc in values(var.vpcs) : length(vpc.private_subnets) >= 2 && length(vpc.private_subnets) == length(vpc.azs) && length(distinct(vpc.azs)) >= 2
    ])
    error_message = "Each VPC needs at least two private_subnets, one per entry of azs, in at least two distinct AZs (Aurora and DMS subnet groups require two)."
  }

  validation {
    condition = alltrue(flatten([
      for vpc in values(var.vpcs) : [
        for block in concat([vpc.cidr], vpc.private_subnets) : can(cidrnetmask(block)) && try(cidrsubnet(block, 0, 0) == block, false)
      ]
    ]))
    error_message = "Each VPC cidr and private subnet must be an IPv4 network with its host bits clear, such as 10.0.1.0/24 (not 10.0.1.5/24)."
  }

  validation {
    condition = alltrue(flatten([
      for vpc in values(var.vpcs) : [
        for block in concat([vpc.cidr], vpc.private_subnets) : [
          for refused in local.rules.cidr.refused_ranges : try(
            cidrhost("${split("/", block)[0]}/${split("/", refused)[1]}", 0) != cidrhost(refused, 0),
            true,
          )
        ]
      ]
    ]))
    error_message = "VPC and subnet blocks must not lie in 0.0.0.0/8, loopback, link-local, multicast or reserved ranges, which AWS refuses."
  }

  validation {
    condition = alltrue(flatten([
      for vpc in values(var.vpcs) : [
        for subnet in vpc.private_subnets : try(
          tonumber(split("/", subnet)[1]) >= tonumber(split("/", vpc.cidr)[1]) && cidrhost("${split("/", subnet)[0]}/${split("/", vpc.cidr)[1]}", 0) == cidrhost(vpc.cidr, 0),
          false,
        )
      ]
    ]))
    error_message = "Each private subnet must lie inside its VPC's cidr."
  }

  validation {
    condition = alltrue(flatten([
      for vpc in values(var.vpcs) : [
        for i, a in vpc.private_subnets : [
          for j, b in vpc.private_subnets : j <= i || try(
            cidrhost("${split("/", a)[0]}/${min(tonumber(split("/", a)[1]), tonumber(split("/", b)[1]))}", 0) != cidrhost("${split("/", b)[0]}/${min(tonumber(split("/", a)[1]), tonumber(split("/", b)[1]))}", 0),
            true,
          )
        ]
      ]
    ]))
    error_message = "A VPC's private subnets must not overlap one another."
  }

  validation {
    condition = alltrue(flatten([
      for vpc in values(var.vpcs) : [
        # An unknown region is aws_region's problem; the zones cannot be judged against it.
        for zone in vpc.azs : !contains(keys(local.rules.regions), var.aws_region) || try(
          contains([for letter in split("", local.rules.regions[var.aws_region]) : "${var.aws_region}${letter}"], zone),
          false,
        )
      ]
    ]))
    error_message = "Each VPC's azs must be availability zone names of aws_region, such as us-east-1a (not zone IDs like use1-az1)."
  }

  validation {
    condition = alltrue([
      for vpc in values(var.vpcs) : can(regex(local.rules.resource_name.pattern, vpc.name)) && length(vpc.name) <= local.rules.resource_name.max_length.vpc_name
    ]) && length(distinct([for vpc in values(var.vpcs) : vpc.name])) == length(var.vpcs)
    error_message = "Each VPC name must be 1-32 lowercase letters, digits or single hyphens, starting with a letter and not ending with a hyphen, and the three names must differ."
  }
}

variable "source_db" {
  type = object({
    cluster_name    = string
    engine_version  = string
    instance_class  = string
    database_name   = string
    master_username = string
    port            = number
  })
  description = "The \"on-premises\" source database, itself an Aurora PostgreSQL cluster in the source VPC."

  validation {
    condition     = can(regex(local.rules.resource_name.pattern, var.source_db.cluster_name)) && length(var.source_db.cluster_name) <= local.rules.resource_name.max_length.cluster_name
    error_message = "source_db.cluster_name must be 1-63 lowercase letters, digits or single hyphens, starting with a letter and not ending with a hyphen."
  }

  validation {
    condition     = can(regex(local.rules.sql_identifier.pattern, var.source_db.database_name)) && length(var.source_db.database_name) <= local.rules.sql_identifier.max_length.database_name && !contains(local.rule_database_names_refused, lower(var.source_db.database_name))
    error_message = "source_db.database_name must be a letter then up to 62 letters, digits or underscores, and not a PostgreSQL reserved word or a database Aurora keeps (template0, template1, rdsadmin)."
  }

  validation {
    condition     = can(regex(local.rules.sql_identifier.pattern, var.source_db.master_username)) && length(var.source_db.master_username) <= local.rules.sql_identifier.max_length.master_username && !contains(local.rule_usernames_refused, lower(var.source_db.master_username)) && !anytrue([for prefix in local.rules.reserved_role_prefixes : startswith(lower(var.source_db.master_username), prefix)])
    error_message = "source_db.master_username must be a letter then up to 15 letters, digits or underscores, and not a reserved word (admin, rdsadmin, user, ...) or a pg_ / rds_ role name."
  }

  validation {
    condition     = var.source_db.port >= local.rules.aurora_port.min && var.source_db.port <= local.rules.aurora_port.max && floor(var.source_db.port) == var.source_db.port
    error_message = "source_db.port must be a whole number between 1150 and 65535 (Aurora's allowed range)."
  }

  validation {
    condition     = contains(local.rule_aurora_classes, var.source_db.instance_class)
    error_message = "source_db.instance_class must be an Aurora PostgreSQL DB instance class such as db.r6g.large (provisioned; db.serverless is not managed here)."
  }

  validation {
    condition     = try(contains(local.rules.engine_version.majors, tonumber(regex(local.rules.engine_version.pattern, var.source_db.engine_version)[0])), false)
    error_message = "source_db.engine_version must be major.minor of an Aurora PostgreSQL major version (11-17), such as 16.6."
  }
}

variable "target_db" {
  type = object({
    cluster_name    = string
    engine_version  = string
    instance_class  = string
    database_name   = string
    master_username = string
    port            = number
  })
  description = "The Aurora PostgreSQL target cluster in the target VPC."

  validation {
    condition     = can(regex(local.rules.resource_name.pattern, var.target_db.cluster_name)) && length(var.target_db.cluster_name) <= local.rules.resource_name.max_length.cluster_name
    error_message = "target_db.cluster_name must be 1-63 lowercase letters, digits or single hyphens, starting with a letter and not ending with a hyphen."
  }

  validation {
    condition     = can(regex(local.rules.sql_identifier.pattern, var.target_db.database_name)) && length(var.target_db.database_name) <= local.rules.sql_identifier.max_length.database_name && !contains(local.rule_database_names_refused, lower(var.target_db.database_name))
    error_message = "target_db.database_name must be a letter then up to 62 letters, digits or underscores, and not a PostgreSQL reserved word or a database Aurora keeps (template0, template1, rdsadmin)."
  }

  validation {
    condition     = can(regex(local.rules.sql_identifier.pattern, var.target_db.master_username)) && length(var.target_db.master_username) <= local.rules.sql_identifier.max_length.master_username && !contains(local.rule_usernames_refused, lower(var.target_db.master_username)) && !anytrue([for prefix in local.rules.reserved_role_prefixes : startswith(lower(var.target_db.master_username), prefix)])
    error_message = "target_db.master_username must be a letter then up to 15 letters, digits or underscores, and not a reserved word (admin, rdsadmin, user, ...) or a pg_ / rds_ role name."
  }

  validation {
    condition     = var.target_db.port >= local.rules.aurora_port.min && var.target_db.port <= local.rules.aurora_port.max && floor(var.target_db.port) == var.target_db.port
    error_message = "target_db.port must be a whole number between 1150 and 65535 (Aurora's allowed range)."
  }

  validation {
    condition     = contains(local.rule_aurora_classes, var.target_db.instance_class)
    error_message = "target_db.instance_class must be an Aurora PostgreSQL DB instance class such as db.r6g.large (provisioned; db.serverless is not managed here)."
  }

  validation {
    condition     = try(contains(local.rules.engine_version.majors, tonumber(regex(local.rules.engine_version.pattern, var.target_db.engine_version)[0])), false)
    error_message = "target_db.engine_version must be major.minor of an Aurora PostgreSQL major version (11-17), such as 16.6."
  }

  validation {
    condition     = var.target_db.cluster_name != var.source_db.cluster_name
    error_message = "target_db.cluster_name must differ from source_db.cluster_name: cluster identifiers are unique in an account and region."
  }
}

variable "dms_replication_instance_class" {
  type        = string
  description = "DMS replication instance class, e.g. dms.t3.medium."

  validation {
    condition     = contains(local.rule_dms_classes, var.dms_replication_instance_class)
    error_message = "dms_replication_instance_class must be a DMS replication instance class such as dms.t3.medium."
  }
}

variable "dms_allocated_storage" {
  type        = number
  description = "Storage of the DMS replication instance in GiB (5-6144)."

  validation {
    condition     = var.dms_allocated_storage >= local.rules.dms_allocated_storage_gib.min && var.dms_allocated_storage <= local.rules.dms_allocated_storage_gib.max && floor(var.dms_allocated_storage) == var.dms_allocated_storage
    error_message = "dms_allocated_storage must be a whole number between 5 and 6144 GiB."
  }
}

variable "bastion_instance_type" {
  type        = string
  description = "EC2 instance type of the bastion that runs the wizard over Session Manager, e.g. t3.micro."

  validation {
    condition     = contains(local.rules.ec2_bastion_families, split(".", var.bastion_instance_type)[0]) && can(regex(local.rules.ec2_size_pattern, join(".", slice(split(".", var.bastion_instance_type), 1, length(split(".", var.bastion_instance_type))))))
    error_message = "bastion_instance_type must be an EC2 instance type of a small-host family, such as t3.micro."
  }
}

variable "create_dms_service_roles" {
  type        = bool
  description = "Create the account-wide dms-vpc-role and dms-cloudwatch-logs-role. Set false when the account already has them (a second deployment would collide)."
}

variable "migration_type" {
  type        = string
  description = "The DMS task's migration type this environment is provisioned for: full-load, full-load-and-cdc or cdc. The two change-capturing types turn rds.logical_replication on in the source cluster's parameter group (a static parameter: the writer must be rebooted for a change to take effect)."
  default     = "full-load"

  validation {
    condition     = contains(local.rules.migration_types, var.migration_type)
    error_message = "migration_type must be full-load, full-load-and-cdc or cdc."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every resource (provider default_tags)."

  validation {
    condition = length(var.tags) <= local.rules.tags.max_count && alltrue([
      for key, value in var.tags : length(key) >= 1 && length(key) <= local.rules.tags.key_max_length && !startswith(lower(key), local.rules.tags.reserved_key_prefix) && can(regex(local.rule_tag_text, key)) && length(value) <= local.rules.tags.value_max_length && can(regex(local.rule_tag_text, value))
    ])
    error_message = "At most 50 tags; keys 1-128 characters, not starting with aws:; values at most 256 characters; letters, digits, spaces and _ . : / = + - @ only."
  }
}
