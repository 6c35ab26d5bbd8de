"""Which box of the architecture diagram each Terraform resource belongs to, and how far each box has come.

The boxes are the pattern's parts a customer recognises (VPCs, NLBs, endpoint services, endpoints, Aurora clusters,
secrets, DMS, bastion); a box lights up when every resource of it that the plan touches is done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from dms_tui.provision.progress import ProvisionProgress, ResourceProgress

BoxState = Literal["idle", "building", "ready", "failed"]


@dataclass(frozen=True)
class Box:
    id: str
    label: str
    module: str  # module address prefix, e.g. 'module.source_link' or 'module.vpc["dms"]'
    types: tuple[str, ...] = ()  # resource types that belong to the box; empty = every type in the module

    def owns(self, resource: ResourceProgress) -> bool:
        if not (resource.module == self.module or resource.module.startswith(self.module + ".")):
            return False
        return not self.types or resource.resource_type in self.types


_SECRET_TYPES = ("aws_secretsmanager_secret", "aws_secretsmanager_secret_version")
_AURORA_TYPES = (
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_db_subnet_group",
    "aws_rds_cluster_parameter_group",
)

BOXES: tuple[Box, ...] = (
    Box("vpc-source", "source VPC", 'module.vpc["source"]'),
    Box("vpc-dms", "DMS VPC", 'module.vpc["dms"]'),
    Box("vpc-target", "target VPC", 'module.vpc["target"]'),
    Box("aurora-source", "source Aurora", "module.source_db", _AURORA_TYPES),
    Box("aurora-target", "target Aurora", "module.target_db", _AURORA_TYPES),
    Box("secret-source", "source secret", "module.source_db", _SECRET_TYPES),
    Box("secret-target", "target secret", "module.target_db", _SECRET_TYPES),
    Box("nlb-source", "source NLB", "module.source_link", ("aws_lb", "aws_lb_target_group", "aws_lb_listener")),
    Box("nlb-target", "target NLB", "module.target_link", ("aws_lb", "aws_lb_target_group", "aws_lb_listener")),
    Box("svc-source", "endpoint service", "module.source_link", ("aws_vpc_endpoint_service",)),
    Box("svc-target", "endpoint service", "module.target_link", ("aws_vpc_endpoint_service",)),
    Box("vpce-source", "interface endpoint", "module.source_link", ("aws_vpc_endpoint",)),
    Box("vpce-target", "interface endpoint", "module.target_link", ("aws_vpc_endpoint",)),
    Box("dms", "DMS replication", "module.dms", ("aws_dms_replication_instance", "aws_dms_endpoint")),
    Box("bastion", "bastion (SSM)", "module.bastion", ("aws_instance",)),
)
BOX_BY_ID = {box.id: box for box in BOXES}

_INDEX = re.compile(r"\[[^\]]*\]$")


def box_states(progress: ProvisionProgress) -> dict[str, BoxState]:
    """Each box's state: ready when all its planned resources are done, failed if any failed, building if any ran."""
    states: dict[str, BoxState] = {}
    for box in BOXES:
        mine = [r for r in progress.resources.values() if box.owns(r)]
        if any(r.state == "failed" for r in mine):
            states[box.id] = "failed"
        elif mine and all(r.done or r.planned_action in ("noop", "read") for r in mine):
            states[box.id] = "ready"
        elif any(r.state != "pending" for r in mine):
            states[box.id] = "building"
        else:
            states[box.id] = "idle"
    return states
