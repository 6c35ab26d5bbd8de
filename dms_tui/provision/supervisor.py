"""`python -m dms_tui.provision.supervisor`: runs one terraform command detached from the terminal.

Started in its own session by :mod:`dms_tui.provision.detached`, so a dropped Session Manager connection (SIGHUP to
the terminal's process group) never reaches it. It holds the working copy's run lock for the run's whole life,
sends terraform's output to the run's log file, and records the exit code where a later app can find it.

It ignores SIGINT itself: the app interrupts a run by signalling the whole process group, and terraform (which keeps
the default handler) is the one that must react, stop gracefully, and exit; then we record its exit code.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _restore_default_signals() -> None:
    # Ignored signals survive exec: give terraform back its normal SIGINT/SIGHUP behaviour.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dms_tui.provision.supervisor")
    parser.add_argument("--log", required=True, type=Path)
    parser.add_argument("--exit-file", required=True, type=Path)
    parser.add_argument("--lock", required=True, type=Path)
    parser.add_argument("--cwd", required=True, type=Path)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    lock_handle = open(args.lock, "a+")  # noqa: SIM115 - held for the whole run, released by exit
    try:
        fcntl.flock(lock_handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        args.exit_file.write_text(json.dumps({"returncode": 75, "reason": "locked"}))
        return 75
    lock_handle.seek(0)
    lock_handle.truncate()
    lock_handle.write(json.dumps({"pid": os.getpid(), "command": command, "started_at": time.time()}))
    lock_handle.flush()

    with open(args.log, "ab", buffering=0) as log:
        try:
            child = subprocess.Popen(  # noqa: S603 - the terraform argv the app built
                command,
                cwd=args.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_restore_default_signals,  # noqa: PLW1509 - single-threaded here
            )
        except OSError as exc:
            log.write(f"could not start {command[0]!r}: {exc}\n".encode())
            args.exit_file.write_text(json.dumps({"returncode": 127, "reason": str(exc)}))
            return 127
        returncode = child.wait()
    tmp = args.exit_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"returncode": returncode, "finished_at": time.time()}))
    os.replace(tmp, args.exit_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
