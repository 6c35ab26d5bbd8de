"""Task definitions run in the sandbox engine against real PostgreSQL; the target checked row for row against what the
DMS documentation says should happen (user-defined types as character varying, filters, column rules, added
columns, define-primary-key, limited-LOB truncation, the full-LOB key rule)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from engine_endpoint import endpoint  # type: ignore[import-not-found]

from dms_tui.dmstask.mappings import TableMappings
from dms_tui.dmstask.settings import TaskSettings
from dms_tui.sandbox.dms_engine import FullLoadTask

SOURCE_DB = "fidelity_source"


@pytest.fixture(scope="module")
def source_url(pg_source: Any) -> str:
    url = pg_source.fresh_database(SOURCE_DB)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE SCHEMA test;
            CREATE TYPE test.mood AS ENUM ('sad', 'ok', 'happy');
            CREATE DOMAIN test.posint AS integer CHECK (VALUE > 0);
            CREATE TYPE test.pair AS (a int, b text);
            CREATE TABLE test.people (id int PRIMARY KEY, first text, last text, mood test.mood, score test.posint,
                                      pair test.pair, city text, born date, secret text);
            INSERT INTO test.people VALUES
              (1, 'Ann', 'Lee', 'happy', 5, ROW(1, 'x'), 'Oslo', '1990-01-01', 's1'),
              (2, 'Bob', 'Ray', 'sad', 7, ROW(2, 'y'), 'Rome', '1985-06-30', 's2'),
              (3, 'Cy', 'Wu', NULL, 9, NULL, NULL, '2001-12-31', 's3'),
              (4, 'Di', 'Ng', 'ok', 11, ROW(4, 'z'), 'Oslo', '1970-03-03', 's4');
            CREATE TABLE test.docs (id int PRIMARY KEY, body text, blob bytea);
            INSERT INTO test.docs VALUES (1, repeat('a', 3000), decode(repeat('ff', 3000), 'hex')), (2, 'short', '\\x01');
            CREATE TABLE test.nokey (note text);
            INSERT INTO test.nokey VALUES ('n1');
            CREATE TABLE test.loadsecond (id int); CREATE TABLE test.loadxecond (id int); CREATE TABLE test.load_econd (id int);
            """
        )
    return url


@pytest.fixture
def target_url(pg_target: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "fid_" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:50]
    yield pg_target.fresh_database(name)
    pg_target.cluster.drop_database(name)


def run(source: str, target: str, rules: list[dict[str, Any]], settings: dict[str, Any] | None = None) -> FullLoadTask:
    mappings = TableMappings.from_dict({"rules": rules})
    task_settings = TaskSettings.from_dict(settings or {}).with_prep_mode("DROP_AND_CREATE")
    task = FullLoadTask(endpoint(source), endpoint(target), mappings, task_settings)
    task.run()
    return task


def sel(rule_id: int, table: str, **more: Any) -> dict[str, Any]:
    return {
        "rule-type": "selection",
        "rule-id": str(rule_id),
        "rule-name": str(rule_id),
        "object-locator": {"schema-name": "test", "table-name": table},
        "rule-action": more.pop("action", "include"),
        **more,
    }


def col(rule_id: int, action: str, table: str, column: str | None = None, **more: Any) -> dict[str, Any]:
    locator = {"schema-name": "test", "table-name": table}
    if column is not None:
        locator["column-name"] = column
    return {
        "rule-type": "transformation",
        "rule-id": str(rule_id),
        "rule-name": str(rule_id),
        "rule-target": more.pop("target", "column"),
        "object-locator": locator,
        "rule-action": action,
        **more,
    }


def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def states(task: FullLoadTask) -> dict[str, str]:
    return {e["TableName"]: e["TableState"] for e in task.table_statistics()}


def test_user_defined_types_are_created_as_character_varying(source_url: str, target_url: str) -> None:
    task = run(source_url, target_url, [sel(1, "people")])
    assert states(task) == {"people": "Table completed"}, task.task_fields()
    types = dict(
        rows(
            target_url,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'test' AND table_name = 'people'",
        )
    )
    assert types["mood"] == types["score"] == types["pair"] == "character varying"
    assert rows(target_url, "SELECT id, mood, score, pair FROM test.people ORDER BY id") == [
        (1, "happy", "5", "(1,x)"),
        (2, "sad", "7", "(2,y)"),
        (3, None, "9", None),
        (4, "ok", "11", "(4,z)"),
    ]


@pytest.mark.parametrize(
    ("conditions", "ids"),
    [
        ([{"filter-operator": "eq", "value": "Oslo"}], [1, 4]),
        ([{"filter-operator": "noteq", "value": "Oslo"}], [2]),
        ([{"filter-operator": "ste", "value": "2"}], [1, 2]),
        ([{"filter-operator": "gte", "value": "3"}], [3, 4]),
        ([{"filter-operator": "between", "start-value": "2", "end-value": "3"}], [2, 3]),
        ([{"filter-operator": "notbetween", "start-value": "2", "end-value": "3"}], [1, 4]),
        ([{"filter-operator": "null"}], [3]),
        ([{"filter-operator": "notnull"}], [1, 2, 4]),
        ([{"filter-operator": "eq", "value": "1"}, {"filter-operator": "eq", "value": "4"}], [1, 4]),  # OR
    ],
)
def test_source_filters(source_url: str, target_url: str, conditions: list[dict[str, Any]], ids: list[int]) -> None:
    column = (
        "city"
        if conditions[0].get("value") in ("Oslo",) or conditions[0]["filter-operator"] in ("null", "notnull")
        else "id"
    )
    flt = {"filter-type": "source", "column-name": column, "filter-conditions": conditions}
    task = run(source_url, target_url, [sel(1, "people", filters=[flt])])
    assert states(task) == {"people": "Table completed"}, task.task_fields()
    assert [r[0] for r in rows(target_url, "SELECT id FROM test.people ORDER BY id")] == ids


def test_several_filters_are_anded(source_url: str, target_url: str) -> None:
    filters = [
        {
            "filter-type": "source",
            "column-name": "city",
            "filter-conditions": [{"filter-operator": "eq", "value": "Oslo"}],
        },
        {
            "filter-type": "source",
            "column-name": "born",
            "filter-conditions": [{"filter-operator": "gte", "value": "1980-01-01"}],
        },
    ]
    run(source_url, target_url, [sel(1, "people", filters=filters)])
    assert rows(target_url, "SELECT id FROM test.people") == [(1,)]


def test_column_rules_added_columns_and_a_defined_key(source_url: str, target_url: str) -> None:
    rules = [
        sel(1, "people"),
        col(2, "remove-column", "people", "mood"),
        col(3, "remove-column", "people", "score"),
        col(4, "remove-column", "people", "pair"),
        col(5, "remove-column", "people", "c%"),
        col(11, "remove-column", "people", "secret"),
        col(6, "change-data-type", "people", "born", **{"data-type": {"type": "string", "length": 10}}),
        col(
            7,
            "add-column",
            "people",
            value="full_name",
            expression="$first || ' ' || $last",
            **{"data-type": {"type": "string", "length": 50}},
        ),
        col(
            8,
            "add-column",
            "people",
            value="origin",
            expression="'on-prem'",
            **{"data-type": {"type": "string", "length": 10}},
        ),
        col(9, "add-column", "people", value="id10", expression="$id * 10", **{"data-type": {"type": "int8"}}),
        col(
            10,
            "define-primary-key",
            "people",
            target="table",
            **{"primary-key-def": {"name": "people_pk", "origin": "primary-key", "columns": ["id", "first"]}},
        ),
    ]
    assert TableMappings.from_dict({"rules": rules}).validate() == []
    task = run(source_url, target_url, rules)
    assert states(task) == {"people": "Table completed"}, task.task_fields()
    assert rows(target_url, "SELECT * FROM test.people ORDER BY id")[:2] == [
        (1, "Ann", "Lee", "1990-01-01", "Ann Lee", "on-prem", 10),
        (2, "Bob", "Ray", "1985-06-30", "Bob Ray", "on-prem", 20),
    ]
    key = rows(
        target_url,
        "SELECT array_agg(a.attname ORDER BY k.ord) FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) "
        "WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
        "WHERE i.indrelid = 'test.people'::regclass AND i.indisprimary",
    )
    assert key == [(["id", "first"],)]


def test_limited_lob_mode_truncates_at_lob_max_size(source_url: str, target_url: str) -> None:
    settings = {
        "TargetMetadata": {"SupportLobs": True, "LimitedSizeLobMode": True, "FullLobMode": False, "LobMaxSize": 1}
    }
    task = run(source_url, target_url, [sel(1, "docs")], settings)
    assert states(task) == {"docs": "Table completed"}, task.task_fields()
    assert rows(target_url, "SELECT id, length(body), length(blob) FROM test.docs ORDER BY id") == [
        (1, 1024, 1024),
        (2, 5, 1),
    ]


def test_full_lob_mode_needs_a_key(source_url: str, target_url: str) -> None:
    settings = {"TargetMetadata": {"SupportLobs": True, "LimitedSizeLobMode": False, "FullLobMode": True}}
    task = run(source_url, target_url, [sel(1, "nokey"), sel(2, "docs")], settings)
    assert states(task) == {"nokey": "Table error", "docs": "Table completed"}
    assert "full LOB mode needs a primary key" in str(task.task_fields())


def test_include_column_keeps_only_the_columns_it_names(source_url: str, target_url: str) -> None:
    rules = [sel(1, "people"), col(2, "include-column", "people", "id"), col(3, "include-column", "people", "f%")]
    run(source_url, target_url, rules)
    assert rows(target_url, "SELECT * FROM test.people ORDER BY id")[0] == (1, "Ann")


def test_wildcards_in_the_engine(source_url: str, target_url: str) -> None:
    task = run(source_url, target_url, [sel(1, "load%"), sel(2, "load_econd", action="exclude")])
    # "_" is one character: the exclude takes loadsecond and loadxecond as well as load_econd
    assert states(task) == {}
    task = run(source_url, target_url, [sel(1, "load%"), sel(2, "load[_]econd", action="exclude")])
    assert sorted(states(task)) == ["loadsecond", "loadxecond"]
    task = run(source_url, target_url, [sel(1, "load[sx]econd")])
    assert sorted(states(task)) == ["loadsecond", "loadxecond"]
