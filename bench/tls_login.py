"""Benchmark: what TLS costs a login to a sandbox cluster (issue 15).

    .venv/bin/python bench/tls_login.py [--logins 30]

One throw-away local cluster with the sandbox's TLS (its own CA). Prints the median time of a full password login
over TCP (connect, TLS handshake, scram, close) with sslmode=verify-ca (what every client here uses), with require,
and, for comparison only, plaintext: for that last run the cluster's pg_hba.conf is opened to plaintext TCP, which the
sandbox itself never does.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import psycopg

from dms_tui.sandbox.postgres import LocalPostgres


def median_login_ms(conninfo: str, logins: int) -> float:
    times = []
    for _ in range(logins):
        started = time.perf_counter()
        psycopg.connect(conninfo).close()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dms-tui-tls-bench-") as root:
        cluster = LocalPostgres(Path(root) / "cluster")
        try:
            cluster.start()
            password = secrets.token_urlsafe(16)  # in memory only
            cluster.set_password(cluster.superuser, password)
            verified = cluster.url("postgres", password=password)
            figures = {
                "verify-ca": median_login_ms(verified, args.logins),
                "require": median_login_ms(verified.replace("verify-ca", "require"), args.logins),
            }
            hba = cluster.hba_file.read_text().replace("reject", "scram-sha-256")  # plaintext allowed: bench only
            cluster.hba_file.write_text(hba)
            with cluster.admin_connection() as conn:
                conn.execute("SELECT pg_reload_conf()")
            time.sleep(0.5)
            figures["plaintext"] = median_login_ms(verified.replace("verify-ca", "disable"), args.logins)
        finally:
            cluster.remove()
    for mode, ms in figures.items():
        print(f"{mode:>10}  median login {ms:6.1f} ms over {args.logins} logins")


if __name__ == "__main__":
    main()
