"""Benchmark: how long a person waits for `dms-tui --version`, `dms-tui --help` and the wizard's first frame.

    .venv/bin/python bench/startup.py [--runs 9] [--root DIR] [--json]

Three figures, best and median of ``--runs`` fresh interpreters each (the issue's budget: 0.15 s for the first two):

1. ``python -m dms_tui --version``: wall time of the whole process, as a shell sees it.
2. ``python -m dms_tui --help``: the same; builds the whole parser, so every command module is imported.
3. First frame: a fresh interpreter imports ``dms_tui.app``, builds the app with ``dms_tui.app.build_app`` and
   instant services (the environment is ready at once, as in tests/ui/conftest.py, so no sandbox or AWS lookup is
   timed), and runs it headless (``App.run_test``, 80x24) until the Welcome screen is mounted. Printed: the whole
   process (exec to Welcome mounted), and the part of it spent importing ``dms_tui.app``.
   (bench/wizard_perf.py measures the real thing in a pseudo-terminal: exec to the Welcome text on screen.)

``--root`` times another checkout of the repository (e.g. ``git archive HEAD~3 | tar -x -C /tmp/before``), with this
interpreter, to compare before and after. Each run gets its own empty DMS_TUI_HOME.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 0.15  # seconds, for --version and --help

# Runs in a fresh interpreter; prints {"import": s, "frame": s} measured from the interpreter's first line.
_FIRST_FRAME = r"""
import time
started = time.perf_counter()
import asyncio, json
from dms_tui.app import build_app
imported = time.perf_counter()
from dms_tui.environment import Environment, EnvironmentRequest, OpenedEnvironment
from dms_tui.screens.welcome import WelcomeScreen
from dms_tui.steps.services import StepServices

target = Environment(mode="sandbox", region="us-east-1", env="bench")


def open_environment(request, on_progress):
    return OpenedEnvironment(target, identity="bench identity · us-east-1")


async def first_frame():
    app = build_app(EnvironmentRequest(sandbox=True, env="bench"), StepServices(open_environment=open_environment))
    async with app.run_test(size=(80, 24)):
        while not (isinstance(app.screen, WelcomeScreen) and app.screen.is_mounted):
            await asyncio.sleep(0.001)
        mounted = time.perf_counter()
    return mounted


mounted = asyncio.run(first_frame())
print(json.dumps({"import": imported - started, "frame": mounted - started}))
"""


@dataclass(frozen=True)
class Timing:
    """One figure: the seconds of each run."""

    name: str
    runs: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def to_json(self) -> dict[str, object]:
        return {"best": round(self.best, 4), "median": round(self.median, 4), "runs": [round(r, 4) for r in self.runs]}


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(DMS_TUI_HOME=str(home), AWS_EC2_METADATA_DISABLED="true", TERM="xterm-256color")
    return env


def _timed(argv: list[str], root: Path) -> tuple[float, str]:
    """Wall seconds of one fresh process (cwd ``root``, so ``-m dms_tui`` is that checkout's), and its stdout."""
    home = Path(tempfile.mkdtemp(prefix="dms-tui-startup-"))
    try:
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=root, env=_environment(home), capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-600:]}")
    return elapsed, done.stdout


def command_timing(args: list[str], runs: int, root: Path = ROOT) -> Timing:
    """``python -m dms_tui ARGS`` ``runs`` times."""
    argv = [sys.executable, "-m", "dms_tui", *args]
    return Timing(" ".join(["dms-tui", *args]), tuple(_timed(argv, root)[0] for _ in range(runs)))


def first_frame_timing(runs: int, root: Path = ROOT) -> tuple[Timing, Timing, Timing]:
    """(whole process to Welcome mounted, in-process to Welcome mounted, importing dms_tui.app), ``runs`` times."""
    wall, frame, imports = [], [], []
    for _ in range(runs):
        elapsed, stdout = _timed([sys.executable, "-c", _FIRST_FRAME], root)
        figures = json.loads(stdout.strip().splitlines()[-1])
        wall.append(elapsed)
        frame.append(figures["frame"])
        imports.append(figures["import"])
    return (
        Timing("first frame (exec → Welcome mounted)", tuple(wall)),
        Timing("  of which in the interpreter", tuple(frame)),
        Timing("  of which import dms_tui.app", tuple(imports)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per figure (default: 9)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to time (default: this one)")
    parser.add_argument("--skip-frame", action="store_true", help="only --version and --help")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    bare = Timing(
        "python -c pass (for scale)", tuple(_timed([sys.executable, "-c", "pass"], root)[0] for _ in range(3))
    )
    timings = [bare, command_timing(["--version"], args.runs, root), command_timing(["--help"], args.runs, root)]
    if not args.skip_frame:
        timings += first_frame_timing(args.runs, root)
    if args.json:
        print(json.dumps({"root": str(root), "budget": BUDGET} | {t.name: t.to_json() for t in timings}, indent=2))
        return 0
    print(f"start-up of {root} ({args.runs} runs each; budget {BUDGET:.2f} s for --version and --help)")
    print(f"{'':40} {'best':>8} {'median':>8}")
    for timing in timings:
        over = "  over budget" if timing.name.startswith("dms-tui") and timing.median > BUDGET else ""
        print(f"{timing.name:40} {timing.best:8.3f} {timing.median:8.3f}{over}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
