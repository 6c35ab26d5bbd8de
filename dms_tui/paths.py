"""State, log and working directories (XDG via platformdirs). Tests point DMS_TUI_HOME at a temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "dms-tui"


def _home_override() -> Path | None:
    value = os.environ.get("DMS_TUI_HOME")
    return Path(value) if value else None


def state_dir() -> Path:
    """Checkpoints, run records and per-environment working copies of the Terraform bundle."""
    home = _home_override()
    path = home / "state" if home else Path(platformdirs.user_state_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    """Raw terraform output and the app log; never holds a secret."""
    home = _home_override()
    path = home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def environment_dir(env: str) -> Path:
    """Working copy of the bundle for one environment (terraform runs here)."""
    path = state_dir() / "environments" / env
    path.mkdir(parents=True, exist_ok=True)
    return path


def sandbox_dir() -> Path:
    """The embedded sandbox's working directory (moto state, PostgreSQL clusters, pid files)."""
    path = state_dir() / "sandbox"
    path.mkdir(parents=True, exist_ok=True)
    return path
