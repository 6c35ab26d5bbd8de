"""The layer rule of DESIGN.md: below the UI line nothing imports Textual; above it nothing touches I/O libraries.

The full rule is the import-linter contracts in pyproject.toml (`lint-imports`, run by .ci/run); the AST checks here
are the quick version of two of them, and the planted-violation tests prove the contracts can fail.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dms_tui"
UI_MODULES = {"app.py"}
UI_PACKAGES = {"screens", "widgets"}
UI_ONLY = ("textual",)
BELOW_ONLY = ("boto3", "botocore", "psycopg", "subprocess")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _is_ui(path: Path) -> bool:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] in UI_PACKAGES or (len(rel.parts) == 1 and rel.name in UI_MODULES)


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_bundle" not in p.parts)


def test_the_package_has_modules_on_both_sides_of_the_line() -> None:
    modules = _modules()
    assert any(_is_ui(p) for p in modules) and any(not _is_ui(p) for p in modules)


@pytest.mark.parametrize("path", [p for p in _modules() if not _is_ui(p)], ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_modules_do_not_import_textual(path: Path) -> None:
    # cli.py is the entry point: it may start the app (lazily) but must not use Textual itself.
    entry = path.relative_to(PACKAGE).as_posix() == "cli.py"
    offending = sorted(
        n
        for n in _imports(path)
        if n.split(".")[0] in UI_ONLY
        or n.startswith(("dms_tui.screens", "dms_tui.widgets"))
        or (n == "dms_tui.app" and not entry)
    )
    assert not offending, f"{path.relative_to(PACKAGE)} is below the UI line but imports {offending}"


@pytest.mark.parametrize("path", [p for p in _modules() if _is_ui(p)], ids=lambda p: str(p.relative_to(PACKAGE)))
def test_ui_modules_do_not_do_io_directly(path: Path) -> None:
    offending = sorted(n for n in _imports(path) if n.split(".")[0] in BELOW_ONLY)
    assert not offending, f"{path.relative_to(PACKAGE)} is a UI module but imports {offending}; go through the core"


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from textual.app import App\nimport boto3\n")
    assert {"textual.app", "boto3"} <= _imports(bad)


# -- the import-linter contracts in pyproject.toml (run by `lint-imports` in .ci/run) ---------------------------------

ROOT = PACKAGE.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

needs_import_linter = pytest.mark.skipif(
    not LINT_IMPORTS.exists(), reason=f"import-linter is not installed ({LINT_IMPORTS}); pip install -e '.[dev]'"
)


def _skeleton(root: Path) -> None:
    """An empty package with one subpackage per module the contracts name (so other people's half-written modules
    do not matter): the contracts are checked against what is planted in it, nothing else."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    names: set[str] = set()
    for contract in config["contracts"]:
        for layer in contract.get("layers", []):
            names.update(part.strip().strip("()") for part in re.split(r"[|:]", layer))
        for module in contract.get("source_modules", []):
            names.add(module.removeprefix("dms_tui."))
    package = root / "dms_tui"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in names:
        if name == "__main__":
            (package / "__main__.py").write_text("")
        else:
            (package / name).mkdir()
            (package / name / "__init__.py").write_text("")


def _lint_planted(tmp_path: Path, planted: dict[str, str], contract: str) -> str:
    """Run one contract of pyproject.toml over a skeleton of the package holding ``planted``; its report."""
    copy = tmp_path / "checkout"
    _skeleton(copy)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for relative, source in planted.items():
        (copy / "dms_tui" / relative).write_text(source)
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--contract", contract],
        cwd=copy,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(copy)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout + done.stderr


@needs_import_linter
def test_the_skeleton_check_passes_when_nothing_is_planted(tmp_path: Path) -> None:
    report = _lint_planted(tmp_path, {}, "layers")
    assert "KEPT" in report and "BROKEN" not in report, report


@needs_import_linter
def test_the_layers_contract_catches_a_record_importing_a_step(tmp_path: Path) -> None:
    report = _lint_planted(tmp_path, {"domain/planted.py": "import dms_tui.steps\n"}, "layers")
    assert "dms_tui.domain.planted -> dms_tui.steps" in report


@needs_import_linter
def test_the_layers_contract_counts_lazy_imports(tmp_path: Path) -> None:
    # A function-level import is how the code keeps start-up light; it is still a dependency.
    planted = {"domain/planted.py": "def f():\n    import dms_tui.environment\n"}
    report = _lint_planted(tmp_path, planted, "layers")
    assert "dms_tui.domain.planted -> dms_tui.environment" in report


@needs_import_linter
def test_the_layers_contract_wants_every_module_placed(tmp_path: Path) -> None:
    report = _lint_planted(tmp_path, {"unplaced.py": ""}, "layers")
    assert "BROKEN" in report and "dms_tui.unplaced" in report


@needs_import_linter
def test_the_textual_contract_catches_an_indirect_import(tmp_path: Path) -> None:
    planted = {"domain/planted_ui.py": "import textual.app\n"}
    planted["steps/planted.py"] = "from dms_tui.domain import planted_ui\n"
    report = _lint_planted(tmp_path, planted, "textual")
    assert "BROKEN" in report and "dms_tui.steps.planted -> dms_tui.domain.planted_ui" in report


@needs_import_linter
def test_the_mode_contract_catches_a_screen_reaching_into_the_sandbox(tmp_path: Path) -> None:
    planted = {"screens/planted.py": "import dms_tui.sandbox\n"}
    report = _lint_planted(tmp_path, planted, "mode")
    assert "BROKEN" in report and "dms_tui.screens.planted -> dms_tui.sandbox" in report
