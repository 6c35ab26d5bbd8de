"""Story: the person prepares the databases: first a generated load with a primary key, then — seeing the table is
already there with its rows — truncates it and loads the seed's four rows instead. The target database is created.

Real PostgreSQL (the session's clusters, reached through real TCP forwarders with the secrets in moto), each test on
databases of its own so nothing depends on what other tests left behind.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shlex
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Static
from textual.worker import WorkerFailed

from dms_tui import cli, exit_codes
from dms_tui.app import DmsTuiApp
from dms_tui.commands import seed as seed_command_module
from dms_tui.data.demo_databases import DemoDatabases, PrepareChoice
from dms_tui.environment import Environment, OpenedEnvironment
from dms_tui.errors import StepError
from dms_tui.journey import Journey, PrepareRecord, Step
from dms_tui.screens.prepare import PrepareScreen
from dms_tui.steps.prepare import open_databases, run_prepare, seed_command
from dms_tui.widgets.command_hint import CommandHint
from tests.checks.moto_environment import REGION, MotoWorld, moto_environment
from tests.ui.conftest import instant_services
from tests.ui.test_snapshots import freeze


@pytest.fixture
def environment(pg_source: Any, pg_target: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoWorld]:
    """The healthy moto environment, with database names of this test's own (dropped afterwards)."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    name = "prep_ui_" + secrets.token_hex(3)
    with moto_environment({"source": pg_source, "target": pg_target}) as env:
        env.outputs = replace(
            env.outputs,
            source=replace(env.outputs.source, database_name=name),
            target=replace(env.outputs.target, database_name=name),
        )
        env.target = env.target.with_outputs(env.outputs)  # the step reads the environment's outputs
        yield env
    pg_source.cluster.drop_database(name)
    pg_target.cluster.drop_database(name)


def _source_rows(pg_source: Any, database: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(pg_source.url(database)) as conn:
        return conn.execute(
            "SELECT accountnumber, firstname, lastname FROM demo_schema.demo_accounts ORDER BY 1"
        ).fetchall()


def _database_exists(server: Any, database: str) -> bool:
    with psycopg.connect(server.url("postgres")) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is not None


async def _open_prepare(app: DmsTuiApp, pilot: Pilot, environment: MotoWorld) -> PrepareScreen:  # type: ignore[type-arg]
    await app.workers.wait_for_complete()
    app.journey.update(outputs=environment.outputs.to_json(), done=(Step.CONFIGURE, Step.PROVISION, Step.VERIFY))
    screen = PrepareScreen(app.journey)
    await app.push_screen(screen)
    await _settle(app, pilot)
    return screen


async def _settle(app: DmsTuiApp, pilot: Pilot) -> None:  # type: ignore[type-arg]
    with contextlib.suppress(WorkerFailed):  # a failed worker is shown on the screen; the test reads it there
        await app.workers.wait_for_complete()
    await pilot.pause(0.05)
    await pilot.pause()


def _status(screen: PrepareScreen) -> str:
    return str(screen.query_one("#prepare-status", Static).render())


def _ddl(screen: PrepareScreen) -> str:
    return str(screen.query_one("#prepare-ddl-text", Static).content.code)  # a rich Syntax of the DDL


def _cells(screen: PrepareScreen, side: str) -> list[str]:
    table = screen.query_one("#prepare-details", DataTable)
    return [str(cell) for cell in table.get_row(side)]


async def test_a_generated_load_with_a_primary_key_then_a_truncate_and_the_seed_rows(
    make_app: Callable[..., DmsTuiApp], environment: MotoWorld, pg_source: Any, pg_target: Any
) -> None:
    database = environment.outputs.source.database_name
    app = make_app(target=environment.target)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await _open_prepare(app, pilot, environment)
        # before: the source database exists (the environment made it), nothing else does
        assert not screen.query_one("#existing-box").display
        assert "database missing" in " ".join(_cells(screen, "target"))
        assert 'CREATE TABLE "demo_schema"."demo_accounts"' in _ddl(screen)

        await pilot.click("#rows-generated")
        screen.query_one("#rows-count", Input).value = "5000"
        await pilot.click("#primary-key")
        await pilot.pause()
        assert "ADD PRIMARY KEY" in _ddl(screen)
        assert screen.query_one(CommandHint).command == "dms-tui seed --sandbox --rows 5000 --primary-key"
        assert screen.query_one("#next", Button).disabled

        await pilot.press("p")
        await _settle(app, pilot)
        assert "✓ Prepared" in _status(screen), _status(screen)
        assert "5,000 rows inserted" in _status(screen) and "database " + database + " created" in _status(screen)
        rows = _source_rows(pg_source, database)
        assert len(rows) == 5000 and rows[0][0] == 1 and rows[-1][0] == 5000
        assert _database_exists(pg_target, database)
        source = _cells(screen, "source")
        assert source[2] == "demo_schema.demo_accounts" and source[3] == "5,000" and source[-1] == "yes"
        assert source[6:8] == ["permanent", "heap"]
        assert "no table yet (the DMS task creates it)" in _cells(screen, "target")
        assert "rows/s" in str(screen.query_one("#prepare-rate", Static).render())
        assert not screen.query_one("#next", Button).disabled

    # a second visit: the table is there, so the screen asks before touching it
    app = make_app(target=environment.target)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_prepare(app, pilot, environment)
        assert screen.query_one("#existing-box").display
        existing = str(screen.query_one("#existing-text", Static).render())
        assert "already exists" in existing and "5,000 rows" in existing and "primary key yes" in existing

        await pilot.press("p")  # no policy chosen yet: nothing happens but a question
        await _settle(app, pilot)
        assert "choose keep, truncate or recreate" in _status(screen)
        assert len(_source_rows(pg_source, database)) == 5000

        screen.query_one("#if-exists-truncate").value = True  # type: ignore[attr-defined]
        await pilot.pause()
        assert screen.query_one(CommandHint).command == "dms-tui seed --sandbox --if-exists truncate"
        await pilot.press("p")
        await _settle(app, pilot)
        assert "✓ Prepared" in _status(screen), _status(screen)
        assert "already there" in _status(screen)
        assert _source_rows(pg_source, database) == [
            (1, "John", "Smith"),
            (2, "Mary", "Doe"),
            (3, "Tom", "Good"),
            (4, "Peter", "Flynn"),
        ]
        assert _cells(screen, "source")[3] == "4"

        moved_to: list[Step] = []
        app.goto = moved_to.append  # type: ignore[method-assign]  # the Migrate screen is tested on its own
        await pilot.press("f5")
        assert app.journey.state.is_done(Step.PREPARE) and moved_to == [Step.MIGRATE]
        assert app.journey.state.prepare.source_rows == 4


async def test_a_wrong_password_in_the_secret_is_explained_and_nothing_can_be_prepared(
    make_app: Callable[..., DmsTuiApp], environment: MotoWorld
) -> None:
    environment.rewrite_secret("source", password="not-the-password")
    app = make_app(target=environment.target)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_prepare(app, pilot, environment)
        status = _status(screen)
        assert "source database refused" in status and "password authentication failed" in status
        assert "Verify (`dms-tui verify --sandbox`)" in status
        assert environment.passwords["source"] not in status
        assert screen.query_one("#prepare", Button).disabled and screen.query_one("#next", Button).disabled


def test_the_core_refuses_a_missing_secret_with_what_to_do(environment: MotoWorld) -> None:
    broken = replace(environment.outputs, target=replace(environment.outputs.target, secret_arn="arn:missing"))
    with pytest.raises(StepError, match="Could not read the target database secret") as raised:
        open_databases(environment.target.with_outputs(broken))
    assert "dms-tui verify --sandbox" in raised.value.next_step


def test_the_seed_command_line_matches_the_choices() -> None:
    assert seed_command([], PrepareChoice()) == "dms-tui seed"
    assert (
        seed_command(["--sandbox", "--env", "qa"], PrepareChoice(rows=10, if_exists="recreate", primary_key=True))
        == "dms-tui seed --sandbox --env qa --rows 10 --if-exists recreate --primary-key"
    )
    with pytest.raises(ValueError, match="between 0 and"):
        PrepareChoice(rows=-1)


async def test_headless_seed_and_the_screen_prepare_the_same(
    make_app: Callable[..., DmsTuiApp],
    environment: MotoWorld,
    pg_source: Any,
    pg_target: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The Prepare step run by `dms-tui seed` and by the Prepare screen, on the same choices: same rows on the source,
    the same target database, the same PrepareRecord in the journey, and the screen shows the command that was run."""
    database = environment.outputs.source.database_name
    monkeypatch.setattr(
        seed_command_module,
        "open_environment",
        lambda request, **_: OpenedEnvironment(environment.target, identity="test identity"),
    )
    argv = ["seed", "--sandbox", "--rows", "300", "--primary-key"]
    assert cli.main([*argv, "--json"]) == exit_codes.OK
    document = json.loads(capsys.readouterr().out)
    assert document["source"]["rows_inserted"] == 300 and document["source"]["table"]["has_primary_key"]
    assert document["target"]["database"] == database
    headless_rows = _source_rows(pg_source, database)
    assert len(headless_rows) == 300 and _database_exists(pg_target, database)
    headless_record = Journey.resume_or_start("dev", "sandbox").state.prepare
    assert headless_record == PrepareRecord(source_rows=300, primary_key=True, target_database=database)

    # a second run never loads twice: keep (the default) leaves the table as it is
    assert cli.main(["seed", "--sandbox", "--rows", "300"]) == exit_codes.OK  # keep (the default) keeps the rows
    assert "kept as it is" in capsys.readouterr().out
    assert len(_source_rows(pg_source, database)) == 300
    with pytest.raises(StepError, match="already exists on the source with 300 rows"):  # no policy: not touched
        list(run_prepare(environment.target, PrepareChoice(rows=300, if_exists=None)))

    # the same inputs through the screen, on fresh databases and a fresh journey
    pg_source.cluster.drop_database(database)
    pg_target.cluster.drop_database(database)
    Journey.resume_or_start("dev", "sandbox").reset()
    app = make_app(target=environment.target)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_prepare(app, pilot, environment)
        assert app.journey.state.prepare is None
        await pilot.click("#rows-generated")
        screen.query_one("#rows-count", Input).value = "300"
        screen.query_one("#primary-key").value = True  # type: ignore[attr-defined]
        await pilot.pause()
        assert screen.query_one(CommandHint).command == shlex.join(["dms-tui", *argv])
        await pilot.press("p")
        await _settle(app, pilot)
        assert "✓ Prepared" in _status(screen), _status(screen)
        app.goto = lambda step: None  # type: ignore[method-assign,assignment]  # Migrate is tested on its own
        await pilot.press("f5")
        assert app.journey.state.is_done(Step.PREPARE)
        assert app.journey.state.prepare == headless_record
    assert _source_rows(pg_source, database) == headless_rows
    assert _database_exists(pg_target, database)


# -- snapshot: the screen after inspecting a source that already holds the seed's rows ------------------------------

SNAPSHOT_HOME = Path("/tmp/dms-tui-snapshot-home")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_snapshot_an_existing_table_asks_what_to_do(  # type: ignore[no-untyped-def]
    snap_compare,
    environment: MotoWorld,
    pg_source: Any,
    pg_target: Any,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
) -> None:
    # The sizes and names shown come from a fixed table: the seed's four rows in a database with a fixed name.
    name = "prep_snapshot"
    pg_source.cluster.drop_database(name)
    pg_target.cluster.drop_database(name)
    environment.outputs = replace(
        environment.outputs,
        source=replace(environment.outputs.source, database_name=name),
        target=replace(environment.outputs.target, database_name=name),
    )
    environment.target = environment.target.with_outputs(environment.outputs)
    DemoDatabases.from_environment(environment.target, environment.outputs).prepare(PrepareChoice())
    shutil.rmtree(SNAPSHOT_HOME, ignore_errors=True)
    monkeypatch.setenv("DMS_TUI_HOME", str(SNAPSHOT_HOME))
    journey = Journey.resume_or_start("dev", "sandbox")
    journey.update(outputs=environment.outputs.to_json(), done=(Step.CONFIGURE, Step.PROVISION, Step.VERIFY))
    target: Environment = environment.target
    app = DmsTuiApp(journey, services=instant_services(target))

    async def open_prepare(pilot: Pilot) -> None:  # type: ignore[type-arg]
        await freeze(pilot)
        await app.push_screen(PrepareScreen(app.journey))
        await freeze(pilot)
        await pilot.pause(0.1)

    try:
        assert snap_compare(app, terminal_size=size, run_before=open_prepare)
    finally:
        pg_source.cluster.drop_database(name)
        pg_target.cluster.drop_database(name)
