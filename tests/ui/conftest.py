"""Pilot-test helpers: an app whose mode is 'ready' at once (no sandbox start), driven at a chosen size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dms_tui.app import DmsTuiApp
from dms_tui.environment import Environment, EnvironmentProgress, EnvironmentRequest, OpenedEnvironment
from dms_tui.journey import Journey
from dms_tui.steps.services import StepServices


def instant_services(target: Environment, outputs: Any = None, **fields: Any) -> StepServices:
    """Services whose environment is ready at once (no sandbox start): ``target`` with ``outputs``."""

    def open_environment(
        request: EnvironmentRequest, on_progress: Callable[[EnvironmentProgress], None]
    ) -> OpenedEnvironment:
        on_progress(EnvironmentProgress("test mode ready"))
        environment = target if outputs is None else target.with_outputs(outputs)
        return OpenedEnvironment(environment, identity="test identity · us-east-1")

    # Review checks the account on arrival; these environments have no AWS to ask (tests/ui/test_review_preflight.py
    # turns it on against moto).
    options = {"review_preflight": False, **fields.pop("options", {})}
    return StepServices(open_environment=open_environment, options=options, **fields)


@pytest.fixture
def make_app() -> Callable[..., DmsTuiApp]:
    def build(
        env: str = "dev", mode: str = "sandbox", target: Environment | None = None, outputs: Any = None
    ) -> DmsTuiApp:
        journey = Journey.resume_or_start(env, mode)
        target = target or Environment(mode="aws" if mode == "aws" else "sandbox", region="us-east-1", env=env)
        return DmsTuiApp(journey, services=instant_services(target, outputs))

    return build
