"""The account-wide DMS service roles: found before a plan, reused when present, created when absent, never destroyed.

DMS needs ``dms-vpc-role`` (it manages the replication instance's network interfaces with it) and
``dms-cloudwatch-logs-role`` under exactly these names, once per account. The bundle creates them only when the
variable ``create_dms_service_roles`` is true; the provision step sets that variable from what IAM answers, so no
person has to know whether another environment (or the console) already made them.

Who owns them once they exist: nobody. Environment A may create them and environment B reuse them; if A's
``terraform destroy`` deleted them, B's replication instance would lose its network role. So cleanup takes them out
of the destroying environment's state first (:data:`STATE_ADDRESSES`, ``terraform state rm``) and leaves them in the
account: they cost nothing, and the next environment finds and reuses them. Removing them by hand is
:func:`manual_delete_command`.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: role name -> the AWS managed policy DMS expects attached to it
ACCOUNT_ROLES: dict[str, str] = {
    "dms-vpc-role": "service-role/AmazonDMSVPCManagementRole",
    "dms-cloudwatch-logs-role": "service-role/AmazonDMSCloudWatchLogsRole",
}
VARIABLE = "create_dms_service_roles"

#: The bundle's resources for the roles (module dms, count = 0 or 1), as `terraform state` names them.
STATE_ADDRESSES: tuple[str, ...] = (
    "module.dms.aws_iam_role_policy_attachment.dms_vpc[0]",
    "module.dms.aws_iam_role_policy_attachment.dms_cloudwatch_logs[0]",
    "module.dms.aws_iam_role.dms_vpc[0]",
    "module.dms.aws_iam_role.dms_cloudwatch_logs[0]",
)
_ROLE_RESOURCES = {("module.dms", "aws_iam_role", "dms_vpc"), ("module.dms", "aws_iam_role", "dms_cloudwatch_logs")}


class RolesLookupError(RuntimeError):
    """IAM could not say whether the roles exist (no iam:GetRole permission, no network...)."""


@dataclass(frozen=True)
class RolesDecision:
    """What the plan does about the account-wide roles, and why (shown with the plan)."""

    create: bool
    present: tuple[str, ...]
    absent: tuple[str, ...]
    managed_here: bool  # this environment's terraform state already holds them (it created them)

    @property
    def partial(self) -> bool:
        """One role exists and the other does not: terraform creates both or neither, so a person must act."""
        return bool(self.present) and bool(self.absent) and not self.managed_here

    @property
    def reason(self) -> str:
        names = " and ".join(ACCOUNT_ROLES)
        if self.managed_here:
            return f"{names} were created by this environment's terraform and stay in its state"
        if not self.absent:
            return f"{names} already exist in the account: reused, not created"
        if not self.present:
            return f"{names} do not exist in the account yet: this plan creates them"
        return f"{', '.join(self.present)} exists but {', '.join(self.absent)} does not"


def role_exists(iam: Any, name: str) -> bool:
    """IAM GetRole: True when the role exists, False on NoSuchEntity; RolesLookupError for anything else."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        iam.get_role(RoleName=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchEntity", "NoSuchEntityException"):
            return False
        raise RolesLookupError(f"IAM GetRole {name}: {exc}") from exc
    except BotoCoreError as exc:
        raise RolesLookupError(f"IAM GetRole {name}: {exc}") from exc
    return True


def state_manages_roles(state_file: Path) -> bool:
    """Whether the local terraform state holds the account-wide roles (this environment created them)."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    for resource in state.get("resources", []) if isinstance(state, dict) else []:
        key = (resource.get("module"), resource.get("type"), resource.get("name"))
        if key in _ROLE_RESOURCES and resource.get("instances"):
            return True
    return False


def managed_addresses(state_file: Path) -> tuple[str, ...]:
    """The roles' addresses (of :data:`STATE_ADDRESSES`) that the local terraform state holds."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    held = set()
    for resource in state.get("resources", []) if isinstance(state, dict) else []:
        for instance in resource.get("instances", []):
            key = instance.get("index_key")
            held.add(f"{resource.get('module')}.{resource.get('type')}.{resource.get('name')}[{key}]")
    return tuple(address for address in STATE_ADDRESSES if address in held)


def decide(iam: Any, state_file: Path | None = None) -> RolesDecision:
    """Create the roles unless the account has them; keep them when this environment's state already does.
    Raises RolesLookupError when IAM cannot answer."""
    managed = state_file is not None and state_manages_roles(state_file)
    present = tuple(name for name in ACCOUNT_ROLES if role_exists(iam, name))
    absent = tuple(name for name in ACCOUNT_ROLES if name not in present)
    return RolesDecision(create=managed or bool(absent), present=present, absent=absent, managed_here=managed)


def ensure_roles(iam: Any, partition: str = "aws") -> tuple[str, ...]:
    """Create whichever roles are absent (the boto3 path); the names created (none when all were present)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "dms.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    created = []
    for name, policy in ACCOUNT_ROLES.items():
        if role_exists(iam, name):
            continue
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:{partition}:iam::aws:policy/{policy}")
        created.append(name)
    return tuple(created)


def manual_delete_command(aws_flags: Sequence[str] = ()) -> str:
    """The aws commands that delete the roles by hand (only when no environment in the account uses DMS)."""
    flags = list(aws_flags)
    parts = []
    for name, policy in ACCOUNT_ROLES.items():
        arn = f"arn:aws:iam::aws:policy/{policy}"
        parts.append(shlex.join(["aws", "iam", "detach-role-policy", "--role-name", name, "--policy-arn", arn, *flags]))
        parts.append(shlex.join(["aws", "iam", "delete-role", "--role-name", name, *flags]))
    return " && ".join(parts)
