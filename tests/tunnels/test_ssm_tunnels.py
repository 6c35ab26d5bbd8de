# ruff: noqa: S608 - SQL of constant test tables
"""Story: on a laptop, `dms-tui --tunnel` reaches the databases (which answer only inside the DMS VPC) through one
Session Manager port-forwarding session per interface endpoint via the bastion; the endpoint names resolve to the
tunnels exactly as the sandbox's names resolve to its forwarders; verify, seed and diff run through them; a tunnel
that drops is re-opened; every session ends when dms-tui does.

The AWS CLI and the Session Manager plugin are stand-ins (tests/tunnels/standin, first on PATH) that listen on the
local port and relay to the session's real PostgreSQL clusters, as the bastion would relay to the endpoints. The AWS
objects are moto's (tests/checks/moto_environment.py); its environment keeps the sandbox's emulator quirks (moto
omits some fields, the test clusters have no TLS), which are unrelated to how the hostnames are reached.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from moto import mock_aws

from dms_tui import exit_codes
from dms_tui.aws.ssm_tunnels import (
    SsmTunnels,
    TunnelDropped,
    TunnelEndpoint,
    TunnelEvent,
    TunnelOpened,
    TunnelReopened,
    TunnelsClosed,
)
from dms_tui.checks.plan import verify
from dms_tui.data.connect import connection_params, read_credentials
from dms_tui.data.demo_databases import PrepareChoice
from dms_tui.environment import Environment, EnvironmentRequest, open_environment, open_tunnels, request_from_args
from dms_tui.errors import StepError
from dms_tui.processes import process_alive
from dms_tui.steps.diff import DiffInputs, diff_report
from dms_tui.steps.migrate import read_source_tables
from dms_tui.steps.prepare import Prepared, run_prepare
from tests.checks.moto_environment import FAST, REGION, MotoWorld
from tests.tunnels.ssm_standin import BASTION, SsmStandIn, postgres_answers, write_terraform_outputs

TABLE = "demo_schema.demo_accounts"
#: How long the tests wait for a re-open they expect (a deadline for a hung run, not a timing assertion).
PATIENCE = 60.0


def _wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def _tunnelled(world: MotoWorld) -> Environment:
    """The world's environment with its forwarders forgotten: the names reach PostgreSQL only through tunnels."""
    return open_tunnels(replace(world.target, host_map={}))


def test_verify_seed_migrate_preview_and_diff_run_through_the_tunnels(
    routed: MotoWorld, ssm_standin: SsmStandIn, pg_target: Any
) -> None:
    environment = _tunnelled(routed)
    try:
        source, target = routed.outputs.source.endpoint_dns_name, routed.outputs.target.endpoint_dns_name
        assert environment.tunnels is not None
        # one session per endpoint, each through the bastion from the outputs, each name mapped to its own port
        commands = [words for words in ssm_standin.lines("aws")]
        assert len(commands) == 2 and all(BASTION in words for words in commands)
        assert all("AWS-StartPortForwardingSessionToRemoteHost" in words for words in commands)
        ports = {environment.resolve(name, 5432) for name in (source, target)}
        assert len(ports) == 2 and all(host == "127.0.0.1" for host, _ in ports)
        assert not {port for _, port in ports} & {f.port for f in routed.forwarders.values()}

        report = verify(environment, routed.outputs, options=FAST)
        assert report.passed, {r.id: r.detail for r in report.results if not r.passed}
        assert "Session Manager port-forwarding tunnel" in report.by_id("source.dns").detail
        assert ssm_standin.accepted(source) >= 2 and ssm_standin.accepted(target) >= 2  # tcp probe + login

        before = ssm_standin.accepted(source)
        events = list(run_prepare(environment, PrepareChoice(rows=300, if_exists="recreate", primary_key=True)))
        [prepared] = [e for e in events if isinstance(e, Prepared)]
        assert prepared.record.source_rows == 300
        assert ssm_standin.accepted(source) > before

        # Migrate reads the source catalog (its task preview) through the source tunnel; DMS itself runs in the VPC
        before = ssm_standin.accepted(source)
        [catalog] = [t for t in read_source_tables(environment, routed.outputs) if str(t.name) == TABLE]
        assert catalog.primary_key == ("accountnumber",)
        assert ssm_standin.accepted(source) == before + 1

        # the target gets the source's DDL and none of its rows: the diff, through the tunnels, finds 300 missing
        with psycopg.connect(pg_target.url(routed.outputs.target.database_name), autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS demo_schema CASCADE")
            for statement in prepared.ddl.split(";\n")[1:]:  # the database exists already: schema, table, key
                conn.execute(statement.rstrip(";"))  # type: ignore[arg-type]
        before = ssm_standin.accepted(target)
        done = diff_report(environment, None, DiffInputs(tables=(TABLE,)))
        [table] = done.report.tables
        assert (table.source_rows, table.target_rows) == (300, 0) and table.missing_in_target and not table.identical
        assert ssm_standin.accepted(target) > before
    finally:
        environment.close()


def test_a_killed_tunnel_is_reopened_on_the_same_port_and_every_session_ends_on_close(
    routed: MotoWorld, ssm_standin: SsmStandIn
) -> None:
    events: list[TunnelEvent] = []
    side = routed.outputs.source
    tunnels = SsmTunnels(
        BASTION,
        [TunnelEndpoint("source", side.endpoint_dns_name, side.port)],
        aws_flags=["--region", REGION],
        on_event=events.append,
        backoff=(0.2,),
        poll_interval=0.1,
    )
    tunnels.open()
    try:
        [(host, port)] = tunnels.host_map.values()
        assert postgres_answers((host, port)) == b"S"
        [first] = ssm_standin.plugin_pids()
        os.kill(first, signal.SIGKILL)  # the session dies as when the network drops: the CLI exits after it
        _wait_for(lambda: any(isinstance(e, TunnelReopened) for e in events), "the tunnel to re-open")
        assert [type(e) for e in events] == [TunnelOpened, TunnelDropped, TunnelReopened]
        assert isinstance(events[1], TunnelDropped) and events[1].local_port == port
        assert tunnels.host_map == {side.endpoint_dns_name.lower(): (host, port)}  # the same address as before
        assert postgres_answers((host, port)) == b"S"
    finally:
        tunnels.close()
    assert isinstance(events[-1], TunnelsClosed) and events[-1].count == 1
    # no orphan: every CLI and every plugin this run started is gone (the plugin is the CLI's child, in its group)
    started = ssm_standin.aws_pids() + ssm_standin.plugin_pids()
    assert len(started) == 4
    _wait_for(lambda: not any(process_alive(pid) for pid in started), "every session process to end")
    with pytest.raises(OSError):
        postgres_answers((host, port))


def test_the_tunnel_flag_opens_the_aws_environment_with_its_names_mapped_and_closes_them(
    routed: MotoWorld, ssm_standin: SsmStandIn, tmp_path: Path
) -> None:
    """`dms-tui --tunnel` (AWS mode): the outputs name the bastion and the endpoints; the identity comes first."""
    outputs_file = write_terraform_outputs(routed, tmp_path / "outputs.json")
    from dms_tui.cli import build_parser

    request = request_from_args(build_parser().parse_args(["verify", "--tunnel", "--region", REGION]))
    assert request == EnvironmentRequest(region=REGION, tunnel=True)
    opened = open_environment(request, outputs_file=outputs_file)
    environment = opened.environment
    try:
        assert environment.mode == "aws" and environment.tunnels is not None
        assert "--tunnel" in environment.cli_flags() and "tunnels through the bastion" in environment.label
        credentials = read_credentials(environment, routed.outputs.target.secret_arn)
        params = connection_params(credentials, environment)
        assert (params["host"], params["port"]) == environment.tunnels.host_map[credentials.host.lower()]
        assert postgres_answers((params["host"], params["port"])) == b"S"
    finally:
        environment.close()
    assert not any(process_alive(pid) for pid in ssm_standin.plugin_pids())


def test_without_the_session_manager_plugin_the_message_says_how_to_install_it(
    routed: MotoWorld, ssm_standin: SsmStandIn
) -> None:
    ssm_standin.remove_plugin()
    with pytest.raises(StepError) as raised:
        _tunnelled(routed)
    error = raised.value
    assert "Session Manager plugin is not installed" in error.what
    assert "session-manager-working-with-install-plugin" in error.next_step and "brew install" in error.next_step
    assert error.exit_code == exit_codes.NOT_RUN
    assert ssm_standin.aws_pids() == []  # nothing was started half-way


def test_without_the_aws_cli_the_message_says_how_to_install_it(
    routed: MotoWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither aws nor the plugin
    with pytest.raises(StepError) as raised:
        _tunnelled(routed)
    assert "AWS CLI" in raised.value.what and "getting-started-install" in raised.value.next_step


def test_a_bastion_that_is_not_connected_is_named_and_nothing_keeps_running(
    routed: MotoWorld, ssm_standin: SsmStandIn
) -> None:
    wrong = replace(routed.outputs, bastion_instance_id="i-0fffffffffffffff0")
    with pytest.raises(StepError) as raised:
        open_tunnels(replace(routed.target, host_map={}, outputs=wrong))
    assert "did not open" in raised.value.what and "TargetNotConnected" in raised.value.why
    assert "aws ssm start-session --target i-0fffffffffffffff0" in raised.value.next_step
    assert not any(process_alive(pid) for pid in ssm_standin.aws_pids())


def test_tunnel_and_sandbox_together_are_refused() -> None:
    with pytest.raises(StepError, match="do not go together"):
        open_environment(EnvironmentRequest(sandbox=True, tunnel=True))


@mock_aws
def test_before_provisioning_the_tunnel_flag_notes_that_tunnels_open_later(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    opened = open_environment(EnvironmentRequest(region=REGION, tunnel=True))
    assert opened.environment.tunnel and opened.environment.tunnels is None
    assert "not provisioned" in opened.note


def test_a_headless_command_ended_by_sigterm_leaves_no_session_behind(ssm_standin: SsmStandIn) -> None:
    """A terminal that closes or a supervisor that stops dms-tui sends SIGTERM: the tunnels end with the process."""
    script = (
        "import time\n"
        "from dms_tui.aws.ssm_tunnels import SsmTunnels, TunnelEndpoint\n"
        f"tunnels = SsmTunnels({BASTION!r}, [TunnelEndpoint('source', 'vpce-1.example', 5432)])\n"
        "tunnels.open()\n"
        "print('open', flush=True)\n"
        "time.sleep(120)\n"
    )
    command = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert command.stdout is not None and command.stdout.readline().strip() == "open"
    started = ssm_standin.aws_pids() + ssm_standin.plugin_pids()
    assert len(started) == 2 and all(process_alive(pid) for pid in started)
    command.send_signal(signal.SIGTERM)
    assert command.wait(PATIENCE) == 128 + signal.SIGTERM
    _wait_for(lambda: not any(process_alive(pid) for pid in started), "every session process to end")


def test_sessions_of_a_killed_dms_tui_are_ended_by_the_next_one(
    routed: MotoWorld, ssm_standin: SsmStandIn, tmp_path: Path
) -> None:
    """SIGKILL gives dms-tui no chance to close its tunnels; the next start ends them from their record."""
    records = tmp_path / "ssm-tunnels"
    side = routed.outputs.source
    script = (
        "import time\n"
        "from dms_tui.aws.ssm_tunnels import SsmTunnels, TunnelEndpoint\n"
        f"tunnels = SsmTunnels({BASTION!r}, [TunnelEndpoint('source', {side.endpoint_dns_name!r}, 5432)], "
        f"records=__import__('pathlib').Path({str(records)!r}))\n"
        "tunnels.open()\n"
        "print('open', flush=True)\n"
        "time.sleep(120)\n"
    )
    killed = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert killed.stdout is not None and killed.stdout.readline().strip() == "open"
    orphans = ssm_standin.aws_pids() + ssm_standin.plugin_pids()
    killed.kill()
    killed.wait(PATIENCE)
    assert all(process_alive(pid) for pid in orphans)  # the sessions outlived their owner

    tunnels = SsmTunnels(BASTION, [TunnelEndpoint("source", side.endpoint_dns_name, 5432)], records=records)
    tunnels.open()
    try:
        _wait_for(lambda: not any(process_alive(pid) for pid in orphans), "the orphaned sessions to end")
        assert [path.name for path in records.iterdir()] == [f"{os.getpid()}.json"]
        assert postgres_answers(next(iter(tunnels.host_map.values()))) == b"S"
    finally:
        tunnels.close()
    assert list(records.iterdir()) == []
