"""`dms-tui serve`: the wizard in a web browser, for a demo (textual-serve runs `python -m dms_tui` per visitor).

Bound to loopback by default: on the machine itself, or through an SSM port forward, nobody else can reach it. Bound
to any other address it prints a URL with a one-time token (new at every start) and refuses every request without
it; the first visit with the token trades it for a cookie and drops it from the address bar. Either way a websocket
opened from another site's page is refused (its Origin names another host), and the page fetches nothing from
outside the server (a Content-Security-Policy says so to the browser).

Each browser tab runs its own wizard process with the same environment flags (``--sandbox``, ``--env``...) and the
same ``DMS_TUI_HOME``, so it resumes the same journey the terminal would.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys
from typing import TYPE_CHECKING, Any

from dms_tui import exit_codes
from dms_tui.environment import EnvironmentRequest, add_environment_options, request_from_args

if TYPE_CHECKING:
    from aiohttp import web

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
TOKEN_PARAMETER = "token"
TOKEN_COOKIE = "dms_tui_token"

#: The page may load only what this server serves: the terminal's script and styles, its websocket, its images.
#: (textual-serve's page names a web font on another host; a customer's network may have no way out, and a demo
#: should not tell a third party it is running.)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the wizard to a web browser (a demo)",
        description=(
            "Serve the wizard to a web browser with textual-serve: every visitor gets the wizard, started as "
            "`python -m dms_tui` with the same environment flags. Bound to 127.0.0.1 by default (reach it from "
            "elsewhere through an SSH or SSM port forward); bound to another address, the URL it prints carries "
            "a one-time token and requests without it are refused."
        ),
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST}, this machine only)"
    )
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, metavar="N", help=f"port to listen on (default: {DEFAULT_PORT})"
    )
    parser.add_argument(  # SUPPRESS: `dms-tui --present serve` means the same (the top-level flag is kept)
        "--present",
        action="store_true",
        default=argparse.SUPPRESS,
        help="every visitor's wizard starts in presenter mode (see dms-tui --help)",
    )
    add_environment_options(parser)
    parser.set_defaults(func=run)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return value


def is_loopback(host: str) -> bool:
    """True when ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a hostname: it may resolve to any interface


def wizard_command(request: EnvironmentRequest, python: str | None = None) -> str:
    """The shell command textual-serve starts for each visitor: this Python's `-m dms_tui` with the same flags."""
    present = ["--present"] if request.present else []  # a browser demo is where presenter mode is most wanted
    return shlex.join([python or sys.executable, "-m", "dms_tui", *request.cli_flags(), *present])


def visit_url(host: str, port: int, token: str | None) -> str:
    shown = host
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding to it
        shown = "THIS-HOST"  # every interface: the person picks the address their browser can reach
    elif ":" in host and not host.startswith("["):
        shown = f"[{host}]"
    url = f"http://{shown}:{port}/"
    return f"{url}?{TOKEN_PARAMETER}={token}" if token else url


def run(args: argparse.Namespace) -> int:
    import secrets

    request = request_from_args(args)
    token = None if is_loopback(args.host) else secrets.token_urlsafe(24)
    server = make_server(wizard_command(request), host=args.host, port=args.port, token=token, title=_title(request))
    print(f"Serving the dms-tui wizard ({request.label}) — open {visit_url(args.host, args.port, token)}", flush=True)
    if token:
        print(
            f"Bound to {args.host}: requests without the token above are refused. It changes at every start.",
            flush=True,
        )
    else:
        print(
            "Bound to loopback: from another machine, forward the port (README: Demo in a browser). Ctrl+C stops.",
            flush=True,
        )
    try:
        server.serve()
    except OSError as exc:  # the port is taken, the address is not this machine's...
        print(f"dms-tui serve could not listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        print("→ Pick another --port, or stop what holds this one.", file=sys.stderr)
        return exit_codes.NOT_RUN
    return exit_codes.OK


def _title(request: EnvironmentRequest) -> str:
    return f"dms-tui · {request.env} · {'sandbox' if request.sandbox else 'AWS'}"


def make_server(command: str, *, host: str, port: int, token: str | None, title: str = "dms-tui") -> Any:
    """A textual-serve Server for ``command`` that asks for ``token`` (when given) and checks websocket origins."""
    import hmac

    import aiohttp_jinja2
    from aiohttp import web
    from textual_serve.server import Server, to_int

    class GuardedServer(Server):
        def initialize_logging(self) -> None:
            pass  # textual-serve's rich log handler would take over the root logger; the URL is printed above

        async def on_startup(self, app: web.Application) -> None:
            pass  # its banner would repeat a URL that is wrong for a port forward; run() printed the right one

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(guard)
            return app

        async def handle_index(self, request: web.Request) -> web.Response:  # type: ignore[override]
            # URLs built from the Host the browser used, not from --host/--port: behind a port forward the browser
            # reaches localhost:LOCAL_PORT, and a bind address like 0.0.0.0 is no place a browser can go.
            origin = f"{request.scheme}://{request.host}"
            websocket = request.app.router["websocket"].url_for()
            static = request.app.router["static"].url_for(filename="/")
            context = {
                "font_size": to_int(request.query.get("fontsize", "16"), 16),
                "app_websocket_url": ("wss" if request.scheme == "https" else "ws") + f"://{request.host}{websocket}",
                "config": {"static": {"url": f"{origin}{str(static).rstrip('/')}/"}},
                "application": {"name": self.title},
            }
            response = aiohttp_jinja2.render_template("app_index.html", request, context)
            response.headers["Cache-Control"] = "no-store"
            return response

    def token_ok(value: str | None) -> bool:
        return token is not None and value is not None and hmac.compare_digest(value.encode(), token.encode())

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        if token is not None:
            offered = request.query.get(TOKEN_PARAMETER)
            if token_ok(offered) and request.method == "GET" and request.path == "/":
                # Trade the token for a cookie and take it out of the address bar (and so out of screenshots).
                rest = {k: v for k, v in request.query.items() if k != TOKEN_PARAMETER}
                found = web.HTTPFound(str(request.rel_url.with_query(rest)))
                found.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict", path="/")
                _secure_headers(found)
                raise found
            if not (token_ok(offered) or token_ok(request.cookies.get(TOKEN_COOKIE))):
                return _secure_headers(
                    web.Response(
                        status=403,
                        text="This dms-tui serve asks for the token it printed when it started: open that URL "
                        f"(…/?{TOKEN_PARAMETER}=…).\n",
                    )
                )
        if request.path == "/ws" and not _same_origin(request):
            return _secure_headers(web.Response(status=403, text="A websocket from another site's page is refused.\n"))
        response = await handler(request)
        return _secure_headers(response)

    return GuardedServer(command, host=host, port=port, title=title)


def _same_origin(request: web.Request) -> bool:
    """A browser always sends Origin on a websocket; it must name the host the page came from."""
    from yarl import URL

    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser (a script on this machine, which could read the token anyway)
    try:
        return URL(origin).raw_authority.lower() == (request.host or "").lower()
    except ValueError:
        return False


def _secure_headers(response: web.StreamResponse) -> web.StreamResponse:
    if not response.prepared:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
