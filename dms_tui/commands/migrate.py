"""`dms-tui migrate`: create the DMS task, run it and watch it until it ends, printing the Migrate step's events.

Exit codes: 0 the task stopped with every table completed; 1 it failed, ended with a table not completed, or an AWS
call failed; 2 nothing ran (the settings or mappings are invalid, no running sandbox, no terraform outputs, or a CDC
prerequisite failed: the findings are printed, each with its fix).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dms_tui import exit_codes
from dms_tui.commands._common import add_common_options, add_outputs_option, print_json, stdout_console
from dms_tui.domain.dms import MigrationType
from dms_tui.environment import add_environment_options, open_environment, request_from_args

if TYPE_CHECKING:
    from rich.text import Text

    from dms_tui.aws.task_poller import ReplicationTaskSnapshot
    from dms_tui.dmstask.migration import TaskDraft
    from dms_tui.steps.services import StepServices

DEFAULT_TASK_ID = "dms-tui-demo-task"  # dms_tui.dmstask.migration.DEFAULT_TASK_ID (not imported: start-up time)
EXISTING_TASK_CHOICES = ("replace", "restart", "reuse")  # dms_tui.steps.migrate.ExistingTask (not imported: same)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "migrate",
        help="create, run and watch the DMS replication task",
        description=(
            "Create the replication task from the provisioned ARNs, wait until it is ready, start it and print "
            "its progress until it ends (a full-load-and-cdc or cdc task: until its full load is done and it "
            "replicates; it keeps running). A task with the same identifier from an earlier run is replaced, "
            "restarted or reused, as --existing-task says."
        ),
    )
    add_environment_options(parser)
    add_common_options(parser)
    parser.add_argument(
        "--prep-mode",
        metavar="MODE",
        help="FullLoadSettings.TargetTablePrepMode: DO_NOTHING, DROP_AND_CREATE or TRUNCATE_BEFORE_LOAD "
        "(overrides the settings file)",
    )
    parser.add_argument("--mappings", type=Path, metavar="FILE", help="table mappings JSON (default: the seed's)")
    parser.add_argument("--settings", type=Path, metavar="FILE", help="task settings JSON (default: the seed's)")
    parser.add_argument(
        "--migration-type",
        choices=[t.value for t in MigrationType],
        default=None,
        help="full-load, full-load-and-cdc or cdc (default: the environment's configured migration_type, "
        "see `dms-tui config migration-type`)",
    )
    parser.add_argument(
        "--existing-task",
        choices=EXISTING_TASK_CHOICES,
        default="replace",
        help="a task left under the same identifier: replace it (delete, create from these settings; the default), "
        "restart it (keep it as DMS has it, load every table again) or reuse it (watch it if it runs, else resume)",
    )
    parser.add_argument("--task-id", default=DEFAULT_TASK_ID, help=f"task identifier (default: {DEFAULT_TASK_ID})")
    add_outputs_option(parser)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls while the task runs")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the task to become ready")
    parser.add_argument(
        "--max-poll-failures",
        type=int,
        default=5,
        help="give up after this many polls in a row got no answer (default: 5)",
    )
    parser.set_defaults(func=run)


def draft_from_args(args: argparse.Namespace) -> TaskDraft:
    """The task as the files and flags give it (checked by the step, as the screen's form is); without
    --migration-type, full-load until :func:`run` puts in the environment's configured type."""
    from dms_tui.dmstask.mappings import default_mappings
    from dms_tui.dmstask.migration import TaskDraft
    from dms_tui.dmstask.settings import SettingsFormatError, TaskSettings, default_settings
    from dms_tui.errors import StepError

    try:
        settings = TaskSettings.from_json(args.settings.read_text()) if args.settings else default_settings()
        mappings_text = args.mappings.read_text() if args.mappings else default_mappings().to_json()
    except OSError as exc:
        raise StepError(
            f"Cannot read {exc.filename}.",
            exc.strerror or str(exc),
            "Give a readable JSON file.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    except SettingsFormatError as exc:
        raise StepError(
            "The task settings file is not usable; nothing was created.",
            f"task settings: {exc}",
            "Fix the file and run `dms-tui migrate` again.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    return TaskDraft.from_documents(
        args.task_id,
        args.migration_type or MigrationType.FULL_LOAD.value,
        settings,
        mappings_text,
        prep_mode=args.prep_mode,
    )


def run(args: argparse.Namespace, services: StepServices | None = None) -> int:
    from dms_tui.aws.task_poller import PollSchedule, ReplicationTaskSnapshot
    from dms_tui.errors import StepError
    from dms_tui.journey import Journey, Step
    from dms_tui.steps.migrate import CommandIssued, ExistingTask, MigrateStep, MigrationFinished, PrerequisitesChecked
    from dms_tui.steps.services import StepServices

    draft = draft_from_args(args)  # a file that cannot be used is refused before anything starts
    environment = open_environment(request_from_args(args), outputs_file=args.outputs).environment
    # --interval scales the whole schedule; the default 2 s gives PollSchedule's defaults (5 s idle, 30 s/60 s caps).
    i = args.interval
    schedule = PollSchedule(active_s=i, idle_s=2.5 * i, idle_max_s=15 * i, failing_max_s=30 * i)
    base = services or StepServices()
    options = {"migrate_poll_schedule": schedule, "migrate_ready_timeout_s": args.timeout, **base.options}
    journey = Journey.resume_or_start(environment.env, environment.mode)
    if args.migration_type is None:  # the type the environment was configured, and provisioned, for
        draft = dataclasses.replace(draft, migration_type=journey.config.migration_type)
    step = MigrateStep(environment, dataclasses.replace(base, options=options), journey, file_threshold=None)

    out = None if args.json else stdout_console()
    commands: list[str] = []
    prerequisites: dict[str, Any] | None = None
    last: ReplicationTaskSnapshot | None = None
    finished: MigrationFinished | None = None
    printed: object = None  # what the last printed snapshot showed: a snapshot is printed only when that changes
    try:
        existing = ExistingTask(args.existing_task)
        for event in step.run(draft, max_poll_failures=args.max_poll_failures, existing_task=existing):
            if isinstance(event, CommandIssued):
                commands.append(event.command.text)
            elif isinstance(event, PrerequisitesChecked):
                prerequisites = event.report.to_json()
            elif isinstance(event, MigrationFinished):
                finished = event
            elif isinstance(event, ReplicationTaskSnapshot):
                last = event
                shown = (
                    event.status,
                    event.stats,
                    tuple((t.table_state, t.full_load_rows, t.validation_state) for t in event.tables),
                )
                if shown == printed:
                    continue
                printed = shown
            line = event_line(event)
            if out is not None and line is not None:
                out.print(line, soft_wrap=True)  # a wrapped command would not run as printed
    except StepError as err:
        if args.json:
            print_json(
                {
                    "ok": False,
                    "error": err.to_json(),
                    "commands": commands,
                    "prerequisites": prerequisites,
                    "snapshot": _snapshot_json(last),
                }
            )
        raise
    ok = finished is not None and finished.succeeded
    if ok:
        journey.complete(Step.MIGRATE)
    if args.json:
        print_json({"ok": ok, "commands": commands, "prerequisites": prerequisites, "snapshot": _snapshot_json(last)})
    return exit_codes.OK if ok else exit_codes.FAILED


def event_line(event: object) -> Text | None:
    """One human line per step event; AWS's own text (messages, names) is never parsed as markup."""
    from rich.text import Text

    from dms_tui.aws.task_poller import PollFailed, ReplicationTaskSnapshot
    from dms_tui.steps.cdc_prerequisites import summary_lines
    from dms_tui.steps.migrate import (
        CommandIssued,
        ExistingTaskKept,
        MigrationFinished,
        OldTaskRemoved,
        PrerequisitesChecked,
        TaskCreated,
        TaskStatusSeen,
    )

    if isinstance(event, CommandIssued):
        return Text("$ " + event.command.text, style="dim")
    if isinstance(event, PrerequisitesChecked):
        report = event.report
        outcome = "met" if report.ok else "NOT met: the task is not created"
        shown = Text(f"CDC prerequisites for {report.migration_type}: {outcome}", style="bold" if report.ok else "red")
        styles = {"✓": "green", "✗": "bold red", "!": "yellow"}
        for mark, entry in summary_lines(report):
            shown.append(f"\n  {mark} ", style=styles[mark])
            shown.append(entry)
        return shown
    if isinstance(event, OldTaskRemoved):
        return Text(f"replaced the task {event.identifier} left by an earlier run (it was {event.status})")
    if isinstance(event, ExistingTaskKept):
        how = "watching it as it runs" if event.start_type is None else f"starting it with {event.start_type.value}"
        return Text(
            f"kept the task {event.identifier} left by an earlier run (it was {event.status}), as DMS defines it; "
            + how
        )
    if isinstance(event, TaskCreated):
        return Text(f"task {event.identifier} created: {event.arn}")
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
            if table.validation_state and table.validation_state != "Not enabled":  # ValidationSettings on
                failed = f", {table.validation_failed_records} failed" if table.validation_failed_records else ""
                line.append(f", validation {table.validation_state}{failed}")
        if event.table_statistics_error:
            line.append(f"\n  table statistics unavailable: {event.table_statistics_error}", style="yellow")
        if event.stop_reason:
            line.append(f"\n  stop reason: {event.stop_reason}")
        if event.last_failure_message:
            line.append(f"\n  failure: {event.last_failure_message}", style="red")
        return line
    if isinstance(event, MigrationFinished):
        snapshot = event.snapshot
        if event.succeeded and not snapshot.ended:  # full-load-and-cdc / cdc: loaded, and it keeps replicating
            return Text.assemble(
                ("task ", "bold"),
                snapshot.identifier,
                " running: every table loaded; changes keep replicating until the task is stopped",
                style="green",
            )
        verdict = ("every table completed", "green") if event.succeeded else ("not every table completed", "red")
        return Text.assemble(("task ", "bold"), snapshot.identifier, " ", snapshot.status, ": ", verdict)
    return None


def _snapshot_json(snapshot: ReplicationTaskSnapshot | None) -> dict[str, Any] | None:
    return None if snapshot is None else dataclasses.asdict(snapshot)
