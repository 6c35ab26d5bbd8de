"""One error type for everything a person can act on: what happened, why, and what to do next.

Steps raise :class:`StepError`; the wizard's one worker-error handler shows it in an error modal and the headless
commands print it and return its exit code. Anything else that escapes is a bug: its traceback goes to the app log
(see :mod:`dms_tui.applog`), and the person sees the log's path.
"""

from __future__ import annotations

from dms_tui import exit_codes


class StepError(RuntimeError):
    """A failure a person can act on. ``what`` is the headline; ``why`` the cause; ``next_step`` the action."""

    def __init__(self, what: str, why: str = "", next_step: str = "", *, exit_code: int = exit_codes.FAILED) -> None:
        super().__init__(what)
        self.what = what
        self.why = why
        self.next_step = next_step
        self.exit_code = exit_code

    def __str__(self) -> str:
        return " ".join(part for part in (_sentence(self.what), _sentence(self.why), _sentence(self.next_step)) if part)

    def to_json(self) -> dict[str, str | int]:
        return {"what": self.what, "why": self.why, "next": self.next_step, "exit_code": self.exit_code}

    @classmethod
    def from_exception(cls, what: str, exc: BaseException, next_step: str = "", **kwargs: int) -> StepError:
        """Wrap a library error, keeping its message as the cause (the traceback goes to the log separately)."""
        if isinstance(exc, StepError):
            return exc
        return cls(what, str(exc) or type(exc).__name__, next_step, **kwargs)


def _sentence(text: str) -> str:
    text = text.strip()
    if text and text[-1] not in ".!?:)":
        text += "."
    return text
