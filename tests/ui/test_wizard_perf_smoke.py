"""Smoke test of bench/wizard_perf.py at a tiny size (the 20,000-line figures are the benchmark's own run).

Story: the performance figures in issue 3 come from a script that still works: the wizard cold-starts to its
Welcome screen in a real pseudo-terminal, a replayed apply stream reaches every resource through the Provision
screen, and a key pressed while the stream flows is handled.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from dms_tui.screens.provision import ProvisionScreen

BENCH = Path(__file__).resolve().parents[2] / "bench" / "wizard_perf.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wizard_perf_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def test_the_wizard_cold_starts_to_its_welcome_screen_in_a_pty(bench: ModuleType) -> None:
    figures = bench.cold_start(1, timeout=30)
    assert len(figures.runs) == 1 and 0 < figures.best < 30
    # AWS mode without credentials: the Welcome screen says so (boto3's lookup runs after the first frame)
    assert len(figures.identity_runs) == 1 and figures.identity_runs[0] >= figures.best


def test_import_breakdown_reads_an_importtime_trace(bench: ModuleType) -> None:
    trace = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       120 |        120 |     rich.text\n"
        "import time:       500 |      50000 |   rich\n"
        "import time:        10 |         10 |   textual.app\n"
        "import time:      2000 |     300000 | textual\n"
        "import time:        30 |         40 | _io\n"
        "import time:         5 |       1000 | json\n"
    )
    assert bench.heaviest_imports(trace, top=2) == (("textual", 0.3), ("rich", 0.05))


def test_percentile_is_nearest_rank(bench: ModuleType) -> None:
    samples = [float(n) for n in range(1, 101)]
    assert bench.percentile(samples, 0.95) == 95.0
    assert bench.percentile(samples, 0.5) == 50.0
    assert bench.percentile([7.0], 0.95) == 7.0


async def test_a_small_stream_reaches_every_resource_through_the_provision_screen(bench: ModuleType) -> None:
    run = await bench.provision_run(300, 10, size=(80, 24))
    assert run.events == 300 + 2  # every line, plus the run's start and finish
    assert run.table_rows == run.created_rows == 10
    assert run.counts_text == "10/10 resources"
    assert run.events_per_second > 0 and run.maxrss_growth >= 0
    assert ProvisionScreen.on_terraform_event.__name__ == "on_terraform_event"  # the probe was taken off again


async def test_keys_pressed_while_the_stream_flows_are_each_handled(bench: ModuleType) -> None:
    run = await bench.provision_run(200, 10, delay=0.005, size=(80, 24), press="terminal", trace_memory=True)
    assert run.created_rows == 10
    assert run.key_latencies_ms and run.keys_unanswered == 0
    assert all(0 < latency < 5_000 for latency in run.key_latencies_ms)
    assert run.tracemalloc_peak is not None and run.tracemalloc_peak > 0
