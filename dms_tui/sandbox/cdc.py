"""Change data capture for the sandbox DMS engine: PostgreSQL logical decoding, applied on the target in commit order.

Plugin and client path
    ``test_decoding`` (it ships with PostgreSQL, and it is one of the two plugins DMS itself uses on PostgreSQL
    sources). ``wal2json`` is not installed here, and ``pgoutput`` speaks a binary protocol meant for the streaming
    replication protocol. psycopg 3 has no replication-protocol support, so changes are read with the SQL slot
    functions: the task's slot is only ever moved with ``pg_replication_slot_advance`` once the target has committed
    what precedes the new position; the changes themselves are consumed ahead of the apply from a TEMPORARY copy of
    the slot (``ReadAhead``), or, when no slot is free for the copy, peeked from the slot itself
    (``pg_logical_slot_peek_changes``, read without consuming). The one replication-protocol command used is
    ``CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export')``, sent as a simple query on a ``replication=database``
    connection, because only it exports the slot's snapshot (the SQL function ``pg_create_logical_replication_slot``
    does not).

Consistency of the full load and the start of capture (no change lost, none applied twice)
    The slot is created FIRST, with an exported snapshot, and every table of the full load is copied inside that very
    snapshot (``SET TRANSACTION SNAPSHOT``) while the replication connection that exported it stays open. The snapshot
    holds exactly the transactions whose commit record ends at or before the slot's consistent point C; the slot
    decodes exactly those committing after C. So the copy and the stream meet at C with no gap and no overlap.
    Each table's load point is recorded on the target (``awsdms_table_state.loaded_at_lsn``) in the same target
    transaction that loads the table, and a change to a table is applied only when its transaction's commit LSN is
    above that table's load point. A table reloaded during CDC (ReloadTables) or loaded on a resume uses a fresh
    TEMPORARY slot's exported snapshot the same way: its load point is that slot's consistent point, and the main
    slot's changes at or before it are skipped for that table only.

Exactly once across a crash (SIGKILL of the daemon or the engine)
    Each batch of source transactions is applied in ONE target transaction that also writes the batch's last commit LSN
    to ``awsdms_txn_state.checkpoint_lsn`` (within it, keyed tables get net changes per key: see ``Applier``). The
    task's slot is advanced only after that commit; the read-ahead copy dies with its session. After a crash the
    slot may hand out transactions already applied (the crash fell between the target commit and the advance); they
    are recognised by their commit LSN (at or below the checkpoint) and skipped. Nothing is lost because the slot
    never moves past what the target holds.

Tables DMS cannot apply updates and deletes to
    Without a primary key on the source (test_decoding then sends no old key for UPDATE/DELETE, or none at all with
    REPLICA IDENTITY NOTHING) or without a primary key / unique index on the target covering the source key, updates
    and deletes are counted (Updates, Deletes) but not applied (AppliedUpdates, AppliedDeletes stay 0), as DMS
    documents for PostgreSQL sources; the table's statistics say so in ``ValidationStateDetails`` and the engine emits
    ``ChangesNotApplied``. Inserts are applied.
"""

from __future__ import annotations

import gc
import hashlib
import json
import queue
import re
import secrets
import select
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

import psycopg
from psycopg import pq, sql

from dms_tui.dmstask.preview import TablePreview

PLUGIN = "test_decoding"
CONTROL_SCHEMA = "awsdms_control"
_PEEK_OPTIONS = ("include-xids", "1", "include-timestamp", "1", "skip-empty-xacts", "1")
_FLUSH_PREFIX = "dms-tui-flush"

ChangeKind = Literal["INSERT", "UPDATE", "DELETE", "TRUNCATE"]
_NO_VALUES: Mapping[str, str | None] = MappingProxyType({})


# -- LSNs -------------------------------------------------------------------------------------------------------------


def lsn_to_int(text: str) -> int:
    high, _, low = str(text).partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def int_to_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def slot_name_for(task_id: str, source_db: str, target_db: str) -> str:
    """A deterministic slot name (a-z, 0-9, _; at most 63): a task re-created under the same identifier after the
    sandbox daemon restarted finds its slot again. (DMS generates a random name; ``SlotName`` on the endpoint wins.)"""
    base = re.sub(r"[^a-z0-9_]", "_", task_id.lower())[:40]
    digest = hashlib.sha1(f"{task_id}\0{source_db}\0{target_db}".encode()).hexdigest()[:8]  # noqa: S324 - a name
    return f"dms_{base}_{digest}"


# -- test_decoding's output -------------------------------------------------------------------------------------------


class Change(NamedTuple):  # a NamedTuple: made ~30,000 times a second, a third of the cost of a frozen dataclass
    kind: ChangeKind
    schema: str
    table: str
    new: Mapping[str, str | None] = _NO_VALUES  # column -> text value (None: NULL)
    old_key: Mapping[str, str | None] = _NO_VALUES  # UPDATE old-key / DELETE's identity columns
    unchanged: frozenset[str] = frozenset()  # unchanged TOAST values: not sent, so not set


@dataclass(frozen=True)
class Transaction:
    xid: int
    commit_lsn: int  # the end of the commit record (what the slot confirms)
    commit_time: datetime
    changes: tuple[Change, ...]


class DecodeError(ValueError):
    """A line of test_decoding output this parser does not understand."""


def _identifier(text: str, pos: int) -> tuple[str, int]:
    """A name as quote_identifier() writes it, from ``pos``; returns (name, position after it)."""
    if text.startswith('"', pos):
        out: list[str] = []
        i = pos + 1
        while True:
            j = text.index('"', i)
            out.append(text[i:j])
            if text.startswith('"', j + 1):
                out.append('"')
                i = j + 2
            else:
                return "".join(out), j + 1
    i = pos
    while i < len(text) and text[i] not in ".[: ":
        i += 1
    return text[pos:i], i


def _columns(text: str, pos: int, end: int) -> tuple[dict[str, str | None], set[str], int]:
    """``name[type]:value`` pairs separated by spaces, until ``end`` or a section keyword."""
    values: dict[str, str | None] = {}
    unchanged: set[str] = set()
    i = pos
    while i < end:
        if text.startswith("new-tuple:", i):
            break
        name, i = _identifier(text, i)
        if not text.startswith("[", i):
            raise DecodeError(f"expected '[' after column {name!r} at {i}: {text[:200]!r}")
        close = text.index("]:", i)
        i = close + 2
        if text.startswith("'", i):
            out: list[str] = []
            j = i + 1
            while True:
                k = text.index("'", j)
                out.append(text[j:k])
                if text.startswith("'", k + 1):
                    out.append("'")
                    j = k + 2
                else:
                    break
            values[name] = "".join(out)
            i = k + 1
        else:
            k = text.find(" ", i)
            k = end if k == -1 or k > end else k
            raw = text[i:k]
            if raw.startswith("B'") and raw.endswith("'"):  # bit / bit varying: B'0101'
                values[name] = raw[2:-1]
            elif raw == "null":
                values[name] = None
            elif raw == "unchanged-toast-datum":
                unchanged.add(name)
            else:
                values[name] = raw
            i = k
        while i < end and text[i] == " ":
            i += 1
    return values, unchanged, i


# The common line is read by one compiled pattern per line SHAPE (table, action, column names and types: the same
# for every change of a table and action), learnt from the first such line: one fullmatch gives every value. The
# general reader below spent ~30 us per change walking the line character by character, the engine's largest cost.
# Anything a shape does not cover to the last character (quoted table names, old keys, no tuple data, TRUNCATE, a
# new column) goes through learning, and what learning cannot read goes to the general reader, so they always agree.
_FAST_HEAD = re.compile(r"table ([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*): (INSERT|UPDATE|DELETE): ")
_VALUE = r"(?:'((?:[^']|'')*)'|([^ ]+))"  # 'quoted value' (quotes doubled) or a bare one (null, numbers, ...)
# bit and bit varying values come as B'0101' (bare): the digits go to the "quoted" group, as the general reader does
_BIT_VALUE = r"(?:B'([01]*)'|([^ ]+))"
_FAST_COLUMN = re.compile(
    r"""(?:([a-z_][a-z0-9_]*)|"((?:[^"]|"")*)")"""  # name, as quote_identifier() writes it
    r"\[((?:[^\]]|\](?!:))*)\]:" + _VALUE + r"(?: |\Z)",  # [type], up to the first "]:" (arrays end in "[]")
    re.S,
)
_SHAPE_LIMIT = 1000


@dataclass(frozen=True)
class _Shape:
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    kind: ChangeKind
    schema: str
    table: str


_shapes: dict[str, list[_Shape]] = {}


def _fast_change(data: str, *, learn: bool = True) -> Change | None:
    for shape in _shapes.get(data[: data.find("[")], ()):
        m = shape.pattern.fullmatch(data)
        if m is None:
            continue
        groups = m.groups()
        quoted, bare = groups[0::2], groups[1::2]
        if "null" in bare or "unchanged-toast-datum" in bare or "''" in data:
            values, unchanged = _values(shape.names, quoted, bare)
        else:  # bare values are never empty, so "or" picks the one alternative that matched
            values, unchanged = (
                dict(zip(shape.names, [b or q for q, b in zip(quoted, bare, strict=True)], strict=True)),
                set(),
            )
        if shape.kind == "DELETE":
            return Change("DELETE", shape.schema, shape.table, {}, values)
        return Change(shape.kind, shape.schema, shape.table, values, {}, frozenset(unchanged))
    return _fast_change(data, learn=False) if learn and _learn_shape(data) else None


def _values(
    names: Sequence[str], quoted: Sequence[str | None], bare: Sequence[str | None]
) -> tuple[dict[str, str | None], set[str]]:
    values: dict[str, str | None] = {}
    unchanged: set[str] = set()
    for name, q, b in zip(names, quoted, bare, strict=True):
        if q is not None:
            values[name] = q.replace("''", "'")
        elif b == "null":
            values[name] = None
        elif b == "unchanged-toast-datum":
            unchanged.add(name)
        else:
            values[name] = b
    return values, unchanged


def _learn_shape(data: str) -> bool:
    """Read ``data`` column by column and remember its shape's pattern; False when it is not a common line."""
    head = _FAST_HEAD.match(data)
    if head is None or data.startswith("old-key: ", head.end()):
        return False
    names: list[str] = []
    parts = [re.escape(head.group(0))]
    pos = head.end()
    for m in _FAST_COLUMN.finditer(data, pos):
        if m.start() != pos:
            return False
        name, quoted_name, type_sql, quoted, _bare = m.groups()
        names.append(name if name is not None else quoted_name.replace('""', '"'))
        value_start = m.start(4) - 1 if quoted is not None else m.start(5)
        value = _BIT_VALUE if type_sql.startswith("bit") else _VALUE
        parts.append(("" if pos == head.end() else " ") + re.escape(data[m.start() : value_start]) + value)
        pos = m.end()
    if pos != len(data) or not names:
        return False
    schema, table, kind = head.groups()
    shape = _Shape(re.compile("".join(parts), re.S), tuple(names), kind, schema, table)  # type: ignore[arg-type]
    if len(_shapes) >= _SHAPE_LIMIT:
        _shapes.clear()
    _shapes.setdefault(data[: data.find("[")], []).append(shape)
    return True


def parse_change(data: str) -> Change:
    """One ``table schema.name: ACTION: ...`` line."""
    fast = _fast_change(data)
    if fast is not None:
        return fast
    return _parse_change_general(data)


def _parse_change_general(data: str) -> Change:
    if not data.startswith("table "):
        raise DecodeError(f"not a change: {data[:80]!r}")
    schema, i = _identifier(data, 6)
    if not data.startswith(".", i):
        raise DecodeError(f"no schema in {data[:80]!r}")
    table, i = _identifier(data, i + 1)
    if not data.startswith(": ", i):
        raise DecodeError(f"no action in {data[:80]!r}")
    colon = data.index(":", i + 2)
    kind = data[i + 2 : colon]
    rest = colon + 2
    end = len(data)
    if kind not in ("INSERT", "UPDATE", "DELETE", "TRUNCATE"):
        raise DecodeError(f"unknown action {kind!r}")
    if kind == "TRUNCATE" or data.startswith("(no-tuple-data)", rest):
        return Change(kind, schema, table)  # type: ignore[arg-type]
    if kind == "UPDATE" and data.startswith("old-key: ", rest):
        old, _, i = _columns(data, rest + len("old-key: "), end)
        if not data.startswith("new-tuple: ", i):
            raise DecodeError(f"UPDATE without new-tuple: {data[:120]!r}")
        new, unchanged, _ = _columns(data, i + len("new-tuple: "), end)
        return Change("UPDATE", schema, table, new, old, frozenset(unchanged))
    values, unchanged, _ = _columns(data, rest, end)
    if kind == "DELETE":
        return Change("DELETE", schema, table, {}, values)
    return Change(kind, schema, table, values, {}, frozenset(unchanged))  # type: ignore[arg-type]


_COMMIT = re.compile(r"^COMMIT (\d+)(?: \(at (.+)\))?$")


def group_transactions(rows: Iterable[tuple[str, Any, str]]) -> list[Transaction]:
    """pg_logical_slot_peek_changes rows (lsn, xid, data) as whole transactions, in commit order. Logical messages
    (the engine's own flush marker) are dropped; a transaction cut off at the end of the rows is left out."""
    with no_cyclic_gc():
        return [txn for chunk in transaction_chunks(rows, 1 << 62) for txn in chunk]


def transaction_chunks(rows: Iterable[tuple[str, Any, str]], changes_per_chunk: int) -> Iterator[list[Transaction]]:
    """``group_transactions`` read lazily, a list of whole transactions of about ``changes_per_chunk`` changes at a
    time: the engine sends one chunk to the target, which works on it while the next one is read."""
    chunk: list[Transaction] = []
    in_chunk = 0
    changes: list[Change] = []
    for lsn, _xid, data in rows:
        if data.startswith("table "):
            changes.append(parse_change(data))
        elif data.startswith("BEGIN"):
            changes = []
        elif data.startswith("COMMIT"):
            match = _COMMIT.match(data)
            if match is None:
                raise DecodeError(f"bad COMMIT line {data!r}")
            when = datetime.fromisoformat(match.group(2)) if match.group(2) else datetime.now(UTC)
            chunk.append(Transaction(int(match.group(1)), lsn_to_int(lsn), when, tuple(changes)))
            in_chunk += len(changes)
            changes = []
            if in_chunk >= changes_per_chunk:
                yield chunk
                chunk, in_chunk = [], 0
        # "message: ..." lines: logical messages (our flush marker), not data
    if chunk:
        yield chunk


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """A batch makes tens of thousands of containers that all live until it is applied: the cyclic GC's repeated
    passes over them were ~40 % of the time spent reading a batch, and nothing here makes a cycle. Collection
    resumes afterwards (nothing is lost, it is only deferred)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


# -- slots ------------------------------------------------------------------------------------------------------------


def _wait_socket(pgconn: pq.abc.PGconn) -> None:
    select.select([pgconn.socket], [], [], 1.0)


class ExportedSnapshot:
    """A slot created on a replication connection with its snapshot exported; the snapshot stays importable while
    this object is open (closing it drops a TEMPORARY slot)."""

    def __init__(self, conninfo: str, slot: str, *, temporary: bool) -> None:
        self._conn = psycopg.connect(conninfo, autocommit=True, replication="database")
        pgconn = self._conn.pgconn
        pgconn.nonblocking = 1
        kind = "TEMPORARY LOGICAL" if temporary else "LOGICAL"
        # slot is [a-z0-9_] only (slot_name_for); the server refuses anything else.
        pgconn.send_query(f"CREATE_REPLICATION_SLOT {slot} {kind} {PLUGIN} (SNAPSHOT 'export')".encode())
        while pgconn.flush() == 1:
            _wait_socket(pgconn)
        result = None
        while True:
            while pgconn.is_busy():  # waits for running transactions to end (the slot's consistent point)
                _wait_socket(pgconn)
                pgconn.consume_input()
            got = pgconn.get_result()
            if got is None:
                break
            result = got
        if result is None or result.status != pq.ExecStatus.TUPLES_OK:
            error = psycopg.errors.error_from_result(result) if result is not None else None
            self._conn.close()
            raise error or psycopg.OperationalError("CREATE_REPLICATION_SLOT gave no answer")
        self.slot = slot
        self.consistent_lsn = lsn_to_int((result.get_value(0, 1) or b"0/0").decode())
        self.snapshot = (result.get_value(0, 2) or b"").decode()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ExportedSnapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class SlotInfo:
    name: str
    active: bool
    confirmed_flush_lsn: int
    retained_wal_bytes: int


def slot_info(conn: psycopg.Connection[Any], slot: str) -> SlotInfo | None:
    row = conn.execute(
        "SELECT active, confirmed_flush_lsn::text, "
        "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint "
        "FROM pg_replication_slots WHERE slot_name = %s",
        (slot,),
    ).fetchone()
    if row is None:
        return None
    return SlotInfo(slot, bool(row[0]), lsn_to_int(row[1] or "0/0"), int(row[2]))


def drop_slot(conn: psycopg.Connection[Any], slot: str) -> bool:
    """Drop ``slot`` if it exists (a session still holding it is ended first); True when one was dropped."""
    row = conn.execute("SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s", (slot,)).fetchone()
    if row is None:
        return False
    if row[0]:
        conn.execute("SELECT pg_terminate_backend(%s)", (row[0],))
    for _ in range(50):
        try:
            conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
            return True
        except psycopg.errors.ObjectInUse:
            import time

            time.sleep(0.1)
    conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    return True


def create_slot(conn: psycopg.Connection[Any], slot: str) -> int:
    """A slot without a snapshot (``cdc`` tasks: capture starts now); its consistent point."""
    row = conn.execute("SELECT lsn::text FROM pg_create_logical_replication_slot(%s, %s)", (slot, PLUGIN)).fetchone()
    assert row is not None
    return lsn_to_int(row[0])


def flush_wal(conn: psycopg.Connection[Any]) -> int:
    """Make every commit so far visible to decoding, and return the flushed position.

    Decoding only reads WAL that is flushed, and the sandbox clusters run with synchronous_commit=off (commits reach
    the disk up to 3 x wal_writer_delay later). One synchronously committed logical message flushes the WAL up to
    itself, so every earlier commit becomes decodable at once; it adds one tiny record per poll."""
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = on")
        conn.execute("SELECT pg_logical_emit_message(true, %s, '')", (_FLUSH_PREFIX,))
    row = conn.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()
    assert row is not None
    return lsn_to_int(row[0])


def peek(conn: psycopg.Connection[Any], slot: str, upto_lsn: int, max_changes: int) -> list[tuple[str, Any, str]]:
    """Rows of whole transactions committed before ``upto_lsn`` (at most about ``max_changes``), not consumed."""
    return conn.execute(
        "SELECT lsn::text, xid, data FROM pg_logical_slot_peek_changes(%s, %s::pg_lsn, %s, %s, %s, %s, %s, %s, %s)",
        (slot, int_to_lsn(upto_lsn), max_changes, *_PEEK_OPTIONS),
    ).fetchall()


def advance(conn: psycopg.Connection[Any], slot: str, lsn: int) -> None:
    conn.execute("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)", (slot, int_to_lsn(lsn)))


def consume(conn: psycopg.Connection[Any], slot: str, upto_lsn: int, max_changes: int) -> list[tuple[str, Any, str]]:
    """Like ``peek``, but the slot moves past what it returns (used on the read-ahead's disposable copy only)."""
    return conn.execute(
        "SELECT lsn::text, xid, data FROM pg_logical_slot_get_changes(%s, %s::pg_lsn, %s, %s, %s, %s, %s, %s, %s)",
        (slot, int_to_lsn(upto_lsn), max_changes, *_PEEK_OPTIONS),
    ).fetchall()


@dataclass(frozen=True)
class Batch:
    """Rows of whole transactions read from the slot; ``complete``: everything up to ``upto`` (the flushed WAL
    position when it was read) is in them, so the slot may confirm ``upto`` once they are applied."""

    rows: list[tuple[str, Any, str]]
    upto: int
    complete: bool


class PeekReader:
    """Reads the task's slot itself: peek, and the caller advances the slot before the next read."""

    def __init__(self, conn: psycopg.Connection[Any], slot: str, max_rows: int) -> None:
        self.conn, self.slot, self.max_rows = conn, slot, max_rows

    def next(self, stop: threading.Event, idle_s: float) -> Batch | None:
        upto = flush_wal(self.conn)
        rows = peek(self.conn, self.slot, upto, self.max_rows)
        return Batch(rows, upto, len(rows) < self.max_rows)

    def close(self) -> None:
        pass


class ReadAhead:
    """Reads ahead of the apply, so that decoding on the source runs while the target applies the batch before.

    A slot cannot be read past its confirmed position without moving it, and the task's slot must not move before
    the target has committed what it holds (the exactly-once argument above). So this reads a TEMPORARY COPY of the
    slot (``pg_copy_logical_replication_slot``, same position), consuming it on a connection of its own in a thread,
    a bounded queue of batches ahead. The task's slot itself is still advanced only after each target commit. The
    copy is disposable: it dies with its session (stop, SIGKILL, source restart), and a resume makes a new copy at
    the task's slot, whose position is at or before the target's checkpoint, so nothing is lost, and what was
    applied already is skipped by its commit LSN as before. On the backlog benchmark this overlaps ~40 % of the
    time the source spent decoding with the apply."""

    def __init__(self, conninfo: str, slot: str, max_rows: int, queued: int = 2) -> None:
        self.slot, self.max_rows = slot, max_rows
        self.copy = f"{slot[:52]}_r{secrets.token_hex(3)}"
        self._conn = psycopg.connect(conninfo, autocommit=True)
        try:
            self._conn.execute("SELECT pg_copy_logical_replication_slot(%s, %s, true)", (slot, self.copy))
        except BaseException:
            self._conn.close()
            raise
        self._queue: queue.Queue[Batch | BaseException] = queue.Queue(maxsize=queued)
        self._stop = threading.Event()
        self._idle_s = 0.05
        self._thread = threading.Thread(target=self._read, name=f"{slot}-read-ahead", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while not self._stop.is_set():
                upto = flush_wal(self._conn)
                with no_cyclic_gc():
                    rows = consume(self._conn, self.copy, upto, self.max_rows)
                complete = len(rows) < self.max_rows
                if not self._put(Batch(rows, upto, complete)):
                    return
                if complete and not any(row[2].startswith("table ") for row in rows):
                    self._stop.wait(self._idle_s)  # nothing arrives: look again a little later, not in a loop
        except BaseException as exc:  # noqa: BLE001 - handed to the apply thread, which fails the task with it
            self._put(exc)

    def _put(self, item: Batch | BaseException) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def next(self, stop: threading.Event, idle_s: float) -> Batch | None:
        """The next batch; None if ``stop`` is set while waiting for one."""
        self._idle_s = idle_s
        while not stop.is_set():
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(item, BaseException):
                raise item
            return item
        return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self._conn.close()  # the temporary copy goes with its session


# -- the target's control tables --------------------------------------------------------------------------------------

_CONTROL_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {CONTROL_SCHEMA};
CREATE TABLE IF NOT EXISTS {CONTROL_SCHEMA}.awsdms_txn_state (
    task_name text PRIMARY KEY,
    slot_name text NOT NULL,
    checkpoint_lsn pg_lsn NOT NULL,
    source_commit_time timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS {CONTROL_SCHEMA}.awsdms_table_state (
    task_name text NOT NULL,
    schema_name text NOT NULL,
    table_name text NOT NULL,
    loaded_at_lsn pg_lsn NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_name, schema_name, table_name));
"""


def ensure_control_tables(conn: psycopg.Connection[Any]) -> None:
    """DMS's recovery table idea (``TaskRecoveryTableEnabled`` writes ``awsdms_txn_state`` on the target), in a
    schema of its own so a diff of the migrated schemas never sees it."""
    try:
        conn.execute(_CONTROL_DDL)
    except psycopg.errors.UniqueViolation:  # two tasks creating it at once: the other one won
        conn.rollback() if not conn.autocommit else None


@dataclass(frozen=True)
class Checkpoint:
    slot: str
    lsn: int
    source_commit_time: datetime | None


def read_checkpoint(conn: psycopg.Connection[Any], task: str) -> Checkpoint | None:
    row = conn.execute(
        f"SELECT slot_name, checkpoint_lsn::text, source_commit_time FROM {CONTROL_SCHEMA}.awsdms_txn_state "  # noqa: S608
        "WHERE task_name = %s",
        (task,),
    ).fetchone()
    return None if row is None else Checkpoint(row[0], lsn_to_int(row[1]), row[2])


def write_checkpoint(
    conn: psycopg.Connection[Any], task: str, slot: str, lsn: int, commit_time: datetime | None
) -> None:
    conn.execute(
        f"INSERT INTO {CONTROL_SCHEMA}.awsdms_txn_state (task_name, slot_name, checkpoint_lsn, source_commit_time) "  # noqa: S608
        "VALUES (%s, %s, %s::pg_lsn, %s) ON CONFLICT (task_name) DO UPDATE SET slot_name = EXCLUDED.slot_name, "
        "checkpoint_lsn = EXCLUDED.checkpoint_lsn, source_commit_time = EXCLUDED.source_commit_time, updated_at = now()",
        (task, slot, int_to_lsn(lsn), commit_time),
    )


def read_load_points(conn: psycopg.Connection[Any], task: str) -> dict[tuple[str, str], int]:
    rows = conn.execute(
        f"SELECT schema_name, table_name, loaded_at_lsn::text FROM {CONTROL_SCHEMA}.awsdms_table_state "  # noqa: S608
        "WHERE task_name = %s",
        (task,),
    ).fetchall()
    return {(r[0], r[1]): lsn_to_int(r[2]) for r in rows}


def write_load_point(conn: psycopg.Connection[Any], task: str, schema: str, table: str, lsn: int) -> None:
    conn.execute(
        f"INSERT INTO {CONTROL_SCHEMA}.awsdms_table_state (task_name, schema_name, table_name, loaded_at_lsn) "  # noqa: S608
        "VALUES (%s, %s, %s, %s::pg_lsn) ON CONFLICT (task_name, schema_name, table_name) DO UPDATE SET "
        "loaded_at_lsn = EXCLUDED.loaded_at_lsn, loaded_at = now()",
        (task, schema, table, int_to_lsn(lsn)),
    )


def forget_task(conn: psycopg.Connection[Any], task: str) -> None:
    conn.execute(f"DELETE FROM {CONTROL_SCHEMA}.awsdms_txn_state WHERE task_name = %s", (task,))  # noqa: S608
    conn.execute(f"DELETE FROM {CONTROL_SCHEMA}.awsdms_table_state WHERE task_name = %s", (task,))  # noqa: S608


# -- applying ---------------------------------------------------------------------------------------------------------


@dataclass
class TableCounters:
    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    ddls: int = 0
    applied_inserts: int = 0
    applied_updates: int = 0
    applied_deletes: int = 0
    applied_ddls: int = 0
    skipped_before_load: int = 0  # changes already in the table's loaded copy


@dataclass(frozen=True)
class ApplyTarget:
    """How one source table's changes land on the target."""

    plan: TablePreview
    key_source: tuple[str, ...]  # source key columns (empty: updates and deletes cannot be applied)
    key_target: tuple[str, ...]
    no_key_reason: str = ""
    # Target column -> its type without typmod (``format_type(oid, -1)``), when the table's changes may be applied
    # as net changes per key in set statements (see Applier); empty: one statement per change.
    bulk_types: Mapping[str, str] = field(default_factory=dict)

    @property
    def keyed(self) -> bool:
        return bool(self.key_source)


def apply_targets(
    plans: Sequence[TablePreview], source: psycopg.Connection[Any], target: psycopg.Connection[Any]
) -> dict[tuple[str, str], ApplyTarget]:
    """Each selected table's apply key: the source primary key, if the source sends it (replica identity) and the
    target has a primary key or unique index on exactly those (renamed) columns."""
    out: dict[tuple[str, str], ApplyTarget] = {}
    for plan in plans:
        key = (plan.source.schema, plan.source.table)
        src_key = plan.table.primary_key
        reason = ""
        ident_row = source.execute(
            "SELECT relreplident FROM pg_class WHERE oid = to_regclass(%s)",
            (_quoted(plan.source.schema, plan.source.table),),
        ).fetchone()
        identity = ident_row[0] if ident_row else "d"
        if identity == "n":
            reason = "the source table has REPLICA IDENTITY NOTHING: its updates and deletes carry no key"
        elif not src_key:
            reason = "the source table has no primary key: its updates and deletes carry no key"
        tgt_key = plan.primary_key_target
        if not reason and not tgt_key:
            reason = "a key column is removed by the table mappings"
        if not reason:
            unique = target.execute(
                "SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_index i "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = to_regclass(%s) AND i.indisunique GROUP BY i.indexrelid",
                (_quoted(plan.target.schema, plan.target.table),),
            ).fetchall()
            if sorted(tgt_key) not in [sorted(r[0]) for r in unique]:
                reason = f"the target table has no primary key or unique index on ({', '.join(tgt_key)})"
        if reason:
            out[key] = ApplyTarget(plan, (), (), reason)
        else:
            bulk = _bulk_types(plan, tuple(src_key), tuple(tgt_key), target)
            out[key] = ApplyTarget(plan, tuple(src_key), tuple(tgt_key), bulk_types=bulk)
    return out


# Key types whose text form is canonical (equal values <=> equal text) on the source and the target, so net changes
# can be keyed by the text test_decoding sends. (numeric 1.0 / 1.00, floats' -0, citext and the like are not.)
_CANONICAL_KEY_TYPES = frozenset(
    {"smallint", "integer", "bigint", "text", "character varying", "uuid", "date", "boolean"}
)


def _bulk_types(
    plan: TablePreview, key_source: tuple[str, ...], key_target: tuple[str, ...], target: psycopg.Connection[Any]
) -> dict[str, str]:
    """The target's column types when ``plan``'s changes may be applied as net changes per key (Applier's set path):
    the key's types are canonical on both sides, and nothing on the target sees the order of rows within one target
    transaction: no trigger or rule, no foreign key from or to the table, no unique or exclusion index but the key's
    (a row image applied before another one could then collide where the source order would not), deterministic
    collations on the key. Otherwise {} (one statement per change, in source order)."""
    source_types = {c.name: c.type_sql.split("(")[0] for c in plan.table.columns}
    if any(source_types.get(k) not in _CANONICAL_KEY_TYPES for k in key_source):
        return {}
    relation = _quoted(plan.target.schema, plan.target.table)
    row = target.execute(
        """SELECT c.relhasrules
                  OR EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)
                  OR EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f'
                             AND (f.conrelid = c.oid OR f.confrelid = c.oid))
                  OR (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid
                      AND (i.indisunique OR i.indisexclusion)) <> 1
           FROM pg_class c WHERE c.oid = to_regclass(%s)""",
        (relation,),
    ).fetchone()
    if row is None or row[0]:
        return {}
    columns = target.execute(
        """SELECT a.attname::text, format_type(a.atttypid, -1),
                  coalesce((SELECT NOT k.collisdeterministic FROM pg_collation k WHERE k.oid = a.attcollation), false)
           FROM pg_attribute a WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped""",
        (relation,),
    ).fetchall()
    types = {name: type_sql for name, type_sql, _ in columns}
    nondeterministic = {name for name, _, nd in columns if nd}
    if any(types.get(k) not in _CANONICAL_KEY_TYPES or k in nondeterministic for k in key_target):
        return {}
    return types


def _quoted(schema: str, table: str) -> str:
    return '"{}"."{}"'.format(schema.replace('"', '""'), table.replace('"', '""'))


class _StatementRuns:
    """Stands in for the cursor while one transaction is applied: statements are sent in their order, each run of
    the same statement with one executemany (one round of Python and protocol overhead per run, not per change)."""

    def __init__(self, cur: psycopg.Cursor[Any]) -> None:
        self.cur = cur
        self.statement: bytes | None = None
        self.rows: list[Sequence[Any]] = []

    def execute(self, statement: Any, params: Sequence[Any] | None = None) -> None:
        if params is None or not isinstance(statement, bytes):  # TRUNCATE and the like: in order, on its own
            self.flush()
            self.cur.execute(statement, params)
            return
        if statement is not self.statement:
            self.flush()
            self.statement = statement
        self.rows.append(params)

    def flush(self) -> None:
        if self.statement is not None and self.rows:
            if len(self.rows) == 1:
                self.cur.execute(self.statement, self.rows[0])
            else:
                self.cur.executemany(self.statement, self.rows)
        self.statement, self.rows = None, []


class _NetChange(NamedTuple):
    """What a batch does to one key of a table applied as net changes: deleted first (the row, if any, goes, so
    columns the changes do not carry get their defaults again), then the last row image, if any."""

    delete_first: bool
    row: Mapping[str, str | None] | None
    columns: tuple[str, ...] = ()


_DELETED = _NetChange(True, None)


class Applier:
    """Applies decoded transactions to the target through the task's mappings; counts what it did per table.

    Tables whose ``ApplyTarget.bulk_types`` is set are applied as NET changes per key: within one batch (one target
    transaction) each key's changes fold into "delete first?" and "last row image", and the batch then sends one
    DELETE and one INSERT ... ON CONFLICT per table (and column set) over all its keys, as JSON, instead of a
    statement per change (per-statement overhead in psycopg and the server was most of the engine's apply time).
    The effect is the one of applying every change in source commit order: operations on distinct keys commute when
    nothing on the target sees their order (``_bulk_types`` checks there are no triggers, rules, foreign keys or other
    unique indexes), each key's fold keeps its own order, and nothing between the changes is visible because the
    whole batch commits at once, together with its checkpoint (the exactly-once argument in the module docstring is
    untouched). A change that cannot be folded (a TRUNCATE, an update without all its values, a table applied per
    statement) first sends everything folded so far, so order across those stays the source's.
    """

    def __init__(self, targets: Mapping[tuple[str, str], ApplyTarget], load_points: Mapping[tuple[str, str], int]):
        self.targets = dict(targets)
        self.load_points = dict(load_points)
        self.counters: dict[tuple[str, str], TableCounters] = {k: TableCounters() for k in targets}
        # Rendered once: composing a statement's bytes on every execute was a third of the apply time.
        self._statements: dict[tuple[Any, ...], bytes] = {}
        self._names_cache: dict[Any, dict[str, str]] = {}
        self._kept: dict[Any, tuple[str, ...]] = {}

    def apply(self, cur: psycopg.Cursor[Any], txn: Transaction) -> int:
        """Apply one source transaction inside the caller's target transaction; the changes that applied."""
        return self.apply_batch(cur, (txn,))

    def apply_batch(self, cur: psycopg.Cursor[Any], txns: Sequence[Transaction]) -> int:
        """Apply source transactions, in commit order, inside the caller's ONE target transaction (the caller
        commits it with the batch's checkpoint); the changes that applied."""
        applied = 0
        runs = _StatementRuns(cur)
        net: dict[tuple[str, str], dict[Any, _NetChange]] = {}
        for txn in txns:
            for change in txn.changes:
                key = (change.schema, change.table)
                target = self.targets.get(key)
                if target is None:
                    continue  # not selected by the task
                counters = self.counters[key]
                if txn.commit_lsn <= self.load_points.get(key, -1):
                    counters.skipped_before_load += 1  # already in the copy this table was loaded from
                    continue
                if target.bulk_types and change.kind != "TRUNCATE" and not change.unchanged:
                    applied += self._fold(net.setdefault(key, {}), target, change, counters)
                    continue
                if net:
                    self._send_net(runs, net)
                applied += self._apply_change(runs, target, change, counters)
        if net:
            self._send_net(runs, net)
        runs.flush()
        return applied

    def _fold(self, keys: dict[Any, _NetChange], target: ApplyTarget, change: Change, c: TableCounters) -> int:
        """Fold one INSERT / UPDATE / DELETE (all values known) into its key's net change; counted as applied."""
        key_source = target.key_source
        if change.kind == "DELETE":
            c.deletes += 1
            old_key = change.old_key
            if not all(k in old_key for k in key_source):
                return 0
            keys[tuple([old_key[k] for k in key_source])] = _DELETED
            c.applied_deletes += 1
            return 1
        new = change.new
        new_key = tuple([new.get(k) for k in key_source])
        if change.kind == "UPDATE":
            c.updates += 1
            if change.old_key:
                old = tuple([change.old_key.get(k, new.get(k)) for k in key_source])
                if old != new_key:  # the key moved: the old one goes
                    keys[old] = _DELETED
            c.applied_updates += 1
        else:
            c.inserts += 1
            c.applied_inserts += 1
        before = keys.get(new_key)
        keys[new_key] = _NetChange(before is not None and before.delete_first, new, self._columns(target, new))
        return 1

    def _columns(self, target: ApplyTarget, row: Mapping[str, str | None]) -> tuple[str, ...]:
        """The columns of ``row`` the mappings keep (cached per column list: every change of a table has the same)."""
        sent = tuple(row)
        cache = (target.plan.source, sent)
        cols = self._kept.get(cache)
        if cols is None:
            names = self._names(target)
            self._kept[cache] = cols = tuple(n for n in sent if n in names)
        return cols

    def _send_net(self, runs: _StatementRuns, net: dict[tuple[str, str], dict[Any, _NetChange]]) -> None:
        """Send the folded changes (deletes first: the keys are distinct, so no upsert meets one of them)."""
        runs.flush()
        for key, keys in net.items():
            target = self.targets[key]
            gone = [k for k, n in keys.items() if n.delete_first]
            if gone:
                runs.cur.execute(self._net_delete(target), (json.dumps(gone),))
            by_columns: dict[tuple[str, ...], list[Any]] = {}
            for n in keys.values():
                row = n.row
                if row is not None:
                    rows = by_columns.get(n.columns)
                    if rows is None:
                        by_columns[n.columns] = rows = []
                    # every value, in order, when the mappings keep every column (the usual case)
                    rows.append(list(row.values()) if len(row) == len(n.columns) else [row[c] for c in n.columns])
            for cols, rows in by_columns.items():
                runs.cur.execute(self._net_upsert(target, cols), (json.dumps(rows),))
        net.clear()

    def _net_delete(self, target: ApplyTarget) -> bytes:
        cache = ("net-delete", target.plan.source)
        cached = self._statements.get(cache)
        if cached is None:
            keys = sql.SQL(", ").join(sql.Identifier(k) for k in target.key_target)
            values = sql.SQL(", ").join(
                sql.SQL("(r ->> {})::{}").format(sql.Literal(i), sql.SQL(target.bulk_types[k]))
                for i, k in enumerate(target.key_target)
            )
            found = sql.SQL("DELETE FROM {} WHERE ({}) IN (SELECT {} FROM jsonb_array_elements(%s::jsonb) AS r)")
            rendered = found.format(self._ident(target), keys, values).as_bytes(None)
            self._statements[cache] = cached = rendered
        return cached

    def _net_upsert(self, target: ApplyTarget, cols: tuple[str, ...]) -> bytes:
        cache = ("net-upsert", target.plan.source, cols)
        cached = self._statements.get(cache)
        if cached is None:
            names = self._names(target)
            tcols = [names[c] for c in cols]
            # Cast to the bare type (no typmod): the INSERT's assignment then checks lengths and precision as a
            # per-change INSERT would (an explicit cast to varchar(3) would cut silently).
            values = sql.SQL(", ").join(
                sql.SQL("(r ->> {})::{}").format(sql.Literal(i), sql.SQL(target.bulk_types[t]))
                for i, t in enumerate(tcols)
            )
            found = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM jsonb_array_elements(%s::jsonb) AS r").format(
                self._ident(target), sql.SQL(", ").join(sql.Identifier(t) for t in tcols), values
            )
            others = [t for c, t in zip(cols, tcols, strict=True) if c not in target.key_source]
            found += _on_conflict(target, others)
            self._statements[cache] = cached = found.as_bytes(None)
        return cached

    def _apply_change(self, cur: _StatementRuns, target: ApplyTarget, change: Change, c: TableCounters) -> int:
        plan = target.plan
        names = self._names(target)
        if change.kind == "TRUNCATE":
            c.ddls += 1
            cur.execute(sql.SQL("TRUNCATE TABLE {}").format(sql.Identifier(plan.target.schema, plan.target.table)))
            c.applied_ddls += 1
            return 1
        if change.kind == "INSERT":
            c.inserts += 1
            inserted = tuple(n for n in change.new if n in names)
            cur.execute(self._upsert(target, inserted), [change.new[n] for n in inserted])
            c.applied_inserts += 1
            return 1
        if change.kind == "UPDATE":
            c.updates += 1
            if not target.keyed:
                return 0
            old = {k: change.old_key.get(k, change.new.get(k)) for k in target.key_source}
            new_key = {k: change.new.get(k) for k in target.key_source}
            cols = tuple(n for n in change.new if n in names)
            if change.unchanged:  # some values were not sent: update in place (the key may move with it)
                cur.execute(self._update(target, cols), [*(change.new[n] for n in cols), *old.values()])
            else:  # the whole new row is known: idempotent delete-old-key + upsert
                if old != new_key:
                    cur.execute(self._delete(target), [old[k] for k in target.key_source])
                cur.execute(self._upsert(target, cols), [change.new[n] for n in cols])
            c.applied_updates += 1
            return 1
        c.deletes += 1
        if not target.keyed or not all(k in change.old_key for k in target.key_source):
            return 0
        cur.execute(self._delete(target), [change.old_key[k] for k in target.key_source])
        c.applied_deletes += 1
        return 1

    def _ident(self, target: ApplyTarget) -> sql.Identifier:
        return sql.Identifier(target.plan.target.schema, target.plan.target.table)

    def _names(self, target: ApplyTarget) -> dict[str, str]:
        names = self._names_cache.get(target.plan.source)
        if names is None:
            names = {col.source.name: col.target_name for col in target.plan.columns}
            self._names_cache[target.plan.source] = names
        return names

    def _upsert(self, target: ApplyTarget, cols: tuple[str, ...]) -> bytes:
        cache = ("upsert", target.plan.source, cols)
        cached = self._statements.get(cache)
        if cached is None:
            names = self._names(target)
            tcols = [sql.Identifier(names[c]) for c in cols]
            found = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                self._ident(target), sql.SQL(", ").join(tcols), sql.SQL(", ").join(sql.Placeholder() * len(cols))
            )
            if target.keyed:
                found += _on_conflict(target, [names[c] for c in cols if c not in target.key_source])
            self._statements[cache] = rendered = found.as_bytes(None)
            return rendered
        return cached

    def _update(self, target: ApplyTarget, cols: tuple[str, ...]) -> bytes:
        cache = ("update", target.plan.source, cols)
        cached = self._statements.get(cache)
        if cached is None:
            names = self._names(target)
            sets = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(names[c])) for c in cols)
            where = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in target.key_target)
            found = sql.SQL("UPDATE {} SET {} WHERE {}").format(self._ident(target), sets, where)
            self._statements[cache] = rendered = found.as_bytes(None)
            return rendered
        return cached

    def _delete(self, target: ApplyTarget) -> bytes:
        cache = ("delete", target.plan.source)
        cached = self._statements.get(cache)
        if cached is None:
            where = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in target.key_target)
            found = sql.SQL("DELETE FROM {} WHERE {}").format(self._ident(target), where)
            self._statements[cache] = rendered = found.as_bytes(None)
            return rendered
        return cached


def _on_conflict(target: ApplyTarget, others: list[str]) -> sql.Composed:
    """The upsert tail of an INSERT on a keyed target: a row already there under the key takes the other columns
    (``others``, target names), so an insert replayed after a crash, or folded with its updates, lands once."""
    conflict = sql.SQL(", ").join(sql.Identifier(k) for k in target.key_target)
    if not others:
        return sql.SQL(" ON CONFLICT ({}) DO NOTHING").format(conflict)
    sets = sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(n)) for n in others)
    return sql.SQL(" ON CONFLICT ({}) DO UPDATE SET {}").format(conflict, sets)
