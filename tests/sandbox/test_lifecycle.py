"""The sandbox's story: `up` starts a daemon and two clusters and creates no AWS object; the Provision step's boto3
path creates them once; both databases accept the secrets' credentials through their forwarders, a second `up`
reuses everything, crashed pieces come back (a restarted daemon forgets the environment, which is provisioned
again), and `down` leaves no process behind.

One sandbox for the whole module (cold `up` takes seconds); the tests run in file order and the last one takes it
down.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dms_tui.cli import main as cli_main
from dms_tui.environment import Environment
from dms_tui.sandbox.environment import running_sandbox, sandbox_environment
from dms_tui.sandbox.lifecycle import (
    DAEMON_MODULE,
    DaemonControl,
    EnvironmentForgotten,
    PieceRestarted,
    PieceReused,
    ProvisionPathChosen,
    Sandbox,
    SandboxError,
    SandboxInfo,
    process_alive,
)
from dms_tui.sandbox.postgres import PostgresBinariesNotFound, find_server_bindir
from dms_tui.sandbox.provisioner import ResourceCreated, SandboxLayout, provision_with_api, read_secret


@pytest.fixture(scope="module")
def sandbox_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox-home")


@pytest.fixture(scope="module")
def sandbox(sandbox_home: Path) -> Iterator[Sandbox]:
    try:
        find_server_bindir()
    except PostgresBinariesNotFound as exc:
        pytest.skip(str(exc))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DMS_TUI_HOME", str(sandbox_home))  # the daemon's log goes under this module's home
        box = Sandbox(sandbox_home / "state" / "sandbox", region="us-east-1", provision="api")
        yield box
        box.down(keep_data=False)


@pytest.fixture(scope="module")
def first_up(sandbox: Sandbox) -> tuple[SandboxInfo, list[Any]]:
    events: list[Any] = []
    bare = sandbox.up(events.append)
    assert bare.outputs is None and not any(isinstance(e, ResourceCreated) for e in events)
    return sandbox.provision_api(on_event=events.append), events


def _object_count(info: SandboxInfo) -> int:
    """How many AWS objects of the kinds the environment has exist in moto (VPCs, clusters, secrets, DMS...)."""
    target = sandbox_environment(info)
    return (
        len(target.client("ec2").describe_vpcs()["Vpcs"])
        + len(target.client("rds").describe_db_clusters()["DBClusters"])
        + len(target.client("secretsmanager").list_secrets()["SecretList"])
        + len(target.client("dms").describe_replication_instances()["ReplicationInstances"])
        + len(target.client("iam").list_roles()["Roles"])
    )


@pytest.fixture
def home(sandbox_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI's default sandbox directory at this module's sandbox."""
    monkeypatch.setenv("DMS_TUI_HOME", str(sandbox_home))
    return sandbox_home


def _login(target: Environment, secret_arn: str) -> tuple[Any, ...]:
    secret = read_secret(target, secret_arn)
    host, port = target.resolve(secret["host"], int(secret["port"]))
    with psycopg.connect(
        host=host,
        port=port,
        user=secret["username"],
        password=secret["password"],
        dbname=secret["dbname"],
        connect_timeout=5,
        **target.database_tls.libpq_params(),  # verify-ca against the sandbox's CA, as every client here
    ) as conn:
        row = conn.execute(
            "SELECT current_database(), inet_server_port(), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone()
        assert row is not None and row[2] is True, "the session must use TLS"
        return tuple(row[:2])


def _sandbox_pids(info: SandboxInfo, sandbox: Sandbox) -> list[int]:
    pids = [info.daemon_pid]
    for side in ("source", "target"):
        pid = sandbox.cluster(side).pid()
        assert pid is not None
        pids.append(pid)
    return pids


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if text in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(proc.name))
    return found


def test_up_starts_everything_and_both_databases_accept_the_secrets_through_the_forwarders(
    first_up: tuple[SandboxInfo, list[Any]], sandbox: Sandbox
) -> None:
    info, events = first_up
    assert process_alive(info.daemon_pid, DAEMON_MODULE)
    assert any(isinstance(e, ProvisionPathChosen) for e in events)
    target = sandbox_environment(info)
    control = DaemonControl(info.aws_endpoint_url)
    before = {f["name"]: f["connections_accepted"] for f in control.forwarders()}
    for side, outputs in (("source", info.outputs.source), ("target", info.outputs.target)):
        dbname, server_port = _login(target, outputs.secret_arn)
        assert dbname == outputs.database_name == "demo_db"
        assert server_port == info.cluster_ports[side]
        assert target.resolve(outputs.endpoint_dns_name, 5432)[1] != info.cluster_ports[side]
    after = {f["name"]: f["connections_accepted"] for f in control.forwarders()}
    assert {name: after[name] - before[name] for name in after} == {"dev.source-endpoint": 1, "dev.target-endpoint": 1}
    with sandbox.cluster("source").admin_connection() as conn:
        assert conn.execute("SHOW wal_level").fetchone() == ("logical",)


def test_a_second_up_reuses_the_running_sandbox(first_up: tuple[SandboxInfo, list[Any]], sandbox: Sandbox) -> None:
    info, _ = first_up
    objects = _object_count(info)
    events: list[Any] = []
    started = time.monotonic()
    again = sandbox.up(events.append)
    assert time.monotonic() - started < 5
    assert sorted(e.piece for e in events if isinstance(e, PieceReused)) == ["daemon", "source", "target"]
    assert not any(isinstance(e, ProvisionPathChosen | ResourceCreated) for e in events)
    assert again.daemon_pid == info.daemon_pid and again.outputs == info.outputs and again.host_map == info.host_map
    # The boto3 path run again (a second Provision) reuses what it created: nothing is created twice.
    events.clear()
    assert sandbox.provision_api(on_event=events.append).outputs == info.outputs
    assert not any(isinstance(e, ResourceCreated) for e in events)
    assert _object_count(info) == objects


def test_a_cluster_running_without_tls_is_restarted_with_it(
    first_up: tuple[SandboxInfo, list[Any]], sandbox: Sandbox
) -> None:
    """A sandbox state dir from before the clusters served TLS: `up` restarts them with it, their data kept."""
    info, _ = first_up
    assert sandbox_environment(info).database_tls.libpq_params() == {
        "sslmode": "verify-ca",
        "sslrootcert": str(sandbox.workdir / "tls" / "ca.crt"),
    }
    cluster = sandbox.cluster("target", info.cluster_ports["target"])
    cluster.stop()
    plain_options = " ".join(o for o in cluster.server_options() if "ssl" not in o)
    pg_ctl = [str(cluster.bindir / "pg_ctl"), "start", "-w", "-D", str(cluster.datadir), "-l", str(cluster.logfile)]
    assert cluster._run([*pg_ctl, "-o", plain_options]).returncode == 0
    assert not cluster.serves_tls()

    events: list[Any] = []
    again = sandbox.up(events.append)
    assert [(e.piece, "to serve TLS" in e.reason) for e in events if isinstance(e, PieceRestarted)] == [
        ("target", True)
    ]
    assert cluster.serves_tls() and again.outputs == info.outputs
    assert _login(sandbox_environment(again), info.outputs.target.secret_arn)[0] == "demo_db"


def test_commands_see_the_running_sandbox(
    first_up: tuple[SandboxInfo, list[Any]], home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    info, _ = first_up
    target, outputs = running_sandbox()
    assert target.mode == "sandbox" and target.aws_endpoint_url == info.aws_endpoint_url
    assert outputs == info.outputs and dict(target.host_map) == dict(info.host_map)

    assert cli_main(["sandbox", "up", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {"source_url", "target_url", "aws_endpoint_url", "region", "workdir"} <= document.keys()
    assert document["workdir"] == str(info.workdir) and document["aws_endpoint_url"] == info.aws_endpoint_url
    passwords = [read_secret(target, s.secret_arn)["password"] for s in (outputs.source, outputs.target)]
    assert not any(p in json.dumps(document) for p in passwords)

    assert cli_main(["sandbox", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["status"] == "running" and len(status["forwarders"]) == 2
    assert status["environments"] == {"dev": True}


def test_forwarder_faults_through_the_daemon_control_api(first_up: tuple[SandboxInfo, list[Any]]) -> None:
    info, _ = first_up
    target = sandbox_environment(info)
    control = DaemonControl(info.aws_endpoint_url)
    arn = info.outputs.target.secret_arn
    try:
        control.set_latency("dev.target-endpoint", 0.1)
        started = time.monotonic()
        _login(target, arn)
        assert time.monotonic() - started >= 0.5  # a login is several round trips, each slowed twice
        control.set_latency("dev.target-endpoint", 0)
        control.set_refusing("dev.target-endpoint", True)
        with pytest.raises(psycopg.OperationalError):
            _login(target, arn)
    finally:
        control.set_refusing("dev.target-endpoint", False)
        control.set_latency("dev.target-endpoint", 0)
    secret = read_secret(target, arn)
    host, port = target.resolve(secret["host"], 5432)
    with psycopg.connect(
        host=host,
        port=port,
        user=secret["username"],
        password=secret["password"],
        dbname=secret["dbname"],
        connect_timeout=5,
    ) as conn:
        control.drop_connections("dev.target-endpoint")
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
    with pytest.raises(SandboxError, match="no forwarder named"):
        control.drop_connections("nope")


def test_crashed_pieces_are_reported_then_restarted(first_up: tuple[SandboxInfo, list[Any]], sandbox: Sandbox) -> None:
    info, _ = first_up
    old_daemon = info.daemon_pid
    old_postmaster = sandbox.cluster("target").pid()
    assert old_postmaster is not None
    os.kill(old_daemon, signal.SIGKILL)
    # The postmaster runs as another user, but we are root here (see conftest); a crash is a SIGKILL.
    os.kill(old_postmaster, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while (process_alive(old_daemon) or process_alive(old_postmaster)) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(old_daemon, os.WNOHANG)
        time.sleep(0.05)
    states = {p.piece: p.state for p in sandbox.status().pieces}
    assert states == {"daemon": "crashed", "source": "running", "target": "crashed"}

    events: list[Any] = []
    restarted = sandbox.up(events.append)
    assert sorted(e.piece for e in events if isinstance(e, PieceRestarted)) == ["daemon", "target"]
    assert restarted.daemon_pid != old_daemon
    # moto's memory went with the old daemon: the environment is forgotten (and says so) until provisioned again.
    assert [e.env for e in events if isinstance(e, EnvironmentForgotten)] == ["dev"]
    assert restarted.outputs is None and sandbox.info().outputs is None
    restarted = sandbox.provision_api()
    assert restarted.outputs is not None
    assert restarted.outputs.source.secret_arn != info.outputs.source.secret_arn
    target = sandbox_environment(restarted)
    for outputs in (restarted.outputs.source, restarted.outputs.target):
        assert _login(target, outputs.secret_arn)[0] == "demo_db"
    assert sandbox.status().overall == "running"


def test_outputs_provisioned_outside_up_are_adopted(first_up: Any, sandbox: Sandbox) -> None:
    # As when the wizard's provisioning step applies the bundle against the running daemon: new objects, new
    # secrets, new interface endpoint names; the sandbox re-binds its clusters and forwarders to them.
    before = sandbox.info()
    outputs = provision_with_api(sandbox_environment(before), SandboxLayout.for_env("adopted"))
    assert outputs.source.endpoint_dns_name not in before.host_map
    adopted = sandbox.adopt_outputs(outputs, reason="applied outside up")
    assert adopted.provision_path == "terraform" and adopted.provision_reason == "applied outside up"
    assert sandbox.info().outputs == outputs
    target = sandbox_environment(adopted)
    for side in (outputs.source, outputs.target):
        assert side.endpoint_dns_name in adopted.host_map
        assert _login(target, side.secret_arn)[0] == "demo_db"
    # The forwarders were re-pointed in place: same listening ports, new names.
    assert sorted(adopted.host_map.values()) == sorted(before.host_map.values())


def test_no_password_reaches_the_disk(first_up: Any, sandbox: Sandbox, sandbox_home: Path) -> None:
    # Everything the sandbox wrote (state, daemon log, server logs) is under its home; the clusters' data files
    # hold only scram verifiers, so they are left out.
    info = sandbox.info()
    target = sandbox_environment(info)
    passwords = [
        read_secret(target, s.secret_arn)["password"].encode() for s in (info.outputs.source, info.outputs.target)
    ]
    written = [p for p in sandbox_home.rglob("*") if p.is_file() and "data" not in p.relative_to(sandbox_home).parts]
    written += [sandbox.cluster(side).logfile for side in ("source", "target")]
    assert {"sandbox.json", "daemon.json", "sandbox-daemon.log"} <= {p.name for p in written}
    leaks = [str(p) for p in written if p.exists() and any(pw in p.read_bytes() for pw in passwords)]
    assert leaks == []


def test_down_leaves_no_process_behind_and_keeps_or_removes_data(sandbox: Sandbox, first_up: Any) -> None:
    info = sandbox.info()
    pids = _sandbox_pids(info, sandbox)
    report = sandbox.down(keep_data=True)
    assert report.leftover_pids == () and not report.data_removed
    assert not any(process_alive(pid) for pid in pids)
    assert _processes_mentioning(str(sandbox.workdir)) == []
    assert sandbox.status().overall == "stopped"
    with pytest.raises(SandboxError, match="sandbox up"):
        sandbox.info()

    # Data was kept: a later `up` starts again from it; the empty moto holds nothing of the environment.
    again = sandbox.up()
    assert again.outputs is None
    with sandbox.cluster("source").admin_connection("demo_db") as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    pids = _sandbox_pids(again, sandbox)
    assert sandbox.down(keep_data=False).data_removed
    assert not any(process_alive(pid) for pid in pids)
    assert not sandbox.workdir.exists()
    assert sandbox.status().overall == "absent"
