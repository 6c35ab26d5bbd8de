"""The details a hand-over report shows that the journey checkpoint only sums up, kept per environment.

The checkpoint (dms_tui.journey) keeps one headline per step: verify passed with these counts, the task ended with
N rows, the diff was identical. The report shows more: every verify check with its time, the task's table
statistics and the API calls made, the diff per table. The steps hand those here when they finish
(``record_verify``, ``record_task``, ``record_diff``; ``record_cutover`` for the CDC step), and the report reads them
back (``load_evidence``). One small JSON file per environment beside the checkpoint, written atomically.

No secret is stored: check details and commands pass through :func:`redact` first (a password in a URL or after
``password=`` becomes ``***``), and the diff keeps counts per table, never row contents.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dms_tui import paths

if TYPE_CHECKING:
    from dms_tui.aws.task_poller import ReplicationTaskSnapshot
    from dms_tui.checks.result import VerifyReport
    from dms_tui.data.diff.result import DiffReport

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@", re.IGNORECASE)
_KEYED_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|passwd|pgpassword|secret_string|secretstring)\b[\"']?\s*[=:]\s*[\"']?)[^\s\"',;&]+",
    re.IGNORECASE,
)


class JourneyLike(Protocol):
    """What a recorder needs of the journey: which environment's evidence this is."""

    @property
    def env(self) -> str: ...

    @property
    def mode(self) -> str: ...


def redact(text: str) -> str:
    """``text`` with any password it carries (``scheme://user:PASSWORD@``, ``password=...``) replaced by ``***``."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", text)
    return _KEYED_PASSWORD.sub(lambda m: f"{m['head']}{MASK}", text)


def evidence_path(env: str, mode: str) -> Path:
    return paths.state_dir() / f"evidence-{mode}-{env}.json"


def load_evidence(env: str, mode: str) -> dict[str, Any]:
    """What the steps recorded for this environment ({} when nothing, or the file is unreadable)."""
    try:
        data = json.loads(evidence_path(env, mode).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def forget_evidence(env: str, mode: str) -> None:
    """After cleanup, once the report has been written: the next journey starts with no evidence."""
    with contextlib.suppress(FileNotFoundError):
        evidence_path(env, mode).unlink()


def record_verify(journey: JourneyLike, report: VerifyReport, command: str) -> None:
    """Every check of the last verify run: status, time taken, what it saw; and the command that runs it again."""
    checks = []
    for result in report.to_json()["checks"]:
        checks.append({**result, "detail": redact(str(result.get("detail", ""))), "command": redact(result["command"])})
    _update(
        journey,
        "verify",
        {
            "passed": report.passed,
            "seconds": round(report.seconds, 3),
            "counts": report.counts(),
            "checks": checks,
            "command": redact(command),
        },
    )


def record_task(journey: JourneyLike, snapshot: ReplicationTaskSnapshot, commands: Iterable[str] = ()) -> None:
    """The task's last snapshot (status, statistics, per-table statistics) and the `aws dms` calls made so far."""
    _update(
        journey,
        "task",
        {
            "snapshot": _plain(snapshot),
            "commands": _unique(redact(c) for c in commands),
        },
    )


def record_diff(journey: JourneyLike, report: DiffReport, command: str) -> None:
    """The diff per table, as counts: which tables, how many rows each side, how many differences of each kind."""
    tables = [
        {
            "source_table": t.source_table,
            "target_table": t.target_table,
            "key": list(t.key) if t.key is not None else None,
            "source_rows": t.source_rows,
            "target_rows": t.target_rows,
            "identical": t.identical,
            "missing_in_target": len(t.missing_in_target),
            "extra_in_target": len(t.extra_in_target),
            "changed": len(t.changed),
            "schema_drift": [redact(d) for d in t.schema_drift],
            "truncated": t.truncated,
            "elapsed_seconds": round(t.elapsed_seconds, 3),
            "rechecked": t.rechecked,
        }
        for t in report.tables
    ]
    _update(
        journey,
        "diff",
        {
            "identical": report.identical,
            "elapsed_seconds": round(report.elapsed_seconds, 3),
            "tables": tables,
            "command": redact(command),
        },
    )


def record_cutover(journey: JourneyLike, timings: Mapping[str, float], commands: Iterable[str] = ()) -> None:
    """The cutover's timings in seconds, in the order they happened (e.g. writes stopped → CDC drained → switched)."""
    _update(
        journey,
        "cutover",
        {"timings": {str(k): float(v) for k, v in timings.items()}, "commands": _unique(redact(c) for c in commands)},
    )


# -- storage --------------------------------------------------------------------------------------------------------


def _update(journey: JourneyLike, section: str, value: dict[str, Any]) -> None:
    data = load_evidence(journey.env, journey.mode)
    data[section] = {**value, "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    target = evidence_path(journey.env, journey.mode)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".evidence-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _plain(value: Any) -> Any:
    """A dataclass (with datetimes inside) as plain JSON values; free text passes through :func:`redact`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value
