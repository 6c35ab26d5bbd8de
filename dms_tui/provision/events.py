"""Typed events parsed from terraform's machine-readable UI stream (`terraform plan|apply|destroy|init -json`).

Each line terraform prints with ``-json`` is one JSON object with ``type``, ``@level``, ``@message`` and
``@timestamp`` (see "Machine-readable UI" in terraform's docs). ``parse_line`` turns one line into one frozen
dataclass; it never raises: an unknown ``type`` becomes :class:`UnknownEvent` (keeping ``@message`` so the log
still reads well) and a line that is not a JSON object becomes :class:`LogLine`.

This parser is the one source of truth for what terraform said; the progress reducer, the headless command and the
provision screen all read these events. Output *values* marked sensitive are dropped here so they can never reach a
screen or a log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class TerraformEvent:
    """Fields every event carries: terraform's human message and when it was emitted (epoch seconds)."""

    message: str = ""
    at: float | None = None


@dataclass(frozen=True, slots=True)
class ResourceEvent(TerraformEvent):
    """An event about one resource instance (``module.network.aws_subnet.private[0]``)."""

    address: str
    action: str = ""
    resource_type: str = ""
    module: str = ""  # "" for the root module, else "module.network" (nested: "module.a.module.b")
    data_source: bool = False  # a `data` block being read: not counted as a resource to create/destroy


@dataclass(frozen=True, slots=True)
class Version(TerraformEvent):
    terraform: str
    ui: str = ""


@dataclass(frozen=True, slots=True)
class Snippet:
    """The configuration line a diagnostic points at, with the offending part's offsets within ``code``."""

    code: str
    start_line: int
    highlight_start: int
    highlight_end: int
    context: str = ""


@dataclass(frozen=True, slots=True)
class Diagnostic(TerraformEvent):
    """An error or warning: summary, detail, and where in the configuration it comes from when terraform knows."""

    severity: str
    summary: str
    detail: str = ""
    address: str = ""
    filename: str = ""
    line: int | None = None
    snippet: Snippet | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def location(self) -> str:
        """``modules/network/main.tf:19`` or "" when the diagnostic is not tied to a file."""
        if not self.filename:
            return ""
        return f"{self.filename}:{self.line}" if self.line is not None else self.filename


@dataclass(frozen=True, slots=True)
class PlannedChange(ResourceEvent):
    """One resource instance the plan will touch; ``action`` is create, update, delete, replace, read, noop, ..."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class ResourceDrift(ResourceEvent):
    """A resource changed outside terraform (detected while refreshing)."""


@dataclass(frozen=True, slots=True)
class ChangeSummary(TerraformEvent):
    """`Plan: 6 to add, 0 to change, 0 to destroy.` (operation "plan") or the same after apply/destroy."""

    add: int
    change: int
    remove: int
    operation: str
    import_: int = 0


@dataclass(frozen=True, slots=True)
class ApplyStart(ResourceEvent):
    id_value: str = ""


@dataclass(frozen=True, slots=True)
class ApplyProgress(ResourceEvent):
    """Terraform's "Still creating... [10s elapsed]", emitted every 10 s for a resource that is still in progress."""

    elapsed: float = 0.0


@dataclass(frozen=True, slots=True)
class ApplyComplete(ResourceEvent):
    elapsed: float = 0.0
    id_value: str = ""


@dataclass(frozen=True, slots=True)
class ApplyErrored(ResourceEvent):
    elapsed: float = 0.0


@dataclass(frozen=True, slots=True)
class RefreshStart(ResourceEvent):
    id_value: str = ""


@dataclass(frozen=True, slots=True)
class RefreshComplete(ResourceEvent):
    id_value: str = ""


@dataclass(frozen=True, slots=True)
class OutputValue:
    """One root output. ``value`` is None for sensitive outputs (dropped on purpose) and during plan."""

    name: str
    sensitive: bool
    action: str = ""
    value: Any = None


@dataclass(frozen=True, slots=True)
class Outputs(TerraformEvent):
    values: tuple[OutputValue, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {o.name: o.value for o in self.values}


@dataclass(frozen=True, slots=True)
class TerraformMessage(TerraformEvent):
    """Terraform's own informational lines (``log`` and ``init_output`` types): "Initializing modules...", ..."""

    level: str = "info"
    code: str = ""


@dataclass(frozen=True, slots=True)
class UnknownEvent(TerraformEvent):
    """A type this parser does not model (newer terraform, provisioners, ephemeral resources); ``message`` is kept."""

    type: str = ""


@dataclass(frozen=True, slots=True)
class LogLine(TerraformEvent):
    """A line that is not a JSON object (a crash trace, a plugin's stray print); kept verbatim as log text."""

    text: str = ""


# --- events the runner adds around a terraform process (not parsed from terraform's stream) -------------------------


@dataclass(frozen=True, slots=True)
class CommandStarted(TerraformEvent):
    """A terraform command is starting: what a person would type to run it by hand, and where its log goes."""

    argv: tuple[str, ...] = ()
    cwd: str = ""
    log_path: str = ""

    @property
    def command_line(self) -> str:
        """The command as a person runs it from any directory: ``terraform -chdir=<cwd> ...``. Without ``-json``:
        the tool reads terraform's machine stream, a person reads its human one (the same run otherwise)."""
        if not self.argv:
            return ""
        program, *args = self.argv
        shown = ["terraform" if Path(program).name == "terraform" else program]
        if self.cwd:
            shown.append(f"-chdir={self.cwd}")
        shown += [a for a in args if a != "-json"]
        return " ".join(_shell_quote(a) for a in shown)


@dataclass(frozen=True, slots=True)
class CommandFinished(TerraformEvent):
    """The terraform process exited (``interrupted`` when we asked it to stop)."""

    argv: tuple[str, ...] = ()
    returncode: int = 0
    interrupted: bool = False
    log_path: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.interrupted


def _shell_quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "-_=./:,@%+" for c in arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def _timestamp(raw: object) -> float | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw).timestamp()
    except ValueError:
        return None


def _str(value: object) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _resource_fields(resource: object) -> dict[str, Any]:
    r = _obj(resource)
    return {
        "address": _str(r.get("addr")),
        "resource_type": _str(r.get("resource_type")),
        "module": _str(r.get("module")),
        "data_source": _str(r.get("resource")).startswith("data."),
    }


def _diagnostic(body: object, common: dict[str, Any]) -> Diagnostic:
    d = _obj(body)
    rng = _obj(d.get("range"))
    line = _obj(rng.get("start")).get("line")
    snippet = None
    raw_snippet = _obj(d.get("snippet"))
    if isinstance(raw_snippet.get("code"), str):
        snippet = Snippet(
            code=raw_snippet["code"],
            start_line=int(_num(raw_snippet.get("start_line"))),
            highlight_start=int(_num(raw_snippet.get("highlight_start_offset"))),
            highlight_end=int(_num(raw_snippet.get("highlight_end_offset"))),
            context=_str(raw_snippet.get("context")),
        )
    return Diagnostic(
        severity=_str(d.get("severity")) or "error",
        summary=_str(d.get("summary")) or common["message"],
        detail=_str(d.get("detail")),
        address=_str(d.get("address")),
        filename=_str(rng.get("filename")),
        line=line if isinstance(line, int) else None,
        snippet=snippet,
        **common,
    )


def _outputs(body: object, common: dict[str, Any]) -> Outputs:
    values = []
    for name, raw_entry in sorted(_obj(body).items()):
        entry = _obj(raw_entry)
        sensitive = bool(entry.get("sensitive"))
        values.append(
            OutputValue(
                name=str(name),
                sensitive=sensitive,
                action=_str(entry.get("action")),
                value=None if sensitive else entry.get("value"),
            )
        )
    return Outputs(values=tuple(values), **common)


def _hook_event(kind: str, obj: dict[str, Any], common: dict[str, Any]) -> TerraformEvent | None:
    hook = _obj(obj.get("hook"))
    base: dict[str, Any] = {**_resource_fields(hook.get("resource")), "action": _str(hook.get("action")), **common}
    elapsed = _num(hook.get("elapsed_seconds"))
    id_value = _str(hook.get("id_value"))
    if kind == "apply_start":
        return ApplyStart(id_value=id_value, **base)
    if kind == "apply_progress":
        return ApplyProgress(elapsed=elapsed, **base)
    if kind == "apply_complete":
        return ApplyComplete(elapsed=elapsed, id_value=id_value, **base)
    if kind == "apply_errored":
        return ApplyErrored(elapsed=elapsed, **base)
    if kind == "refresh_start":
        return RefreshStart(id_value=id_value, **base)
    if kind == "refresh_complete":
        return RefreshComplete(id_value=id_value, **base)
    return None


def parse_object(obj: dict[str, Any]) -> TerraformEvent:
    """Build the event for one already-decoded stream object."""
    kind = _str(obj.get("type"))
    common: dict[str, Any] = {"message": _str(obj.get("@message")), "at": _timestamp(obj.get("@timestamp"))}
    if kind == "version":
        return Version(terraform=_str(obj.get("terraform")), ui=_str(obj.get("ui")), **common)
    if kind == "diagnostic":
        return _diagnostic(obj.get("diagnostic"), common)
    if kind in ("planned_change", "resource_drift"):
        change = _obj(obj.get("change"))
        fields: dict[str, Any] = {**_resource_fields(change.get("resource")), "action": _str(change.get("action"))}
        if kind == "resource_drift":
            return ResourceDrift(**fields, **common)
        return PlannedChange(reason=_str(change.get("reason")), **fields, **common)
    if kind == "change_summary":
        changes = _obj(obj.get("changes"))
        return ChangeSummary(
            add=int(_num(changes.get("add"))),
            change=int(_num(changes.get("change"))),
            remove=int(_num(changes.get("remove"))),
            import_=int(_num(changes.get("import"))),
            operation=_str(changes.get("operation")),
            **common,
        )
    hook_event = _hook_event(kind, obj, common)
    if hook_event is not None:
        return hook_event
    if kind == "outputs":
        return _outputs(obj.get("outputs"), common)
    if kind in ("log", "init_output"):
        return TerraformMessage(level=_str(obj.get("@level")) or "info", code=_str(obj.get("message_code")), **common)
    return UnknownEvent(type=kind, **common)


def parse_line(line: str | bytes) -> TerraformEvent:
    """One line of terraform's ``-json`` output as an event; never raises."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    text = line.rstrip("\r\n")
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return LogLine(text=text, message=text)
    try:
        obj = json.loads(stripped)
    except ValueError:
        return LogLine(text=text, message=text)
    if not isinstance(obj, dict):
        return LogLine(text=text, message=text)
    try:
        return parse_object(obj)
    except (TypeError, ValueError, AttributeError):  # a well-formed object of an unexpected shape
        return UnknownEvent(type=_str(obj.get("type")), message=_str(obj.get("@message")) or text)


def parse_lines(lines: Iterable[str | bytes]) -> Iterator[TerraformEvent]:
    """Parse a whole stream (blank lines are skipped)."""
    for line in lines:
        if line.strip():
            yield parse_line(line)
