"""CDC: the sandbox DMS engine against PostgreSQL's native logical replication, between the same two local clusters.

    .venv/bin/python bench/cdc_vs_native.py [--rate 1000] [--seconds 20] [--backlog 30000]

Two figures per contender, measured one after the other in one run (engine first, then native), each in its own pair
of databases on the same two clusters (source: wal_level=logical; target: a plain cluster):

- **end-to-end latency at a fixed rate**: a writer commits ``--rate`` changes per second for ``--seconds`` (60 %
  inserts, 30 % updates, 10 % deletes, one change per transaction). Every row carries ``written_at`` (the source's
  clock_timestamp() at insert); the target table has one extra column, ``applied_at DEFAULT clock_timestamp()``,
  filled when the row is inserted on the target. Latency = applied_at - written_at over the inserted rows (both
  clusters run on this machine: one clock). p50 / p99 are printed.
- **apply throughput**: with the apply side paused (engine: StopReplicationTask, the slot keeps the changes; native:
  ALTER SUBSCRIPTION ... DISABLE), ``--backlog`` changes are written (same mix, 10 changes per transaction) and a
  sentinel row last; the apply side is resumed and timed until the sentinel is on the target. changes/s =
  backlog / that time.

Targets (issue 13): engine throughput >= 0.5 x native; engine p99 < 1 s at 1,000 changes/s.

The native subscription connects over the source cluster's private Unix socket (trust), so no password is stored in
its catalog; the engine connects over TCP with a password held in memory. Both clusters are removed at the end.
"""

from __future__ import annotations

import argparse
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from dms_tui.dmstask.mappings import TableMappings
from dms_tui.dmstask.settings import TaskSettings
from dms_tui.domain.dms import StartTaskType, TaskStatus
from dms_tui.sandbox.dms_engine import FullLoadTask, PostgresEndpoint
from dms_tui.sandbox.postgres import LocalPostgres

SOURCE_DDL = (
    "CREATE SCHEMA bench; CREATE TABLE bench.probe (id bigint PRIMARY KEY, v integer NOT NULL, note text,"
    " written_at timestamptz NOT NULL DEFAULT clock_timestamp())"
)
TARGET_DDL = (
    "CREATE SCHEMA bench; CREATE TABLE bench.probe (id bigint PRIMARY KEY, v integer NOT NULL, note text,"
    " written_at timestamptz NOT NULL, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())"
)
SENTINEL_BASE = 9_000_000_000


@dataclass
class Figures:
    name: str
    rate_achieved: float = 0.0
    p50_s: float = float("nan")
    p99_s: float = float("nan")
    max_s: float = float("nan")
    samples: int = 0
    backlog: int = 0
    drain_s: float = float("nan")

    @property
    def throughput(self) -> float:
        return self.backlog / self.drain_s if self.drain_s and self.drain_s == self.drain_s else float("nan")


class Writer:
    """Changes to bench.probe: inserts of fresh ids, updates and deletes of ids written before."""

    def __init__(self, url: str, seed: int) -> None:
        self.url = url
        self.rng = random.Random(seed)
        self.next_id = 1
        self.live: list[int] = []

    def _one(self, cur: psycopg.Cursor[Any]) -> None:
        roll = self.rng.random()
        if roll < 0.6 or len(self.live) < 100:
            cur.execute("INSERT INTO bench.probe (id, v, note) VALUES (%s, 0, 'fresh')", (self.next_id,))
            self.live.append(self.next_id)
            self.next_id += 1
        elif roll < 0.9:
            cur.execute(
                "UPDATE bench.probe SET v = v + 1, note = 'updated' WHERE id = %s", (self.rng.choice(self.live),)
            )
        else:
            victim = self.live.pop(self.rng.randrange(len(self.live)))
            cur.execute("DELETE FROM bench.probe WHERE id = %s", (victim,))

    def paced(self, rate: float, seconds: float) -> tuple[int, int, int, float]:
        """One change per transaction at ``rate``/s; returns (first id, last id, changes, achieved rate)."""
        first = self.next_id
        with psycopg.connect(self.url, autocommit=True) as conn, conn.cursor() as cur:
            started = time.monotonic()
            n = 0
            while True:
                now = time.monotonic()
                if now - started >= seconds:
                    break
                due = started + n / rate
                if due > now:
                    time.sleep(due - now)
                self._one(cur)
                n += 1
            elapsed = time.monotonic() - started
        return first, self.next_id - 1, n, n / elapsed

    def backlog(self, changes: int, per_txn: int = 10) -> None:
        with psycopg.connect(self.url) as conn, conn.cursor() as cur:
            for i in range(changes):
                self._one(cur)
                if (i + 1) % per_txn == 0:
                    conn.commit()
            conn.commit()

    def sentinel(self, key: int) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("INSERT INTO bench.probe (id, v, note) VALUES (%s, 0, 'sentinel')", (key,))


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.01) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)
    return time.monotonic()


def has_row(url: str, key: int) -> Callable[[], bool]:
    conn = psycopg.connect(url, autocommit=True)

    def look() -> bool:
        return conn.execute("SELECT 1 FROM bench.probe WHERE id = %s", (key,)).fetchone() is not None

    return look


def latency(target: str, first: int, last: int) -> tuple[float, float, float, int]:
    with psycopg.connect(target) as conn:
        row = conn.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s), percentile_cont(0.99) WITHIN GROUP (ORDER BY s),"
            " max(s), count(*) FROM (SELECT extract(epoch FROM applied_at - written_at)::float8 AS s"
            " FROM bench.probe WHERE id BETWEEN %s AND %s) x",
            (first, last),
        ).fetchone()
    assert row is not None
    return float(row[0]), float(row[1]), float(row[2]), int(row[3])


def measure(
    name: str,
    source: str,
    target: str,
    pause: Callable[[], None],
    resume: Callable[[], None],
    args: argparse.Namespace,
    seed: int,
) -> Figures:
    figures = Figures(name, backlog=args.backlog)
    writer = Writer(source, seed)
    writer.paced(args.rate, 2.0)  # warm-up: rows to update and delete, caches warm
    first, last, _, achieved = writer.paced(args.rate, args.seconds)
    writer.sentinel(SENTINEL_BASE + 1)
    wait_for(has_row(target, SENTINEL_BASE + 1), 300, f"{name}: the fixed-rate phase applied")
    figures.rate_achieved = achieved
    figures.p50_s, figures.p99_s, figures.max_s, figures.samples = latency(target, first, last)
    pause()
    writer.backlog(args.backlog)
    writer.sentinel(SENTINEL_BASE + 2)
    seen = has_row(target, SENTINEL_BASE + 2)
    started = time.monotonic()
    resume()
    figures.drain_s = wait_for(seen, 600, f"{name}: the backlog applied") - started
    return figures


def run_engine(src: LocalPostgres, tgt: LocalPostgres, password: str, args: argparse.Namespace) -> Figures:
    for cluster, ddl in ((src, SOURCE_DDL), (tgt, TARGET_DDL)):
        cluster.drop_database("cdc_engine")
        cluster.create_database("cdc_engine")
        with psycopg.connect(cluster.url("cdc_engine", password=password), autocommit=True) as conn:
            conn.execute(ddl)
    mappings = TableMappings.from_dict(
        {
            "rules": [
                {
                    "rule-type": "selection",
                    "rule-id": "1",
                    "rule-name": "1",
                    "object-locator": {"schema-name": "bench", "table-name": "probe"},
                    "rule-action": "include",
                }
            ]
        }
    )
    task = FullLoadTask(
        PostgresEndpoint("127.0.0.1", src.port, "cdc_engine", src.superuser, password),
        PostgresEndpoint("127.0.0.1", tgt.port, "cdc_engine", tgt.superuser, password),
        mappings,
        TaskSettings(),
        migration_type="cdc",
        task_id="cdc-bench",
    )
    task.start()
    wait_for(lambda: task.metrics.phase == "ongoing replication", 60, "engine: replicating", poll=0.05)

    def pause() -> None:
        task.stop()
        if not task.wait(60) or task.status != TaskStatus.STOPPED:
            raise SystemExit("engine: the task did not stop")

    def resume() -> None:
        task.start(StartTaskType.RESUME_PROCESSING)

    try:
        return measure(
            "sandbox DMS engine",
            src.url("cdc_engine", password=password),
            tgt.url("cdc_engine", password=password),
            pause,
            resume,
            args,
            seed=1,
        )
    finally:
        task.stop()
        task.wait(30)
        task.drop_slot()


def run_native(src: LocalPostgres, tgt: LocalPostgres, password: str, args: argparse.Namespace) -> Figures:
    for cluster, ddl in ((src, SOURCE_DDL), (tgt, TARGET_DDL)):
        cluster.drop_database("cdc_native")
        cluster.create_database("cdc_native")
        with psycopg.connect(cluster.url("cdc_native", password=password), autocommit=True) as conn:
            conn.execute(ddl)
    source, target = src.url("cdc_native", password=password), tgt.url("cdc_native", password=password)
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute("CREATE PUBLICATION bench_pub FOR TABLE bench.probe")
    # Over the source's private socket (trust): no password in pg_subscription.
    publisher = src.admin_conninfo("cdc_native")
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL(
                "CREATE SUBSCRIPTION bench_sub CONNECTION {} PUBLICATION bench_pub WITH (copy_data = false)"
            ).format(psycopg.sql.Literal(publisher))
        )
    sub = psycopg.connect(target, autocommit=True)
    wait_for(
        lambda: (
            sub.execute(
                "SELECT received_lsn IS NOT NULL FROM pg_stat_subscription WHERE subname = 'bench_sub'"
                " AND relid IS NULL"
            ).fetchone()
            == (True,)
        ),
        60,
        "native: streaming",
        poll=0.05,
    )
    pub = psycopg.connect(source, autocommit=True)

    def pause() -> None:
        sub.execute("ALTER SUBSCRIPTION bench_sub DISABLE")
        wait_for(
            lambda: (
                pub.execute("SELECT NOT active FROM pg_replication_slots WHERE slot_name = 'bench_sub'").fetchone()
                == (True,)
            ),
            60,
            "native: the walsender gone",
            poll=0.05,
        )

    def resume() -> None:
        sub.execute("ALTER SUBSCRIPTION bench_sub ENABLE")

    try:
        return measure("native subscription", source, target, pause, resume, args, seed=1)
    finally:
        sub.execute("DROP SUBSCRIPTION IF EXISTS bench_sub")
        sub.close()
        pub.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000.0, help="changes per second in the latency phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the latency phase")
    parser.add_argument("--backlog", type=int, default=30000, help="changes written while the apply side pauses")
    args = parser.parse_args()
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="cdc-bench-") as tmp:
        src = LocalPostgres(Path(tmp) / "src", logical_replication=True)
        tgt = LocalPostgres(Path(tmp) / "tgt", logical_replication=True)  # a subscriber needs worker slots only
        try:
            for cluster in (src, tgt):
                cluster.start()
                cluster.set_password(cluster.superuser, password)
            engine = run_engine(src, tgt, password, args)
            native = run_native(src, tgt, password, args)
        finally:
            src.remove()
            tgt.remove()
    print(f"CDC at {args.rate:,.0f} changes/s for {args.seconds:.0f} s, backlog {args.backlog:,} changes")
    print(f"{'':24}{'rate held':>11}{'p50':>9}{'p99':>9}{'max':>9}{'samples':>9}{'drain':>9}{'changes/s':>11}")
    for f in (engine, native):
        print(
            f"{f.name:24}{f.rate_achieved:>9,.0f}/s{f.p50_s * 1000:>7.0f}ms{f.p99_s * 1000:>7.0f}ms"
            f"{f.max_s * 1000:>7.0f}ms{f.samples:>9,}{f.drain_s:>8.2f}s{f.throughput:>11,.0f}"
        )
    ratio = engine.throughput / native.throughput
    print(f"throughput engine / native = {ratio:.2f} (target >= 0.5): {'met' if ratio >= 0.5 else 'MISSED'}")
    print(f"engine p99 = {engine.p99_s:.3f} s (target < 1 s): {'met' if engine.p99_s < 1 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
