# The contract with dms_tui/config.py: exactly these variables, written by the wizard to
# ../variables/<env>/common.tfvars.json. Validation here repeats the wizard's rules so a hand-edited file fails at
# plan time with the same advice.

variable "environment" {
  type        = string
  description = "Environment name; prefixes resource names and selects ../variables/<environment>/."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,15}$", var.environment))
    error_message = "environment must be 1-16 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. dev)."
  }
}

variable "aws_region" {
  type        = string
  description = "AWS region to deploy into, e.g. us-east-1."

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as us-east-1."
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
    condition = alltrue([
      for vpc in values(var.vpcs) : can(cidrnetmask(vpc.cidr)) && tonumber(split("/", vpc.cidr)[1]) >= 16 && tonumber(split("/", vpc.cidr)[1]) <= 28
    ])
    error_message = "Each VPC cidr must be an IPv4 network with a prefix between /16 and /28 (e.g. 10.0.0.0/16)."
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
        for subnet in concat([vpc.cidr], vpc.private_subnets) : try(cidrsubnet(subnet, 0, 0) == subnet, false)
      ]
    ]))
    error_message = "Each VPC cidr and private subnet must be an IPv4 network with its host bits clear, such as 10.0.1.0/24 (not 10.0.1.5/24)."
  }

  validation {
    condition     = alltrue([for vpc in values(var.vpcs) : can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,31}$", vpc.name))])
    error_message = "Each VPC name must be 1-32 letters, digits or hyphens, starting with a letter or digit."
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
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.source_db.cluster_name)) && length(var.source_db.cluster_name) <= 63
    error_message = "source_db.cluster_name must be 1-63 lowercase letters, digits or single hyphens, starting with a letter and not ending with a hyphen."
  }

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,62}$", var.source_db.database_name)) && can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,15}$", var.source_db.master_username)) && !contains(["admin", "rdsadmin", "user", "select", "table"], lower(var.source_db.master_username))
    error_message = "source_db.database_name must be a letter then up to 62 letters, digits or underscores; master_username a letter then up to 15 of them, and not a reserved word (admin, rdsadmin, user, ...)."
  }

  validation {
    condition     = var.source_db.port >= 1150 && var.source_db.port <= 65535 && floor(var.source_db.port) == var.source_db.port
    error_message = "source_db.port must be a whole number between 1150 and 65535 (Aurora's allowed range)."
  }

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.source_db.instance_class)) && can(regex("^[0-9]+(\\.[0-9]+)?$", var.source_db.engine_version))
    error_message = "source_db.instance_class must look like db.r6g.large and engine_version like 16.6."
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
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.target_db.cluster_name)) && length(var.target_db.cluster_name) <= 63
    error_message = "target_db.cluster_name must be 1-63 lowercase letters, digits or single hyphens, starting with a letter and not ending with a hyphen."
  }

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,62}$", var.target_db.database_name)) && can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,15}$", var.target_db.master_username)) && !contains(["admin", "rdsadmin", "user", "select", "table"], lower(var.target_db.master_username))
    error_message = "target_db.database_name must be a letter then up to 62 letters, digits or underscores; master_username a letter then up to 15 of them, and not a reserved word (admin, rdsadmin, user, ...)."
  }

  validation {
    condition     = var.target_db.port >= 1150 && var.target_db.port <= 65535 && floor(var.target_db.port) == var.target_db.port
    error_message = "target_db.port must be a whole number between 1150 and 65535 (Aurora's allowed range)."
  }

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.target_db.instance_class)) && can(regex("^[0-9]+(\\.[0-9]+)?$", var.target_db.engine_version))
    error_message = "target_db.instance_class must look like db.r6g.large and engine_version like 16.6."
  }
}

variable "dms_replication_instance_class" {
  type        = string
  description = "DMS replication instance class, e.g. dms.t3.medium."

  validation {
    condition     = can(regex("^dms\\.[a-z0-9]+\\.[a-z0-9]+$", var.dms_replication_instance_class))
    error_message = "dms_replication_instance_class must look like dms.t3.medium."
  }
}

variable "dms_allocated_storage" {
  type        = number
  description = "Storage of the DMS replication instance in GiB (5-6144)."

  validation {
    condition     = var.dms_allocated_storage >= 5 && var.dms_allocated_storage <= 6144
    error_message = "dms_allocated_storage must be between 5 and 6144 GiB."
  }
}

variable "bastion_instance_type" {
  type        = string
  description = "EC2 instance type of the bastion that runs the wizard over Session Manager, e.g. t3.micro."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.bastion_instance_type))
    error_message = "bastion_instance_type must look like t3.micro."
  }
}

variable "create_dms_service_roles" {
  type        = bool
  description = "Create the account-wide dms-vpc-role and dms-cloudwatch-logs-role. Set false when the account already has them (a second deployment would collide)."
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every resource (provider default_tags)."

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and not start with aws:; values at most 256 characters."
  }
}
