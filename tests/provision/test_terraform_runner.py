"""The terraform runner against the fake terraform: events flow, logs are written and scrubbed, cancel stops it."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from dms_tui.provision.events import (
    ApplyStart,
    CommandFinished,
    CommandStarted,
    Diagnostic,
    TerraformEvent,
    TerraformMessage,
)
from dms_tui.provision.progress import reduce_events
from dms_tui.provision.runner import TerraformError, TerraformProcess, TerraformRunner, run_sync, scrub
from dms_tui.provision.workspace import TerraformNotFound


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purposes once its state is Z.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[1][0] != "Z"


def _runner(fake, grace: float = 5.0, **knobs: str | float) -> TerraformRunner:
    return TerraformRunner(
        fake.workdir,
        terraform=str(fake.path),
        env=fake.env(**knobs),
        var_file=Path("../variables/dev/common.tfvars.json"),
        grace_period=grace,
    )


async def _collect(process: TerraformProcess) -> list[TerraformEvent]:
    return [event async for event in process]


async def test_an_apply_streams_events_between_started_and_finished_and_logs_every_line(fake_terraform, streams):
    process = _runner(fake_terraform).apply("tfplan")
    events = await _collect(process)
    assert isinstance(events[0], CommandStarted) and isinstance(events[-1], CommandFinished)
    started = events[0]
    assert started.argv[-3:] == ("-json", "-input=false", "tfplan")  # the tool reads the machine stream
    # A person's copy runs from any directory and prints terraform's human output.
    assert started.command_line.endswith(f"-chdir={started.cwd} apply -input=false tfplan"), started.command_line
    assert events[-1].ok and process.returncode == 0
    progress = reduce_events(events)
    assert progress.planned == progress.done == 6

    log = Path(events[-1].log_path).read_text()
    recorded = (streams / "apply.jsonl").read_text().splitlines()
    assert Path(events[-1].log_path).parent == Path(os.environ["DMS_TUI_HOME"]) / "logs"
    assert sum(1 for line in log.splitlines() if line.startswith("{")) == len(recorded)


async def test_plan_passes_the_var_file_and_saves_the_plan_file(fake_terraform):
    events = await _collect(_runner(fake_terraform).plan("tfplan"))
    assert events[-1].ok
    argv = json.loads(fake_terraform.invocations()[-1])
    assert argv[:2] == ["plan", "-json"] and "-out=tfplan" in argv
    assert "-var-file=../variables/dev/common.tfvars.json" in argv
    assert (fake_terraform.workdir / "tfplan").exists()


async def test_a_failed_plan_ends_with_a_nonzero_exit_and_its_diagnostic(fake_terraform):
    events = await _collect(_runner(fake_terraform, plan="plan_invalid_cidr.jsonl").plan())
    assert events[-1].returncode == 1 and not events[-1].ok
    assert [d.address for d in events if isinstance(d, Diagnostic)] == ["module.network.aws_subnet.private[0]"]


async def test_interrupt_sends_sigint_and_terraform_stops_gracefully(fake_terraform):
    process = _runner(fake_terraform, delay=0.05).apply()
    events: list[TerraformEvent] = []
    async for event in process:
        events.append(event)
        if isinstance(event, ApplyStart):
            await process.interrupt()
    finished = events[-1]
    assert isinstance(finished, CommandFinished)
    assert finished.interrupted and finished.returncode == 1 and not finished.ok
    assert any(isinstance(e, TerraformMessage) and "Interrupt received" in e.message for e in events)
    assert any(isinstance(e, Diagnostic) and e.summary == "execution halted" for e in events)
    assert not _alive(fake_terraform.pid())


async def test_cancelling_the_worker_task_never_leaves_terraform_running(fake_terraform):
    process = _runner(fake_terraform, delay=0.2).apply()
    started = asyncio.Event()

    async def worker() -> None:
        async for event in process:
            if isinstance(event, ApplyStart):
                started.set()

    task = asyncio.create_task(worker())
    await asyncio.wait_for(started.wait(), timeout=20)
    pid = fake_terraform.pid()
    assert _alive(pid)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert process.interrupted and process.returncode == 1  # it exited by itself after SIGINT (graceful)
    assert not _alive(pid)
    log = process.log_path.read_text()
    # terraform's shutdown messages were drained into the log while we waited for it to exit
    assert "Interrupt received" in log and "stopped by dms-tui" in log


async def test_a_terraform_that_ignores_sigint_is_terminated_after_the_grace_period(fake_terraform):
    process = _runner(fake_terraform, grace=0.3, delay=0.05, ignore_sigint="1").apply()
    events: list[TerraformEvent] = []
    async for event in process:
        events.append(event)
        if isinstance(event, ApplyStart) and not process.interrupted:
            await process.interrupt()
    assert events[-1].returncode < 0  # killed by a signal (SIGTERM), not a clean exit
    assert not _alive(fake_terraform.pid())


def test_output_reads_the_json_document_and_keeps_values_out_of_the_log(fake_terraform, streams):
    runner = _runner(fake_terraform)
    outputs = asyncio.run(runner.output())
    assert outputs == json.loads((streams / "output.json").read_text())
    logs = list((Path(os.environ["DMS_TUI_HOME"]) / "logs").glob("*output*.log"))
    assert logs and outputs["vpc_id"]["value"] not in logs[0].read_text()


def test_output_failure_says_what_to_do(tmp_path):
    runner = TerraformRunner(tmp_path, terraform="false")
    with pytest.raises(TerraformError, match="provision apply"):
        asyncio.run(runner.output())


def test_a_missing_terraform_binary_is_a_clear_error_with_install_instructions(tmp_path):
    process = TerraformRunner(tmp_path, terraform=str(tmp_path / "no-such-terraform")).plan()
    with pytest.raises(TerraformNotFound, match="Install terraform 1.11"):
        run_sync(process)


def test_run_sync_drives_a_process_from_plain_code(fake_terraform):
    seen: list[TerraformEvent] = []
    assert run_sync(_runner(fake_terraform).destroy(), seen.append) == 0
    assert reduce_events(seen).done == 6


def test_secret_looking_values_are_scrubbed_from_log_lines():
    line = json.dumps({"type": "log", "@message": "x", "master_password": "s3cr3t-Value", "secret_arn": "arn:keep"})
    assert "s3cr3t" not in scrub(line) and "arn:keep" in scrub(line)
    nested = json.dumps({"@message": json.dumps({"password": "inner-s3cr3t", "username": "postgres"})})
    assert "inner-s3cr3t" not in scrub(nested) and "postgres" in scrub(nested)
    assert scrub("PGPASSWORD=abc123 psql -h host") == "PGPASSWORD=*** psql -h host"
    assert scrub("aws_secretsmanager_secret.db: Creating...") == "aws_secretsmanager_secret.db: Creating..."


async def test_a_secret_in_the_stream_never_reaches_the_log(fake_terraform, tmp_path):
    streams = tmp_path / "streams"
    streams.mkdir()
    (streams / "apply.jsonl").write_text(
        json.dumps({"type": "log", "@message": "debug", "secret_string": '{"password":"pw-AbC123"}'})
        + "\nnot json: token=tok-XyZ789\n"
    )
    events = await _collect(_runner(fake_terraform, streams=str(streams)).apply())
    log = Path(events[-1].log_path).read_text()
    assert "pw-AbC123" not in log and "tok-XyZ789" not in log and "***" in log


def test_scrubbing_leaves_every_recorded_terraform_line_untouched(streams):
    # The recordings hold no secret (write-only passwords are never printed), and scrubbing must not mangle
    # resource addresses such as `ephemeral.aws_secretsmanager_random_password.master`.
    for recording in streams.glob("*.json*"):
        for line in recording.read_text(encoding="utf-8").splitlines():
            assert scrub(line) == line, (recording.name, line[:200])
