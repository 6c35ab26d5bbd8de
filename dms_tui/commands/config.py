"""`dms-tui config check|show|init`: validate, print and create an environment's tfvars without the wizard.

Exit codes: 0 valid / done, 2 the file is invalid, missing or not JSON (every problem is printed, one per line as
``field: message``), 1 refused to act (``init`` over an existing file without --force).
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
