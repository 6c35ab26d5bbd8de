"""`dms-tui verify` and `dms-tui seed` headless: exit codes, one JSON document, nothing secret printed."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from moto_environment import MotoWorld  # type: ignore[import-not-found]

from dms_tui import cli
from dms_tui.commands import seed as seed_command
from dms_tui.commands import verify as verify_command
from dms_tui.environment import OpenedEnvironment
from dms_tui.journey import Journey, Step


@pytest.fixture
def wired(environment: MotoWorld, monkeypatch: pytest.MonkeyPatch) -> MotoWorld:
    """The commands find this environment as they would find a running sandbox."""

    def open_environment(request: Any, **_: Any) -> OpenedEnvironment:
        return OpenedEnvironment(environment.target, identity="moto in-process")

    # Seed prepares the databases the outputs name (the seed's demo_db on both sides, as terraform records them).
    outputs = environment.outputs
    seeded = replace(
        outputs,
        source=replace(outputs.source, database_name="demo_db"),
        target=replace(outputs.target, database_name="demo_db"),
    )

    def open_seed_environment(request: Any, **_: Any) -> OpenedEnvironment:
        return OpenedEnvironment(environment.target.with_outputs(seeded), identity="moto in-process")

    monkeypatch.setattr(verify_command, "open_environment", open_environment)
    monkeypatch.setattr(seed_command, "open_environment", open_seed_environment)
    return environment


def test_verify_json_on_a_healthy_environment_exits_0_with_one_document(
    wired: MotoWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["verify", "--json"])
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert code == 0 and document["passed"] is True and document["counts"]["fail"] == 0
    assert {c["id"] for c in document["checks"]} >= {"source.login", "target.dms_test"}
    assert all(p not in out + err for p in wired.passwords.values())


def test_verify_exits_1_and_explains_when_a_hop_is_down(wired: MotoWorld, capsys: pytest.CaptureFixture[str]) -> None:
    wired.forwarders["source"].set_refusing(True)
    code = cli.main(["verify", "--timeout", "3"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "closed it at once" in out and "forwarder is refusing" in out and "nc -vz" in out


def test_verify_without_an_environment_exits_2_and_says_what_to_do(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["verify", "--sandbox"])  # no sandbox is running
    _, err = capsys.readouterr()
    assert code == 2 and "sandbox up" in err
    code = cli.main(["verify", "--sandbox", "--env", "nowhere"])
    _, err = capsys.readouterr()
    assert code == 2 and "→ " in err


def test_verify_twice_on_the_same_environment_passes_both_times_and_records_the_run(
    wired: MotoWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # The second run asks DMS to test the same (replication instance, endpoint) pairs again: moto 5.2.5 broke here.
    for _ in range(2):
        code = cli.main(["verify", "--json"])
        document = json.loads(capsys.readouterr().out)
        assert code == 0, {c["id"]: c["detail"] for c in document["checks"] if c["status"] not in ("ok", "warn")}
        assert {c["id"]: c["status"] for c in document["checks"]}["source.dms_test"] == "ok"
    state = Journey.resume_or_start("dev", wired.target.mode).state
    assert state.verify is not None and state.verify.passed and state.is_done(Step.VERIFY)
    assert state.verify.counts == document["counts"]


def test_seed_prepares_both_sides_once_and_reports_as_json(
    wired: MotoWorld, pg_source: Any, pg_target: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # The command always uses the seed's names (demo_db); start from a clean slate on both clusters.
    for server in (pg_source, pg_target):
        server.cluster.drop_database("demo_db")
    try:
        assert cli.main(["seed", "--json"]) == 0
        first = json.loads(capsys.readouterr().out)
        assert first["source"]["table"]["rows"] == 4 and first["target"]["database_created"] is True
        assert "CREATE TABLE" in first["ddl"]

        assert cli.main(["seed", "--json", "--rows", "100", "--if-exists", "truncate", "--primary-key"]) == 0
        second, err = capsys.readouterr()
        document = json.loads(second)
        assert document["source"]["rows_before"] == 4 and document["source"]["table"]["rows"] == 100
        assert document["source"]["table"]["has_primary_key"] is True
        assert document["target"]["database_created"] is False
        assert "already exists with 4 rows; policy: truncate" in err
        assert all(p not in second + err for p in wired.passwords.values())
        with psycopg.connect(pg_target.url("demo_db")) as conn:
            assert conn.execute("select current_database()").fetchone() == ("demo_db",)
    finally:
        for server in (pg_source, pg_target):
            server.cluster.drop_database("demo_db")


@pytest.fixture
def sandbox() -> Any:
    from dms_tui.sandbox.lifecycle import Sandbox

    running = Sandbox(region="us-east-1", env="dev")
    running.up_provisioned()  # up, then the boto3 path the Provision step takes without terraform
    yield running
    running.down(keep_data=False)


def test_verify_twice_on_a_real_sandbox_passes_and_its_aws_commands_run_as_printed(
    sandbox: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import os
    import shlex
    import shutil
    import subprocess

    for attempt in (1, 2):  # the second run tests the same DMS connections again (moto 5.2.5 failed here)
        code = cli.main(["verify", "--sandbox", "--json"])
        document = json.loads(capsys.readouterr().out)
        problems = {c["id"]: c["detail"] for c in document["checks"] if c["status"] not in ("ok", "warn")}
        assert code == 0, (attempt, problems)
        assert all("<" not in c["detail"] for c in document["checks"])
    if shutil.which("aws") is None:
        pytest.skip("the aws CLI is not installed; the commands were checked by shape only")
    commands = [c["command"] for c in document["checks"] if c["command"].startswith("AWS_")]
    assert len(commands) >= 13
    # A shell with no AWS variables and no ~/.aws: only what the printed line says.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"HOME": str(tmp_path)}
    for command in commands:
        ran = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60, env=clean)  # noqa: S602
        assert ran.returncode == 0, (shlex.split(command)[:6], ran.stderr[-400:])
