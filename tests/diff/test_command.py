"""`dms-tui diff` headless: exit codes 0/1/2, the JSON contract, errors on stderr and a password never echoed."""

from __future__ import annotations

import json

import pytest

from dms_tui.cli import main

TABLE_KEYS = {
    "source_table",
    "target_table",
    "key",
    "source_rows",
    "target_rows",
    "identical",
    "missing_in_target",
    "extra_in_target",
    "changed",
    "schema_drift",
    "truncated",
}


@pytest.fixture(scope="module", autouse=True)
def tables(databases: tuple[str, str]) -> None:
    from .conftest import run_sql

    for url, rows in zip(databases, ("(1, 'a'), (2, 'b'), (3, NULL)", "(1, 'a'), (2, 'B'), (4, '')"), strict=True):
        run_sql(
            url,
            "CREATE TABLE same (id int PRIMARY KEY, v text)",
            "INSERT INTO same VALUES (1, 'x')",
            "CREATE TABLE changed (id int PRIMARY KEY, v text)",
            f"INSERT INTO changed VALUES {rows}",  # noqa: S608 - constant test rows
            "CREATE TABLE bag (v text)",
            "INSERT INTO bag VALUES ('a'), ('a')",
        )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["diff", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_identical_tables_exit_0_with_one_json_document(
    databases: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "--source", databases[0], "--target", databases[1], "--table", "public.same", "--table", "bag", "--json"
    )
    document = json.loads(out)
    assert code == 0
    assert set(document) == {"tables", "elapsed_seconds"} and isinstance(document["elapsed_seconds"], float)
    assert [set(t) for t in document["tables"]] == [TABLE_KEYS, TABLE_KEYS]
    same, bag = document["tables"]
    assert same["key"] == ["id"] and same["identical"] is True and same["source_rows"] == 1
    assert bag["key"] is None and bag["identical"] is True and bag["target_rows"] == 2


def test_differences_exit_1_and_follow_the_contract(
    databases: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--source", databases[0], "--target", databases[1], "--table", "changed", "--json")
    assert code == 1, err
    [table] = json.loads(out)["tables"]
    assert table["identical"] is False and table["truncated"] is False and table["schema_drift"] == []
    assert table["missing_in_target"] == [{"key": {"id": "3"}, "row": {"id": "3", "v": None}, "count": 1}]
    assert table["extra_in_target"] == [{"key": {"id": "4"}, "row": {"id": "4", "v": ""}, "count": 1}]
    assert table["changed"] == [{"key": {"id": "2"}, "columns": {"v": {"source": "b", "target": "B"}}}]


def test_max_rows_truncates_the_lists(databases: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "--source", databases[0], "--target", databases[1], "--table", "changed", "--max-rows", "1", "--json"
    )
    [table] = json.loads(out)["tables"]
    assert code == 1 and len(table["changed"]) == 1


def test_without_table_every_source_table_is_compared_and_a_summary_printed(
    databases: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--source", databases[0], "--target", databases[1])
    assert code == 1
    assert "compared 3 table(s)" in out and "public.changed -> public.changed" in out
    assert "changed id='2': v: 'b' -> 'B'" in out


def test_the_password_comes_from_pgpassword_and_is_never_echoed(
    pg_source, pg_target, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    source = pg_source.cluster.url("diff_command")  # no password in the URL
    monkeypatch.setenv("PGPASSWORD", pg_source.password)
    code, out, err = run(
        capsys, "--source", source, "--target", pg_target.url("diff_command"), "--table", "same", "--json"
    )
    assert code == 0, err
    wrong = pg_source.cluster.url("diff_command", password="not-the-password-" + pg_source.password[:4])
    code, out, err = run(capsys, "--source", wrong, "--target", pg_target.url("diff_command"), "--json")
    assert code == 2 and out == ""
    assert "Could not connect to the source database" in err and "PGPASSWORD" in err
    for secret in (pg_source.password, pg_target.password, "not-the-password-"):
        assert secret not in err and secret not in out


def test_a_missing_table_or_a_bad_name_is_an_error_on_stderr(
    databases: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "--source", databases[0], "--target", databases[1], "--table", "public.absent", "--json"
    )
    assert (code, out) == (2, "") and "public.absent does not exist in the source" in err
    code, _, err = run(capsys, "--source", databases[0], "--target", databases[1], "--table", "a.b.c")
    assert code == 2 and "SCHEMA.TABLE" in err
