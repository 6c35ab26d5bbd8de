"""Preparing the databases as the seed does: the story of a person running `dms-tui seed` once, twice, bigger."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from dms_tui.data.connect import DatabaseCredentials, SecretFormatError, connect, psql_command
from dms_tui.data.prepare import (
    PRIMARY_KEY_EXPLANATION,
    Connector,
    DemoTable,
    ExistingTableFound,
    PrepareEvent,
    RowsProgress,
    ddl_text,
    prepare_source,
    prepare_target,
    side_table_details,
)
from dms_tui.environment import Environment


@pytest.fixture
def source_table(pg_source: Any) -> Iterator[tuple[Connector, DemoTable]]:
    """A demo table in a database of its own (other tests on this cluster use demo_db)."""
    name = "prep_" + secrets.token_hex(4)

    def connector(dbname: str) -> psycopg.Connection[Any]:
        return psycopg.connect(pg_source.url(dbname), autocommit=True)

    yield connector, DemoTable(database=name)
    pg_source.cluster.drop_database(name)


def test_the_seed_run_creates_the_seed_table_and_its_four_rows(source_table: tuple[Connector, DemoTable]) -> None:
    connector, table = source_table
    result = prepare_source(connector, table)

    assert result.database_created and not result.table_existed and result.rows_inserted == 4
    columns = [(c.name, c.data_type, c.nullable) for c in result.details.columns]
    assert columns == [
        ("accountnumber", "bigint", False),
        ("firstname", "character varying(20)", True),
        ("lastname", "character varying(20)", True),
        ("creationtime", "time without time zone", False),
    ]
    assert not result.details.has_primary_key and PRIMARY_KEY_EXPLANATION in result.notes
    with connector(table.database) as conn:
        rows = conn.execute(
            "SELECT accountnumber, firstname, lastname FROM demo_schema.demo_accounts ORDER BY 1"
        ).fetchall()
    assert rows == [(1, "John", "Smith"), (2, "Mary", "Doe"), (3, "Tom", "Good"), (4, "Peter", "Flynn")]


def test_running_it_again_keeps_the_rows_and_says_what_exists(source_table: tuple[Connector, DemoTable]) -> None:
    connector, table = source_table
    prepare_source(connector, table)
    events: list[PrepareEvent] = []
    again = prepare_source(connector, table, on_event=events.append)

    assert again.table_existed and again.rows_before == 4 and again.rows_inserted == 0
    assert again.details.rows == 4
    assert ExistingTableFound("source", "demo_schema.demo_accounts", 4, "keep") in events
    assert any("kept" in note for note in again.notes)


def test_truncate_then_recreate_with_a_primary_key(source_table: tuple[Connector, DemoTable]) -> None:
    connector, table = source_table
    prepare_source(connector, table)
    truncated = prepare_source(connector, table, rows=1000, if_exists="truncate")
    assert truncated.rows_before == 4 and truncated.details.rows == 1000

    recreated = prepare_source(connector, table, rows=10, if_exists="recreate", primary_key=True)
    assert recreated.details.rows == 10 and recreated.details.has_primary_key
    assert PRIMARY_KEY_EXPLANATION not in recreated.notes


def test_generated_rows_report_progress_per_batch(source_table: tuple[Connector, DemoTable]) -> None:
    connector, table = source_table
    progress: list[RowsProgress] = []
    result = prepare_source(
        connector,
        table,
        rows=2500,
        batch_rows=1000,
        on_event=lambda e: progress.append(e) if isinstance(e, RowsProgress) else None,
    )
    assert [p.inserted for p in progress] == [0, 1000, 2000, 2500] and {p.total for p in progress} == {2500}
    assert result.details.rows == 2500
    with connector(table.database) as conn:
        distinct, longest, lo, hi = conn.execute(
            "SELECT count(DISTINCT accountnumber), max(length(firstname)), min(accountnumber), max(accountnumber) "
            "FROM demo_schema.demo_accounts"
        ).fetchone() or (0, 0, 0, 0)
    assert (distinct, lo, hi) == (2500, 1, 2500) and longest <= 20


def test_identifiers_from_configuration_are_never_pasted_into_sql(pg_source: Any) -> None:
    hostile = DemoTable(database="prep_" + secrets.token_hex(3) + '"; drop', schema='odd"schema', table="Mixed Case")

    def connector(dbname: str) -> psycopg.Connection[Any]:
        return psycopg.connect(pg_source.url(dbname), autocommit=True)

    try:
        result = prepare_source(connector, hostile)
        assert result.details.rows == 4 and result.details.schema == 'odd"schema'
        assert '"odd""schema"."Mixed Case"' in ddl_text(hostile)
    finally:
        pg_source.cluster.drop_database(hostile.database)


def test_the_target_gets_its_database_once(pg_target: Any) -> None:
    table = DemoTable(database="prep_target_" + secrets.token_hex(3))

    def connector(dbname: str) -> psycopg.Connection[Any]:
        return psycopg.connect(pg_target.url(dbname), autocommit=True)

    try:
        assert prepare_target(connector, table) is True
        assert prepare_target(connector, table) is False
        assert side_table_details(connector, table) is None  # DMS creates the table; the database is all we make
    finally:
        pg_target.cluster.drop_database(table.database)


def test_a_secret_routed_through_the_sandbox_map_logs_in_without_showing_the_password(pg_source: Any) -> None:
    name = "vpce-0abc-source.vpce-svc-0abc.us-east-1.vpce.amazonaws.com"
    ca = pg_source.cluster.ca.cert_path
    target = Environment(
        mode="sandbox", region="us-east-1", host_map={name: ("127.0.0.1", pg_source.cluster.port)}, database_ca=ca
    )
    creds = DatabaseCredentials.from_secret(
        {"username": "postgres", "password": pg_source.password, "host": name, "port": "5432", "dbname": "postgres"}
    )
    with connect(creds, target) as conn:
        assert conn.execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()").fetchone() == (True,)
    shown = repr(creds) + psql_command(creds, target)
    assert pg_source.password not in shown and "sslmode=verify-ca" in shown and f"sslrootcert={ca}" in shown


def test_a_malformed_secret_names_the_missing_fields_not_the_values() -> None:
    with pytest.raises(SecretFormatError, match="host, dbname"):
        DatabaseCredentials.from_secret({"username": "u", "password": "hunter22", "port": 5432})
    with pytest.raises(SecretFormatError, match="port"):
        DatabaseCredentials.from_secret_string('{"username":"u","password":"p","host":"h","port":"x","dbname":"d"}')


def test_the_seed_benchmark_runs_at_a_small_size(source_table: tuple[Connector, DemoTable]) -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "seed_bench.py"
    spec = importlib.util.spec_from_file_location("seed_bench", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    connector, table = source_table
    figures = bench.measure(connector, rows=5000, batch_rows=2000, primary_key=True, table=table)
    assert figures["batches"] == 3 and figures["rows_per_s"] > 0 and figures["table_bytes"] > 0
