"""Story: a person configures the three networks and the databases, keyboard only, at 80x24 and 160x48."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from textual.widgets import Button, Input, Static

from dms_tui.app import DmsTuiApp
from dms_tui.config import WizardConfig
from dms_tui.screens.databases import DatabasesScreen
from dms_tui.screens.network import NetworkScreen
from dms_tui.screens.review import ReviewScreen

SIZES = [(80, 24), (160, 48)]


async def _to_network(pilot) -> NetworkScreen:  # type: ignore[no-untyped-def]
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, NetworkScreen)
    return pilot.app.screen


async def _retype(pilot, input_widget: Input, text: str) -> None:  # type: ignore[no-untyped-def]
    input_widget.focus()
    await pilot.pause()
    await pilot.press("end", *(["backspace"] * len(input_widget.value)))
    await pilot.press(*list(text))
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
async def test_an_invalid_cidr_shows_its_message_and_blocks_next(make_app: Callable[..., DmsTuiApp], size) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await _to_network(pilot)
        await _retype(pilot, screen.query_one("#f-vpcs-dms-cidr", Input), "10.0.0.5/16")
        problems = str(screen.query_one("#problems-dms", Static).render())
        assert "host bits" in problems and "10.0.0.0/16" in problems
        assert screen.query_one("#next", Button).disabled
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, NetworkScreen), "Next must be blocked while a CIDR is invalid"
        assert not app.journey.config_path.exists()


@pytest.mark.parametrize("size", SIZES)
async def test_a_valid_config_writes_exactly_the_expected_tfvars(make_app: Callable[..., DmsTuiApp], size) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await _to_network(pilot)
        await _retype(pilot, screen.query_one("#f-vpcs-target-cidr", Input), "172.16.0.0/16")
        await _retype(pilot, screen.query_one("#f-vpcs-target-private-subnets", Input), "172.16.1.0/24, 172.16.2.0/24")
        status = str(screen.query_one("#network-status", Static).render())
        assert "Overlapping" in status and "source/dms" in status
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, DatabasesScreen)
        await _retype(pilot, app.screen.query_one("#f-target-db-database-name", Input), "sales")
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        expected = WizardConfig.default("dev").to_tfvars()
        expected["vpcs"]["target"]["cidr"] = "172.16.0.0/16"
        expected["vpcs"]["target"]["private_subnets"] = ["172.16.1.0/24", "172.16.2.0/24"]
        expected["target_db"]["database_name"] = "sales"
        assert json.loads(app.journey.config_path.read_text()) == expected
