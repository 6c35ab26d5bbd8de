"""Cutover on a real, provisioned sandbox: a full-load-and-cdc task whose source keeps taking writes from
`dms-tui workload`, then `dms-tui cutover` — the workload stops, DMS drains, the rows are identical, the target's
sequence carries on from the source's (an insert through it does not collide), the task is stopped; run again it
says what it found; the Cutover screen does the same through the wizard. A full-load task is refused.

One sandbox for the module (its cold `up` takes seconds); the tests run in file order and build on each other's
task, as a person's journey does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from running_sandbox import connect_side, provisioned_sandbox, side_rows  # type: ignore[import-not-found]

from dms_tui.cli import main as cli_main
from dms_tui.data.workload import pid_file
from dms_tui.journey import Journey, Step

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

ENTRY = Path(sys.executable).with_name("dms-tui")
SOURCE_DDL = """
DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id bigserial PRIMARY KEY, note text, amount integer);
CREATE TABLE shop.codes (code text PRIMARY KEY, label varchar(40));
CREATE TABLE shop.lines (order_id integer, line integer, qty integer, PRIMARY KEY (order_id, line));
INSERT INTO shop.orders (note, amount) SELECT 'order ' || g, g FROM generate_series(1, 200) g;
INSERT INTO shop.codes SELECT 'c' || g, 'label ' || g FROM generate_series(1, 100) g;
INSERT INTO shop.lines SELECT g % 50, g, g FROM generate_series(1, 300) g;
"""
# The target's schema is created ahead, as a person does before a DMS migration (DMS creates no sequences), under
# the name the task's mappings rename `shop` to.
TARGET_DDL = """
DROP SCHEMA IF EXISTS shop_v2 CASCADE;
CREATE SCHEMA shop_v2;
CREATE TABLE shop_v2.orders (id bigserial PRIMARY KEY, note text, amount integer);
CREATE TABLE shop_v2.codes (code text PRIMARY KEY, label varchar(40));
CREATE TABLE shop_v2.lines (order_id integer, line integer, qty integer, PRIMARY KEY (order_id, line));
"""
MAPPINGS = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "shop",
            "rule-action": "include",
            "object-locator": {"schema-name": "shop", "table-name": "%"},
        },
        {
            "rule-type": "transformation",
            "rule-id": "2",
            "rule-name": "rename-schema",
            "rule-action": "rename",
            "rule-target": "schema",
            "object-locator": {"schema-name": "shop"},
            "value": "shop_v2",
        },
    ]
}


@pytest.fixture(scope="module")
def sandbox_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("cutover-home")
    with provisioned_sandbox(home):
        yield home


@pytest.fixture
def home(sandbox_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DMS_TUI_HOME", str(sandbox_home))
    return sandbox_home


def _migrate(home: Path, capsys: pytest.CaptureFixture[str], task_id: str, migration_type: str) -> dict[str, Any]:
    path = home / "shop-mappings.json"
    path.write_text(json.dumps(MAPPINGS))
    argv = ["migrate", "--sandbox", "--mappings", str(path), "--migration-type", migration_type]
    argv += ["--prep-mode", "TRUNCATE_BEFORE_LOAD", "--task-id", task_id, "--interval", "0.2", "--json"]
    code = cli_main([*argv, "--max-poll-failures", "3"])
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == 0 and document["ok"], document.get("error") or document["snapshot"]
    return document


def _cutover(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any]]:
    from dms_tui.errors import StepError

    try:
        code = cli_main(["cutover", "--sandbox", "--yes", "--json", "--interval", "0.2", "--timeout", "120", *extra])
    except StepError as err:  # cli.main prints it and returns its code; kept for a clearer failure here
        raise AssertionError(str(err)) from err
    return code, json.loads(capsys.readouterr().out)


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_full_load_task_is_refused_with_what_to_do(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with connect_side("source") as src:
        src.execute(SOURCE_DDL)
    with connect_side("target") as tgt:
        tgt.execute(TARGET_DDL)
    _migrate(home, capsys, "shop-full-load", "full-load")

    code = cli_main(["cutover", "--sandbox", "--yes", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 2 and not document["ok"]
    assert "does not replicate changes" in document["error"]["what"]
    assert "--migration-type full-load-and-cdc" in document["error"]["next"]
    assert document["items"] == []  # nothing ran: no workload stopped, no task stopped


def test_cutover_after_a_workload_leaves_identical_rows_sequences_set_and_the_task_stopped(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with connect_side("source") as src:
        src.execute(SOURCE_DDL)
    with connect_side("target") as tgt:
        tgt.execute(TARGET_DDL)
    migrated = _migrate(home, capsys, "shop-live", "full-load-and-cdc")
    arn = migrated["snapshot"]["task_arn"]

    # The demo workload, as a person starts it in another terminal: it records its pid for the cutover.
    env = {**os.environ, "DMS_TUI_HOME": str(home)}
    workload = subprocess.Popen(  # noqa: S603 - this checkout's entry point
        [str(ENTRY), "workload", "--sandbox", "--rate", "40", "--duration", "0", "--table", "shop"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        record = pid_file(home / "state", "dev")
        _wait(lambda: record.is_file(), "the workload's pid file")
        with connect_side("source") as src:  # the application's own inserts move the source sequence on
            for n in range(30):
                src.execute("INSERT INTO shop.orders (note, amount) VALUES (%s, %s)", (f"app {n}", n))
                time.sleep(0.02)
        source_last = side_rows("source", "SELECT last_value FROM shop.orders_id_seq")[0][0]
        assert source_last >= 230

        code, document = _cutover(capsys)
    finally:
        if workload.poll() is None:
            workload.terminate()
        out, err = workload.communicate(timeout=30)

    assert code == 0 and document["ok"], document
    items = {item["key"]: item for item in document["items"]}
    assert list(items) == ["writes", "drain", "diff", "sequences", "task", "switch"]
    assert all(item["ok"] for item in items.values()), items
    assert "stopped the demo workload" in items["writes"]["detail"]
    assert items["writes"]["commands"][0].startswith("kill ")
    assert not record.exists()  # the workload ended and took its record along
    assert "stopped (SIGTERM)" in out, (out, err)  # its summary, printed as it stopped
    assert "applied; CDC latency 0 s" in items["drain"]["detail"]  # the slot passed the position, CloudWatch read 0
    assert "aws cloudwatch get-metric-data" in items["drain"]["commands"][0]
    assert "identical" in items["diff"]["detail"]
    assert items["sequences"]["detail"].startswith("1 set to the source")
    assert document["freeze_seconds"] > 0

    # The rows are the same (the final diff said so; checked here once more by count and sum) ...
    totals = "SELECT count(*), sum(amount) FROM {}.orders"
    assert side_rows("target", totals.format("shop_v2")) == side_rows("source", totals.format("shop"))
    # ... the task stopped ...
    from dms_tui.sandbox.environment import running_sandbox

    environment, _ = running_sandbox()
    task = environment.client("dms").describe_replication_tasks(
        Filters=[{"Name": "replication-task-arn", "Values": [arn]}]
    )["ReplicationTasks"][0]
    assert task["Status"] == "stopped"
    # ... and the application's next insert on the target takes the next value of the source's sequence.
    with connect_side("target") as tgt:
        (new_id,) = tgt.execute("INSERT INTO shop_v2.orders (note) VALUES ('after cutover') RETURNING id").fetchone()  # type: ignore[misc]
    assert new_id == source_last + 1

    journey = Journey.resume_or_start("dev", "sandbox")
    assert journey.state.cutover is not None and journey.state.cutover.ok
    assert journey.state.is_done(Step.CUTOVER)


def test_a_second_cutover_says_what_it_found_and_every_printed_command_runs(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with connect_side("target") as tgt:  # the row the previous test inserted on the target only
        tgt.execute("DELETE FROM shop_v2.orders WHERE note = 'after cutover'")
    code, document = _cutover(capsys)
    assert code == 0, document
    assert document["previous"] is not None and document["previous"]["ok"]
    items = {item["key"]: item for item in document["items"]}
    assert items["writes"]["detail"] == "no demo workload was running"
    assert "nothing is replicating" in items["drain"]["detail"]
    assert items["task"]["detail"].startswith("already stopped")
    page = tmp_path / "report.html"  # the hand-over report shows the cutover's timings and its commands
    assert cli_main(["report", "--sandbox", "--html", str(page)]) == 0
    html = page.read_text()
    assert "Drain changes" in html and "Final row diff" in html and "dms-tui cutover --sandbox" in html
    _every_printed_command_runs(home, tmp_path, [c for item in document["items"] for c in item["commands"]])


def _every_printed_command_runs(home: Path, tmp: Path, commands: list[str]) -> None:
    """Each command the cutover printed, in a bare shell (no AWS or PG variables but the password a person types at
    psql's prompt), as tests/ui/test_shown_commands_run.py runs the other screens' commands. Not run, and why:
    `kill PID` names a workload that has ended; `aws dms stop-replication-task` names a stopped task (DMS refuses a
    second stop; the first cutover's stop is the step's own call, whose parameters the line is rendered from)."""
    import shlex
    import shutil

    from dms_tui.sandbox.environment import running_sandbox
    from dms_tui.sandbox.provisioner import read_secret

    if shutil.which("aws") is None or shutil.which("psql") is None:
        pytest.skip("the AWS CLI or psql is not installed, so the printed commands cannot be run")
    environment, outputs = running_sandbox()
    passwords = [read_secret(environment, side.secret_arn)["password"] for side in (outputs.source, outputs.target)]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PG"))}
    base |= {"HOME": str(tmp), "DMS_TUI_HOME": str(home), "PATH": f"{ENTRY.parent}:{base.get('PATH', '')}"}
    ran = []
    for command in dict.fromkeys(commands):
        words = shlex.split(command)
        program = next(w for w in words if "=" not in w)
        if program == "kill" or "stop-replication-task" in words:
            continue
        tries = [{**base, "PGPASSWORD": pw} for pw in passwords] if program == "psql" else [base]
        results = [
            subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120, env=env, cwd=tmp)  # noqa: S602
            for env in tries
        ]
        assert any(r.returncode == 0 for r in results), (words[:4], [r.stderr[-400:] for r in results])
        ran.append(program)
    assert sorted(set(ran)) == ["aws", "dms-tui", "psql"], ran


def test_the_cutover_screen_cuts_over_and_moves_on_to_cleanup(home: Path) -> None:
    import asyncio

    from dms_tui.app import build_app
    from dms_tui.environment import EnvironmentRequest, open_environment
    from dms_tui.steps.services import StepServices

    def opened(request: EnvironmentRequest, on_progress: Callable[[Any], None]) -> Any:
        return open_environment(request, start_sandbox=False, on_progress=on_progress)

    services = StepServices(
        open_environment=opened, options={"cutover_poll_interval_s": 0.2, "migrate_ready_interval_s": 0.2}
    )
    app = build_app(EnvironmentRequest(sandbox=True), services)

    async def scenario() -> None:
        from dms_tui.screens.cutover import CutoverScreen

        async with app.run_test(size=(100, 30)) as pilot:
            deadline = time.monotonic() + 60
            while app.environment is None:
                assert time.monotonic() < deadline, "the environment never became ready"
                await pilot.pause(0.2)
            app.goto(Step.CUTOVER)
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, CutoverScreen)
            assert "An earlier cutover finished cleanly" in str(screen.progress)
            await pilot.press("u")
            deadline = time.monotonic() + 120
            while screen.done is None:
                assert time.monotonic() < deadline, "the cutover never finished"
                assert not screen.cutover_running or screen.done is None
                await pilot.pause(0.2)
            assert screen.done.ok
            assert all(str(status) == "✓" for status in screen.statuses.values())
            assert "psql" in screen.query_one("#command-hint").command  # type: ignore[attr-defined]
            await pilot.press("f5")
            await pilot.pause()
            assert type(app.screen).__name__ == "CleanupScreen"

    asyncio.run(scenario())


def test_a_target_that_differs_stops_the_cutover_with_exit_1(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with connect_side("target") as tgt:  # a row lost on the target (the task is stopped: nothing brings it back)
        tgt.execute("DELETE FROM shop_v2.codes WHERE code = 'c7'")
    code = cli_main(["cutover", "--sandbox", "--yes", "--json", "--interval", "0.2"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1 and not document["ok"]
    assert document["error"]["what"] == "The target is not identical to the source; nothing was switched."
    assert [(i["key"], i["ok"]) for i in document["items"]] == [("writes", True), ("drain", True), ("diff", False)]
    assert "dms-tui diff --sandbox" in document["error"]["next"]
    assert "captured" not in document["error"]["why"]  # every change was applied: the diff's rows tell the cause
    journey = Journey.resume_or_start("dev", "sandbox")
    assert journey.state.cutover is not None and not journey.state.cutover.ok


def test_the_workload_refuses_a_second_one_and_ctrl_c_ends_it_with_a_summary(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import signal

    env = {**os.environ, "DMS_TUI_HOME": str(home)}
    first = subprocess.Popen(  # noqa: S603 - this checkout's entry point
        [str(ENTRY), "workload", "--sandbox", "--rate", "20", "--duration", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    record = pid_file(home / "state", "dev")
    try:
        _wait(lambda: record.is_file(), "the workload's pid file")
        code = cli_main(["workload", "--sandbox", "--duration", "1"])
        assert code == 2
        assert f"already writes to environment dev's source (pid {first.pid})" in capsys.readouterr().err
        time.sleep(1.5)  # some changes first
        first.send_signal(signal.SIGINT)  # Ctrl+C
        out, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, (out, err)
    assert "Ctrl+C:" in out and " changes in " in out, out
    assert not record.exists()
