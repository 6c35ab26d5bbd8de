"""Shared fixtures: real PostgreSQL clusters (started once per test session) and an isolated app home."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dms_tui.sandbox.postgres import LocalPostgres, PostgresBinariesNotFound
from dms_tui.sandbox.tls import SandboxCA


@dataclass(frozen=True)
class PgServer:
    """A running test cluster with a password login over TCP (password kept in memory only)."""

    cluster: LocalPostgres
    password: str = field(repr=False)  # never in a failing test's printed arguments

    def url(self, dbname: str = "postgres") -> str:
        return self.cluster.url(dbname, password=self.password)

    def fresh_database(self, name: str) -> str:
        """Drop and create ``name``; returns a URL with the password."""
        self.cluster.drop_database(name)
        self.cluster.create_database(name)
        return self.url(name)


def _start(root: Path, logical: bool, ca: SandboxCA) -> PgServer:
    try:
        cluster = LocalPostgres(root, logical_replication=logical, ca=ca)
    except PostgresBinariesNotFound as exc:  # printed by -ra as the skip reason
        pytest.skip(str(exc))
    cluster.start()
    password = secrets.token_urlsafe(16)
    cluster.set_password(cluster.superuser, password)
    return PgServer(cluster, password)


@pytest.fixture(scope="session")
def pg_ca(tmp_path_factory: pytest.TempPathFactory) -> SandboxCA:
    """One CA for both test clusters, as the sandbox has one for its clusters (they serve TLS only)."""
    return SandboxCA(tmp_path_factory.mktemp("pg-ca")).ensure()


@pytest.fixture(scope="session")
def pg_source(tmp_path_factory: pytest.TempPathFactory, pg_ca: SandboxCA) -> Iterator[PgServer]:
    """The "on-premises source" test cluster (wal_level=logical)."""
    server = _start(tmp_path_factory.mktemp("pg-source"), logical=True, ca=pg_ca)
    yield server
    server.cluster.remove()


@pytest.fixture(scope="session")
def pg_target(tmp_path_factory: pytest.TempPathFactory, pg_ca: SandboxCA) -> Iterator[PgServer]:
    """The "Aurora target" test cluster."""
    server = _start(tmp_path_factory.mktemp("pg-target"), logical=False, ca=pg_ca)
    yield server
    server.cluster.remove()


@pytest.fixture(autouse=True)
def dms_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own state/log directories; nothing touches the real XDG dirs."""
    home = tmp_path / "dms-home"
    monkeypatch.setenv("DMS_TUI_HOME", str(home))
    return home


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium from the system's packages (report and serve tests; Playwright, never a downloaded browser); the test is skipped, with the reason, when it is absent."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("no system Chromium: `apt-get install chromium` (Debian's package) to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: Chromium's own sandbox refuses to start as root (CI runs as root).
        launched = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
