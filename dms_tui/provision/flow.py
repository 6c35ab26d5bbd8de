"""Compatibility adapter for callers not yet on :mod:`dms_tui.steps.provision` (the Welcome screen's re-attach offer
and the cleanup plan). Provisioning logic lives in the step; these only delegate to it.
"""

from __future__ import annotations

from dms_tui.environment import Environment
from dms_tui.journey import Journey
from dms_tui.provision.detached import DetachedRun, RunRecord
from dms_tui.steps import provision as step

PLAN_FILE = step.PLAN_FILE


def plan_command_line(journey: Journey) -> str:
    return step.terraform_command_line(journey, "plan")


def apply_command_line(journey: Journey) -> str:
    return step.terraform_command_line(journey, "apply")


def destroy_command_line(journey: Journey) -> str:
    return step.terraform_command_line(journey, "destroy")


def destroy_process(journey: Journey, target: Environment) -> DetachedRun:
    """terraform destroy, detached from the terminal (iterate for events; ``interrupt()`` cancels)."""
    site = step.open_site(target)
    return DetachedRun(step.start_run(target, site, "destroy", site.runner().destroy()))


def attachable_run(journey: Journey) -> RunRecord | None:
    return step.last_run(journey.env)
