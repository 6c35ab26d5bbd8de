"""The `aws` command lines the checks print: each runs as printed in the environment it was built for."""

from __future__ import annotations

import shlex

from dms_tui.environment import Environment


def aws_command(target: Environment, *words: str) -> str:
    """``aws <words>`` for ``target``: its region (and profile), and in the sandbox moto's URL and dummy keys."""
    variables = [f"{name}={shlex.quote(value)}" for name, value in sorted(target.aws_cli_environment().items())]
    return " ".join([*variables, shlex.join(["aws", *words, *target.aws_cli_flags()])])
