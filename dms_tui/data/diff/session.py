"""One side's database session for a diff: canonical settings and a read-only, repeatable-read snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg import sql

from dms_tui.data.diff.errors import DiffError

# Pinned so that every text form we show or hash is the same on both sides whatever the server's or the URL's
# defaults are (a source in Europe/Paris and a target in UTC must still show equal timestamptz values equally).
CANONICAL_SETTINGS: tuple[tuple[str, str], ...] = (
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "3"),
    ("bytea_output", "hex"),
    ("lc_monetary", "C"),
    ("application_name", "dms-tui diff"),
)

# JIT only adds compile time to the checksum scans: their work is in the types' hash functions, which it cannot
# inline. The scans are split into block ranges by the engine itself (see query_in_parallel), because the planner
# cannot estimate the number of buckets and so never picks a parallel partial aggregation on its own.
PLANNER_SETTINGS: tuple[tuple[str, str], ...] = (("jit", "off"),)


def describe_url(url: str) -> str:
    """host:port/dbname of a libpq URL or conninfo, without user or password, for messages."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the given URL"
    host = params.get("host") or "localhost"
    port = params.get("port") or "5432"
    return f"{host}:{port}/{params.get('dbname') or '(default database)'}"


class SnapshotSession:
    """A connection whose queries all read one snapshot until :meth:`renew_snapshot`."""

    def __init__(self, url: str, side: str) -> None:
        self.side = side
        self.where = describe_url(url)
        self._url = url  # in memory only: helper connections of a parallel scan log in the same way
        self._conn = self._connect()
        self.server_version = self._conn.info.server_version
        self._helpers: list[psycopg.Connection] = []

    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=15)
        except psycopg.Error as exc:
            raise DiffError(
                f"Could not connect to the {self.side} database at {self.where}: {_first_line(exc)}. "
                "Check the URL, that the server is reachable, and that the password is in the URL or in PGPASSWORD."
            ) from None
        settings = CANONICAL_SETTINGS + PLANNER_SETTINGS
        calls = sql.SQL(", ").join(sql.SQL("set_config(%s, %s, false)") for _ in settings)
        conn.execute(sql.SQL("SELECT {}").format(calls), [part for setting in settings for part in setting])
        conn.autocommit = False
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        return conn

    def query(self, statement: str | sql.Composable, params: Sequence[object] = ()) -> list[tuple]:
        """Run one statement inside the snapshot and return all rows."""
        return self._run(self._conn, statement, params)

    def _run(
        self, conn: psycopg.Connection, statement: str | sql.Composable, params: Sequence[object] = ()
    ) -> list[tuple]:
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params or None)  # type: ignore[arg-type]
                return cur.fetchall() if cur.description is not None else []
        except psycopg.Error as exc:
            raise DiffError(
                f"The {self.side} database at {self.where} refused a diff query: {_first_line(exc)}"
            ) from None

    def query_in_parallel(self, statements: Sequence[sql.Composable]) -> list[list[tuple]]:
        """Run ``statements`` concurrently, each on its own connection reading this session's snapshot.

        The snapshot is exported from the main connection and imported by helper connections (opened once, kept
        until the snapshot is renewed), so the parts of a split scan see exactly the same rows.
        """
        if len(statements) <= 1:
            return [self.query(statement) for statement in statements]
        missing = len(statements) - 1 - len(self._helpers)
        if missing > 0:
            snapshot = self.query("SELECT pg_export_snapshot()")[0][0]

            def open_helper(_: int) -> psycopg.Connection:
                helper = self._connect()
                self._run(helper, sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
                return helper

            # Logging in (SCRAM) costs a few milliseconds of CPU on both ends: open the helpers at the same time.
            with ThreadPoolExecutor(max_workers=missing) as pool:
                self._helpers.extend(pool.map(open_helper, range(missing)))
        with ThreadPoolExecutor(
            max_workers=len(statements) - 1, thread_name_prefix=f"dms-tui-diff-{self.side}"
        ) as pool:
            pending = [
                pool.submit(self._run, helper, statement)
                for helper, statement in zip(self._helpers, statements[1:], strict=False)
            ]
            first = self.query(statements[0])
            return [first, *(future.result() for future in pending)]

    def renew_snapshot(self) -> None:
        """End the current snapshot; the next query reads a new one."""
        self._conn.commit()
        self._close_helpers()

    def _close_helpers(self) -> None:
        for helper in self._helpers:
            helper.close()
        self._helpers = []

    def close(self) -> None:
        try:
            self._close_helpers()
            self._conn.rollback()
        finally:
            self._conn.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
