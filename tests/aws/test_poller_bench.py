"""Smoke test of bench/poller_calls.py at a small size: the figures come out and are ordered as designed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "poller_calls.py"


def test_the_poller_benchmark_reports_fewer_calls_when_nothing_moves(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("poller_calls", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)  # dataclasses look their module up there
    spec.loader.exec_module(bench)
    figures = bench.main(["--tables", "600", "--minutes", "3"])
    running = figures["running"]
    assert running == pytest.approx(30 * 3)  # every 2 s: one task call + two statistics pages
    assert 0 < figures["idle (ready, never started)"] < running / 10
    assert 0 < figures["throttled (every call refused)"] < running / 10
    assert figures["after it ends"] == 0
    assert "calls/min" in capsys.readouterr().out
