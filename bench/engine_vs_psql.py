"""Full load of N demo rows: the sandbox DMS engine against a psql \\copy pipe, on the same two local clusters.

    .venv/bin/python bench/engine_vs_psql.py [--rows 1000000] [--repeat 3]

The pipe is what a person would type:
    psql SRC -c "\\copy demo_schema.demo_accounts to stdout" | psql TGT -c "\\copy demo_schema.demo_accounts from stdin"
Both copy into the same pre-created, emptied target table; the figures are the best of ``--repeat`` runs each,
alternating, so neither side profits from a warmer cache. Passwords live in memory and in the children's environment
only (PGPASSWORD), never on disk.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from dms_tui.dmstask.mappings import TableMappings, default_mappings
from dms_tui.sandbox.dms_engine import FullLoadTask, PostgresEndpoint
from dms_tui.sandbox.postgres import LocalPostgres

TABLE = "demo_schema.demo_accounts"
DDL = (
    "CREATE SCHEMA IF NOT EXISTS demo_schema; CREATE TABLE IF NOT EXISTS demo_schema.demo_accounts ("
    "accountNumber BIGINT NOT NULL, firstName VARCHAR(20), lastName VARCHAR(20), creationTime TIME NOT NULL)"
)


def start_cluster(root: Path, password: str) -> LocalPostgres:
    cluster = LocalPostgres(root)
    cluster.start()
    cluster.set_password(cluster.superuser, password)
    cluster.create_database("demo_db")
    return cluster


def seed(url: str, rows: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(DDL)
        conn.execute(f"TRUNCATE {TABLE}")
        conn.execute(
            f"INSERT INTO {TABLE} SELECT g, 'first' || (g %% 1000), 'last' || (g %% 997), "  # noqa: S608 - constant
            "time '00:00' + (g %% 86400) * interval '1 second' FROM generate_series(1, %s) g",
            (rows,),
        )
        conn.execute(f"ANALYZE {TABLE}")


def empty_target(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(DDL)
        conn.execute(f"TRUNCATE {TABLE}")


def count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()  # noqa: S608 - constant name
    return int(row[0]) if row else -1


@dataclass(frozen=True)
class Side:
    """One database as both contenders reach it (the password stays in memory and in PGPASSWORD)."""

    port: int
    password: str
    dbname: str = "demo_db"
    user: str = "postgres"

    def endpoint(self) -> PostgresEndpoint:
        return PostgresEndpoint("127.0.0.1", self.port, self.dbname, self.user, self.password)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PGPASSWORD": self.password,
            "PGUSER": self.user,
            "PGDATABASE": self.dbname,
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
        }


def psql_pipe(psql: str, source: Side, target: Side) -> float:
    started = time.perf_counter()
    out = subprocess.Popen(  # noqa: S603 - fixed binary
        [psql, "-X", "-q", "-c", f"\\copy {TABLE} to stdout"],
        stdout=subprocess.PIPE,
        env=source.env(),
    )
    into = subprocess.run(  # noqa: S603 - fixed binary
        [psql, "-X", "-q", "-c", f"\\copy {TABLE} from stdin"],
        stdin=out.stdout,
        env=target.env(),
        check=False,
        capture_output=True,
    )
    assert out.stdout is not None
    out.stdout.close()
    if out.wait() != 0 or into.returncode != 0:
        raise SystemExit(f"the psql pipe failed: {into.stderr.decode(errors='replace')[-400:]}")
    return time.perf_counter() - started


def engine_load(source: Side, target: Side, mappings: TableMappings | None = None) -> float:
    """One full load by the sandbox DMS engine (the default mappings unless given); its time in seconds."""
    task = FullLoadTask(source.endpoint(), target.endpoint(), mappings or default_mappings())
    started = time.perf_counter()
    task.run()
    elapsed = time.perf_counter() - started
    if task.status != "stopped" or task.table_statistics()[0]["TableState"] != "Table completed":
        raise SystemExit(f"the engine did not complete: {task.task_fields()}")
    return elapsed


def compare(psql: str, source: Side, target: Side, rows: int, repeat: int) -> dict[str, float]:
    """Seed ``rows`` on the source, then time both contenders ``repeat`` times, alternating; best times and ratio."""
    source_url = psycopg.conninfo.make_conninfo("", **_conninfo(source))
    target_url = psycopg.conninfo.make_conninfo("", **_conninfo(target))
    seed(source_url, rows)
    pipe_times: list[float] = []
    engine_times: list[float] = []
    for _ in range(repeat):
        empty_target(target_url)
        pipe_times.append(psql_pipe(psql, source, target))
        if count(target_url) != rows:
            raise SystemExit("the psql pipe did not copy every row")
        empty_target(target_url)
        engine_times.append(engine_load(source, target))
        if count(target_url) != rows:
            raise SystemExit("the engine did not copy every row")
    pipe, engine = min(pipe_times), min(engine_times)
    print(f"rows                 {rows:>12,}")
    print(f"psql \\copy pipe      {pipe:>10.3f} s   ({rows / pipe:>12,.0f} rows/s)")
    print(f"sandbox DMS engine   {engine:>10.3f} s   ({rows / engine:>12,.0f} rows/s)")
    print(f"engine / pipe time   {engine / pipe:>10.2f}    (below 1.00: the engine is faster)")
    print(
        f"all runs (s): pipe {', '.join(f'{t:.3f}' for t in pipe_times)}; "
        f"engine {', '.join(f'{t:.3f}' for t in engine_times)}"
    )
    return {"pipe_seconds": pipe, "engine_seconds": engine, "ratio": engine / pipe}


def _conninfo(side: Side) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": side.port, "dbname": side.dbname, "user": side.user, "password": side.password}


@contextmanager
def two_clusters() -> Iterator[tuple[str, Side, Side]]:
    """A source and a target cluster of their own (one password, kept in memory), and the psql beside them; both are
    removed at the end whatever happened."""
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="dms-bench-") as tmp:
        source = start_cluster(Path(tmp) / "source", password)
        target = start_cluster(Path(tmp) / "target", password)
        try:
            yield str(source.bindir / "psql"), Side(source.port, password), Side(target.port, password)
        finally:
            source.remove()
            target.remove()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with two_clusters() as (psql, source, target):
        compare(psql, source, target, args.rows, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
