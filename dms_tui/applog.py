"""The application log: a rotating file under the log directory for tracebacks and external commands' stderr.

Nothing secret is logged: values that might hold a password are scrubbed by the callers (terraform's output is scrubbed
by the runner; connection parameters are never logged). The error modal and the headless commands print its path.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from dms_tui import paths

LOGGER_NAME = "dms_tui"
_MAX_BYTES = 2_000_000
_BACKUPS = 3


def log_path() -> Path:
    return paths.log_dir() / "dms-tui.log"


def logger() -> logging.Logger:
    """The app logger, attached to the rotating file on first use (and again if DMS_TUI_HOME moved)."""
    log = logging.getLogger(LOGGER_NAME)
    path = str(log_path())
    if not any(getattr(h, "baseFilename", None) == path for h in log.handlers):
        for handler in list(log.handlers):
            log.removeHandler(handler)
            handler.close()
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


def log_exception(context: str, exc: BaseException) -> Path:
    """Write ``exc``'s traceback to the log; returns the log's path for the message a person sees."""
    logger().error("%s: %s", context, exc, exc_info=(type(exc), exc, exc.__traceback__))
    return log_path()


def log_stderr(command: str, stderr: str) -> None:
    """An external command's stderr (psql, aws, terraform init...) for later reading."""
    if stderr.strip():
        logger().info("stderr of %s:\n%s", command, stderr.rstrip())
