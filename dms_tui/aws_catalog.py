"""Static AWS facts the configuration model checks against: regions, their zone letters and instance class families.

Source: AWS public documentation ("Regions and Zones", "Aurora DB instance classes" / "Supported DB engines for DB
instance classes" for Aurora PostgreSQL, "Choosing the right AWS DMS replication instance", "Amazon EC2 instance
types"), compiled from what those pages listed in 2025; recorded here on 2026-11-26. AWS adds regions and families
over time: when one is missing, add it here (a one-line change) rather than loosening the checks.

Zone letters are the ones AWS documents per region; which letter maps to which physical zone differs per account,
but the set of letters does not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: region -> the availability zone letters it has (e.g. us-east-1 -> us-east-1a ... us-east-1f).
REGION_ZONE_LETTERS: Mapping[str, str] = {
    "us-east-1": "abcdef",
    "us-east-2": "abc",
    "us-west-1": "abc",
    "us-west-2": "abcd",
    "ca-central-1": "abd",
    "ca-west-1": "abc",
    "mx-central-1": "abc",
    "sa-east-1": "abc",
    "eu-west-1": "abc",
    "eu-west-2": "abc",
    "eu-west-3": "abc",
    "eu-central-1": "abc",
    "eu-central-2": "abc",
    "eu-north-1": "abc",
    "eu-south-1": "abc",
    "eu-south-2": "abc",
    "il-central-1": "abc",
    "me-south-1": "abc",
    "me-central-1": "abc",
    "af-south-1": "abc",
    "ap-east-1": "abc",
    "ap-south-1": "abc",
    "ap-south-2": "abc",
    "ap-northeast-1": "acd",
    "ap-northeast-2": "abcd",
    "ap-northeast-3": "abc",
    "ap-southeast-1": "abc",
    "ap-southeast-2": "abc",
    "ap-southeast-3": "abc",
    "ap-southeast-4": "abc",
    "ap-southeast-5": "abc",
    "ap-southeast-7": "abc",
    "us-gov-west-1": "abc",
    "us-gov-east-1": "abc",
}

#: Region names look like this even when this catalog does not know the region yet.
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")

_STANDARD_SIZES = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")

#: Aurora PostgreSQL DB instance classes: family -> sizes. The burstable classes only come in medium and large.
AURORA_POSTGRESQL_CLASSES: Mapping[str, tuple[str, ...]] = {
    "db.t3": ("medium", "large"),
    "db.t4g": ("medium", "large"),
    "db.r5": _STANDARD_SIZES,
    "db.r6g": _STANDARD_SIZES + ("16xlarge",),
    "db.r6gd": _STANDARD_SIZES,
    "db.r6i": _STANDARD_SIZES + ("32xlarge",),
    "db.r6id": _STANDARD_SIZES + ("32xlarge",),
    "db.r7g": _STANDARD_SIZES,
    "db.r7i": _STANDARD_SIZES + ("48xlarge",),
    "db.r8g": _STANDARD_SIZES + ("48xlarge",),
    "db.x2g": _STANDARD_SIZES,
}

#: Aurora Serverless v2 is one class on its own; its capacity lives in settings the configuration does not hold,
#: so the model names it only to explain why it is refused.
AURORA_SERVERLESS_CLASS = "db.serverless"

#: AWS DMS replication instance classes: family -> sizes.
DMS_REPLICATION_CLASSES: Mapping[str, tuple[str, ...]] = {
    "dms.t3": ("micro", "small", "medium", "large"),
    "dms.c5": ("large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge"),
    "dms.c6i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"),
    "dms.r5": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"),
    "dms.r6i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"),
}

#: EC2 families that suit a small bastion host; sizes follow the usual EC2 naming (checked by pattern).
EC2_BASTION_FAMILIES: tuple[str, ...] = (
    "t2",
    "t3",
    "t3a",
    "t4g",
    "m5",
    "m5a",
    "m6a",
    "m6g",
    "m6i",
    "m7a",
    "m7g",
    "m7i",
    "c5",
    "c6g",
    "c6i",
    "c7g",
    "c7i",
    "r5",
    "r6g",
    "r6i",
)
EC2_SIZE_PATTERN = re.compile(r"^(nano|micro|small|medium|large|\d{0,2}xlarge|metal)$")

#: Major versions of Aurora PostgreSQL that AWS offers or has offered under standard or extended support.
AURORA_POSTGRESQL_MAJOR_VERSIONS: tuple[int, ...] = (11, 12, 13, 14, 15, 16, 17)


def zone_names(region: str) -> tuple[str, ...]:
    """The availability zone names of ``region`` (empty when the catalog does not know the region)."""
    return tuple(region + letter for letter in REGION_ZONE_LETTERS.get(region, ""))
