"""`dms-tui bastion wheelhouse DIR | ship`: get dms-tui onto the bastion, which has no route to a package index.

- ``wheelhouse DIR`` builds dms-tui and every dependency for the bastion's platform (Amazon Linux 2023 x86_64, the
  bastion's Python) into DIR with a SHA256SUMS manifest: for inspection, or a copy by hand.
- ``ship`` builds one (or takes ``--wheelhouse DIR``), uploads it to the bundle's wheelhouse bucket, and installs it
  on the running bastion through Session Manager (``ssm send-command``), showing what the bastion printed. A bastion
  that boots after the upload installs it by itself (its user_data).

Exit codes: 0 done; 1 the build, upload or install failed; 2 nothing ran (no bucket yet, bad directory, no identity).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dms_tui import environment as environments
from dms_tui import exit_codes
from dms_tui.commands._common import add_common_options, print_json, report_error, stderr_console, stdout_console
from dms_tui.errors import StepError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bastion", help="build the bastion's wheelhouse and ship it there (the bastion has no package index)"
    )
    actions = parser.add_subparsers(dest="bastion_action", metavar="ACTION", required=True)
    wheelhouse = actions.add_parser(
        "wheelhouse", help="build dms-tui and its dependencies for the bastion's platform into DIR"
    )
    wheelhouse.add_argument("directory", type=Path, metavar="DIR", help="an empty or new directory")
    wheelhouse.add_argument("--python-version", metavar="X.Y", help="the bastion's Python (default: the bundle's)")
    add_common_options(wheelhouse)
    wheelhouse.set_defaults(func=run_wheelhouse)

    ship = actions.add_parser("ship", help="upload the wheelhouse to the bundle's bucket and install it on the bastion")
    environments.add_environment_options(ship)
    add_common_options(ship)
    ship.add_argument("--wheelhouse", type=Path, metavar="DIR", help="ship this wheelhouse instead of building one")
    ship.add_argument("--bucket", metavar="NAME", help="the wheelhouse bucket (default: the bundle's name for it)")
    ship.add_argument("--instance-id", metavar="ID", help="the bastion (default: from the recorded outputs)")
    ship.add_argument("--no-install", action="store_true", help="upload only; do not run the install on the bastion")
    ship.add_argument("--timeout", type=float, default=900.0, metavar="SECONDS", help="wait this long for the install")
    ship.set_defaults(func=run_ship)


def _progress(args: argparse.Namespace) -> Any:
    console = stderr_console() if args.json else stdout_console()

    def show(event: Any) -> None:
        console.print(event.text, markup=False, highlight=False)

    return console, show


def run_wheelhouse(args: argparse.Namespace) -> int:
    from dms_tui.bastion.wheelhouse import build_wheelhouse, equivalent_commands

    console, show = _progress(args)
    try:
        built = build_wheelhouse(args.directory, python_version=args.python_version, on_progress=show)
    except StepError as err:
        return report_error(err)
    commands = equivalent_commands(built.directory, built.python_version)
    if args.json:
        print_json(
            {
                "directory": str(built.directory),
                "files": list(built.files),
                "bytes": built.total_bytes,
                "python_version": built.python_version,
                "commands": commands,
            }
        )
    else:
        console.print(
            f"{len(built.files) - 1} wheels, {built.total_bytes / 1e6:.1f} MB, for Python {built.python_version} on "
            "Amazon Linux 2023 x86_64. Install with: pip install --no-index --find-links DIR dms-tui",
            markup=False,
        )
        console.print("equivalent commands (from a source checkout):", style="dim")
        for command in commands:
            console.print("  $ " + command, markup=False, style="dim")
    return exit_codes.OK


def run_ship(args: argparse.Namespace) -> int:
    import tempfile

    from dms_tui.bastion.ship import (
        InstallFinished,
        InstallSent,
        Removed,
        Uploaded,
        equivalent_commands,
        install_on_bastion,
        resolve_target,
        upload,
        write_parameters_file,
    )
    from dms_tui.bastion.wheelhouse import build_wheelhouse, read_wheelhouse

    console, show = _progress(args)
    document: dict[str, Any] = {"uploaded": [], "skipped": [], "removed": []}
    try:
        environment = environments.open_environment(environments.request_from_args(args)).environment
        target = resolve_target(environment, bucket=args.bucket, instance_id=args.instance_id)
        if args.wheelhouse is not None:
            wheelhouse = read_wheelhouse(args.wheelhouse)
        else:
            scratch = Path(tempfile.mkdtemp(prefix="dms-tui-wheelhouse-"))
            wheelhouse = build_wheelhouse(scratch, on_progress=show)
        console.print(f"shipping {len(wheelhouse.files)} files to {target.url}", markup=False)
        for event in upload(environment.client("s3"), wheelhouse, target):
            if isinstance(event, Uploaded):
                document["skipped" if event.skipped else "uploaded"].append(event.name)
                if not event.skipped:
                    console.print(f"  uploaded {event.name} ({event.size / 1e6:.1f} MB)", markup=False)
            elif isinstance(event, Removed):
                document["removed"].append(event.key)
                console.print(f"  removed {event.key} (not in this wheelhouse)", markup=False)
        if document["skipped"]:
            console.print(f"  {len(document['skipped'])} unchanged files skipped", markup=False)
        write_parameters_file(wheelhouse.directory, target)
        finished: InstallFinished | None = None
        if target.instance_id and not args.no_install:
            for install in install_on_bastion(
                environment.client("ssm"),
                target,
                timeout=args.timeout,
                poll_interval=environment.verify_timeouts.dms_poll_interval,
                emulated=environment.emulated,
            ):
                if isinstance(install, InstallSent):
                    console.print(
                        f"installing on {install.instance_id} (ssm command {install.command_id})…", markup=False
                    )
                elif isinstance(install, InstallFinished):
                    finished = install
        elif not target.instance_id:
            console.print("no bastion is recorded yet: it installs the wheelhouse when it boots", markup=False)
    except StepError as err:
        return report_error(err)
    commands = equivalent_commands(environment, wheelhouse, target)
    document |= {"bucket": target.bucket, "prefix": target.prefix, "instance_id": target.instance_id}
    document["commands"] = commands
    if finished is not None:
        document["install"] = {
            "status": finished.status,
            "command_id": finished.command_id,
            "output": finished.output,
            "error_output": finished.error_output,
            "note": finished.note,
        }
        style = "green" if finished.ok else "red"
        console.print(f"install on the bastion: {finished.status}", style=style, markup=False)
        for text in (finished.output, finished.error_output):
            if text.strip():
                console.print(text.rstrip(), markup=False, style="dim")
        if finished.note:
            console.print(f"({finished.note})", markup=False, style="dim")
    if args.json:
        print_json(document)
    else:
        console.print("equivalent commands:", style="dim")
        for command in commands:
            console.print("  $ " + command, markup=False, style="dim")
    return exit_codes.OK if finished is None or finished.ok else exit_codes.FAILED
