"""`dms-tui serve` without a browser: loopback by default, the token off loopback, origins, the command it serves.

The server is textual-serve's own (aiohttp), with dms-tui's guard in front; these drive it through aiohttp's test
client. tests/serve/test_serve_browser.py opens the real thing in Chromium.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer

from dms_tui import exit_codes
from dms_tui.cli import build_parser
from dms_tui.commands.serve import (
    CONTENT_SECURITY_POLICY,
    TOKEN_COOKIE,
    is_loopback,
    make_server,
    visit_url,
    wizard_command,
)
from dms_tui.environment import EnvironmentRequest, request_from_args

TOKEN = "s3cr3t-token-for-the-test"
# A command that would start if a websocket got through; the guard must refuse before anything runs.
NEVER = shlex.join([sys.executable, "-c", "raise SystemExit('the guard let a websocket through')"])


async def _client(token: str | None) -> AsyncIterator[TestClient]:
    server = make_server(NEVER, host="127.0.0.1", port=0, token=token, title="dms-tui test")
    client = TestClient(TestServer(await server._make_app()))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def open_server() -> AsyncIterator[TestClient]:
    async for client in _client(None):
        yield client


@pytest.fixture
async def token_server() -> AsyncIterator[TestClient]:
    async for client in _client(TOKEN):
        yield client


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),  # noqa: S104 - the case under test
        ("::", False),
        ("10.0.1.15", False),
        ("bastion.internal", False),
    ],
)
def test_only_loopback_addresses_go_without_a_token(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_served_command_is_this_python_running_dms_tui_with_the_same_environment_flags() -> None:
    command = wizard_command(EnvironmentRequest(sandbox=True, env="demo"), python="/opt/my python/bin/python3")
    assert shlex.split(command) == ["/opt/my python/bin/python3", "-m", "dms_tui", "--sandbox", "--env", "demo"]
    aws = wizard_command(EnvironmentRequest(env="prod", profile="migrations", region="eu-west-1"))
    assert shlex.split(aws) == [
        sys.executable,
        *("-m", "dms_tui", "--env", "prod", "--profile", "migrations", "--region", "eu-west-1"),
    ]
    presented = wizard_command(request_from_args(build_parser().parse_args(["serve", "--sandbox", "--present"])))
    assert shlex.split(presented)[-2:] == ["--sandbox", "--present"]
    before = wizard_command(request_from_args(build_parser().parse_args(["--present", "serve", "--sandbox"])))
    assert before == presented


def test_the_defaults_are_loopback_and_port_8000_and_a_bad_port_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["serve", "--sandbox"])
    assert (args.host, args.port, args.sandbox) == ("127.0.0.1", 8000, True)
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["serve", "--port", "70000"])
    assert exited.value.code == 2
    assert "not a port number" in capsys.readouterr().err


def test_the_printed_url_carries_the_token_only_when_there_is_one() -> None:
    assert visit_url("127.0.0.1", 8000, None) == "http://127.0.0.1:8000/"
    assert visit_url("0.0.0.0", 8080, "abc") == "http://THIS-HOST:8080/?token=abc"  # noqa: S104
    assert visit_url("::1", 8000, None) == "http://[::1]:8000/"


async def test_on_loopback_the_page_is_served_with_urls_from_the_host_the_browser_used(open_server: TestClient) -> None:
    # Through `aws ssm start-session ... localPortNumber=9000` the browser asks for localhost:9000, whatever
    # --port the server has: the websocket and static URLs must follow the Host header.
    response = await open_server.get("/", headers={"Host": "localhost:9000"})
    assert response.status == 200
    body = await response.text()
    assert 'data-session-websocket-url="ws://localhost:9000/ws"' in body
    assert "http://localhost:9000/static/js/textual.js" in body
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "no-store"


async def test_a_websocket_from_another_sites_page_is_refused(open_server: TestClient) -> None:
    with pytest.raises(WSServerHandshakeError) as refused:
        await open_server.ws_connect("/ws", headers={"Origin": "http://attacker.example"})
    assert refused.value.status == 403


async def test_off_loopback_every_request_without_the_token_is_refused(token_server: TestClient) -> None:
    for path in ("/", "/static/js/textual.js", "/download/anything", f"/?token={TOKEN[:-1]}"):
        response = await token_server.get(path, allow_redirects=False)
        assert response.status == 403, path
    assert "token" in await (await token_server.get("/")).text()
    with pytest.raises(WSServerHandshakeError) as refused:
        await token_server.ws_connect("/ws")
    assert refused.value.status == 403


async def test_the_token_is_traded_for_a_cookie_and_leaves_the_address_bar(token_server: TestClient) -> None:
    response = await token_server.get(f"/?token={TOKEN}&fontsize=20", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/?fontsize=20"
    cookie = response.cookies[TOKEN_COOKIE]
    assert cookie.value == TOKEN
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    # The client kept the cookie: the page and its assets now load without the token in the URL.
    page = await token_server.get("/?fontsize=20")
    assert page.status == 200
    assert 'data-font-size="20"' in await page.text()
    assert (await token_server.get("/static/js/textual.js")).status == 200


def test_a_port_already_taken_is_said_plainly(dms_home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "dms_tui", "serve", "--sandbox", "--port", str(port)],
            env={**os.environ, "DMS_TUI_HOME": str(dms_home)},
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert done.returncode == exit_codes.NOT_RUN, done
    assert f"could not listen on 127.0.0.1:{port}" in done.stderr
    assert "another --port" in done.stderr
