"""One way for a test module to bring up a provisioned sandbox of its own (the boto3 path the Provision step takes
without terraform) and to take it down with its data, whatever the test did.

Imported by tests as ``from running_sandbox import provisioned_sandbox`` (tests/ is on pytest's rootdir path, as
``engine_endpoint`` is).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


@contextmanager
def provisioned_sandbox(home: Path) -> Iterator[Any]:
    """A sandbox in ``home`` (DMS_TUI_HOME points there while it runs); yields its ``SandboxInfo``.

    Skips, with the reason printed by ``-ra``, where this machine has no PostgreSQL server binaries.
    """
    from dms_tui.sandbox.lifecycle import Sandbox
    from dms_tui.sandbox.postgres import PostgresBinariesNotFound, find_server_bindir

    try:
        find_server_bindir()
    except PostgresBinariesNotFound as exc:
        pytest.skip(f"no PostgreSQL server binaries for the sandbox: {exc}")
    before = os.environ.get("DMS_TUI_HOME")
    os.environ["DMS_TUI_HOME"] = str(home)
    box = Sandbox(home / "state" / "sandbox", region="us-east-1")
    try:
        yield box.up_provisioned()
    finally:
        try:
            box.down(keep_data=False)
        finally:
            if before is None:
                os.environ.pop("DMS_TUI_HOME", None)
            else:
                os.environ["DMS_TUI_HOME"] = before


def connect_side(side: str) -> Any:
    """A psycopg session on the running sandbox's ``"source"`` or ``"target"`` through the product's own path (the
    environment's route and TLS, the side's secret)."""
    from dms_tui.data.connect import connect, read_credentials
    from dms_tui.sandbox.environment import running_sandbox

    target, outputs = running_sandbox()
    return connect(read_credentials(target, getattr(outputs, side).secret_arn), target)


def side_rows(side: str, sql: str) -> list[tuple[Any, ...]]:
    with connect_side(side) as conn:
        return list(conn.execute(sql).fetchall())
