"""One error path: a failed step shows what happened, why and what to do, with the log's path; long jobs ask
before quitting."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Static

from dms_tui import applog
from dms_tui.app import ConfirmScreen, DmsTuiApp, ErrorScreen
from dms_tui.errors import StepError


async def _until_error_modal(app: DmsTuiApp, pilot: Pilot[int]) -> None:
    deadline = time.monotonic() + 10
    while not isinstance(app.screen, ErrorScreen):
        assert time.monotonic() < deadline, "no error modal appeared"
        await pilot.pause(0.05)


async def test_a_failed_step_shows_what_why_and_next_and_logs_the_traceback(make_app: Callable[..., DmsTuiApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()

        def connect() -> None:
            raise StepError(
                "Cannot reach the target database.",
                "Connection refused at 127.0.0.1:1.",
                "Start the sandbox with `dms-tui sandbox up`, then retry.",
            )

        app.run_worker(connect, thread=True, exit_on_error=False, group="job:diff")
        await _until_error_modal(app, pilot)
        assert isinstance(app.screen, ErrorScreen)
        shown = str(app.screen.query_one("#error-text", Static).render())
        assert "Cannot reach the target database." in shown
        assert "Connection refused at 127.0.0.1:1." in shown
        assert "→ Start the sandbox" in shown
        assert str(applog.log_path()) in shown.replace("\n", "")
        await pilot.press("escape")
        assert not isinstance(app.screen, ErrorScreen)
    logged = applog.log_path().read_text()
    assert "Traceback" in logged and "Cannot reach the target database." in logged


async def test_an_unexpected_exception_is_shown_as_a_bug_with_the_log(make_app: Callable[..., DmsTuiApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()

        def broken() -> None:
            raise KeyError("source_secret_arn")

        app.run_worker(broken, thread=True, exit_on_error=False)
        await _until_error_modal(app, pilot)
        assert isinstance(app.screen, ErrorScreen)
        shown = str(app.screen.query_one("#error-text", Static).render())
        assert "Something went wrong." in shown and "KeyError" in shown


async def test_quitting_during_a_long_job_asks_first(make_app: Callable[..., DmsTuiApp]) -> None:
    app = make_app()
    release = threading.Event()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        app.run_worker(lambda: release.wait(10), thread=True, group="job:terraform apply")
        await pilot.pause()
        assert app.running_jobs == ["terraform apply"]
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "terraform apply is still running" in app.screen.question
        release.set()
        await pilot.press("n")
        await app.workers.wait_for_complete()
        assert app.running_jobs == []
