"""Start-up: `dms-tui --version` and `--help` build the whole parser, so building it must not import the heavy
libraries (boto3 and botocore, psycopg, textual, rich: together most of half a second on this machine). And a command
that fails prints what / why / → next, or, for a bug, where the traceback went.

These check what is imported, not how long it takes (bench/startup.py has the figures): a timing test would be
flaky on a shared machine, an import is not.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from dms_tui import commands, exit_codes
from dms_tui.cli import main
from dms_tui.commands import config as config_command
from dms_tui.commands._common import report_error
from dms_tui.errors import StepError

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("boto3", "botocore", "psycopg", "textual", "rich")

_LOADED_HEAVY = """
import json, sys
{statement}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})))
"""


def _heavy_modules_after(statement: str) -> list[str]:
    """The heavy modules a fresh interpreter holds after running ``statement``."""
    code = _LOADED_HEAVY.format(statement=statement, heavy=HEAVY)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _command_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__))


def test_building_the_parser_imports_no_heavy_library() -> None:
    loaded = _heavy_modules_after("import dms_tui.cli; dms_tui.cli.build_parser()")
    top = sorted({name.split(".")[0] for name in loaded})
    assert not top, f"building dms-tui's parser imports {top}; import them inside the run functions"


@pytest.mark.parametrize("module", _command_modules())
def test_each_command_module_is_light_at_import(module: str) -> None:
    # The same rule per module, so a failure names the module to fix.
    loaded = _heavy_modules_after(f"import dms_tui.commands.{module}")
    top = sorted({name.split(".")[0] for name in loaded})
    assert not top, f"dms_tui/commands/{module}.py imports {top} at module level; import them where they are used"


def test_the_check_notices_a_heavy_import() -> None:
    assert "rich" in {m.split(".")[0] for m in _heavy_modules_after("import rich.text")}


def test_a_step_error_is_printed_as_what_why_next(capsys: pytest.CaptureFixture[str]) -> None:
    code = report_error(
        StepError("The plan failed.", "Terraform said: no credentials.", "Run `aws sso login`.", exit_code=2)
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == ["The plan failed.", "Terraform said: no credentials.", "→ Run `aws sso login`."]


def test_a_step_error_quotes_outside_text_without_markup(capsys: pytest.CaptureFixture[str]) -> None:
    report_error(StepError("Secret [bold]x[/bold] unreadable.", "AccessDenied [arn:aws:iam::1:role/r]"))
    assert capsys.readouterr().err.splitlines() == [
        "Secret [bold]x[/bold] unreadable.",
        "AccessDenied [arn:aws:iam::1:role/r]",
    ]


def test_a_command_raising_step_error_exits_with_its_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def failing(args: object) -> int:
        raise StepError(
            "No outputs for dev.",
            "Nothing was provisioned yet.",
            "Run `dms-tui provision apply`.",
            exit_code=exit_codes.NOT_RUN,
        )

    monkeypatch.setattr(config_command, "run_check", failing)
    assert main(["config", "check", str(tmp_path / "x.json")]) == exit_codes.NOT_RUN
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "No outputs for dev.",
        "Nothing was provisioned yet.",
        "→ Run `dms-tui provision apply`.",
    ]


def test_a_bug_in_a_command_is_logged_and_the_person_gets_the_log_path(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, dms_home: Path
) -> None:
    def buggy(args: object) -> int:
        raise ZeroDivisionError("division by zero in the bug")

    monkeypatch.setattr(config_command, "run_check", buggy)
    assert main(["config", "check", str(tmp_path / "x.json")]) == exit_codes.FAILED
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "ZeroDivisionError: division by zero in the bug" in err
    from dms_tui.applog import log_path

    assert str(log_path()) in err
    logged = log_path().read_text()
    assert "Traceback" in logged and "buggy" in logged and "dms-tui config" in logged
