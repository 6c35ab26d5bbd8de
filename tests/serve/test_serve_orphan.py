"""A wizard served to a browser exits when its server goes away, instead of lingering as an orphan.

`dms-tui serve` (textual-serve) runs one `python -m dms_tui` per browser tab with the web driver: keys arrive on the
process's stdin. A server stopped with Ctrl+C while a tab was open left that process running for good (found after a
CI run: a wizard from the browser test still alive an hour later). Here the server is played by the test: it starts
the wizard exactly as textual-serve does (web driver, pipes), waits for the driver's greeting, then closes stdin.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import pytest

GREETING = b"__GANGLION__"  # what textual's web driver writes first, before any frame


def _start_served_wizard(home: Path) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "DMS_TUI_HOME": str(home),
        "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",  # as textual-serve's AppService sets it
        "COLUMNS": "80",
        "ROWS": "24",
        # AWS mode with no credentials: the Welcome screen asks nothing of a sandbox and reaches no network.
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "dms_tui"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
    )


def test_a_served_wizard_exits_when_its_server_stops_sending(tmp_path: Path) -> None:
    wizard = _start_served_wizard(tmp_path / "home")
    greeted = threading.Event()
    seen = bytearray()

    def drain(stream: IO[bytes]) -> None:  # a server reads everything the app writes; so does this one
        while chunk := stream.read1(4096):  # type: ignore[attr-defined]
            if not greeted.is_set():
                seen.extend(chunk)
                if GREETING in seen:
                    greeted.set()

    readers = [threading.Thread(target=drain, args=(s,), daemon=True) for s in (wizard.stdout, wizard.stderr)]
    for reader in readers:
        reader.start()
    try:
        assert greeted.wait(60), f"the wizard never started its web driver: {bytes(seen)[:400]!r}"
        assert wizard.poll() is None, "the wizard ended before its server went away"
        assert wizard.stdin is not None
        wizard.stdin.close()  # the server is gone: nothing will ever arrive on stdin again
        code = wizard.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the served wizard kept running 30 s after its server went away (an orphan)")
    finally:
        if wizard.poll() is None:
            wizard.kill()
            wizard.wait()
    assert code == 128 + signal.SIGHUP  # the same exit as a terminal that went away, after a checkpoint
