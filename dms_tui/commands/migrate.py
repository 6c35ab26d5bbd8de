"""`dms-tui migrate`: create the DMS task, run it and watch it until it ends, printing each snapshot.

Exit codes: 0 the task stopped with every table completed; 1 it failed, ended with a table not completed, or an AWS
call failed; 2 the settings or mappings are invalid (nothing was created); 3 there is no environment to run in
(no running sandbox, no terraform outputs).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from botocore.config import Config
from rich.text import Text

from dms_tui.aws.dms import (
    CommandIssued,
    DmsTaskError,
    OldTaskRemoved,
    ReplicationTaskRunner,
    TaskDefinition,
    TaskStatusSeen,
    run_task,
)
from dms_tui.aws.migration_run import check_definition
from dms_tui.aws.task_poller import PollFailed, PollSchedule, ReplicationTaskSnapshot, TaskGone
from dms_tui.commands._common import add_common_options, print_json, stderr_console, stdout_console
from dms_tui.dmstask.mappings import MappingsFormatError, TableMappings, default_mappings
from dms_tui.dmstask.migration import MigrationType
from dms_tui.dmstask.settings import SettingsFormatError, TargetTablePrepMode, TaskSettings, default_settings
from dms_tui.environment import Environment, aws_environment
from dms_tui.provision.outputs import EnvironmentOutputs, OutputsError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_NO_ENVIRONMENT = 3

DEFAULT_TASK_ID = "dms-tui-demo-task"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "migrate",
        help="create, run and watch the DMS replication task",
        description=(
            "Create the replication task from the provisioned ARNs, wait until it is ready, start it and print "
            "its progress until it ends. A task with the same identifier from an earlier run is replaced."
        ),
    )
    add_common_options(parser)
    parser.add_argument(
        "--prep-mode",
        choices=[m.value for m in TargetTablePrepMode],
        help="FullLoadSettings.TargetTablePrepMode (overrides the settings file)",
    )
    parser.add_argument("--mappings", type=Path, metavar="FILE", help="table mappings JSON (default: the seed's)")
    parser.add_argument("--settings", type=Path, metavar="FILE", help="task settings JSON (default: the seed's)")
    parser.add_argument(
        "--migration-type", choices=[t.value for t in MigrationType], default=MigrationType.FULL_LOAD.value
    )
    parser.add_argument("--task-id", default=DEFAULT_TASK_ID, help=f"task identifier (default: {DEFAULT_TASK_ID})")
    parser.add_argument(
        "--outputs",
        type=Path,
        metavar="FILE",
        help="`terraform output -json` document (AWS mode; default: the "
        "outputs the wizard recorded for this environment)",
    )
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls while the task runs")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the task to become ready")
    parser.add_argument(
        "--max-poll-failures",
        type=int,
        default=5,
        help="give up after this many polls in a row got no answer (default: 5)",
    )
    parser.set_defaults(func=run)


def _definition(args: argparse.Namespace) -> tuple[TaskDefinition, list[str]]:
    """The task definition from the files and flags, with every problem found (empty when valid)."""
    problems: list[str] = []
    settings: TaskSettings = default_settings()
    mappings: TableMappings = default_mappings()
    try:
        if args.settings is not None:
            settings = TaskSettings.from_json(args.settings.read_text())
        if args.mappings is not None:
            mappings = TableMappings.from_json(args.mappings.read_text())
    except OSError as exc:
        problems.append(f"cannot read {exc.filename}: {exc.strerror}")
    except (SettingsFormatError, MappingsFormatError) as exc:
        problems.append(str(exc))
    if args.prep_mode:
        settings = settings.with_prep_mode(args.prep_mode)
    # The same check the Migrate screen runs (one source of truth for what a valid definition is).
    definition, found = check_definition(args.task_id, args.migration_type, settings, mappings)
    return definition, problems + found


def _environment(args: argparse.Namespace) -> tuple[Environment, EnvironmentOutputs]:
    """Where to run: the running sandbox, or AWS with outputs from --outputs or the wizard's checkpoint."""
    env = getattr(args, "env", "dev")
    if getattr(args, "sandbox", False):
        from dms_tui.sandbox.environment import running_sandbox  # the sandbox package is optional at run time

        return running_sandbox()
    if args.outputs is not None:
        outputs = EnvironmentOutputs.from_terraform(json.loads(args.outputs.read_text()))
    else:
        from dms_tui.journey import load_checkpoint

        state = load_checkpoint(env, "aws")
        if state is None or not state.outputs:
            raise OutputsError(
                f"no terraform outputs are recorded for environment {env}; provision it first, or pass "
                "--outputs FILE (from `terraform output -json`), or use --sandbox"
            )
        outputs = EnvironmentOutputs.from_json(state.outputs)
    return aws_environment(outputs.region, env=env), outputs


def run(args: argparse.Namespace) -> int:
    err = stderr_console()
    definition, problems = _definition(args)
    if problems:
        for problem in problems:
            err.print(Text(problem, style="red"))
        err.print(Text("Nothing was created. Fix the files above and run `dms-tui migrate` again."))
        return EXIT_INVALID
    try:
        target, outputs = _environment(args)
    except Exception as exc:  # SandboxError, OutputsError, unreadable --outputs: all mean "nowhere to run"
        err.print(Text(f"migrate: {exc}", style="red"))
        return EXIT_NO_ENVIRONMENT

    # Shorter reads than the default client's: a control plane that stops answering shows up as a failed poll
    # within seconds instead of minutes (adaptive retries stay on for throttling).
    client = target.client("dms", config=Config(read_timeout=10, retries={"mode": "adaptive", "max_attempts": 3}))
    runner = ReplicationTaskRunner(client, file_threshold=None)
    failures = 0
    # --interval scales the whole schedule; the default 2 s gives PollSchedule's defaults (5 s idle, 30 s/60 s caps).
    i = args.interval
    schedule = PollSchedule(active_s=i, idle_s=2.5 * i, idle_max_s=15 * i, failing_max_s=30 * i)
    commands: list[str] = []
    last: ReplicationTaskSnapshot | None = None
    out = None if args.json else stdout_console()
    printed: object = None  # what the last printed snapshot showed: a snapshot is printed only when that changes
    try:
        for event in run_task(runner, outputs, definition, schedule=schedule, ready_timeout_s=args.timeout):
            if isinstance(event, CommandIssued):
                commands.append(event.command.text)
            elif isinstance(event, ReplicationTaskSnapshot):
                last = event
            elif isinstance(event, TaskGone):
                raise DmsTaskError("the task was deleted while it ran (by someone else?); run migrate again")
            failures = failures + 1 if isinstance(event, PollFailed) else 0
            if failures >= args.max_poll_failures:
                raise DmsTaskError(
                    f"the DMS API did not answer {failures} polls in a row (last: {getattr(event, 'message', '')}); "
                    "check the network or the sandbox (`dms-tui sandbox status`) and look at the task in the "
                    "console; it may still be running"
                )
            if out is not None:
                if isinstance(event, ReplicationTaskSnapshot):
                    shown = (event.status, event.stats, tuple((t.table_state, t.full_load_rows) for t in event.tables))
                    if shown == printed:
                        continue
                    printed = shown
                line = _line(event)
                if line is not None:
                    out.print(line, soft_wrap=True)  # a wrapped command would not run as printed
    except DmsTaskError as exc:
        err.print(Text(str(exc), style="red"))
        if args.json:
            print_json({"ok": False, "error": str(exc), "commands": commands, "snapshot": _snapshot_json(last)})
        return EXIT_FAILED
    ok = last is not None and last.succeeded
    if args.json:
        print_json({"ok": ok, "commands": commands, "snapshot": _snapshot_json(last)})
    elif last is not None and out is not None:
        verdict = ("every table completed", "green") if ok else ("not every table completed", "red")
        out.print(Text.assemble(("task ", "bold"), last.identifier, " ", last.status, ": ", verdict))
    return EXIT_OK if ok else EXIT_FAILED


def _line(event: object) -> Text | None:
    """One human line per event; AWS's own text (messages, names) is never parsed as markup."""
    if isinstance(event, CommandIssued):
        return Text("$ " + event.command.text, style="dim")
    if isinstance(event, OldTaskRemoved):
        return Text(f"replaced the task {event.identifier} left by an earlier run (it was {event.status})")
    if isinstance(event, TaskStatusSeen):
        return Text(f"task {event.status} after {event.waited_s:.0f} s")
    if isinstance(event, PollFailed):
        return Text(f"poll failed ({event.message}); retrying in {event.retry_in_s:.0f} s", style="yellow")
    if isinstance(event, ReplicationTaskSnapshot):
        s = event.stats
        line = Text.assemble(
            (f"{event.status:<9}", "bold"),
            f" {s.full_load_progress_percent:3d}%  loaded {s.tables_loaded} loading {s.tables_loading} "
            f"queued {s.tables_queued} errored {s.tables_errored}",
        )
        for table in event.tables:
            line.append(f"\n  {table.schema_name}.{table.table_name}: {table.table_state}, {table.full_load_rows} rows")
        if event.table_statistics_error:
            line.append(f"\n  table statistics unavailable: {event.table_statistics_error}", style="yellow")
        if event.stop_reason:
            line.append(f"\n  stop reason: {event.stop_reason}")
        if event.last_failure_message:
            line.append(f"\n  failure: {event.last_failure_message}", style="red")
        return line
    return None


def _snapshot_json(snapshot: ReplicationTaskSnapshot | None) -> dict[str, Any] | None:
    return None if snapshot is None else dataclasses.asdict(snapshot)
