"""CDC prerequisites for the Migrate step: read both databases before a change-capturing task is created.

One function for the three callers: :meth:`dms_tui.steps.migrate.MigrateStep.launch` (before CreateReplicationTask,
for full-load-and-cdc and cdc), the Migrate screen (which shows the findings under the form), and `dms-tui migrate`
(which prints them and exits 2 when a blocker fails). The findings themselves are
:mod:`dms_tui.checks.cdc_prerequisites`; this module finds the selected tables through the task's mappings (what the
source table becomes on the target), opens the connections through the environment's path, and turns blockers into
one :class:`StepError`.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dms_tui import exit_codes
from dms_tui.checks.cdc_prerequisites import (
    LogicalReplicationFix,
    Prerequisite,
    generic_logical_replication_fix,
    source_prerequisites,
    target_prerequisites,
)
from dms_tui.domain.dms import MigrationType
from dms_tui.environment import DEFAULT_ENV
from dms_tui.errors import StepError

if TYPE_CHECKING:
    from dms_tui.dmstask.mappings import TableMappings
    from dms_tui.environment import Environment
    from dms_tui.provision.outputs import EnvironmentOutputs


@dataclass(frozen=True)
class CdcPrerequisites:
    """Every finding for one migration type (empty for full-load, which needs none of this)."""

    migration_type: str
    findings: tuple[Prerequisite, ...]

    @property
    def blockers(self) -> tuple[Prerequisite, ...]:
        return tuple(f for f in self.findings if f.blocks)

    @property
    def warnings(self) -> tuple[Prerequisite, ...]:
        return tuple(f for f in self.findings if not f.passed and not f.blocker)

    @property
    def ok(self) -> bool:
        return not self.blockers

    def to_json(self) -> dict[str, Any]:
        return {"migration_type": self.migration_type, "ok": self.ok, "findings": [f.to_json() for f in self.findings]}

    def error(self) -> StepError:
        """The StepError that refuses to create the task (exit 2: nothing ran)."""
        lines = [f"✗ {f.title}: {f.detail}\n  fix: {f.fix}" for f in self.blockers]
        return StepError(
            f"The source is not ready for a {self.migration_type} task; nothing was created.",
            "\n".join(lines),
            "Apply the fixes above, then start the task again (or choose full-load, which needs none of this).",
            exit_code=exit_codes.NOT_RUN,
        )


@dataclass(frozen=True)
class PrerequisitesChecked:
    """The Migrate step read both databases before creating a change-capturing task."""

    report: CdcPrerequisites


def needs_prerequisites(migration_type: str) -> bool:
    return migration_type in {t.value for t in MigrationType if t.captures_changes}


def source_writer(outputs: EnvironmentOutputs) -> str:
    """The source writer's instance identifier: the aurora module names it <cluster identifier>-1
    (terraform/modules/aurora/main.tf)."""
    return f"{outputs.source.cluster_identifier}-1"


def reboot_writer_command(environment: Environment, outputs: EnvironmentOutputs) -> str:
    """`aws rds reboot-db-instance` for the source writer: what makes a static parameter such as
    rds.logical_replication take effect."""
    return shlex.join(
        [
            "aws",
            "rds",
            "reboot-db-instance",
            "--db-instance-identifier",
            source_writer(outputs),
            *environment.aws_cli_flags(),
        ]
    )


def logical_replication_fix(
    environment: Environment, outputs: EnvironmentOutputs, migration_type: str
) -> LogicalReplicationFix:
    """The fix for an Aurora source provisioned without logical replication, said with this tool's commands.

    The bundle sets rds.logical_replication from the environment's configured migration type (terraform/provisioning/
    main.tf): a source provisioned for full-load has it off. The parameter is static, so after the apply the writer
    must reboot before wal_level becomes logical.
    """
    env_flags = ["--env", environment.env] if environment.env != DEFAULT_ENV else []  # `config` takes only --env
    configure = shlex.join(["dms-tui", "config", "migration-type", migration_type, *env_flags])
    apply = shlex.join(["dms-tui", "provision", "apply", *environment.cli_flags()])
    writer = source_writer(outputs)
    reboot = reboot_writer_command(environment, outputs)
    reboot_sentence = (
        f"reboot the source writer {writer}, which restarts it (the source is unavailable for a minute or two; "
        f"a running task on it fails): {reboot}"
    )

    def fix(parameter_on: bool) -> str:
        if parameter_on:
            return f"rds.logical_replication = 1 is set but not in effect until the writer reboots: {reboot_sentence}."
        return (
            "The bundle turns logical replication on only when the environment's migration type captures changes, "
            f"and this source was provisioned without it. Set the type: {configure}; apply it: {apply} (sets "
            f"rds.logical_replication = 1 in the source's parameter group); then {reboot_sentence}. Then start the "
            "task again."
        )

    return fix


def findings_for(
    source: Any,
    target: Any,
    mappings: TableMappings,
    migration_type: str,
    *,
    logical_replication_fix: LogicalReplicationFix = generic_logical_replication_fix,
) -> CdcPrerequisites:
    """The findings from two open connections (the source's catalog decides which tables the mappings select)."""
    from dms_tui.dmstask.preview import plan_tables, read_source_catalog

    plans = plan_tables(read_source_catalog(source), mappings)
    found: list[Prerequisite] = source_prerequisites(
        source, [p.source for p in plans], logical_replication_fix=logical_replication_fix
    )
    found += target_prerequisites(target, [p.target for p in plans], must_exist=migration_type == MigrationType.CDC)
    return CdcPrerequisites(migration_type, tuple(found))


def check_cdc_prerequisites(
    environment: Environment, outputs: EnvironmentOutputs, mappings: TableMappings, migration_type: str
) -> CdcPrerequisites:
    """Read both databases with the provisioned secrets (kept in memory); full-load gets an empty report."""
    if not needs_prerequisites(migration_type):
        return CdcPrerequisites(migration_type, ())
    import psycopg
    from botocore.exceptions import BotoCoreError, ClientError

    from dms_tui.data.connect import SecretFormatError, connect, read_credentials

    try:
        source_login = read_credentials(environment, outputs.source.secret_arn)
        target_login = read_credentials(environment, outputs.target.secret_arn)
    except (ClientError, BotoCoreError, SecretFormatError) as exc:
        raise StepError(
            "Could not read the database secrets to check the CDC prerequisites; nothing was created.",
            str(exc),
            "Go back to Verify to check the secrets, then start the task again.",
            exit_code=exit_codes.NOT_RUN,
        ) from None
    try:
        with (
            connect(source_login, environment, connect_timeout=10) as source,
            connect(target_login, environment, connect_timeout=10) as target,
        ):
            return findings_for(
                source,
                target,
                mappings,
                migration_type,
                logical_replication_fix=logical_replication_fix(environment, outputs, migration_type),
            )
    except psycopg.Error as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StepError(
            "Could not read the databases to check the CDC prerequisites; nothing was created.",
            first_line,
            "Go back to Verify to check both databases, then start the task again.",
            exit_code=exit_codes.NOT_RUN,
        ) from None


def summary_lines(report: CdcPrerequisites) -> Sequence[tuple[str, str]]:
    """(mark, text) per finding, for the two faces: ✓ passed, ✗ blocker, ! warning; the fix on the same entry."""
    lines: list[tuple[str, str]] = []
    for f in report.findings:
        mark = "✓" if f.passed else ("✗" if f.blocker else "!")
        text = f"{f.title}: {f.detail}"
        if not f.passed and f.fix:
            text += f"\n    fix: {f.fix}"
        lines.append((mark, text))
    return lines
