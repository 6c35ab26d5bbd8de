"""Story (issue 13): the migration type is chosen on Configure, before Provision, because it decides the source's
rds.logical_replication; it is then what the Migrate screen and `dms-tui migrate` start from."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import RadioButton, RadioSet, Static

from dms_tui.app import DmsTuiApp
from dms_tui.config import WizardConfig
from dms_tui.environment import Environment
from dms_tui.journey import Journey, Step
from dms_tui.screens.databases import DatabasesScreen
from dms_tui.screens.migrate import MigrateScreen
from dms_tui.screens.review import ReviewScreen
from dms_tui.steps import migrate
from dms_tui.steps.cdc_prerequisites import CdcPrerequisites
from tests.checks.moto_environment import REGION
from tests.ui.scripted_dms import ScriptedDms
from tests.ui.test_migrate_screen import FAST, fake_outputs, loading_script, migrate_app, open_migrate

SIZES = [(80, 24), (160, 48)]


@pytest.mark.parametrize("size", SIZES)
async def test_choosing_cdc_on_databases_writes_it_to_the_tfvars_and_says_what_it_does(
    make_app: Callable[..., DmsTuiApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        app.goto(Step.CONFIGURE)
        await pilot.pause()
        await app.push_screen(DatabasesScreen(app.journey))
        await pilot.pause()
        screen = app.screen
        choice = screen.query_one("#config-migration-type", RadioSet)
        assert choice.pressed_button is not None and choice.pressed_button.id == "cfg-type-full-load"
        hint = screen.query_one("#migration-type-hint", Static)
        assert "leaves rds.logical_replication off" in str(hint.render())
        choice.focus()
        await pilot.pause()
        await pilot.press("right", "right", "enter")  # keyboard only: arrows move, Enter chooses
        await pilot.pause()
        assert screen.query_one("#cfg-type-cdc", RadioButton).value
        said = " ".join(str(hint.render()).split())
        assert "cdc turns rds.logical_replication on in the source's parameter group" in said
        assert "Chosen before Provision: changing it later means applying again and rebooting" in said
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        expected = WizardConfig.default("dev").to_tfvars() | {"migration_type": "cdc"}
        assert json.loads(app.journey.config_path.read_text()) == expected


async def test_the_migrate_screen_starts_from_the_configured_type() -> None:
    journey = Journey.resume_or_start("dev", "sandbox")
    journey.save_config(WizardConfig.default("dev").with_value("migration_type", "full-load-and-cdc"))
    app = migrate_app(ScriptedDms([]))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, fake_outputs())
        chosen = screen.query_one("#migration-type", RadioSet).pressed_button
        assert chosen is not None and chosen.id == "type-full-load-and-cdc"
        assert screen.current_draft().migration_type == "full-load-and-cdc"


def _created_type(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> str:
    """The MigrationType `dms-tui migrate` sends to CreateReplicationTask for ``argv``."""
    from dms_tui.cli import build_parser
    from dms_tui.commands import migrate as migrate_command
    from dms_tui.environment import OpenedEnvironment
    from dms_tui.steps.services import StepServices

    environment = Environment(mode="sandbox", region=REGION, env="dev", outputs=fake_outputs())
    monkeypatch.setattr(migrate_command, "open_environment", lambda *_, **__: OpenedEnvironment(environment, "test"))

    def ready(_env: Any, _outputs: Any, _mappings: Any, kind: str) -> CdcPrerequisites:
        return CdcPrerequisites(kind, ())  # the databases' side is tests/cdc/test_cdc_prerequisites.py's

    client = ScriptedDms(loading_script())
    options = {migrate.POLL_SCHEDULE: FAST, migrate.READY_INTERVAL: 0.01, migrate.PREREQUISITES: ready}
    args = build_parser().parse_args(["migrate", "--sandbox", "--json", *argv])
    migrate_command.run(args, StepServices(dms_client=lambda _: client, options=options))
    capsys.readouterr()
    created = [params for operation, params in client.calls if operation == "CreateReplicationTask"]
    assert len(created) == 1
    return str(created[0]["MigrationType"])


def test_dms_tui_migrate_defaults_to_the_configured_type_and_the_flag_overrides_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _created_type([], monkeypatch, capsys, tmp_path) == "full-load"  # nothing configured: the default
    Journey("dev", "sandbox").reset()
    Journey("dev", "sandbox").save_config(WizardConfig.default("dev").with_value("migration_type", "cdc"))
    assert _created_type([], monkeypatch, capsys, tmp_path) == "cdc"
    Journey("dev", "sandbox").reset()
    assert _created_type(["--migration-type", "full-load"], monkeypatch, capsys, tmp_path) == "full-load"
