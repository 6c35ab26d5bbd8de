"""Benchmark: a 20,000-line terraform `-json` apply stream through the parser and the progress reducer.

    .venv/bin/python bench/terraform_stream.py [--lines 20000] [--resources 150] [--write PATH]

Prints events per second (parse only, and parse + reduce) and peak Python memory while replaying. The stream is
shaped like the recordings in tests/provision/streams/ (same JSON fields) but sized like the real bundle on AWS: many
resources in several modules and long "Still creating..." runs while Aurora and DMS come up.

Reusable pieces (the provision screen's headless benchmark builds on them):
    generate_stream(lines, resources) -> list[str]      the JSON lines, deterministic
    write_stream(path, lines, resources) -> Path        the same, as a file the fake terraform can replay
    replay(lines, on_event=None) -> StreamFigures       parse + reduce, timed
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dms_tui.provision.events import TerraformEvent, parse_line  # noqa: E402
from dms_tui.provision.progress import ProvisionProgress, reduce_event  # noqa: E402

MODULES = ("network", "privatelink", "aurora", "dms", "bastion", "secrets", "iam", "endpoints")
TYPES = (
    "aws_vpc",
    "aws_subnet",
    "aws_lb",
    "aws_lb_target_group",
    "aws_vpc_endpoint_service",
    "aws_vpc_endpoint",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_secretsmanager_secret",
    "aws_dms_replication_instance",
    "aws_dms_endpoint",
    "aws_security_group",
)
_START = datetime(2026, 1, 1, tzinfo=UTC)


def _resource(i: int) -> dict[str, object]:
    module = f"module.{MODULES[i % len(MODULES)]}"
    rtype = TYPES[i % len(TYPES)]
    name = f"r{i}"
    return {
        "addr": f"{module}.{rtype}.{name}",
        "module": module,
        "resource": f"{rtype}.{name}",
        "implied_provider": "aws",
        "resource_type": rtype,
        "resource_name": name,
        "resource_key": None,
    }


def _line(seconds: float, message: str, kind: str, **body: object) -> str:
    stamp = (_START + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    obj = {"@level": "info", "@message": message, "@module": "terraform.ui", "@timestamp": stamp, **body, "type": kind}
    return json.dumps(obj, separators=(",", ":"))


def generate_stream(lines: int = 20_000, resources: int = 150) -> list[str]:
    """A deterministic apply stream of exactly ``lines`` lines: plan part, interleaved progress, completion."""
    res = [_resource(i) for i in range(resources)]
    out = [_line(0, "Terraform 1.11.4", "version", terraform="1.11.4", ui="1.2")]
    for r in res:
        out.append(
            _line(1, f"{r['addr']}: Plan to create", "planned_change", change={"resource": r, "action": "create"})
        )
    summary = {"add": resources, "change": 0, "import": 0, "remove": 0, "operation": "plan"}
    out.append(_line(1, f"Plan: {resources} to add, 0 to change, 0 to destroy.", "change_summary", changes=summary))
    for r in res:
        out.append(_line(2, f"{r['addr']}: Creating...", "apply_start", hook={"resource": r, "action": "create"}))
    tail = resources + 1  # one complete per resource + the final summary
    progress_lines = max(0, lines - len(out) - tail)
    # Everything is "still creating" for a while; progress lines rotate over the resources, 10 s apart per resource.
    for n in range(progress_lines):
        r = res[n % resources]
        elapsed = 10 * (n // resources + 1)
        hook = {"resource": r, "action": "create", "elapsed_seconds": elapsed}
        out.append(
            _line(2 + elapsed, f"{r['addr']}: Still creating... [{elapsed}s elapsed]", "apply_progress", hook=hook)
        )
    end = 2 + 10 * (progress_lines // resources + 1)
    for r in res:
        hook = {"resource": r, "action": "create", "id_key": "id", "id_value": "x-1", "elapsed_seconds": end - 2}
        out.append(_line(end, f"{r['addr']}: Creation complete", "apply_complete", hook=hook))
    summary = {"add": resources, "change": 0, "import": 0, "remove": 0, "operation": "apply"}
    out.append(_line(end, f"Apply complete! Resources: {resources} added.", "change_summary", changes=summary))
    return out[:lines]


def write_stream(path: Path, lines: int = 20_000, resources: int = 150) -> Path:
    """Write ``generate_stream`` to ``path`` (e.g. as apply.jsonl for tests/provision/fake_terraform.py)."""
    path.write_text("\n".join(generate_stream(lines, resources)) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class StreamFigures:
    lines: int
    parse_seconds: float
    total_seconds: float
    progress: ProvisionProgress

    @property
    def parse_events_per_second(self) -> float:
        return self.lines / self.parse_seconds if self.parse_seconds else float("inf")

    @property
    def events_per_second(self) -> float:
        return self.lines / self.total_seconds if self.total_seconds else float("inf")


def replay(
    lines: Sequence[str], on_event: Callable[[TerraformEvent, ProvisionProgress], None] | None = None
) -> StreamFigures:
    """Parse every line, then parse + reduce (calling ``on_event`` with each event and the new progress)."""
    started = time.perf_counter()
    for line in lines:
        parse_line(line)
    parse_seconds = time.perf_counter() - started

    started = time.perf_counter()
    progress = ProvisionProgress()
    for line in lines:
        event = parse_line(line)
        progress = reduce_event(progress, event)
        if on_event is not None:
            on_event(event, progress)
    total_seconds = time.perf_counter() - started
    return StreamFigures(len(lines), parse_seconds, total_seconds, progress)


def peak_memory(lines: Sequence[str], *, keep_events: bool = False) -> int:
    """Peak bytes Python allocated while replaying ``lines`` through parser and reducer (tracemalloc).

    ``keep_events``: also hold every event, as a view that keeps the whole run for its raw log would.
    """
    kept: list[TerraformEvent] = []
    tracemalloc.start()
    try:
        progress = ProvisionProgress()
        for line in lines:
            event = parse_line(line)
            progress = reduce_event(progress, event)
            if keep_events:
                kept.append(event)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--resources", type=int, default=150)
    parser.add_argument("--write", type=Path, help="also write the generated stream to this file")
    args = parser.parse_args(argv)
    lines = generate_stream(args.lines, args.resources)
    if args.write:
        write_stream(args.write, args.lines, args.resources)
    size = sum(len(line) + 1 for line in lines)
    figures = replay(lines)
    peak = peak_memory(lines)
    peak_kept = peak_memory(lines, keep_events=True)
    p = figures.progress
    print(f"stream: {figures.lines} lines, {size / 1e6:.1f} MB, {args.resources} resources")
    print(f"parse only:       {figures.parse_events_per_second:10,.0f} events/s ({figures.parse_seconds:.3f} s)")
    print(f"parse + reduce:   {figures.events_per_second:10,.0f} events/s ({figures.total_seconds:.3f} s)")
    print(f"peak memory:      {peak / 1e6:10.1f} MB (tracemalloc, parser + reducer; the stream itself not counted)")
    print(f"  keeping events: {peak_kept / 1e6:10.1f} MB (every parsed event held, as a full raw-log view would)")
    print(f"final progress:   {p.done}/{p.planned} done, {p.failed} failed")
    return 0 if p.done == p.planned == args.resources else 1


if __name__ == "__main__":
    raise SystemExit(main())
