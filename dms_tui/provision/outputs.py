"""What the app reads back from `terraform output -json` (or from the sandbox when terraform is absent).

One source of truth: the Terraform bundle's outputs.tf must declare every name in ``OUTPUT_NAMES`` (a test checks it
with python-hcl2), and every later step (verify, migrate, diff, cleanup) reads these fields, never raw dicts.
No output holds a password: secrets are referenced by ARN.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


class OutputsError(ValueError):
    """terraform's outputs lack something the app needs."""


@dataclass(frozen=True)
class SideOutputs:
    """One side of the migration (the on-premises source or the Aurora target) as provisioned."""

    vpc_id: str
    vpc_cidr: str
    cluster_identifier: str
    database_name: str
    port: int
    secret_arn: str
    nlb_arn: str
    target_group_arn: str
    endpoint_service_id: str
    vpc_endpoint_id: str
    endpoint_dns_name: str  # the interface endpoint's DNS name in the DMS VPC: what DMS connects to
    dms_endpoint_arn: str


@dataclass(frozen=True)
class EnvironmentOutputs:
    source: SideOutputs
    target: SideOutputs
    dms_vpc_id: str
    dms_vpc_cidr: str
    dms_replication_instance_arn: str
    dms_access_role_arn: str
    bastion_instance_id: str
    region: str
    # The DMS premigration assessment run's result bucket and the role DMS writes there with (terraform's
    # modules/assessment). Optional: outputs recorded before the bundle had them, and the sandbox, have none.
    assessment_bucket: str = ""
    assessment_role_arn: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EnvironmentOutputs:
        return cls(
            source=SideOutputs(**data["source"]),
            target=SideOutputs(**data["target"]),
            **{k: v for k, v in data.items() if k not in ("source", "target")},
        )

    @classmethod
    def from_terraform(cls, raw: dict[str, Any]) -> EnvironmentOutputs:
        """Build from `terraform output -json` ({name: {"value": ..., "type": ..., "sensitive": ...}})."""
        values = {name: entry.get("value") if isinstance(entry, dict) else entry for name, entry in raw.items()}
        missing = [name for name in OUTPUT_NAMES if values.get(name) in (None, "")]
        if missing:
            raise OutputsError(
                "terraform outputs are missing " + ", ".join(missing) + "; run `dms-tui provision apply` again "
                "(or `terraform apply` in the environment's working copy) so they are recorded."
            )

        def side(prefix: str) -> SideOutputs:
            kwargs: dict[str, Any] = {}
            for f in fields(SideOutputs):
                value = values[f"{prefix}_{f.name}"]
                kwargs[f.name] = int(str(value)) if f.name == "port" else str(value)
            return SideOutputs(**kwargs)

        return cls(
            source=side("source"),
            target=side("target"),
            **{name: str(values[name]) for name in _TOP_LEVEL},
            **{name: str(values[name]) for name in OPTIONAL_OUTPUT_NAMES if values.get(name) not in (None, "")},
        )


_TOP_LEVEL = (
    "dms_vpc_id",
    "dms_vpc_cidr",
    "dms_replication_instance_arn",
    "dms_access_role_arn",
    "bastion_instance_id",
    "region",
)

#: Every output name outputs.tf must declare: source_<field>, target_<field> for each SideOutputs field, and the rest.
OUTPUT_NAMES: tuple[str, ...] = tuple(
    [f"{prefix}_{f.name}" for prefix in ("source", "target") for f in fields(SideOutputs)] + list(_TOP_LEVEL)
)

#: Outputs outputs.tf declares that the app reads when present (an older state lacks them): see the fields' comment.
OPTIONAL_OUTPUT_NAMES: tuple[str, ...] = ("assessment_bucket", "assessment_role_arn")
