#!/usr/bin/env python3
"""A stand-in `terraform` executable that replays recorded `-json` streams (stdlib only, for tests and UI pilots).

    terraform version -json            -> {"terraform_version": $FAKE_TERRAFORM_VERSION or "1.11.4"}
    terraform init|plan|apply|destroy  -> replays streams/<command>.jsonl with @timestamp rewritten to now
    terraform output -json             -> streams/output.json

Environment knobs:
    FAKE_TERRAFORM_STREAMS         directory of recordings (default: streams/ beside this script)
    FAKE_TERRAFORM_<COMMAND>       recording to replay for a command, e.g. FAKE_TERRAFORM_PLAN=plan_invalid_cidr.jsonl
    FAKE_TERRAFORM_DELAY           seconds between lines (default 0)
    FAKE_TERRAFORM_IGNORE_SIGINT   "1": ignore SIGINT (to test escalation to SIGTERM/SIGKILL)
    FAKE_TERRAFORM_PIDFILE         write this process's pid here
    FAKE_TERRAFORM_ARGV_LOG        append each invocation's argv (JSON) to this file

Saved plans go stale like terraform's: `plan -out=FILE` records the state's serial (kept in fake-terraform.serial in
the working directory); a successful apply or destroy bumps it, and `apply FILE` of a plan made at another serial
replays streams/apply_stale.jsonl (terraform's real "Saved plan is stale" refusal, exit 1). A plan file that is not
one of ours (a test's "reviewed plan") is applied as it is.

Exit code: 1 when the replayed stream holds an error diagnostic, else 0. On SIGINT it behaves like terraform
(recorded in streams/apply_interrupted.jsonl): "Stopping operation...", "Interrupt received...", an apply_errored
for every resource still in progress, an "execution halted" diagnostic, exit 1.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
_interrupted = False


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _emit(obj: dict[str, object]) -> None:
    obj["@timestamp"] = _now()
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _on_sigint(signum: int, frame: object) -> None:
    global _interrupted
    _interrupted = True


def _wait(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not _interrupted and time.monotonic() < deadline:
        time.sleep(min(0.01, max(0.0, deadline - time.monotonic())))


def _stop_like_terraform(in_progress: dict[str, dict[str, object]]) -> int:
    _emit({"@level": "info", "@message": "Stopping operation...", "@module": "terraform.ui", "type": "log"})
    _emit(
        {
            "@level": "info",
            "@message": "\nInterrupt received.\nPlease wait for Terraform to exit or data loss may occur.\n"
            "Gracefully shutting down...\n",
            "@module": "terraform.ui",
            "type": "log",
        }
    )
    for address, hook in in_progress.items():
        _emit(
            {
                "@level": "info",
                "@message": f"{address}: Creation errored after 1s",
                "@module": "terraform.ui",
                "hook": {**hook, "elapsed_seconds": 1},
                "type": "apply_errored",
            }
        )
    _emit(
        {
            "@level": "error",
            "@message": "Error: execution halted",
            "@module": "terraform.ui",
            "diagnostic": {"severity": "error", "summary": "execution halted", "detail": ""},
            "type": "diagnostic",
        }
    )
    return 1


def _replay(stream: Path, delay: float) -> int:
    failed = False
    in_progress: dict[str, dict[str, object]] = {}
    for line in stream.read_text(encoding="utf-8").splitlines():
        if _interrupted:
            return _stop_like_terraform(in_progress)
        try:
            obj = json.loads(line)
        except ValueError:
            sys.stdout.write(line + "\n")  # recordings may hold deliberately malformed lines
            sys.stdout.flush()
        else:
            kind = obj.get("type")
            hook = obj.get("hook") or {}
            address = (hook.get("resource") or {}).get("addr", "")
            if kind == "apply_start":
                in_progress[address] = hook
            elif kind in ("apply_complete", "apply_errored"):
                in_progress.pop(address, None)
            if kind == "diagnostic" and obj.get("diagnostic", {}).get("severity") == "error":
                failed = True
            _emit(obj)
        _wait(delay)
    if _interrupted:
        return _stop_like_terraform(in_progress)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if os.environ.get("FAKE_TERRAFORM_IGNORE_SIGINT") == "1":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGINT, _on_sigint)
    if pidfile := os.environ.get("FAKE_TERRAFORM_PIDFILE"):
        Path(pidfile).write_text(str(os.getpid()))
    if argv_log := os.environ.get("FAKE_TERRAFORM_ARGV_LOG"):
        with open(argv_log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(argv) + "\n")
    command = next((a for a in argv if not a.startswith("-")), "")
    streams = Path(os.environ.get("FAKE_TERRAFORM_STREAMS") or HERE / "streams")
    if command == "version":
        version = os.environ.get("FAKE_TERRAFORM_VERSION", "1.11.4")
        print(json.dumps({"terraform_version": version, "platform": "linux_amd64", "provider_selections": {}}))
        return 0
    if command == "output":
        sys.stdout.write((streams / "output.json").read_text(encoding="utf-8"))
        return 0
    if command not in ("init", "plan", "apply", "destroy"):
        print(f"fake terraform: unsupported command {command!r}", file=sys.stderr)
        return 2
    for arg in argv:
        if arg.startswith("-out="):
            Path(arg.removeprefix("-out=")).write_text(json.dumps({"fake_plan_at_serial": _serial()}) + "\n")
    stream = streams / os.environ.get(f"FAKE_TERRAFORM_{command.upper()}", f"{command}.jsonl")
    if command == "apply" and _stale(argv):
        stream = streams / "apply_stale.jsonl"
    returncode = _replay(stream, float(os.environ.get("FAKE_TERRAFORM_DELAY", "0")))
    if returncode == 0 and command in ("apply", "destroy"):
        SERIAL_FILE.write_text(str(_serial() + 1))
    return returncode


SERIAL_FILE = Path("fake-terraform.serial")  # relative: the working directory terraform runs in


def _serial() -> int:
    try:
        return int(SERIAL_FILE.read_text())
    except (OSError, ValueError):
        return 0


def _stale(argv: list[str]) -> bool:
    """`apply FILE` of one of our plans made at another state serial."""
    plan_file = next((Path(a) for a in argv[1:] if not a.startswith("-")), None)
    if plan_file is None:
        return False
    try:
        recorded = json.loads(plan_file.read_text())["fake_plan_at_serial"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return bool(recorded != _serial())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
