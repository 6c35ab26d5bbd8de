"""Benchmark: seed the source with N generated rows (default 1,000,000) on a throw-away local PostgreSQL cluster.

    .venv/bin/python bench/seed_bench.py [--rows N] [--batch-rows B] [--primary-key]

Prints the seconds for the load (server-side generate_series in batches, ANALYZE included) and the rate. The target
for 1,000,000 rows is under 5 s on the sandbox. Cluster start-up is timed separately and excluded.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from dms_tui.data.prepare import DEFAULT_BATCH_ROWS, Connector, DemoTable, PrepareEvent, RowsProgress, prepare_source
from dms_tui.sandbox.postgres import LocalPostgres


def measure(
    connector: Connector, rows: int, batch_rows: int, primary_key: bool, table: DemoTable | None = None
) -> dict[str, float]:
    """Seed ``rows`` generated rows through ``connector`` (recreating the table) and return the figures."""
    batches: list[float] = []

    def on_event(event: PrepareEvent) -> None:
        if isinstance(event, RowsProgress) and event.inserted:
            batches.append(time.monotonic())

    result = prepare_source(
        connector,
        table or DemoTable(),
        rows=rows,
        batch_rows=batch_rows,
        primary_key=primary_key,
        if_exists="recreate",
        on_event=on_event,
    )
    if result.details.rows != rows:
        raise RuntimeError(f"expected {rows} rows, found {result.details.rows}")
    return {
        "seed_s": result.seconds,
        "rows_per_s": rows / result.seconds if result.seconds else 0.0,
        "batches": float(len(batches)),
        "table_bytes": float(result.details.size_bytes),
    }


def run(rows: int, batch_rows: int, primary_key: bool) -> dict[str, float]:
    """Start a throw-away cluster, seed it, remove it."""
    with tempfile.TemporaryDirectory(prefix="dms-tui-seed-bench-") as root:
        cluster = LocalPostgres(Path(root), logical_replication=True)  # like the sandbox's source
        started = time.monotonic()
        cluster.start()
        password = secrets.token_urlsafe(16)  # in memory only
        cluster.set_password(cluster.superuser, password)
        startup = time.monotonic() - started
        try:

            def connector(dbname: str) -> psycopg.Connection[Any]:
                return psycopg.connect(cluster.url(dbname, password=password), autocommit=True)

            return {"cluster_start_s": startup} | measure(connector, rows, batch_rows, primary_key)
        finally:
            cluster.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=DEFAULT_BATCH_ROWS)
    parser.add_argument("--primary-key", action="store_true")
    args = parser.parse_args()
    figures = run(args.rows, args.batch_rows, args.primary_key)
    print(f"rows            {args.rows:,}")
    print(f"batch rows      {args.batch_rows:,}  ({figures['batches']:.0f} batches)")
    print(f"primary key     {'yes' if args.primary_key else 'no'}")
    print(f"cluster start   {figures['cluster_start_s']:.2f} s (excluded)")
    print(f"seed            {figures['seed_s']:.2f} s  ({figures['rows_per_s']:,.0f} rows/s)")
    print(f"table size      {figures['table_bytes'] / 1e6:.1f} MB")
    print(f"target < 5 s    {'met' if figures['seed_s'] < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
