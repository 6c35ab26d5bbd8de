"""Fixtures for the checks: the healthy environment of moto_environment.py on the session's PostgreSQL clusters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto_environment import REGION, MotoWorld, moto_environment  # type: ignore[import-not-found]


@pytest.fixture
def environment(pg_source: Any, pg_target: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoWorld]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with moto_environment({"source": pg_source, "target": pg_target}) as env:
        yield env
