"""The wizard's journey: its steps, what is done, and a checkpoint that survives a dropped terminal.

The checkpoint is a small JSON file per environment under the state directory, written atomically after every step
and on SIGHUP/SIGTERM. It holds only non-secret facts (step names, ARNs, identifiers, counts).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
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
    CLEANUP = "cleanup"

    @property
    def title(self) -> str:  # type: ignore[override]  # the step's label, not str.title()
        return self.value.capitalize()


STEPS: tuple[Step, ...] = tuple(Step)


@dataclass(frozen=True)
class WizardState:
    """Where a person is in the journey for one environment."""

    env: str
    mode: str  # "aws" | "sandbox"
    current: Step = Step.CONFIGURE
    done: tuple[Step, ...] = ()
    outputs: dict[str, Any] | None = None  # EnvironmentOutputs.to_json(); ARNs and names only
    task_arn: str | None = None
    last_diff: dict[str, Any] | None = None  # {"identical": bool, "tables": int, "differences": int}
    extra: dict[str, Any] = field(default_factory=dict)

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
        return replace(self, done=done, current=following)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["current"] = self.current.value
        data["done"] = [s.value for s in self.done]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WizardState:
        return cls(
            env=str(data["env"]),
            mode=str(data.get("mode", "aws")),
            current=Step(data.get("current", Step.CONFIGURE.value)),
            done=tuple(Step(s) for s in data.get("done", [])),
            outputs=data.get("outputs"),
            task_arn=data.get("task_arn"),
            last_diff=data.get("last_diff"),
            extra=dict(data.get("extra", {})),
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
        if self.config_path.is_file():
            with contextlib.suppress(ValueError):  # ConfigError: an invalid file is shown, not silently replaced
                self.config = WizardConfig.load(self.config_path)

    @classmethod
    def resume_or_start(cls, env: str, mode: str) -> Journey:
        return cls(env, mode, load_checkpoint(env, mode))

    @property
    def resumed(self) -> bool:
        return bool(self.state.done)

    def save_config(self, config: Any) -> Path:
        """Validate and write the tfvars atomically (raises ConfigError, writing nothing, when invalid)."""
        config.save(self.config_path)
        self.config = config
        return self.config_path

    def complete(self, step: Step, **updates: Any) -> WizardState:
        self.state = replace(self.state.complete(step), **updates)
        save_checkpoint(self.state)
        return self.state

    def update(self, **updates: Any) -> WizardState:
        self.state = replace(self.state, **updates)
        save_checkpoint(self.state)
        return self.state

    def checkpoint(self) -> Path:
        return save_checkpoint(self.state)
