"""A demo workload: inserts, updates and deletes on the source's tables at a steady rate, so changes visibly flow.

The tables are read from the source catalog (columns, types, primary key); values are generated per type. Each
operation is its own transaction, except two shapes that a CDC engine must get right and that the workload mixes in
on purpose: a row inserted and updated in ONE transaction, and a key deleted then inserted again. Operations are
paced against the clock (the n-th at start + n / rate), so the rate holds when a single statement is slow.

A running workload records its pid in ``<state dir>/workload-<env>.json`` so the Cutover step can stop the writes
(SIGTERM); nothing secret is written there.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import string
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dms_tui.dmstask.preview import SourceTable, read_source_catalog


@dataclass
class WorkloadStats:
    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    transactions: int = 0
    errors: int = 0
    seconds: float = 0.0

    @property
    def changes(self) -> int:
        return self.inserts + self.updates + self.deletes

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "changes": self.changes}


@dataclass(frozen=True)
class WorkloadTick:
    """Progress, about once a second."""

    stats: WorkloadStats
    elapsed_s: float


class WorkloadUnsuitable(ValueError):
    """No selected table can take generated rows."""


def _value(type_sql: str, n: int, rng: random.Random) -> Any:
    """A value of ``type_sql`` (format_type() text); ``n`` makes key values unique. None: type not generated."""
    t = type_sql.lower()
    if t in ("integer", "bigint", "smallint") or t.startswith("numeric") or t in ("real", "double precision"):
        return n if t != "smallint" else n % 32000
    if t.startswith(("character varying", "text", "character(", "character")):
        limit = 20
        if "(" in t:
            with contextlib.suppress(ValueError):
                limit = int(t.split("(")[1].rstrip(")"))
        word = "w" + str(n) + "".join(rng.choices(string.ascii_lowercase, k=6))
        return word[:limit]
    if t.startswith("time") and "stamp" not in t:
        return (datetime(2000, 1, 1) + timedelta(seconds=n % 86400)).time()
    if t.startswith("timestamp"):
        return datetime.now(UTC)
    if t == "date":
        return (datetime(2000, 1, 1) + timedelta(days=n % 10000)).date()
    if t == "boolean":
        return n % 2 == 0
    if t in ("jsonb", "json"):
        return json.dumps({"n": n})
    if t == "uuid":
        import uuid

        return str(uuid.UUID(int=n))
    return None


@dataclass
class _TableWriter:
    table: SourceTable
    next_n: int
    keys: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.table.name.schema, self.table.name.table)

    @property
    def key(self) -> tuple[str, ...]:
        return self.table.primary_key

    def row(self, n: int, rng: random.Random) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for column in self.table.columns:
            value = _value(column.type_sql, n, rng)
            if value is None and column.not_null:
                raise WorkloadUnsuitable(f"{self.table.name}.{column.name}: cannot generate {column.type_sql}")
            values[column.name] = value
        return values

    def insert(self, cur: psycopg.Cursor[Any], values: dict[str, Any]) -> None:
        cols = list(values)
        cur.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                self.ident,
                sql.SQL(", ").join(sql.Identifier(c) for c in cols),
                sql.SQL(", ").join(sql.Placeholder() * len(cols)),
            ),
            [values[c] for c in cols],
        )
        if self.key:
            self.keys.append(tuple(values[c] for c in self.key))

    def _where(self) -> sql.Composable:
        return sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in self.key)

    def update(self, cur: psycopg.Cursor[Any], rng: random.Random, key: tuple[Any, ...] | None = None) -> bool:
        others = [c for c in self.table.columns if c.name not in self.key]
        if not others:
            return False
        column = rng.choice(others)
        value = _value(column.type_sql, rng.randrange(1, 1_000_000), rng)
        if value is None and column.not_null:
            return False
        if self.key:
            if key is None:
                if not self.keys:
                    return False
                key = rng.choice(self.keys)
            cur.execute(
                sql.SQL("UPDATE {} SET {} = %s WHERE {}").format(
                    self.ident, sql.Identifier(column.name), self._where()
                ),
                [value, *key],
            )
        else:  # no key: one row by its physical address, as a person's ad-hoc update would
            cur.execute(
                sql.SQL("UPDATE {} SET {} = %s WHERE ctid = (SELECT ctid FROM {} LIMIT 1)").format(
                    self.ident, sql.Identifier(column.name), self.ident
                ),
                [value],
            )
        return True

    def delete(self, cur: psycopg.Cursor[Any], rng: random.Random) -> tuple[Any, ...] | None:
        if self.key:
            if len(self.keys) < 2:
                return None
            key = self.keys.pop(rng.randrange(len(self.keys)))
            cur.execute(sql.SQL("DELETE FROM {} WHERE {}").format(self.ident, self._where()), list(key))
            return key
        cur.execute(sql.SQL("DELETE FROM {} WHERE ctid = (SELECT ctid FROM {} LIMIT 1)").format(self.ident, self.ident))
        return ()


def _writers(conn: psycopg.Connection[Any], tables: Sequence[str] | None) -> list[_TableWriter]:
    catalog = read_source_catalog(conn)
    chosen = [t for t in catalog if tables is None or str(t.name) in tables or t.name.schema in tables]
    writers: list[_TableWriter] = []
    for table in chosen:
        ident = sql.Identifier(table.name.schema, table.name.table)
        count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()
        start = (int(count[0]) if count else 0) + 1_000_000 + random.randrange(1_000_000) * 1000
        writer = _TableWriter(table, start)
        if table.primary_key:
            keys = sql.SQL(", ").join(sql.Identifier(c) for c in table.primary_key)
            writer.keys = [
                tuple(r) for r in conn.execute(sql.SQL("SELECT {} FROM {} LIMIT 5000").format(keys, ident)).fetchall()
            ]
        try:
            writer.row(0, random.Random(0))
        except WorkloadUnsuitable:
            continue
        writers.append(writer)
    if not writers:
        raise WorkloadUnsuitable("no table can take generated rows" + (f" among {', '.join(tables)}" if tables else ""))
    return writers


def run_workload(
    conninfo: str,
    *,
    rate: float,
    duration_s: float,
    tables: Sequence[str] | None = None,
    stop: threading.Event | None = None,
    seed: int | None = None,
    on_tick: Callable[[WorkloadTick], None] | None = None,
) -> WorkloadStats:
    """Write ``rate`` changes per second for ``duration_s`` (0: until ``stop``) to ``tables`` (schema.table or
    schema names; None: every table). Mix: 50 % inserts, 30 % updates, 20 % deletes; one operation in 20 is an
    insert+update in one transaction, one in 20 a delete then re-insert of the same key."""
    stop = stop or threading.Event()
    rng = random.Random(seed)
    stats = WorkloadStats()
    started = time.monotonic()
    last_tick = started
    with psycopg.connect(conninfo, autocommit=True) as conn:
        writers = _writers(conn, tables)
        n = 0
        while not stop.is_set():
            now = time.monotonic()
            if duration_s and now - started >= duration_s:
                break
            due = started + n / rate
            if due > now:
                if stop.wait(due - now):
                    break
            n += 1
            writer = rng.choice(writers)
            roll = rng.random()
            try:
                with conn.transaction(), conn.cursor() as cur:
                    if roll < 0.05:  # insert and update in one transaction
                        writer.next_n += 1
                        values = writer.row(writer.next_n, rng)
                        writer.insert(cur, values)
                        stats.inserts += 1
                        key = tuple(values[c] for c in writer.key) if writer.key else None
                        if writer.update(cur, rng, key):
                            stats.updates += 1
                    elif roll < 0.10 and writer.key:  # delete, then insert the same key again
                        key = writer.delete(cur, rng)
                        if key:
                            stats.deletes += 1
                            writer.next_n += 1
                            values = writer.row(writer.next_n, rng)
                            values.update(zip(writer.key, key, strict=True))
                            writer.insert(cur, values)
                            stats.inserts += 1
                    elif roll < 0.55:
                        writer.next_n += 1
                        writer.insert(cur, writer.row(writer.next_n, rng))
                        stats.inserts += 1
                    elif roll < 0.85:
                        if writer.update(cur, rng):
                            stats.updates += 1
                    elif writer.delete(cur, rng) is not None:
                        stats.deletes += 1
                stats.transactions += 1
            except psycopg.Error:
                stats.errors += 1  # e.g. a unique key clash with a row someone else wrote: skip it
            if on_tick is not None and time.monotonic() - last_tick >= 1.0:
                last_tick = time.monotonic()
                stats.seconds = last_tick - started
                on_tick(WorkloadTick(stats, stats.seconds))
    stats.seconds = time.monotonic() - started
    return stats


# -- the pid file the Cutover step reads ------------------------------------------------------------------------------


def pid_file(state_dir: Path, env: str) -> Path:
    return state_dir / f"workload-{env}.json"


def record_running(state_dir: Path, env: str, rate: float, tables: Sequence[str] | None) -> Path:
    path = pid_file(state_dir, env)
    path.write_text(json.dumps({"pid": os.getpid(), "rate": rate, "tables": list(tables or []), "env": env}))
    return path


def running_workload(state_dir: Path, env: str) -> dict[str, Any] | None:
    """The recorded workload of ``env`` if its process still runs."""
    path = pid_file(state_dir, env)
    try:
        record = json.loads(path.read_text())
        pid = int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return None
    except PermissionError:
        pass
    return dict(record)


def stop_workload(state_dir: Path, env: str, timeout_s: float = 10.0) -> bool:
    """SIGTERM the recorded workload of ``env`` and wait until it is gone; True if one was running."""
    import signal

    record = running_workload(state_dir, env)
    if record is None:
        return False
    pid = int(record["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    pid_file(state_dir, env).unlink(missing_ok=True)
    return True
