"""`dms-tui config check|show|init|migration-type`: validate, print, create and change an environment's tfvars
without the wizard.

Exit codes: 0 valid / done, 2 the file (or the migration type given) is invalid, missing or not JSON (every problem is
printed, one per line as ``field: message``), 1 refused to act (``init`` over an existing file without --force).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from dms_tui import exit_codes
from dms_tui.commands._common import add_common_options, print_json, stderr_console, stdout_console

if TYPE_CHECKING:  # the configuration model and rich are imported when a command runs, not to build --help
    from dms_tui.config import Problem

EXIT_OK = exit_codes.OK
EXIT_REFUSED = exit_codes.FAILED  # refused to act
EXIT_INVALID = exit_codes.NOT_RUN  # the file is invalid: nothing ran


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "config",
        help="check, show or create the configuration (terraform/variables/<env>/common.tfvars.json)",
        description="Check, show or create an environment's configuration, the tfvars JSON Terraform reads.",
    )
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)

    check = actions.add_parser("check", help="validate a tfvars JSON file; one line per problem, exit 2 if any")
    check.add_argument("file", type=Path, help="path of a common.tfvars.json file")
    add_common_options(check)
    check.set_defaults(func=run_check)

    show = actions.add_parser("show", help="print the environment's configuration (the defaults if none is saved)")
    _add_workdir_option(show)
    show.add_argument("--default", action="store_true", help="print the defaults even if a configuration is saved")
    add_common_options(show)
    show.set_defaults(func=run_show)

    init = actions.add_parser("init", help="write the default configuration for the environment")
    _add_workdir_option(init)
    init.add_argument("--force", action="store_true", help="replace an existing configuration")
    add_common_options(init)
    init.set_defaults(func=run_init)

    kind = actions.add_parser(
        "migration-type",
        help="show or set the migration type the environment is provisioned for (the Migrate step's default)",
        description=(
            "Show or set migration_type: full-load, full-load-and-cdc or cdc. The two change-capturing types turn "
            "rds.logical_replication on in the source cluster's parameter group at the next `dms-tui provision "
            "apply`; a static parameter, so a source already provisioned takes it when its writer reboots."
        ),
    )
    kind.add_argument("type", nargs="?", metavar="TYPE", help="full-load, full-load-and-cdc or cdc (omit to show)")
    _add_workdir_option(kind)
    add_common_options(kind)
    kind.set_defaults(func=run_migration_type)


def _add_workdir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="the Terraform working copy holding variables/<env>/ (default: the environment's working copy)",
    )


def _environment(args: argparse.Namespace) -> str:
    return str(getattr(args, "env", None) or "dev")


def _config_file(args: argparse.Namespace) -> Path:
    from dms_tui import paths
    from dms_tui.config import ConfigError, tfvars_path, validate_identifier

    env = _environment(args)
    problem = validate_identifier("environment", env, "environment")
    if problem is not None:  # checked before environment_dir() turns the name into a directory
        raise ConfigError([problem])
    workdir = args.workdir if args.workdir is not None else paths.environment_dir(env) / "terraform"
    return tfvars_path(workdir, env)


def _print_problems(problems: list[Problem]) -> None:
    from rich.text import Text

    console = stdout_console()
    for problem in problems:
        # Text, not markup: field names and messages quote what the file holds.
        console.print(Text(str(problem)), soft_wrap=True)


def run_check(args: argparse.Namespace) -> int:
    from rich.text import Text

    from dms_tui.config import ConfigError, load

    try:
        config = load(args.file)
    except ConfigError as exc:
        if args.json:
            print_json({"file": str(args.file), "valid": False, "problems": _problems_json(exc.problems)})
        else:
            _print_problems(exc.problems)
            stderr_console().print(
                Text(f"{args.file}: {len(exc.problems)} problem(s); fix them and check again"), soft_wrap=True
            )
        return EXIT_INVALID
    if args.json:
        print_json({"file": str(args.file), "valid": True, "problems": [], "environment": config.environment})
    else:
        stdout_console().print(Text(f"{args.file}: valid ({config.environment}, {config.aws_region})"), soft_wrap=True)
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    from rich.text import Text

    from dms_tui.config import ConfigError, WizardConfig, load

    env = _environment(args)
    try:
        file = _config_file(args)
        if args.default or not file.exists():
            if not args.default:
                stderr_console().print(
                    Text(f"no configuration saved for {env} yet ({file}); showing the defaults"), soft_wrap=True
                )
            config = WizardConfig.default(env)
        else:
            config = load(file)
    except ConfigError as exc:
        _print_problems(exc.problems)
        return EXIT_INVALID
    # The tfvars document is JSON already: --json and plain output are the same document.
    print(json.dumps(config.to_tfvars(), indent=2, ensure_ascii=False))
    return EXIT_OK


def run_init(args: argparse.Namespace) -> int:
    from rich.text import Text

    from dms_tui.config import ConfigError, WizardConfig

    env = _environment(args)
    try:
        file = _config_file(args)
        if file.exists() and not args.force:
            stderr_console().print(
                Text(f"{file} already exists; edit it, check it with `dms-tui config check`, or pass --force"),
                soft_wrap=True,
            )
            return EXIT_REFUSED
        WizardConfig.default(env).save(file)
    except ConfigError as exc:
        _print_problems(exc.problems)
        return EXIT_INVALID
    if args.json:
        print_json({"file": str(file), "environment": env, "written": True})
    else:
        stdout_console().print(Text(f"wrote the default configuration for {env} to {file}"), soft_wrap=True)
    return EXIT_OK


def _problems_json(problems: list[Problem]) -> list[dict[str, str]]:
    return [{"field": p.field, "message": p.message} for p in problems]


def run_migration_type(args: argparse.Namespace) -> int:
    """Set (or show) migration_type in the environment's tfvars; the same value again changes nothing."""
    from rich.text import Text

    from dms_tui.config import ConfigError, WizardConfig, load, validate_migration_type

    env = _environment(args)
    try:
        file = _config_file(args)
        config = load(file) if file.exists() else WizardConfig.default(env)
        before = config.migration_type
        wanted = before if args.type is None else args.type
        problem = validate_migration_type("migration_type", wanted)
        if problem is not None:
            raise ConfigError([problem])
        changed = wanted != before or not file.exists()
        if args.type is not None and changed:
            config = config.with_value("migration_type", wanted)
            config.save(file)  # validated first, written atomically: nothing half-done
    except ConfigError as exc:
        if args.json:
            print_json({"valid": False, "problems": _problems_json(exc.problems)})
        else:
            _print_problems(exc.problems)
        return EXIT_INVALID
    logical = wanted != "full-load"
    written = args.type is not None and changed
    if args.json:
        print_json(
            {
                "file": str(file),
                "environment": env,
                "migration_type": wanted,
                "previous": before,
                "written": written,
                "source_logical_replication": logical,
            }
        )
        return EXIT_OK
    console = stdout_console()
    parameter = f"rds.logical_replication = {1 if logical else 0} on the source"
    if args.type is None:
        console.print(Text(f"{env}: migration_type = {wanted} ({parameter})"), soft_wrap=True)
    elif not written:
        console.print(Text(f"{env}: migration_type is already {wanted}; nothing changed ({file})"), soft_wrap=True)
    else:
        console.print(Text(f"{env}: migration_type = {wanted} (was {before}), written to {file}"), soft_wrap=True)
        env_flag = (" --sandbox" if getattr(args, "sandbox", False) else "") + (f" --env {env}" if env != "dev" else "")
        console.print(
            Text(
                f"Next: dms-tui provision apply{env_flag} sets {parameter}. It is a static parameter: a source "
                "already provisioned takes it only when its writer reboots (the source is unavailable for a minute "
                "or two)."
            ),
            soft_wrap=True,
        )
    return EXIT_OK
