"""Smoke test of bench/terraform_stream.py at a small size (the 20,000-line run is the benchmark itself)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from dms_tui.provision.events import ApplyProgress, parse_line

BENCH = Path(__file__).resolve().parents[2] / "bench" / "terraform_stream.py"


def _bench_module():
    spec = importlib.util.spec_from_file_location("terraform_stream_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def test_the_generated_stream_has_the_asked_size_and_replays_to_every_resource_created(tmp_path, capsys):
    bench = _bench_module()
    lines = bench.generate_stream(lines=400, resources=12)
    assert len(lines) == 400 and all(json.loads(line)["type"] for line in lines)
    assert sum(isinstance(parse_line(line), ApplyProgress) for line in lines) == 400 - 1 - 12 - 1 - 12 - 12 - 1
    figures = bench.replay(lines)
    assert figures.progress.planned == figures.progress.done == 12 and figures.events_per_second > 0
    assert bench.write_stream(tmp_path / "apply.jsonl", 400, 12).read_text().count("\n") == 400
    assert bench.main(["--lines", "300", "--resources", "5"]) == 0
    assert "events/s" in capsys.readouterr().out
