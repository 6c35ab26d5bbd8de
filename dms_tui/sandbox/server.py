"""The sandbox daemon: moto's AWS control plane, the DMS data plane and the TCP forwarders in one process.

Run as ``python -m dms_tui.sandbox.server --port P --workdir W --region R``. One process on purpose: the DMS
data-plane middleware reads task, endpoint and secret objects straight from moto's in-process backends, and
resolves endpoint DNS names to forwarders living in the same process.

Requests under ``/_dms_tui/`` are the sandbox's own control API (JSON):

=======  ===========================================  ============================================================
GET      /_dms_tui/health                             pid, region, uptime, which optional parts are loaded
GET      /_dms_tui/forwarders                         every forwarder
POST     /_dms_tui/forwarders                         create or re-point one: {name, dns_name, target_host,
                                                      target_port, listen_port?}
POST     /_dms_tui/forwarders/<name>/latency          {"seconds": 0.2}
POST     /_dms_tui/forwarders/<name>/drop             cut open connections
POST     /_dms_tui/forwarders/<name>/refuse           {"refusing": true}
DELETE   /_dms_tui/forwarders/<name>                  stop and forget one
POST     /_dms_tui/shutdown                           stop the daemon (lifecycle prefers SIGTERM by pid)
=======  ===========================================  ============================================================

Everything else goes to moto (through the DMS data plane when that module is present). Moto keeps its state in
memory only: secrets never reach the disk, and a restarted daemon starts empty (lifecycle re-provisions it).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import os
import signal
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dms_tui.sandbox.forwarder import TcpForwarder

log = logging.getLogger("dms_tui.sandbox.server")

CONTROL_PREFIX = "/_dms_tui/"
#: Written (atomically) once the daemon listens; lifecycle reads the port and pid from it. Holds nothing secret.
DAEMON_FILE = "daemon.json"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class _ForwarderEntry:
    forwarder: TcpForwarder
    dns_name: str

    def describe(self) -> dict[str, Any]:
        fwd = self.forwarder
        return {
            "name": fwd.name,
            "dns_name": self.dns_name,
            "listen_host": fwd.listen_host,
            "listen_port": fwd.port,
            "target_host": fwd.target_host,
            "target_port": fwd.target_port,
            "latency": fwd.latency,
            "refusing": fwd.refusing,
            "active_connections": fwd.active_connections,
            "connections_accepted": fwd.connections_accepted,
            "connections_refused": fwd.connections_refused,
        }


class ForwarderRegistry:
    """The daemon's forwarders by name, and the DNS-name -> forwarder map the DMS data plane resolves with."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _ForwarderEntry] = {}

    def ensure(
        self, name: str, dns_name: str, target_host: str, target_port: int, listen_port: int = 0
    ) -> dict[str, Any]:
        """Create forwarder ``name``, or re-point it when its target changed (e.g. a cluster restarted elsewhere).

        An unchanged forwarder keeps its listening port, so host maps handed out earlier stay valid.
        """
        dns_name = dns_name.lower().rstrip(".")
        with self._lock:
            entry = self._entries.get(name)
            if entry is not None:
                same = (entry.forwarder.target_host, entry.forwarder.target_port) == (target_host, int(target_port))
                if same and entry.forwarder.running:
                    entry.dns_name = dns_name
                    return entry.describe()
                # Keep the old listening port when re-pointing, unless the caller asked for another one.
                listen_port = listen_port or entry.forwarder.port
                entry.forwarder.stop()
            forwarder = TcpForwarder(target_host, int(target_port), listen_port=listen_port, name=name)
            forwarder.start()
            entry = _ForwarderEntry(forwarder, dns_name)
            self._entries[name] = entry
            return entry.describe()

    def get(self, name: str) -> TcpForwarder | None:
        with self._lock:
            entry = self._entries.get(name)
            return entry.forwarder if entry else None

    def remove(self, name: str) -> bool:
        with self._lock:
            entry = self._entries.pop(name, None)
        if entry is None:
            return False
        entry.forwarder.stop()
        return True

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [entry.describe() for entry in self._entries.values()]

    def resolve(self, host: str, port: int) -> tuple[str, int]:
        """Where a connection to an interface endpoint's DNS name really goes (unchanged when unknown)."""
        wanted = host.lower().rstrip(".")
        with self._lock:
            for entry in self._entries.values():
                if entry.dns_name == wanted:
                    return entry.forwarder.listen_host, entry.forwarder.port
        return host, port

    def stop_all(self) -> None:
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
        for entry in entries:
            entry.forwarder.stop()


class ControlApi:
    """WSGI middleware answering ``/_dms_tui/`` itself and passing every other request to ``app``."""

    def __init__(self, app: WsgiApp, registry: ForwarderRegistry, info: dict[str, Any]) -> None:
        self.app = app
        self.registry = registry
        self.info = info
        self.started = time.time()
        self.on_shutdown: Callable[[], None] = lambda: None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(CONTROL_PREFIX):
            return self.app(environ, start_response)
        try:
            status, body = self._route(environ["REQUEST_METHOD"], path[len(CONTROL_PREFIX) :].strip("/"), environ)
        except (ValueError, KeyError, TypeError) as exc:
            status, body = 400, {"error": f"bad request: {exc}"}
        except OSError as exc:
            status, body = 409, {"error": f"could not start the forwarder: {exc}"}
        payload = json.dumps(body).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict"}
        start_response(
            f"{status} {reason.get(status, 'Error')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    @staticmethod
    def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        body = json.loads(raw or b"{}")
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return body

    def _route(self, method: str, route: str, environ: dict[str, Any]) -> tuple[int, Any]:
        parts = route.split("/") if route else []
        if parts == ["health"] and method == "GET":
            return 200, {
                "status": "ok",
                "pid": os.getpid(),
                "uptime": round(time.time() - self.started, 3),
                "forwarders": len(self.registry.describe()),
                **self.info,
            }
        if parts == ["shutdown"] and method == "POST":
            self.on_shutdown()
            return 200, {"status": "stopping"}
        if parts == ["forwarders"]:
            if method == "GET":
                return 200, self.registry.describe()
            if method == "POST":
                body = self._json_body(environ)
                return 200, self.registry.ensure(
                    str(body["name"]),
                    str(body.get("dns_name") or body["name"]),
                    str(body.get("target_host", "127.0.0.1")),
                    int(body["target_port"]),
                    int(body.get("listen_port") or 0),
                )
            return 405, {"error": f"{method} is not allowed on forwarders"}
        if len(parts) in (2, 3) and parts[0] == "forwarders":
            name = parts[1]
            forwarder = self.registry.get(name)
            if forwarder is None:
                return 404, {"error": f"no forwarder named {name!r}; list them with GET {CONTROL_PREFIX}forwarders"}
            action = parts[2] if len(parts) == 3 else ""
            if action == "" and method == "DELETE":
                self.registry.remove(name)
                return 200, {"removed": name}
            if method != "POST":
                return 405, {"error": f"use POST for {action or 'this'}"}
            if action == "latency":
                forwarder.set_latency(float(self._json_body(environ)["seconds"]))
            elif action == "drop":
                forwarder.drop_connections()
            elif action == "refuse":
                forwarder.set_refusing(bool(self._json_body(environ).get("refusing", True)))
            else:
                return 404, {"error": f"unknown forwarder action {action!r} (latency, drop, refuse)"}
            return 200, next(f for f in self.registry.describe() if f["name"] == name)
        return 404, {"error": f"unknown control route {route!r}"}


def _optional_module(name: str) -> Any | None:
    """Import an optional sibling module (written by other parts of the project) when it exists."""
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


def build_application(registry: ForwarderRegistry, region: str, ca_cert: Path | None = None) -> ControlApi:
    """moto's dispatcher, wrapped by the DMS data plane (if present) and the control API. ``ca_cert``: the sandbox
    CA, which the data plane's verify-ca/verify-full endpoints check the clusters against."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    gaps = _optional_module("dms_tui.sandbox.moto_gaps")
    if gaps is not None:
        gaps.apply_moto_gap_fixes()
    dispatcher = DomainDispatcherApplication(create_backend_app)
    warm_backends(dispatcher, region)
    app: WsgiApp = SerializedApp(dispatcher)
    dataplane = _optional_module("dms_tui.sandbox.dms_dataplane")
    if dataplane is not None:
        app = dataplane.DmsDataPlaneMiddleware(
            app, resolve=registry.resolve, account_id=DEFAULT_ACCOUNT_ID, ca_cert=ca_cert
        )
    info = {"region": region, "moto_gap_fixes": gaps is not None, "dms_dataplane": dataplane is not None}
    return ControlApi(app, registry, info)


class SerializedApp:
    """One request inside moto at a time, and each SDK call carried out once however often it is retried.

    moto's backends are plain dicts and lists mutated by its handlers without locks, while the daemon serves
    terraform's ten parallel requests on as many threads. A handler that fails half-way on a concurrent change
    answers HTTP 500 after it already recorded its object (a CreateDBCluster records the cluster and its automated
    snapshot first); the SDK then retries the call and gets `DBClusterSnapshotAlreadyExistsFault` for the object it
    created itself. moto answers in milliseconds, so taking turns costs terraform nothing it can see. The response
    is read to its end inside the lock: moto builds it lazily from the same backends.

    The SDKs also try a call again when its answer was lost on the way back (CI saw terraform's CreateSecurityGroup
    and AuthorizeSecurityGroupIngress come again as ``amz-sdk-request: attempt=2`` and fail on the object their
    first try had made: `InvalidGroup.Duplicate`, `InvalidPermission.Duplicate`). Every try of one call carries the
    same ``amz-sdk-invocation-id``, so a retry of a call moto already answered gets that answer again instead of a
    second execution.
    """

    REMEMBERED_ANSWERS = 512  # the newest calls whose answers a retry may still ask for

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._answers: OrderedDict[str, tuple[str, list[tuple[str, str]], bytes]] = OrderedDict()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID", "")
        attempt = environ.get("HTTP_AMZ_SDK_REQUEST", "")
        retried = bool(attempt) and not attempt.startswith("attempt=1;")
        with self._lock:
            if retried and invocation in self._answers:
                status, headers, body = self._answers[invocation]
                log.warning("retried call answered again (%s, invocation %s): %s", attempt, invocation, status)
                start_response(status, headers)
                return [body]
            if retried:
                log.warning("retried call not seen before (%s, invocation %s)", attempt, invocation)
            answered: dict[str, Any] = {}

            def remember(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                answered["status"], answered["headers"] = status, list(headers)
                return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

            result = self._app(environ, remember)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if invocation and "status" in answered:
                self._answers[invocation] = (answered["status"], answered["headers"], body)
                while len(self._answers) > self.REMEMBERED_ANSWERS:
                    self._answers.popitem(last=False)
            return [body]


#: One cheap read per service the sandbox provisions: (service, protocol, action, API version).
_WARM_CALLS = (
    ("ec2", "query", "DescribeVpcs", "2016-11-15"),
    ("elasticloadbalancing", "query", "DescribeLoadBalancers", "2015-12-01"),
    ("rds", "query", "DescribeDBClusters", "2014-10-31"),
    ("iam", "query", "ListRoles", "2010-05-08"),
    ("sts", "query", "GetCallerIdentity", "2011-06-15"),
    ("secretsmanager", "json", "secretsmanager.ListSecrets", ""),
    ("dms", "json", "AmazonDMSv20160101.DescribeReplicationInstances", ""),
)


def warm_backends(dispatcher: WsgiApp, region: str) -> None:
    """Answer one read per service in-process now, while lifecycle initialises the clusters in parallel.

    moto builds each service's app, response templates and backend lazily on its first request, and the first
    request of all also loads IAM's managed policies for every partition: seconds on a busy machine that would
    otherwise stall the first provisioning calls.
    """
    from werkzeug.test import Client

    client = Client(dispatcher)
    for service, protocol, action, version in _WARM_CALLS:
        scope = "us-east-1" if service in ("iam", "sts") else region
        headers = {
            "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20240101/{scope}/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0"
        }
        try:
            if protocol == "query":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                response = client.post("/", data=f"Action={action}&Version={version}", headers=headers)
            else:
                headers |= {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": action}
                response = client.post("/", data="{}", headers=headers)
            if response.status_code >= 400:
                log.warning("warming moto's %s answered %s", service, response.status_code)
        except Exception as exc:  # noqa: BLE001 - warming is an optimisation; real requests report real errors
            log.warning("could not warm moto's %s backend: %s", service, exc)


# How often the daemon checks that its daemon file still names it (PostgreSQL's postmaster checks once a minute).
WATCH_INTERVAL_S = 10.0


def _write_daemon_file(workdir: Path, port: int, info: dict[str, Any]) -> Path:
    path = workdir / DAEMON_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "port": port, "started_at": time.time(), **info}))
    tmp.replace(path)
    return path


def _still_ours(daemon_file: Path) -> bool:
    """Whether the daemon file still names this process (see :func:`_watch_daemon_file`)."""
    try:
        return json.loads(daemon_file.read_text()).get("pid") == os.getpid()
    except (OSError, ValueError, AttributeError):
        return False


def _watch_daemon_file(daemon_file: Path, interval: float, shutdown: Callable[[], None]) -> None:
    """Stop when the daemon file is gone or names another process, as PostgreSQL's postmaster does with its
    postmaster.pid: the state directory was removed (or another daemon took it over), so no `sandbox down` can find
    this process any more, and it would otherwise serve an emptied sandbox until the machine restarts."""

    def watch() -> None:
        while True:
            time.sleep(interval)
            if not _still_ours(daemon_file):
                log.warning("sandbox daemon: %s is gone or names another process; shutting down", daemon_file)
                shutdown()
                return

    threading.Thread(target=watch, name="daemon-file-watch", daemon=True).start()


def serve(
    port: int, workdir: Path, region: str, host: str = "127.0.0.1", *, watch_interval: float = WATCH_INTERVAL_S
) -> int:
    """Run the daemon until SIGTERM/SIGINT, a shutdown request, or the loss of its daemon file; returns the exit
    code."""
    from werkzeug.serving import make_server

    workdir.mkdir(parents=True, exist_ok=True)
    registry = ForwarderRegistry()
    # Bind before importing moto so a taken port fails fast (lifecycle retries with another one).
    try:
        server = make_server(host, port, _NotReady(), threaded=True, request_handler=_request_handler())
    except OSError as exc:
        print(f"sandbox daemon: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 3
    real_port = int(server.server_port)
    # moto builds some URLs (e.g. queue URLs) from MOTO_PORT; it must be our port.
    os.environ["MOTO_PORT"] = str(real_port)
    from dms_tui.sandbox.tls import sandbox_ca

    application = build_application(registry, region, ca_cert=sandbox_ca(workdir).cert_path)
    server.app = application

    def shutdown() -> None:
        threading.Thread(target=server.shutdown, name="shutdown", daemon=True).start()

    application.on_shutdown = shutdown
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: shutdown())
    daemon_file = _write_daemon_file(workdir, real_port, application.info)
    _watch_daemon_file(daemon_file, watch_interval, shutdown)
    log.info("sandbox daemon pid %s listening on http://%s:%s (%s)", os.getpid(), host, real_port, application.info)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        registry.stop_all()
        server.server_close()
        with_pid = daemon_file.exists() and json.loads(daemon_file.read_text()).get("pid") == os.getpid()
        if with_pid:
            daemon_file.unlink()
        log.info("sandbox daemon stopped")
    return 0


class _NotReady:
    """Placeholder WSGI app between binding and moto's import (no request can arrive before serve_forever)."""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"starting"]


def _request_handler() -> Any:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietRequestHandler(MotoRequestHandler):
        """moto's handler without a log line per request (terraform makes thousands while polling)."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if str(code).startswith("5"):
                super().log_request(code, size)

    return QuietRequestHandler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dms_tui.sandbox.server", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="loopback port (0: any free port)")
    parser.add_argument("--workdir", type=Path, required=True, help="the sandbox's working directory")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--watch-interval", type=float, default=WATCH_INTERVAL_S, help=argparse.SUPPRESS)  # tests
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return serve(args.port, args.workdir, args.region, watch_interval=args.watch_interval)


if __name__ == "__main__":
    raise SystemExit(main())
