"""`dms-tui sandbox up|status|down`: the embedded sandbox, headless.

Exit codes: 0 done / everything running; 1 failed, or (status) something is stopped or crashed; 3 (status) no
sandbox exists.

The sandbox package (moto, psycopg) and rich are imported inside the run functions: `dms-tui --help` builds this
parser and must not pay for them.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from dms_tui import exit_codes
from dms_tui.commands._common import add_common_options, print_json, stderr_console, stdout_console
from dms_tui.environment import DEFAULT_REGION
from dms_tui.errors import StepError

if TYPE_CHECKING:
    from rich.text import Text

    from dms_tui.sandbox.lifecycle import SandboxEvent

EXIT_OK = exit_codes.OK
EXIT_FAILED = exit_codes.FAILED
EXIT_ABSENT = 3  # (status) no sandbox exists


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sandbox", help="start, inspect or stop the embedded sandbox (no AWS account)")
    actions = parser.add_subparsers(dest="sandbox_action", metavar="ACTION", required=True)
    up = actions.add_parser(
        "up",
        help="start the sandbox: the moto daemon and the environment's two clusters (reuses what runs); "
        "the AWS objects come from `dms-tui provision apply --sandbox`",
    )
    add_common_options(up)
    # SUPPRESS: a --region given before the subcommand (the global environment option) is not overwritten.
    up.add_argument(
        "--region",
        default=argparse.SUPPRESS,
        help=f"region the sandbox pretends to be (default: {DEFAULT_REGION})",
    )
    up.add_argument(
        "--provision",
        choices=("auto", "terraform", "api"),
        default=None,
        help="how the Provision step creates the AWS objects here: auto = the terraform bundle when terraform and "
        "the provider are available (minutes), else boto3 (the default for a new sandbox); api = boto3 (seconds); "
        "terraform = the bundle or fail. Kept until the next `up` that names one",
    )
    up.set_defaults(func=run_up)
    status = actions.add_parser("status", help="show what runs")
    add_common_options(status)
    status.set_defaults(func=run_status)
    down = actions.add_parser("down", help="stop everything the sandbox started")
    add_common_options(down)
    down.add_argument("--keep-data", action="store_true", help="keep the clusters' data for the next `up`")
    down.set_defaults(func=run_down)


def _event_line(event: SandboxEvent) -> Text | None:
    """One human line per event; resource creations are summarised instead (there are dozens)."""
    from rich.text import Text

    from dms_tui.sandbox.lifecycle import (
        EnvironmentForgotten,
        PieceRestarted,
        PieceReused,
        PieceStarted,
        PieceStopped,
        ProvisionPathChosen,
    )
    from dms_tui.sandbox.provisioner import ForwarderBound

    if isinstance(event, PieceStarted):
        return Text.assemble(("started ", "green"), f"{event.piece}: ", event.detail)
    if isinstance(event, PieceReused):
        return Text.assemble(("reused  ", "cyan"), f"{event.piece}: ", event.detail)
    if isinstance(event, PieceRestarted):
        return Text.assemble(("restarted ", "yellow"), f"{event.piece}: ", event.reason)
    if isinstance(event, ProvisionPathChosen):
        return Text.assemble(("provisioning ", "bold"), f"({event.path}): ", event.reason)
    if isinstance(event, ForwarderBound):
        return Text(
            f"forwarder {event.side}: {event.dns_name} -> 127.0.0.1:{event.listen_port} "
            f"-> PostgreSQL :{event.cluster_port}"
        )
    if isinstance(event, PieceStopped):
        return Text(f"stopped {event.piece} (pid {event.pid}): {event.detail}")
    if isinstance(event, EnvironmentForgotten):
        return Text.assemble(("forgotten ", "yellow"), f"environment {event.env}: ", event.reason)
    return None


def run_up(args: argparse.Namespace) -> int:
    from rich.text import Text

    from dms_tui.sandbox.lifecycle import Sandbox, SandboxError
    from dms_tui.sandbox.postgres import PostgresBinariesNotFound, PostgresStartError

    console = stderr_console()

    def on_event(event: SandboxEvent) -> None:
        line = _event_line(event)
        if line is not None:
            console.print(line)

    started = time.monotonic()
    try:
        region = getattr(args, "region", None) or DEFAULT_REGION
        sandbox = Sandbox(region=region, env=getattr(args, "env", "dev"), provision=args.provision)
        info = sandbox.up(on_event)
    except PostgresBinariesNotFound as exc:
        raise StepError(
            "The sandbox did not start: it needs PostgreSQL's server binaries.",
            str(exc),
            "Install them, then run `dms-tui sandbox up` again.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    except (SandboxError, PostgresStartError) as exc:
        raise StepError(
            "The sandbox did not start.",
            str(exc),
            "Fix the cause above and run `dms-tui sandbox up` again: it reuses whatever already runs "
            "(`dms-tui sandbox status` shows what does).",
        ) from exc
    document = info.to_json() | {"seconds": round(time.monotonic() - started, 2)}
    if args.json:
        print_json(document)
        return EXIT_OK
    out = stdout_console()
    keys = ["aws_endpoint_url", "region", "env", "workdir", "provision_path", "ca_cert"]
    if info.outputs is not None:
        keys[:0] = ["source_url", "target_url"]
    for key in keys:
        out.print(Text.assemble((f"{key:17}", "bold"), str(document[key])))
    if info.outputs is None:
        flags = " --sandbox" + ("" if info.env == "dev" else f" --env {info.env}")
        out.print(Text(f"no AWS objects yet: `dms-tui provision apply{flags} --yes` creates them"))
    else:
        out.print(
            Text(
                "passwords are in Secrets Manager: aws --endpoint-url "
                + info.aws_endpoint_url
                + " secretsmanager get-secret-value --secret-id "
                + info.outputs.source.secret_arn
            )
        )
    return EXIT_OK


def run_status(args: argparse.Namespace) -> int:
    from rich.text import Text

    from dms_tui.sandbox.lifecycle import Sandbox

    status = Sandbox().status()
    code = {"running": EXIT_OK, "absent": EXIT_ABSENT}.get(status.overall, EXIT_FAILED)
    if args.json:
        print_json(status.to_json())
        return code
    out = stdout_console()
    out.print(Text.assemble(("sandbox ", "bold"), status.overall, f"  ({status.workdir})"))
    for piece in status.pieces:
        style = "green" if piece.state == "running" else "yellow"
        pid = f" pid {piece.pid}" if piece.pid else ""
        out.print(Text.assemble(f"  {piece.piece:8}", (piece.state, style), pid, f"  {piece.detail}"))
    for fwd in status.forwarders:
        out.print(
            Text(
                f"  forwarder {fwd['name']}: {fwd['dns_name']} -> :{fwd['listen_port']} -> "
                f":{fwd['target_port']} ({fwd['active_connections']} open, latency {fwd['latency']}s"
                f"{', refusing' if fwd['refusing'] else ''})"
            )
        )
    return code


def run_down(args: argparse.Namespace) -> int:
    from rich.text import Text

    from dms_tui.sandbox.lifecycle import Sandbox

    console = stderr_console()

    def on_event(event: SandboxEvent) -> None:
        line = _event_line(event)
        if line is not None and not args.json:
            console.print(line)

    report = Sandbox().down(keep_data=args.keep_data, on_event=on_event)
    if args.json:
        print_json(report.to_json())
    elif report.leftover_pids:
        console.print(
            Text(f"these processes did not stop: {list(report.leftover_pids)}; stop them with kill -9", style="red")
        )
    else:
        stdout_console().print(Text(f"sandbox stopped, data {'removed' if report.data_removed else 'kept'}"))
    return EXIT_FAILED if report.leftover_pids else EXIT_OK
