"""The benchmark script runs end to end at a tiny size and finds exactly the differences it planted."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "diff_bench.py"


def test_the_benchmark_finds_the_ten_planted_differences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("diff_bench", BENCH)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    sys.modules["diff_bench"] = bench
    spec.loader.exec_module(bench)
    reladiff = importlib.util.find_spec("reladiff") is not None and importlib.util.find_spec("psycopg2") is not None
    argv = ["--identical-rows", "300", "--different-rows", "600", "--repeat", "1", "--workdir", str(tmp_path), "--json"]
    assert bench.main(argv + ([] if reladiff else ["--no-reladiff"])) == 0
    out = capsys.readouterr().out
    identical, different = json.loads(out[out.index('{\n  "results"') :])["results"]
    assert identical["identical"] is True and identical["differences_found"] == 0
    assert different["identical"] is False and different["differences_found"] == 10
    if reladiff:
        assert different["reladiff_differences"] > 0
