"""The wizard's journey: its steps, what is done, and a checkpoint that survives a dropped terminal.

The checkpoint is a small JSON file per environment under the state directory, written atomically after every step
and on SIGHUP/SIGTERM. It holds only non-secret facts (step names, ARNs, identifiers, counts).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from dms_tui import paths


class Step(StrEnum):
    CONFIGURE = "configure"
    PROVISION = "provision"
    VERIFY = "verify"
    PREPARE = "prepare"
    MIGRATE = "migrate"
    DIFF = "diff"
    CUTOVER = "cutover"
    CLEANUP = "cleanup"

    @property
    def title(self) -> str:  # type: ignore[override]  # the step's label, not str.title()
        return self.value.capitalize()


STEPS: tuple[Step, ...] = tuple(Step)


@dataclass(frozen=True)
class VerifyRecord:
    """The last verify run: whether every check passed, the counts by status, how long it took."""

    passed: bool
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class PrepareRecord:
    """What the Prepare step left on the source."""

    source_rows: int
    primary_key: bool
    target_database: str = ""


@dataclass(frozen=True)
class TaskRecord:
    """The DMS task of this journey: its identifier and mappings as the person wrote them, its ARN once created,
    and the headline of its last run."""

    identifier: str
    table_mappings: str | None = None  # the JSON text, exactly as written (round-trips byte for byte)
    arn: str | None = None
    status: str | None = None
    tables: int = 0
    rows: int = 0


@dataclass(frozen=True)
class DiffRecord:
    """The last diff: identical or not, how many tables, how many differences."""

    identical: bool
    tables: int = 0
    differences: int = 0


@dataclass(frozen=True)
class CutoverRecord:
    """The last cutover: whether every item passed, how long writes were frozen, what the application uses now."""

    ok: bool
    freeze_seconds: float = 0.0
    diff_identical: bool = False
    sequences_set: int = 0
    task_status: str = ""
    target_endpoint: str = ""  # host:port/dbname, no credentials
    finished_at: str = ""  # ISO 8601, UTC


@dataclass(frozen=True)
class Setback:
    """Why the journey is not where it was: a step that failed, or results found gone on resume. Shown on Welcome
    (and on the screen it leads back to) until the step it names succeeds.

    ``step`` is where it happened; ``headline`` what failed; ``cause`` why; ``next_step`` what to do."""

    step: Step
    headline: str
    cause: str = ""
    next_step: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step.value, "headline": self.headline, "cause": self.cause, "next_step": self.next_step}

    @classmethod
    def from_json(cls, data: Any) -> Setback | None:
        if not isinstance(data, dict) or not data.get("headline"):
            return None
        try:
            step = Step(data.get("step", Step.CONFIGURE.value))
        except ValueError:
            return None
        return cls(step, str(data["headline"]), str(data.get("cause") or ""), str(data.get("next_step") or ""))


def _record(cls: type[Any], data: Any) -> Any:
    """A record from its checkpoint JSON; None when absent or unreadable (a checkpoint never blocks a start)."""
    if not isinstance(data, dict):
        return None
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError:
        return None


@dataclass(frozen=True)
class WizardState:
    """Where a person is in the journey for one environment: one typed record per finished step."""

    env: str
    mode: str  # "aws" | "sandbox": which checkpoint file this is, never a branch in step logic
    current: Step = Step.CONFIGURE
    done: tuple[Step, ...] = ()
    outputs: dict[str, Any] | None = None  # EnvironmentOutputs.to_json(); ARNs and names only
    verify: VerifyRecord | None = None
    prepare: PrepareRecord | None = None
    task: TaskRecord | None = None
    diff: DiffRecord | None = None
    cutover: CutoverRecord | None = None
    setback: Setback | None = None  # the last failure or fall-back, until that step succeeds

    @property
    def task_arn(self) -> str | None:
        return self.task.arn if self.task else None

    def is_done(self, step: Step) -> bool:
        return step in self.done

    def blocked(self, step: Step) -> bool:
        """A step is blocked until every step before it is done (cleanup is always reachable)."""
        if step in (Step.CONFIGURE, Step.CLEANUP):
            return False
        index = STEPS.index(step)
        return not all(prior in self.done for prior in STEPS[:index])

    def complete(self, step: Step) -> WizardState:
        done = tuple(s for s in STEPS if s in self.done or s == step)
        index = STEPS.index(step)
        following = STEPS[index + 1] if index + 1 < len(STEPS) else step
        setback = self.setback if self.setback is None or self.setback.step is not step else None
        return replace(self, done=done, current=following, setback=setback)

    def fall_back(self, step: Step, setback: Setback | None = None) -> WizardState:
        """Back to ``step``: it and every later step are no longer done (their records are dropped: outputs before
        Provision, verify before Verify, and so on; the task keeps its identifier and mappings, only its ARN and last
        run go). ``setback`` says why."""
        index = STEPS.index(step)
        kept = STEPS[:index]
        changes: dict[str, Any] = {"done": tuple(s for s in self.done if s in kept), "current": step}
        if Step.PROVISION not in kept:
            changes["outputs"] = None
        if Step.VERIFY not in kept:
            changes["verify"] = None
        if Step.PREPARE not in kept:
            changes["prepare"] = None
        if Step.MIGRATE not in kept and self.task is not None:
            changes["task"] = replace(self.task, arn=None, status=None, tables=0, rows=0)
        if Step.DIFF not in kept:
            changes["diff"] = None
        if Step.CUTOVER not in kept:
            changes["cutover"] = None
        changes["setback"] = setback if setback is not None else self.setback
        return replace(self, **changes)

    @property
    def finished(self) -> bool:
        """Every step up to Diff is done (the migration is proven): what is left is to cut over, walk it again or
        clean up."""
        return all(step in self.done for step in STEPS[: STEPS.index(Step.DIFF) + 1])

    def with_task(self, **changes: Any) -> WizardState:
        """The task record with ``changes`` (created on first use with the given identifier)."""
        task = self.task or TaskRecord(identifier=str(changes.get("identifier") or ""))
        return replace(self, task=replace(task, **changes))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["current"] = self.current.value
        data["done"] = [s.value for s in self.done]
        data["setback"] = self.setback.to_json() if self.setback is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WizardState:
        raw_extra = data.get("extra")  # checkpoints written before the typed records
        extra: dict[str, Any] = raw_extra if isinstance(raw_extra, dict) else {}
        task = _record(TaskRecord, data.get("task"))
        if task is None and (data.get("task_arn") or extra.get("task_identifier")):
            task = TaskRecord(
                identifier=str(extra.get("task_identifier") or ""),
                table_mappings=extra.get("table_mappings"),
                arn=data.get("task_arn"),
            )
        return cls(
            env=str(data["env"]),
            mode=str(data.get("mode", "aws")),
            current=Step(data.get("current", Step.CONFIGURE.value)),
            done=tuple(Step(s) for s in data.get("done", [])),
            outputs=data.get("outputs"),
            verify=_record(VerifyRecord, data.get("verify", extra.get("verify"))),
            prepare=_record(PrepareRecord, data.get("prepare", extra.get("prepare"))),
            task=task,
            diff=_record(DiffRecord, data.get("diff", data.get("last_diff"))),
            cutover=_record(CutoverRecord, data.get("cutover")),
            setback=Setback.from_json(data.get("setback")),
        )


def checkpoint_path(env: str, mode: str) -> Path:
    return paths.state_dir() / f"wizard-{mode}-{env}.json"


def save_checkpoint(state: WizardState) -> Path:
    """Write the checkpoint atomically (a reader never sees half a file)."""
    target = checkpoint_path(state.env, state.mode)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".wizard-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(state.to_json(), handle, indent=2, sort_keys=True)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def load_checkpoint(env: str, mode: str) -> WizardState | None:
    """The last checkpoint for this environment, or None when there is none (or it is unreadable)."""
    path = checkpoint_path(env, mode)
    try:
        return WizardState.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class Journey:
    """One person's run through the wizard for one environment: configuration, state, and where things live.

    Textual-free, so the headless commands and the tests use the same object the screens do.
    """

    def __init__(self, env: str, mode: str, state: WizardState | None = None) -> None:
        from dms_tui.config import WizardConfig, tfvars_path

        self.env = env
        self.mode = mode
        self.state = state or WizardState(env=env, mode=mode)
        self.workdir = paths.environment_dir(env) / "terraform"
        self.config_path = tfvars_path(self.workdir, env)
        self.config = WizardConfig.default(env)
        # An invalid file is kept and reported (Configure shows it), never silently replaced by the defaults:
        # the first save moves it aside first.
        self.config_error: ValueError | None = None
        self.kept_invalid_config: Path | None = None
        if self.config_path.is_file():
            try:
                self.config = WizardConfig.load(self.config_path)
            except ValueError as exc:  # ConfigError
                self.config_error = exc

    @classmethod
    def resume_or_start(cls, env: str, mode: str) -> Journey:
        return cls(env, mode, load_checkpoint(env, mode))

    @property
    def resumed(self) -> bool:
        return bool(self.state.done)

    def save_config(self, config: Any) -> Path:
        """Validate and write the tfvars atomically (raises ConfigError, writing nothing, when invalid).

        A file that was invalid when the journey started is kept beside the new one as ``*.invalid-<time>``."""
        from dms_tui.config import ConfigError, validate

        problems = validate(config)
        if problems:
            raise ConfigError(problems)
        if self.config_error is not None and self.config_path.is_file():
            import time

            aside = self.config_path.with_name(f"{self.config_path.name}.invalid-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(self.config_path, aside)
            self.kept_invalid_config = aside
        config.save(self.config_path)
        self.config = config
        self.config_error = None
        return self.config_path

    def complete(self, step: Step, **updates: Any) -> WizardState:
        self.state = replace(self.state.complete(step), **updates)
        save_checkpoint(self.state)
        return self.state

    def update(self, **updates: Any) -> WizardState:
        self.state = replace(self.state, **updates)
        save_checkpoint(self.state)
        return self.state

    def update_task(self, **changes: Any) -> WizardState:
        """Change the task record (created with ``identifier`` on first use) and checkpoint at once."""
        self.state = self.state.with_task(**changes)
        save_checkpoint(self.state)
        return self.state

    def fall_back(self, step: Step, setback: Setback | None = None) -> WizardState:
        """Back to ``step`` (see WizardState.fall_back), checkpointed at once."""
        self.state = self.state.fall_back(step, setback)
        save_checkpoint(self.state)
        return self.state

    def note_setback(self, setback: Setback | None) -> WizardState:
        """Record (or clear, with None) why the journey is where it is, without moving it."""
        self.state = replace(self.state, setback=setback)
        save_checkpoint(self.state)
        return self.state

    def reset(self) -> WizardState:
        """After cleanup (or `dms-tui reset`): back to the start, keeping the configuration (the tfvars file)."""
        self.state = WizardState(env=self.env, mode=self.mode)
        save_checkpoint(self.state)
        return self.state

    def checkpoint(self) -> Path:
        return save_checkpoint(self.state)
