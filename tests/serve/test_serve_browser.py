"""`dms-tui serve` in a real headless browser: Debian's Chromium, driven by Playwright.

The server is started as a person would (`dms-tui serve --sandbox --port N`); the page loads, the wizard's Welcome
screen is drawn in the browser's terminal, Enter moves on to the next screen. The terminal draws on a canvas, so the
test reads the screen from the page's xterm.js buffer (the served script is patched, in this browser only, to keep a
handle on its terminal). Screenshots are kept as artefacts: their paths are printed.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SCREEN_JS = """() => {
  const t = window.__dmsTuiTerminal, b = t.buffer.active, rows = [];
  for (let i = 0; i < t.rows; i++) { const line = b.getLine(b.viewportY + i); rows.push(line ? line.translateToString(true) : ""); }
  return rows.join("\\n");
}"""
WELCOME_TITLE = "on-premises PostgreSQL → Aurora PostgreSQL through PrivateLink"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _dms_tui(home: Path, *args: str, **kwargs: Any) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["DMS_TUI_HOME"] = str(home)
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "dms_tui", *args], env=env, stdin=subprocess.DEVNULL, text=True, **kwargs
    )


@pytest.fixture
def served(dms_home: Path, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = _dms_tui(dms_home, "serve", "--sandbox", "--port", str(port), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dms-tui serve did not listen: {(tmp_path / 'serve.log').read_text()}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        _dms_tui(dms_home, "sandbox", "down", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).wait(timeout=120)


def _keep_terminal(route: Any) -> None:
    response = route.fetch()
    script, found = re.subn(
        r"this\.terminal=new (\w+)\.Terminal\(",
        r"this.terminal=window.__dmsTuiTerminal=new \1.Terminal(",
        response.text(),
    )
    assert found == 1, "textual-serve's textual.js changed: the terminal is no longer built where the test looks"
    route.fulfill(response=response, body=script)


def _screen(page: Any) -> str:
    return str(page.evaluate(SCREEN_JS))


def _wait_for(page: Any, predicate: Any, what: str, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(page)
        if predicate(screen):
            return screen
        time.sleep(0.5)
    pytest.fail(f"the browser never showed {what}; its screen:\n{screen}")


def test_the_wizard_in_chromium_shows_welcome_and_enter_moves_on(browser: Any, served: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    outside: list[str] = []
    # Nothing may leave this machine: any request that is not to the server is recorded and refused.
    page.route(
        re.compile(r"^(?!http://127\.0\.0\.1:)"), lambda route: (outside.append(route.request.url), route.abort())
    )
    page.route("**/static/js/textual.js", _keep_terminal)
    page.goto(served)
    page.wait_for_function("window.__dmsTuiTerminal !== undefined", timeout=30_000)

    welcome = _wait_for(page, lambda s: WELCOME_TITLE in s and "Continue:" in s, "the Welcome screen, ready")
    assert "Embedded sandbox" in welcome
    first = tmp_path / "serve-welcome.png"
    page.screenshot(path=str(first))

    page.focus(".xterm-helper-textarea")  # where xterm.js takes the keyboard (a person clicks the terminal)
    page.keyboard.press("Enter")
    after = _wait_for(page, lambda s: WELCOME_TITLE not in s, "the screen after Welcome", timeout=30)
    second = tmp_path / "serve-after-enter.png"
    page.screenshot(path=str(second))
    print(f"screenshots: {first} {second}")
    assert "Continue:" not in after
    assert "Network" in after, after  # the journey's first step: Configure · Network
    assert outside == [], f"the page asked for something outside the server: {outside}"
