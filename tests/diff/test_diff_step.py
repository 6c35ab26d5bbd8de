# ruff: noqa: S608 - SQL of constant test tables
"""Story: after the migration, `dms-tui diff --sandbox --table demo_schema.demo_accounts --json` proves the result
with nothing typed (no URL, no password: outputs + secrets), and the Diff screen shows the same outcome.

Real PostgreSQL behind real TCP forwarders, secrets in moto (the sandbox's wiring, in process)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from dms_tui.cli import main
from dms_tui.environment import OpenedEnvironment
from dms_tui.journey import DiffRecord, Journey
from dms_tui.steps.diff import DiffInputs, EndpointsResolved, run_diff
from tests.checks.moto_environment import REGION, VERIFY_DB, MotoWorld, moto_environment

TABLE = "demo_schema.demo_accounts"


def _sql(server: Any, *statements: str) -> None:
    with psycopg.connect(server.url(VERIFY_DB), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


@pytest.fixture
def world(pg_source: Any, pg_target: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoWorld]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with moto_environment({"source": pg_source, "target": pg_target}) as env:
        for server in (pg_source, pg_target):
            _sql(
                server,
                "DROP SCHEMA IF EXISTS demo_schema CASCADE",
                "CREATE SCHEMA demo_schema",
                f"CREATE TABLE {TABLE} (accountnumber bigint PRIMARY KEY, firstname varchar(20))",
                f"INSERT INTO {TABLE} SELECT g, 'n' || g FROM generate_series(1, 300) g",
            )
        # `dms-tui diff --sandbox` opens the running sandbox; here it is this in-process world.
        monkeypatch.setattr(
            "dms_tui.commands.diff.open_environment",
            lambda request, **_: OpenedEnvironment(env.target, "test identity"),
        )
        yield env


def _command(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_the_command_needs_no_url_and_no_password(world: MotoWorld, capsys: pytest.CaptureFixture[str]) -> None:
    code, document = _command(capsys, "diff", "--sandbox", "--table", TABLE, "--json")
    assert code == 0
    [table] = document["tables"]
    assert table["identical"] and table["source_rows"] == 300
    assert Journey.resume_or_start("dev", "sandbox").state.diff == DiffRecord(identical=True, tables=1)


def test_differences_exit_1_and_the_printed_command_runs_as_printed(
    world: MotoWorld, pg_target: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _sql(
        pg_target,
        f"UPDATE {TABLE} SET firstname = 'x' WHERE accountnumber = 7",
        f"DELETE FROM {TABLE} WHERE accountnumber = 9",
    )
    journey = Journey.resume_or_start("dev", "sandbox")
    events = list(run_diff(world.target, journey, DiffInputs(tables=(TABLE,))))
    [resolved] = [e for e in events if isinstance(e, EndpointsResolved)]
    assert resolved.command == f"dms-tui diff --sandbox --table {TABLE}"
    assert world.passwords["source"] not in resolved.source + resolved.target
    code, document = _command(capsys, *shlex.split(resolved.command)[1:], "--json")
    assert code == 1
    [table] = document["tables"]
    assert len(table["changed"]) == 1 and len(table["missing_in_target"]) == 1
    assert journey.state.diff == DiffRecord(identical=False, tables=1, differences=2)


def test_renamed_tables_are_paired_through_the_journeys_task(
    world: MotoWorld, pg_target: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _sql(pg_target, "CREATE SCHEMA IF NOT EXISTS sales", f"ALTER TABLE {TABLE} SET SCHEMA sales")
    rules = [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "in", "rule-action": "include",
         "object-locator": {"schema-name": "demo_schema", "table-name": "%"}},
        {"rule-type": "transformation", "rule-id": "2", "rule-name": "s", "rule-action": "rename",
         "rule-target": "schema", "object-locator": {"schema-name": "demo_schema"}, "value": "sales"},
    ]  # fmt: skip
    Journey.resume_or_start("dev", "sandbox").update_task(identifier="t", table_mappings=json.dumps({"rules": rules}))
    code, document = _command(capsys, "diff", "--sandbox", "--json")
    assert code == 0
    assert [(t["source_table"], t["target_table"]) for t in document["tables"]] == [(TABLE, "sales.demo_accounts")]
    _sql(pg_target, "DROP SCHEMA sales CASCADE")


def test_without_provisioning_outputs_nothing_is_compared(
    world: MotoWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "dms_tui.commands.diff.open_environment",
        lambda request, **_: OpenedEnvironment(world.target.with_outputs(None), "test identity"),
    )
    assert main(["diff", "--sandbox", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "has not been provisioned" in captured.err


async def test_the_screen_shows_what_the_command_shows(
    world: MotoWorld, pg_target: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from dms_tui.app import DmsTuiApp
    from dms_tui.screens.diff import DiffScreen
    from tests.ui.conftest import instant_services

    _sql(pg_target, f"UPDATE {TABLE} SET firstname = NULL WHERE accountnumber IN (3, 4)")
    code, document = _command(capsys, "diff", "--sandbox", "--json")
    app = DmsTuiApp(Journey.resume_or_start("dev", "sandbox"), services=instant_services(world.target))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        screen = DiffScreen(app.journey)
        app.push_screen(screen)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        assert screen.report is not None
        assert code == 1 and screen.report.to_json()["tables"] == document["tables"]
        assert "2 differences" in str(screen.query_one("#diff-headline").render())
