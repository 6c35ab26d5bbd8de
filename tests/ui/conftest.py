"""Pilot-test helpers: an app whose mode is 'ready' at once (no sandbox start), driven at a chosen size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dms_tui.app import DmsTuiApp
from dms_tui.journey import Journey
from dms_tui.modes import ModeProgress, ModeReady
from dms_tui.target import TargetEnvironment


def instant_mode(target: TargetEnvironment, outputs: Any = None) -> Callable[..., ModeReady]:
    def prepare(journey: Journey, on_progress: Callable[[ModeProgress], None]) -> ModeReady:
        on_progress(ModeProgress("test mode ready"))
        return ModeReady(target=target, identity="test identity · us-east-1", outputs=outputs)

    return prepare


@pytest.fixture
def make_app() -> Callable[..., DmsTuiApp]:
    def build(
        env: str = "dev", mode: str = "sandbox", target: TargetEnvironment | None = None, outputs: Any = None
    ) -> DmsTuiApp:
        journey = Journey.resume_or_start(env, mode)
        target = target or TargetEnvironment(mode="sandbox", region="us-east-1", env=env)
        return DmsTuiApp(journey, mode_preparer=instant_mode(target, outputs))

    return build
