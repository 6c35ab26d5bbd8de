"""Benchmark: how long `dms-tui sandbox up` takes cold (nothing exists) and warm (everything running), and `down`.

    .venv/bin/python bench/sandbox_up.py [--rounds N] [--json]

Each round runs in a fresh temporary DMS_TUI_HOME: cold `up` (initdb x2, daemon start, provisioning, binding),
then warm `up` (all reused), then a restart after `down --keep-data` (clusters keep their data, moto is empty and
re-provisioned), then `down`. Prints the phases of the cold start from the sandbox's own events.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dms_tui.sandbox.lifecycle import PieceStarted, ProvisionPathChosen, Sandbox  # noqa: E402
from dms_tui.sandbox.provisioner import ForwarderBound  # noqa: E402


def one_round(provision: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="dms-tui-bench-") as home:
        os.environ["DMS_TUI_HOME"] = home
        sandbox = Sandbox(Path(home) / "state" / "sandbox", provision=provision)  # type: ignore[arg-type]
        phases: dict[str, float] = {}
        started = time.perf_counter()

        def mark(event: object) -> None:
            now = time.perf_counter() - started
            if isinstance(event, PieceStarted) and event.piece == "daemon":
                phases["clusters+daemon ready"] = now
            elif isinstance(event, ProvisionPathChosen):
                phases["provisioning started"] = now
            elif isinstance(event, ForwarderBound):
                phases[f"{event.side} bound"] = now

        try:
            sandbox.up_provisioned(on_event=mark)  # up, then the boto3 path (the Provision step without terraform)
            cold = time.perf_counter() - started
            started = time.perf_counter()
            sandbox.up()
            warm = time.perf_counter() - started
            sandbox.down(keep_data=True)
            started = time.perf_counter()
            sandbox.up()
            restart = time.perf_counter() - started
        finally:
            started = time.perf_counter()
            sandbox.down(keep_data=False)
            down = time.perf_counter() - started
        return {
            "cold_up_s": cold,
            "warm_up_s": warm,
            "restart_kept_data_s": restart,
            "down_s": down,
            "cold_phases": phases,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--provision",
        choices=("api", "auto", "terraform"),
        default="api",
        help="provisioning path to time (terraform takes minutes; default api)",
    )
    args = parser.parse_args()
    rounds = [one_round(args.provision) for _ in range(args.rounds)]
    summary = {
        key: {
            "median": round(statistics.median(r[key] for r in rounds), 3),
            "min": round(min(r[key] for r in rounds), 3),
            "max": round(max(r[key] for r in rounds), 3),
        }
        for key in ("cold_up_s", "warm_up_s", "restart_kept_data_s", "down_s")
    }
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"rounds": args.rounds, "load_1m": load, "summary": summary, "runs": rounds}, indent=2))
        return 0
    print(
        f"sandbox up/down, {args.provision} provisioning, {args.rounds} round(s) "
        f"(1-min load average {load:.1f} on {os.cpu_count()} CPUs)"
    )
    for key, figures in summary.items():
        print(f"  {key:22} median {figures['median']:7.3f}  min {figures['min']:7.3f}  max {figures['max']:7.3f}")
    print("  cold start phases (first round, seconds from start):")
    for phase, at in rounds[0]["cold_phases"].items():
        print(f"    {phase:24} {at:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
