"""A sandbox daemon whose state directory is removed under it (a wiped /tmp, a deleted DMS_TUI_HOME) stops by itself:
nothing could find it to take it down any more. A real daemon process, started as the lifecycle starts it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from dms_tui.sandbox.server import DAEMON_FILE, _still_ours


def test_the_daemon_stops_when_its_daemon_file_is_removed(tmp_path: Path) -> None:
    workdir = tmp_path / "sandbox"
    log = (tmp_path / "daemon.log").open("w")
    daemon = subprocess.Popen(  # noqa: S603 - this checkout's own module
        [sys.executable, "-m", "dms_tui.sandbox.server", "--port", "0", "--workdir", str(workdir)]
        + ["--watch-interval", "0.3"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not (workdir / DAEMON_FILE).exists():
            assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()
            assert time.monotonic() < deadline, "the daemon never wrote its daemon file"
            time.sleep(0.1)
        time.sleep(1)
        assert daemon.poll() is None, "the daemon stopped while its file was there"
        (workdir / DAEMON_FILE).unlink()
        assert daemon.wait(timeout=20) == 0
        assert "is gone or names another process; shutting down" in (tmp_path / "daemon.log").read_text()
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        log.close()


def test_a_daemon_file_naming_another_process_is_not_ours(tmp_path: Path) -> None:
    path = tmp_path / DAEMON_FILE
    path.write_text(json.dumps({"pid": os.getpid(), "port": 1}))
    assert _still_ours(path)
    path.write_text(json.dumps({"pid": os.getpid() + 1, "port": 1}))  # another daemon took the sandbox over
    assert not _still_ours(path)
    path.write_text("{")  # half-written: not ours either (the writer replaces it atomically, so it never is)
    assert not _still_ours(path)
    path.unlink()
    assert not _still_ours(path)
