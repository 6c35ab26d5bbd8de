"""The layer rule of DESIGN.md: below the UI line nothing imports Textual; above it nothing touches I/O libraries."""

from __future__ import annotations

import ast
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
