"""Benchmark: total verify time versus the sum of its checks, with the endpoint hops slowed by a forwarder latency.

    .venv/bin/python bench/verify_parallel.py [--latency 0 0.1 0.25] [--repeat 2]

Runs the full checklist (22 checks) against moto (in-process) + two throw-away local PostgreSQL clusters + one TCP
forwarder per interface endpoint (the environment of tests/checks/moto_environment.py). Prints, per latency, the
wall-clock total, the sum of every check's duration (what a sequential run would take), the slowest single check,
and the slowest dependent chain (secret/DNS -> TCP -> login -> database).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dms_tui.checks.plan import VerifyOptions, verify
from dms_tui.checks.result import VerifyReport
from dms_tui.sandbox.postgres import LocalPostgres
from dms_tui.sandbox.tls import SandboxCA

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "checks"))
from moto_environment import moto_environment  # type: ignore[import-not-found]  # noqa: E402


@dataclass(frozen=True)
class Server:
    cluster: LocalPostgres
    password: str


def _chain(report: VerifyReport, side: str) -> float:
    first = max(report.by_id(f"{side}.secret").duration, 0.0)
    network = sum(report.by_id(f"{side}.{c}").duration for c in ("dns", "tcp"))
    return max(first, network) + sum(report.by_id(f"{side}.{c}").duration for c in ("login", "database"))


def _forget_dms_connection_tests() -> None:
    """moto 5.2.5 fails a second test_connection for the same pair (UnboundLocalError in its backend); the
    sandbox's DMS data plane answers these calls itself, so only this in-process bench needs to start afresh."""
    from moto.backends import get_backend

    get_backend("dms")["123456789012"]["us-east-1"].connections.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.1, 0.25])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dms-tui-verify-bench-") as root:
        servers: dict[str, Server] = {}
        try:
            ca = SandboxCA(Path(root) / "tls").ensure()  # one CA for both, as in the sandbox
            for name in ("source", "target"):
                cluster = LocalPostgres(Path(root) / name, logical_replication=name == "source", ca=ca)
                cluster.start()
                password = secrets.token_urlsafe(16)  # in memory only
                cluster.set_password(cluster.superuser, password)
                servers[name] = Server(cluster, password)
            options = VerifyOptions(api_timeout=30, network_timeout=30, dms_timeout=30, dms_poll_interval=0.05)
            print(
                f"{'latency':>8} {'run':>4} {'total':>7} {'sum':>7} {'slowest':>8} {'chain':>7} {'speed-up':>9}  result"
            )
            with moto_environment(servers) as environment:
                for latency in args.latency:
                    for forwarder in environment.forwarders.values():
                        forwarder.set_latency(latency)
                    for attempt in range(args.repeat):
                        _forget_dms_connection_tests()
                        report = verify(environment.target, environment.outputs, options=options)
                        total_work = sum(r.duration for r in report.results)
                        slowest = max(r.duration for r in report.results)
                        chain = max(_chain(report, "source"), _chain(report, "target"))
                        counts = report.counts()
                        print(
                            f"{latency:>7.2f}s {attempt + 1:>4} {report.seconds:>6.2f}s {total_work:>6.2f}s "
                            f"{slowest:>7.2f}s {chain:>6.2f}s {total_work / report.seconds:>8.1f}x  "
                            f"{counts['ok']} ok, {counts['fail']} failed"
                        )
        finally:
            for server in servers.values():
                server.cluster.remove()


if __name__ == "__main__":
    main()
