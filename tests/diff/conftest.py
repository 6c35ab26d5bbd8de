"""Fixtures of the diff tests: one source and one target database for the whole module, and a way to run SQL."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from dms_tui.data.diff import DiffOptions, TableDiff, diff_databases

SqlRunner = Callable[..., None]


def run_sql(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


class SecretUrl(str):
    """A URL holding a password: its repr (what pytest prints on failure) hides it."""

    def __repr__(self) -> str:
        return "<database URL, password hidden>"


@pytest.fixture(scope="module")
def databases(pg_source, pg_target, request) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(source URL, target URL) of databases named after the test module."""
    name = "diff_" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    return SecretUrl(pg_source.fresh_database(name)), SecretUrl(pg_target.fresh_database(name))


@pytest.fixture
def both(databases: tuple[str, str]) -> SqlRunner:
    """Run the same statements on source and target."""

    def run(*statements: str) -> None:
        run_sql(databases[0], *statements)
        run_sql(databases[1], *statements)

    return run


@pytest.fixture
def source_sql(databases: tuple[str, str]) -> SqlRunner:
    return lambda *statements: run_sql(databases[0], *statements)


@pytest.fixture
def target_sql(databases: tuple[str, str]) -> SqlRunner:
    return lambda *statements: run_sql(databases[1], *statements)


@pytest.fixture
def diff_table(databases: tuple[str, str]) -> Callable[..., TableDiff]:
    """Diff one table (no re-check delay unless asked) and return its TableDiff."""

    def run(table: str, **kwargs: object) -> TableDiff:
        mapping = kwargs.pop("mapping", None)
        on_event = kwargs.pop("on_event", None)
        kwargs.setdefault("recheck", False)
        report = diff_databases(
            databases[0],
            databases[1],
            tables=[table],
            mapping=mapping,  # type: ignore[arg-type]
            options=DiffOptions(**kwargs),  # type: ignore[arg-type]
            on_event=on_event,  # type: ignore[arg-type]
        )
        assert len(report.tables) == 1
        return report.tables[0]

    return run
