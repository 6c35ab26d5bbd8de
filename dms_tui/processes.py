"""Whether a recorded process is still running: shared by the sandbox lifecycle and detached terraform runs."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def process_alive(pid: int | None, marker: str | None = None) -> bool:
    """Whether ``pid`` runs (not a zombie) and, when ``marker`` is given, its command line contains it.

    The marker guards against pid reuse: a recorded pid may belong to an unrelated process after a reboot.
    """
    if not pid or pid <= 0:
        return False
    proc = Path(f"/proc/{pid}")
    if proc.exists():
        with contextlib.suppress(OSError, IndexError):
            # Field 3 of /proc/<pid>/stat is the state; a zombie has exited but is not reaped yet.
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return False
        if marker is not None:
            with contextlib.suppress(OSError):
                return marker in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return marker is None
