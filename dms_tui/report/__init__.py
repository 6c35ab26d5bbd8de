"""The hand-over report: one self-contained HTML page of what the journey built, proved and moved.

``write_report(journey_state, environment_outputs, path)`` is the one way in, for `dms-tui report --html FILE`
and for the wizard's last screen alike. It reads the journey checkpoint's records, the environment's outputs (the
real resource ids) and the steps' evidence (dms_tui.report.evidence: each check's time, the task's table
statistics, the diff per table, the cutover's timings); it asks no API and holds no secret. Textual-free.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dms_tui.journey import WizardState
    from dms_tui.provision.outputs import EnvironmentOutputs

__all__ = ["default_report_path", "render", "write_report"]


def render(
    journey_state: WizardState,
    environment_outputs: EnvironmentOutputs | None = None,
    *,
    evidence: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> str:
    """The page's HTML. ``environment_outputs`` defaults to the checkpoint's, ``evidence`` to what the steps
    recorded for this environment."""
    from dms_tui.provision.outputs import EnvironmentOutputs
    from dms_tui.report.evidence import load_evidence
    from dms_tui.report.html import render_report

    outputs = environment_outputs
    if outputs is None and journey_state.outputs:
        outputs = EnvironmentOutputs.from_json(journey_state.outputs)
    if evidence is None:
        evidence = load_evidence(journey_state.env, journey_state.mode)
    return render_report(journey_state, outputs, evidence, generated_at=now or dt.datetime.now(dt.UTC))


def write_report(
    journey_state: WizardState,
    environment_outputs: EnvironmentOutputs | None,
    path: Path | str,
    *,
    evidence: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Write the report to ``path`` atomically (a reader never sees half a page) and return where it is.

    Raises OSError when the folder does not exist or cannot be written (nothing is left behind)."""
    target = Path(path).expanduser()
    text = render(journey_state, environment_outputs, evidence=evidence, now=now)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".report-", suffix=".html")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target.resolve()


def default_report_path(env: str, mode: str, *, now: dt.datetime | None = None) -> Path:
    """Where the wizard offers to write it: the state folder, one file per environment and time."""
    from dms_tui import paths

    folder = paths.state_dir() / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return folder / f"report-{mode}-{env}-{stamp}.html"
