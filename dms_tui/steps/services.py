"""What the steps get from the outside world, injected in one place.

The app factory (``dms_tui.app.build_app``) and the headless commands use the defaults; tests build the app with
their own ``StepServices`` (a moto server, a scripted DMS client, a faster poll schedule) through the same factory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dms_tui.environment import Environment, EnvironmentProgress, EnvironmentRequest, OpenedEnvironment


def _open_environment(
    request: EnvironmentRequest, on_progress: Callable[[EnvironmentProgress], None]
) -> OpenedEnvironment:
    from dms_tui.environment import open_environment

    return open_environment(request, start_sandbox=True, on_progress=on_progress)


def _dms_client(environment: Environment) -> Any:
    return environment.client("dms")


@dataclass
class StepServices:
    """The seams of the whole app. Each field defaults to the real thing."""

    # Get the chosen environment ready (the wizard brings the sandbox up; AWS: find the identity).
    open_environment: Callable[[EnvironmentRequest, Callable[[EnvironmentProgress], None]], OpenedEnvironment] = (
        _open_environment
    )
    # The DMS API client for an environment (tests: a scripted client for states moto cannot reach).
    dms_client: Callable[[Environment], Any] = _dms_client
    # Step-specific knobs (poll schedules, clocks) live here too, named by step: e.g. migrate_poll_schedule.
    options: dict[str, Any] = field(default_factory=dict)
