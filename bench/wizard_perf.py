"""Benchmark: the wizard's performance figures for issue 3 (cold start, the provision screen under a flood, keys).

    .venv/bin/python bench/wizard_perf.py [--starts 5] [--lines 20000] [--resources 150]
                                          [--press-lines 4000] [--press-delay 0.001] [--skip-cold-start]

Three measurements, printed as one table:

1. Cold start: wall time from launching ``python -m dms_tui --env bench`` in a pseudo-terminal (AWS mode, no
   credentials, a fresh DMS_TUI_HOME per run) until the Welcome screen's "Identity" row is on the terminal; plus the
   import time of ``dms_tui.app`` in a fresh interpreter (and the bare interpreter start, for scale).
2. Flood: a 20,000-line terraform apply stream (bench/terraform_stream.py) replayed by
   tests/provision/fake_terraform.py with no delay, through the Provision screen headless (App.run_test): events
   per second until the run finished *and* the table shows every resource created; peak memory (tracemalloc peak,
   and the growth of ru_maxrss); the longest event-loop stall seen meanwhile.
3. Responsiveness: a slower stream (it lasts several seconds) while "l" (toggle the raw log) is pressed again and
   again: time from the key press to the Collapsible's ``collapsed`` flag having flipped. Two ways of pressing:
   ``terminal`` sends the key from another thread through the driver, as a real terminal's input thread does (so a
   blocked event loop shows up as latency); ``pilot`` awaits ``pilot.press`` from the test coroutine.

The pieces are importable (tests/ui/test_wizard_perf_smoke.py runs them at a tiny size):
    cold_start(runs) -> ColdStart                  import_time(runs) -> ImportTime
    provision_run(lines, resources, ...) -> ProvisionRun   (a coroutine; figures for parts 2 and 3)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import pty
import re
import resource
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from terraform_stream import write_stream  # noqa: E402

FAKE_TERRAFORM = ROOT / "tests" / "provision" / "fake_terraform.py"
WELCOME_MARKER = "Identity"  # the Welcome screen's identity row: on screen from the first frame
IDENTITY_ANSWER = "No AWS credentials"  # the row once boto3's default chain found nothing (it runs in a worker)
_ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
PressMode = Literal["terminal", "pilot"]


# -- statistics ------------------------------------------------------------------------------------------------------


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1) of a non-empty sample."""
    ordered = sorted(samples)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


@contextlib.contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, with None, remove) environment variables for the duration; restore them afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


# -- 1. cold start ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColdStart:
    """Seconds from exec to the Welcome screen's text on the terminal, one per run."""

    runs: tuple[float, ...]
    identity_runs: tuple[float, ...] = ()  # seconds until the identity row said why no credentials were found

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def best(self) -> float:
        return min(self.runs)


def _aws_free_environment(home: Path) -> dict[str, str]:
    """AWS mode with nothing to find: the identity lookup fails fast instead of reaching for a network."""
    missing = str(home / "no-such-aws-file")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=missing,
        AWS_SHARED_CREDENTIALS_FILE=missing,
        AWS_EC2_METADATA_DISABLED="true",
        DMS_TUI_HOME=str(home),
        TERM="xterm-256color",
        COLUMNS="80",
        LINES="24",
    )
    return env


def _start_once(timeout: float, size: tuple[int, int]) -> tuple[float, float | None]:
    """One cold start in a pty: seconds until WELCOME_MARKER shows, and until IDENTITY_ANSWER; then SIGTERM."""
    home = Path(tempfile.mkdtemp(prefix="dms-tui-coldstart-"))
    env = _aws_free_environment(home)
    argv = [sys.executable, "-m", "dms_tui", "--env", "bench"]
    started = time.perf_counter()
    pid, master = pty.fork()
    if pid == 0:  # the child: size its terminal before Textual asks, then become the app
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
            os.chdir(ROOT)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    seen = b""
    elapsed: float | None = None
    answered: float | None = None
    try:
        deadline = started + timeout
        while answered is None and time.perf_counter() < deadline:
            if elapsed is not None:
                deadline = min(deadline, started + elapsed + 15)  # the identity answer is a bonus figure
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # EIO: the child closed the terminal (it exited)
                break
            if not chunk:
                break
            seen += chunk
            text = _ESCAPES.sub(b"", seen)
            if elapsed is None and WELCOME_MARKER.encode() in text:
                elapsed = time.perf_counter() - started
            if elapsed is not None and IDENTITY_ANSWER.encode() in text:
                answered = time.perf_counter() - started
    finally:
        _stop_child(pid, master)
        shutil.rmtree(home, ignore_errors=True)
    if elapsed is None:
        tail = _ESCAPES.sub(b"", seen)[-400:].decode("utf-8", "replace")
        raise RuntimeError(
            f"the Welcome screen did not show {WELCOME_MARKER!r} within {timeout:.0f}s; last output: {tail}"
        )
    return elapsed, answered


def _stop_child(pid: int, master: int) -> None:
    """SIGTERM (the app checkpoints and exits), drain the terminal so it can, then SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            with contextlib.suppress(OSError):
                os.read(master, 1 << 16)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(master)


def cold_start(runs: int = 5, *, timeout: float = 60.0, size: tuple[int, int] = (80, 24)) -> ColdStart:
    """``runs`` cold starts of the wizard to its Welcome screen (each with a fresh state directory)."""
    results = [_start_once(timeout, size) for _ in range(runs)]
    return ColdStart(tuple(first for first, _ in results), tuple(answer for _, answer in results if answer is not None))


@dataclass(frozen=True)
class ImportTime:
    """Fresh-interpreter figures: ``import dms_tui.app`` wall seconds (per run), bare start, the heaviest imports."""

    import_runs: tuple[float, ...]
    interpreter_runs: tuple[float, ...]
    heaviest: tuple[tuple[str, float], ...]  # (top-level package, cumulative seconds) from -X importtime

    @property
    def median(self) -> float:
        return statistics.median(self.import_runs)


_TIMED_IMPORT = "import time; t = time.perf_counter(); import dms_tui.app; print(time.perf_counter() - t)"


def import_time(runs: int = 5) -> ImportTime:
    """Time ``import dms_tui.app`` in ``runs`` fresh interpreters, and break one down with -X importtime."""
    imports, bare = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _TIMED_IMPORT], capture_output=True, text=True, check=True, cwd=ROOT
        )
        imports.append(float(out.stdout.strip()))
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - started)
    trace = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import dms_tui.app"], capture_output=True, text=True, cwd=ROOT
    ).stderr
    return ImportTime(tuple(imports), tuple(bare), heaviest_imports(trace))


def heaviest_imports(importtime_stderr: str, top: int = 6) -> tuple[tuple[str, float], ...]:
    """The packages with the largest cumulative import time in a ``-X importtime`` trace (their own root line).

    Cumulative includes what a package imports itself, so a package imported inside another counts in both.
    """
    cumulative: dict[str, float] = {}
    for line in importtime_stderr.splitlines():
        # "import time:       self [us] |  cumulative | imported package" (nesting is indentation)
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].strip()
        if "." in name or name.startswith("_"):
            continue  # a submodule is inside its package's figure; private modules are the interpreter's
        cumulative[name] = max(cumulative.get(name, 0.0), int(parts[1]) / 1e6)
    return tuple(sorted(cumulative.items(), key=lambda item: -item[1])[:top])


# -- 2 and 3. the provision screen -----------------------------------------------------------------------------------


@dataclass
class _ScreenProbe:
    """Counts the events the screen handled and when keys took effect (installed on the class, then removed)."""

    events: int = 0
    handling_seconds: float = 0.0  # time spent inside on_terraform_event
    first_event: float | None = None
    last_event: float | None = None
    toggled_at: list[float] = field(default_factory=list)
    toggled: threading.Event = field(default_factory=threading.Event)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        from dms_tui.screens.provision import ProvisionScreen

        on_event, toggle = ProvisionScreen.on_terraform_event, ProvisionScreen.action_toggle_log
        probe = self

        def counting(screen: ProvisionScreen, event: Any) -> None:
            started = time.perf_counter()
            on_event(screen, event)
            now = time.perf_counter()
            probe.events += 1
            probe.handling_seconds += now - started
            probe.first_event = probe.first_event or started
            probe.last_event = now

        def timed_toggle(screen: ProvisionScreen) -> None:
            toggle(screen)  # the flag flips inside; the time after it is when the effect exists
            probe.toggled_at.append(time.perf_counter())
            probe.toggled.set()

        # On the class, not the instance: the screen starts its worker while mounting, before we could reach it.
        setattr(ProvisionScreen, "on_terraform_event", counting)  # noqa: B010 - patched for the run only
        setattr(ProvisionScreen, "action_toggle_log", timed_toggle)  # noqa: B010
        try:
            yield
        finally:
            setattr(ProvisionScreen, "on_terraform_event", on_event)  # noqa: B010
            setattr(ProvisionScreen, "action_toggle_log", toggle)  # noqa: B010


@dataclass(frozen=True)
class ProvisionRun:
    """What one replay through the Provision screen measured."""

    lines: int
    resources: int
    events: int  # events the screen handled (the lines + CommandStarted + CommandFinished)
    seconds: float  # from showing the screen until finished and every resource shown created in the table
    events_seconds: float  # from the first to the last event handled
    handling_seconds: float  # of which inside the screen's event handler
    table_rows: int
    created_rows: int
    counts_text: str
    tracemalloc_peak: int | None  # bytes; None when not traced (tracing slows the run, so it is a separate run)
    maxrss_growth: int  # bytes the process's peak RSS grew by during the run
    max_stall_ms: float  # the longest the event loop could not run a 10 ms heartbeat
    key_latencies_ms: tuple[float, ...] = ()
    keys_unanswered: int = 0
    first_expand_ms: float | None = None  # the first press opens the log: the deferred lines render then
    deferred_log_lines: int | None = None  # writes the collapsed RichLog held back, when the run finished
    open_log_after_ms: float | None = None  # one press after the run: opening the log that held them back
    log_shown_after_ms: float | None = None  # ... until the opened log has rendered its lines (what a person sees)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else float("inf")


def _instant_services(target: Any) -> Any:
    from dms_tui.environment import OpenedEnvironment
    from dms_tui.steps.services import StepServices

    def open_environment(request: Any, on_progress: Callable[[Any], None]) -> Any:
        return OpenedEnvironment(target, identity="bench identity · us-east-1")

    return StepServices(open_environment=open_environment)


def _stream_directory(base: Path, lines: int, resources: int) -> Path:
    """apply.jsonl (the generated stream) and output.json shaped like the bundle's outputs."""
    from dms_tui.provision.outputs import OUTPUT_NAMES

    streams = base / "streams"
    streams.mkdir(parents=True, exist_ok=True)
    write_stream(streams / "apply.jsonl", lines, resources)
    outputs = {name: {"sensitive": False, "type": "string", "value": f"bench-{name}"} for name in OUTPUT_NAMES}
    outputs["source_port"]["value"] = outputs["target_port"]["value"] = 5432
    (streams / "output.json").write_text(json.dumps(outputs), encoding="utf-8")
    return streams


async def _heartbeat(stalls: list[float], stop: asyncio.Event) -> None:
    """A 10 ms beat; how late it wakes is how long the loop was busy with something else."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.01)
        stalls.append(time.perf_counter() - started - 0.01)


def _press_from_terminal(app: Any, probe: _ScreenProbe, timeout: float = 10.0) -> float:
    """Send "l" through the driver from this (non-loop) thread, as a terminal's input thread does; seconds to effect.

    The clock starts when the key leaves the "terminal", so time the event loop spends busy elsewhere counts: a
    press from the pilot coroutine could not even be sent while the loop is blocked, and would hide that.
    """
    from textual import events

    probe.toggled.clear()
    before = len(probe.toggled_at)
    sent = time.perf_counter()
    app._driver.send_message(events.Key("l", "l"))
    if not probe.toggled.wait(timeout=timeout) or len(probe.toggled_at) == before:
        return float("inf")
    return probe.toggled_at[before] - sent


class _TerminalPresser(threading.Thread):
    """Presses "l" every ``gap`` seconds until told to stop; each latency in seconds (inf: never handled)."""

    def __init__(self, app: Any, probe: _ScreenProbe, gap: float) -> None:
        super().__init__(name="bench-key-presser", daemon=True)
        self.app, self.probe, self.gap = app, probe, gap
        self.stop = threading.Event()
        self.latencies: list[float] = []

    def run(self) -> None:
        while not self.stop.is_set():
            latency = _press_from_terminal(self.app, self.probe)
            self.latencies.append(latency)
            if latency == float("inf"):
                return
            self.stop.wait(self.gap)


async def provision_run(
    lines: int = 20_000,
    resources: int = 150,
    *,
    delay: float = 0.0,
    size: tuple[int, int] = (160, 48),
    trace_memory: bool = False,
    press: PressMode | None = None,
    press_gap: float = 0.12,
    timeout: float = 600.0,
    open_log_after: bool = False,
) -> ProvisionRun:
    """Replay a generated apply stream through the Provision screen headless; optionally press "l" meanwhile."""
    from textual.widgets import DataTable, RichLog, Static

    from dms_tui.app import DmsTuiApp
    from dms_tui.environment import Environment
    from dms_tui.journey import Journey, Step
    from dms_tui.screens.provision import ProvisionScreen

    if lines < 3 * resources + 3:  # version, plan, summary, then start + complete per resource, final summary
        raise ValueError(f"{lines} lines cannot plan, start and complete {resources} resources; use more lines")
    base = Path(tempfile.mkdtemp(prefix="dms-tui-provision-bench-"))
    probe = _ScreenProbe()
    stalls: list[float] = []
    with (
        environment(
            DMS_TUI_HOME=str(base / "home"),
            DMS_TUI_TERRAFORM=str(FAKE_TERRAFORM),
            FAKE_TERRAFORM_STREAMS=str(_stream_directory(base, lines, resources)),
            FAKE_TERRAFORM_APPLY="apply.jsonl",
            FAKE_TERRAFORM_DELAY=str(delay),
        ),
        probe.installed(),
    ):
        journey = Journey.resume_or_start("bench", "aws")
        target = Environment(mode="aws", region="us-east-1", env="bench")  # no sandbox runs here: nothing to re-bind
        app = DmsTuiApp(journey, services=_instant_services(target))
        try:
            async with app.run_test(size=size) as pilot:
                await app.workers.wait_for_complete()
                journey.complete(Step.CONFIGURE)
                plan = journey.workdir / "provisioning" / "tfplan"
                plan.parent.mkdir(parents=True, exist_ok=True)
                plan.write_text("reviewed plan")
                if trace_memory:
                    tracemalloc.start()
                rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                stop = asyncio.Event()
                beat = asyncio.create_task(_heartbeat(stalls, stop))
                started = time.perf_counter()
                app.goto(Step.PROVISION)
                await pilot.pause()
                screen = app.screen
                assert isinstance(screen, ProvisionScreen), f"expected the Provision screen, got {screen!r}"
                table = screen.query_one("#provision-table", DataTable)

                def finished() -> bool:
                    return screen.progress.finished is not None

                latencies: list[float] = []
                presser = _TerminalPresser(app, probe, press_gap) if press == "terminal" else None
                if presser is not None:
                    presser.start()
                deadline = started + timeout
                while True:
                    if finished() and table.row_count == resources and _created(table) == resources:
                        break
                    if time.perf_counter() > deadline:
                        raise TimeoutError(f"the stream did not finish within {timeout:.0f}s ({probe.events} events)")
                    if press == "pilot" and not finished():
                        before = len(probe.toggled_at)
                        sent = time.perf_counter()
                        await pilot.press("l")
                        if len(probe.toggled_at) > before:
                            latencies.append(probe.toggled_at[before] - sent)
                        await asyncio.sleep(press_gap)
                    else:
                        await asyncio.sleep(0.02)
                seconds = time.perf_counter() - started
                if presser is not None:
                    presser.stop.set()
                    await asyncio.to_thread(presser.join)
                    latencies = presser.latencies
                stop.set()
                await beat
                peak = tracemalloc.get_traced_memory()[1] if trace_memory else None
                rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) * 1024  # KiB on Linux
                counts = str(screen.query_one("#provision-counts", Static).render()).strip()
                rows, created = table.row_count, _created(table)
                log = screen.query_one("#provision-log", RichLog)
                deferred = len(getattr(log, "_deferred_renders", ()))  # private, read only to explain a figure
                open_after = shown_after = None
                if open_log_after and press is None:
                    open_after, shown_after = await _open_log(app, probe, log)
                await app.workers.wait_for_complete()
        finally:
            if trace_memory:
                tracemalloc.stop()
            shutil.rmtree(base, ignore_errors=True)
    answered = [value for value in latencies if value != float("inf")]
    return ProvisionRun(
        lines=lines,
        resources=resources,
        events=probe.events,
        seconds=seconds,
        events_seconds=(probe.last_event or 0.0) - (probe.first_event or 0.0),
        handling_seconds=probe.handling_seconds,
        table_rows=rows,
        created_rows=created,
        counts_text=counts,
        tracemalloc_peak=peak,
        maxrss_growth=rss_growth,
        max_stall_ms=max(stalls, default=0.0) * 1000,
        key_latencies_ms=tuple(value * 1000 for value in answered),
        keys_unanswered=len(latencies) - len(answered),
        first_expand_ms=answered[0] * 1000 if answered else None,
        deferred_log_lines=deferred,
        open_log_after_ms=open_after,
        log_shown_after_ms=shown_after,
    )


async def _open_log(app: Any, probe: _ScreenProbe, log: Any, timeout: float = 60.0) -> tuple[float, float]:
    """Press "l" once (the log is collapsed): ms until the flag flipped, and until the log shows rendered lines.

    The flag flips at once; the cost comes with the first layout of the opened log, when RichLog renders every
    write it held back while it had no size.
    """
    from textual import events

    before = len(probe.toggled_at)
    sent = time.perf_counter()
    app._driver.send_message(events.Key("l", "l"))
    deadline = sent + timeout
    while not (log.lines and not getattr(log, "_deferred_renders", ())):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the opened raw log showed no lines within {timeout:.0f}s")
        await asyncio.sleep(0.005)
    shown = time.perf_counter() - sent
    flipped = probe.toggled_at[before] - sent if len(probe.toggled_at) > before else shown
    return flipped * 1000, shown * 1000


def _created(table: Any) -> int:
    return sum(1 for key in table.rows if str(table.get_cell(key, "state")).startswith("created"))


# -- the report ------------------------------------------------------------------------------------------------------


def _ms_summary(samples: Sequence[float]) -> str:
    if not samples:
        return "no key press was handled"
    return (
        f"median {statistics.median(samples):6.1f} ms · p95 {percentile(samples, 0.95):6.1f} ms · "
        f"max {max(samples):6.1f} ms  (n={len(samples)})"
    )


def _row(label: str, value: str) -> None:
    print(f"  {label:<40} {value}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5, help="cold starts to time (default 5)")
    parser.add_argument("--lines", type=int, default=20_000, help="flood stream length (default 20000)")
    parser.add_argument("--resources", type=int, default=150)
    parser.add_argument("--press-lines", type=int, default=4_000, help="stream length while keys are pressed")
    parser.add_argument("--press-delay", type=float, default=0.001, help="seconds between lines while pressing")
    parser.add_argument("--skip-cold-start", action="store_true")
    args = parser.parse_args(argv)
    ok = True

    print(f"dms-tui wizard performance · python {sys.version.split()[0]} · {os.cpu_count()} cores")
    if not args.skip_cold_start:
        print("\n1. cold start (python -m dms_tui --env bench, AWS mode without credentials, pty 80x24)")
        starts = cold_start(args.starts)
        _row("exec → Welcome screen shows 'Identity'", f"median {starts.median:.3f} s · min {starts.best:.3f} s")
        _row("  runs", " ".join(f"{value:.3f}" for value in starts.runs))
        if starts.identity_runs:
            _row(
                "exec → identity answered (no credentials)",
                f"median {statistics.median(starts.identity_runs):.3f} s · min {min(starts.identity_runs):.3f} s",
            )
        imports = import_time(args.starts)
        _row(
            "import dms_tui.app (fresh interpreter)",
            f"median {imports.median:.3f} s · min {min(imports.import_runs):.3f} s",
        )
        _row("bare interpreter start (python -c pass)", f"median {statistics.median(imports.interpreter_runs):.3f} s")
        _row("heaviest imports (-X importtime, cumul.)", ", ".join(f"{n} {s:.3f}s" for n, s in imports.heaviest))

    print(
        f"\n2. flood: {args.lines:,} lines, {args.resources} resources, no delay, through the Provision screen 160x48"
    )
    flood = asyncio.run(provision_run(args.lines, args.resources, open_log_after=True))
    traced = asyncio.run(provision_run(args.lines, args.resources, trace_memory=True))
    _row("events handled by the screen", f"{flood.events:,}  (table {flood.created_rows}/{flood.table_rows} created)")
    _row("wall time to finished + table complete", f"{flood.seconds:.2f} s")
    _row("events per second through the screen", f"{flood.events_per_second:,.0f}")
    _row("  first → last event", f"{flood.events_seconds:.2f} s (in the handler: {flood.handling_seconds:.2f} s)")
    _row("peak memory: tracemalloc (separate run)", f"{(traced.tracemalloc_peak or 0) / 1e6:.1f} MB")
    _row("peak memory: ru_maxrss growth", f"{flood.maxrss_growth / 1e6:.1f} MB")
    _row("longest event-loop stall during the flood", f"{flood.max_stall_ms:.0f} ms")
    _row("writes held by the collapsed raw log", f"{flood.deferred_log_lines:,}")
    _row("then 'l' (open the log): press → flipped", f"{flood.open_log_after_ms or 0:.0f} ms")
    _row("  press → log lines rendered", f"{flood.log_shown_after_ms or 0:.0f} ms")
    ok &= flood.created_rows == args.resources

    print(
        f"\n3. responsiveness: 'l' pressed every ~0.12 s while {args.press_lines:,} lines flow "
        f"({args.press_delay * 1000:g} ms apart), 80x24"
    )
    for mode in ("terminal", "pilot"):
        run = asyncio.run(
            provision_run(args.press_lines, args.resources, delay=args.press_delay, size=(80, 24), press=mode)
        )
        _row(f"press → collapsed flipped ({mode})", _ms_summary(run.key_latencies_ms))
        if run.first_expand_ms is not None:
            _row("  first press (opens the log)", f"{run.first_expand_ms:.1f} ms")
        _row("  stream lasted / longest loop stall", f"{run.seconds:.1f} s / {run.max_stall_ms:.0f} ms")
        ok &= bool(run.key_latencies_ms) and run.keys_unanswered == 0
    print(
        f"\n   presses every ~0.05 s during the no-delay flood of {args.lines:,} lines (as a re-attach replays a log)"
    )
    run = asyncio.run(provision_run(args.lines, args.resources, size=(80, 24), press="terminal", press_gap=0.05))
    _row("press → collapsed flipped (terminal, flood)", _ms_summary(run.key_latencies_ms))
    # A flip can be quick and the loop still frozen afterwards: opening the log renders what it held back.
    if run.keys_unanswered:
        _row("  presses never handled (10 s)", str(run.keys_unanswered))
    _row("  stream lasted / longest loop stall", f"{run.seconds:.1f} s / {run.max_stall_ms:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
