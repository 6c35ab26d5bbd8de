"""`dms-tui task check`: is this task definition one AWS DMS would accept, and can the sandbox engine run it?

The verdict is the Migrate screen's own check (dms_tui.steps.task_check). Exit codes: 0 valid (what only the sandbox
cannot run is listed, and does not fail the check); 2 invalid (one line per problem), or a file that is missing or
not JSON (what, where, what to do).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dms_tui import exit_codes
from dms_tui.commands._common import add_common_options, add_outputs_option, print_json, stdout_console
from dms_tui.environment import add_environment_options, request_from_args


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "task",
        help="work with the DMS task's definition (task check)",
        description="Work with the replication task's definition without creating anything.",
    )
    actions = parser.add_subparsers(dest="task_command", metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="validate table mappings and task settings as AWS DMS would, and list what the sandbox cannot run",
        description=(
            "Validate table mappings and task settings with the same check the Migrate screen's form runs: one "
            "line per problem AWS DMS would reject (exit 2), and, apart, what only the sandbox engine cannot run. "
            "Without --mappings, the mappings the wizard recorded for the environment are checked, else the "
            "seed's; without --settings, the seed's settings."
        ),
    )
    add_environment_options(check)
    add_common_options(check)
    check.add_argument("--mappings", type=Path, metavar="FILE", help="table mappings JSON (TableMappings)")
    check.add_argument("--settings", type=Path, metavar="FILE", help="task settings JSON (ReplicationTaskSettings)")
    check.add_argument(
        "--assess",
        action="store_true",
        help=(
            "also run our premigration assessment on the two databases (tables without a key, user-defined and "
            "unsupported types, LOBs without a key, CDC source settings, target tables in the way): each finding "
            "with its consequence and fix; findings do not change the exit code"
        ),
    )
    check.add_argument(
        "--migration-type",
        choices=("full-load", "full-load-and-cdc", "cdc"),
        help=(
            "the task's migration type, for --assess (CDC checks run for the two CDC types; default: the "
            "environment's configured migration_type, `dms-tui config migration-type`)"
        ),
    )
    add_outputs_option(check, used_for=" for --assess")
    check.set_defaults(func=run_check)
    _register_assess(actions)
    parser.set_defaults(func=lambda args: _usage(parser))


DEFAULT_TASK_ID = "dms-tui-demo-task"  # dms_tui.dmstask.migration.DEFAULT_TASK_ID (not imported: start-up time)


def _register_assess(actions: Any) -> None:
    assess = actions.add_parser(
        "assess",
        help="premigration assessment: our checks of both databases, and on AWS a DMS assessment run on the task",
        description=(
            "Run the premigration assessment. Both modes: our own checks of the two catalogs (tables without a key, "
            "unsupported and user-defined types, LOBs without a key, CDC source settings), each with its "
            "consequence and fix. On AWS, also DMS's own assessment run on the task (created from these documents "
            "when it does not exist; it must not be running), its results written to the bucket terraform made. "
            "The sandbox says that the DMS run exists only on AWS. Exit 0: no error finding and the DMS run passed "
            "(or warned); 1: an error finding, or an assessment failed; 2: nothing could be assessed."
        ),
    )
    add_environment_options(assess)
    add_common_options(assess)
    assess.add_argument("--mappings", type=Path, metavar="FILE", help="table mappings JSON (default: the seed's)")
    assess.add_argument("--settings", type=Path, metavar="FILE", help="task settings JSON (default: the seed's)")
    assess.add_argument(
        "--prep-mode", metavar="MODE", help="FullLoadSettings.TargetTablePrepMode (overrides --settings)"
    )
    assess.add_argument(
        "--migration-type",
        choices=("full-load", "full-load-and-cdc", "cdc"),
        help="default: the environment's configured migration_type (`dms-tui config migration-type`)",
    )
    assess.add_argument("--task-id", default=DEFAULT_TASK_ID, help=f"task identifier (default: {DEFAULT_TASK_ID})")
    add_outputs_option(assess)
    assess.add_argument("--interval", type=float, default=15.0, help="seconds between reads of the DMS run")
    assess.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for the DMS run to finish")
    assess.set_defaults(func=run_assess)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return exit_codes.NOT_RUN


def run_check(args: argparse.Namespace) -> int:
    from rich.text import Text

    from dms_tui.steps.task_check import check_task

    request = request_from_args(args)
    result = check_task(args.mappings, args.settings, env=request.env, mode=request.mode)
    assessing = getattr(args, "assess", False) and result.ok
    if args.json:
        document = result.to_json()
        if assessing:
            document["assessment"] = [f.to_json() for f in _assess(args, result)]
        print_json(document)
        return result.exit_code
    out = stdout_console()
    out.print(Text(f"table mappings: {result.mappings.source}", style="dim"), soft_wrap=True)
    out.print(Text(f"task settings: {result.settings.source}", style="dim"), soft_wrap=True)
    for problem in result.problems:
        out.print(Text(str(problem), style="red"), soft_wrap=True)
    for warning in result.warnings:
        out.print(Text(f"warning: {warning}", style="yellow"), soft_wrap=True)
    if result.sandbox_unsupported:
        out.print(Text("AWS accepts, the sandbox engine cannot run:", style="yellow"))
        for gap in result.sandbox_unsupported:
            out.print(Text(f"  sandbox: {gap}", style="yellow"), soft_wrap=True)
    findings = _assess(args, result) if assessing else None  # after the check's lines: they stand on their own
    if findings is not None:
        _print_findings(out, findings, "premigration assessment")
    if result.ok:
        out.print(Text("valid: AWS DMS would accept this task definition", style="green"))
    else:
        count = len(result.problems)
        out.print(Text(f"invalid: {count} problem{'s' if count != 1 else ''}; nothing was created", style="bold red"))
    return result.exit_code


def _assess(args: argparse.Namespace, result: Any) -> list[Any]:
    from dms_tui.environment import open_environment
    from dms_tui.journey import Journey, load_checkpoint
    from dms_tui.provision.outputs import EnvironmentOutputs
    from dms_tui.steps.task_check import assess_definition

    environment = open_environment(request_from_args(args), outputs_file=args.outputs).environment
    outputs = environment.outputs
    if outputs is None:
        state = load_checkpoint(environment.env, environment.mode)  # read only: checking writes nothing
        recorded = state.outputs if state is not None else None
        outputs = EnvironmentOutputs.from_json(recorded) if recorded else environment.require_outputs()
    # The type the environment was configured (and provisioned) for, unless given; reading it writes nothing.
    migration_type = args.migration_type or Journey(environment.env, environment.mode).config.migration_type
    return assess_definition(environment, outputs, result.mappings_text, result.settings_text, migration_type)


def run_assess(args: argparse.Namespace, services: Any = None) -> int:
    import dataclasses

    from rich.text import Text

    from dms_tui.commands.migrate import draft_from_args
    from dms_tui.environment import open_environment
    from dms_tui.journey import Journey
    from dms_tui.steps.assessment_run import (
        AssessmentRunFinished,
        AssessmentRunProgress,
        AssessmentRunStarted,
        AssessmentRunStep,
        DmsRunUnavailable,
        OwnAssessment,
        TaskReady,
    )
    from dms_tui.steps.migrate import CommandIssued
    from dms_tui.steps.services import StepServices

    draft = draft_from_args(args)  # an invalid definition: the step's StepError (exit 2), before anything runs
    environment = open_environment(request_from_args(args), outputs_file=args.outputs).environment
    base = services or StepServices()
    options = {"assessment_poll_interval_s": args.interval, "assessment_timeout_s": args.timeout, **base.options}
    journey = Journey.resume_or_start(environment.env, environment.mode)
    if args.migration_type is None:  # the type the environment was configured, and provisioned, for
        draft = dataclasses.replace(draft, migration_type=journey.config.migration_type)
    step = AssessmentRunStep(environment, dataclasses.replace(base, options=options), journey)
    out = None if args.json else stdout_console()
    document: dict[str, Any] = {"findings": [], "dms_run": None, "dms_run_unavailable": None, "commands": []}
    errors = 0
    finished: AssessmentRunFinished | None = None
    for event in step.run(draft):
        if isinstance(event, OwnAssessment):
            document["findings"] = [f.to_json() for f in event.findings]
            errors = sum(1 for f in event.findings if f.severity == "error")
            if out is not None:
                _print_findings(out, list(event.findings))
        elif isinstance(event, DmsRunUnavailable):
            document["dms_run_unavailable"] = event.reason
            if out is not None:
                out.print(Text(event.reason, style="yellow"), soft_wrap=True)
        elif isinstance(event, CommandIssued | AssessmentRunStarted):
            document["commands"].append(event.command.text)
            if out is not None:
                out.print(Text(f"$ {event.command.text}", style="dim"), soft_wrap=True)
        elif isinstance(event, TaskReady) and out is not None:
            how = "created, not started" if event.created else "exists"
            out.print(Text(f"task {event.identifier}: {event.status} ({how})"), soft_wrap=True)
        elif isinstance(event, AssessmentRunProgress) and out is not None:
            run = event.run
            out.print(Text(f"DMS assessment run {run.name}: {run.status}, {run.completed}/{run.assessments} done"))
        elif isinstance(event, AssessmentRunFinished):
            finished = event
    if finished is not None:
        run = finished.run
        document["dms_run"] = {
            "arn": run.arn,
            "name": run.name,
            "status": run.status,
            "result_location": run.result_location,
            "failure_message": run.failure_message,
            "assessments": [r.to_json() for r in finished.results],
        }
        if out is not None:
            out.print(Text(f"DMS premigration assessment run {run.name}: {run.status}", style="bold"))
            if run.failure_message:
                out.print(Text(f"  {run.failure_message}", style="red"), soft_wrap=True)
            for result in finished.results:
                style = {"failed": "red", "error": "red", "warning": "yellow", "passed": "green"}.get(result.status)
                out.print(Text(f"  {result.status}: {result.name}", style=style or ""), soft_wrap=True)
                if result.status != "passed":
                    out.print(Text(f"    consequence: {result.consequence}"), soft_wrap=True)
                    out.print(Text(f"    fix: {result.fix}", style="dim"), soft_wrap=True)
            if run.result_location:
                out.print(Text(f"results: {run.result_location}", style="dim"), soft_wrap=True)
    failed = errors > 0 or (finished is not None and not finished.ok)
    if args.json:
        document["ok"] = not failed
        print_json(document)
    return exit_codes.FAILED if failed else exit_codes.OK


def _print_findings(out: Any, findings: list[Any], title: str = "our premigration assessment") -> None:
    from rich.text import Text

    out.print(Text(f"{title}: {len(findings) or 'no'} finding(s)", style="bold"))
    for finding in findings:
        style = "red" if finding.severity == "error" else "yellow"
        out.print(Text(f"  {finding.severity}: {finding.subject}: {finding.what}", style=style), soft_wrap=True)
        out.print(Text(f"    consequence: {finding.consequence}"), soft_wrap=True)
        out.print(Text(f"    fix: {finding.fix}", style="dim"), soft_wrap=True)
