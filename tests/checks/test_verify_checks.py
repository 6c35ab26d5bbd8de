"""The verify checklist against a healthy environment and against each fault a person meets after provisioning."""

from __future__ import annotations

import time
from typing import Any

import pytest
from moto_environment import FAST, MotoWorld  # type: ignore[import-not-found]

from dms_tui.checks.plan import VerifyOptions, build_checks, verify
from dms_tui.checks.result import CheckEvent, CheckFinished, ChecksPlanned, CheckStarted, VerifyReport


def _run(env: MotoWorld, options: VerifyOptions = FAST) -> VerifyReport:
    return verify(env.target, env.outputs, options=options)


def _problems(report: VerifyReport) -> dict[str, str]:
    return {r.id: f"{r.status}: {r.detail}" for r in report.results if not r.passed}


def test_a_healthy_environment_passes_every_check_and_says_how_the_sandbox_routes(environment: MotoWorld) -> None:
    events: list[CheckEvent] = []
    report = verify(environment.target, environment.outputs, options=FAST, on_event=events.append)

    assert report.passed, _problems(report)
    assert {r.id for r in report.results} >= {
        "environment.identity",
        "environment.region",
        "environment.clock",
        "environment.dms_instance",
        *(
            f"{side}.{check}"
            for side in ("source", "target")
            for check in (
                "secret",
                "dns",
                "tcp",
                "login",
                "database",
                "endpoint",
                "endpoint_service",
                "nlb_targets",
                "dms_test",
            )
        ),
    }
    dns = report.by_id("source.dns")
    assert "local TCP forwarder" in dns.detail and str(environment.forwarders["source"].port) in dns.detail
    login = report.by_id("target.login")
    ca = str(environment.target.database_ca)
    assert (
        "PostgreSQL 15" in login.detail
        and f"TLS in use, the server's certificate verified against {ca}" in login.detail
    )
    assert "sslmode=verify-ca" in login.command and f"sslrootcert={ca}" in login.command
    # The live checklist: every row is planned first, starts, and finishes exactly once.
    assert isinstance(events[0], ChecksPlanned) and len(events[0].checks) == len(report.results)
    assert sorted(e.id for e in events if isinstance(e, CheckStarted)) == sorted(r.id for r in report.results)
    assert len([e for e in events if isinstance(e, CheckFinished)]) == len(report.results)


def test_no_password_appears_anywhere_in_the_report(environment: MotoWorld) -> None:
    environment.rewrite_secret("target", password="Wrong-" + environment.passwords["target"][:4])
    text = repr(_run(environment).to_json())
    for password in environment.passwords.values():
        assert password not in text


def test_a_wrong_password_in_the_secret_fails_the_login_and_skips_what_needs_it(environment: MotoWorld) -> None:
    environment.rewrite_secret("source", password="not-the-password")
    report = _run(environment)

    login = report.by_id("source.login")
    assert login.status == "fail" and "password authentication failed" in login.detail
    assert "secret's password is not the database user's password" in login.remedy
    skipped = report.by_id("source.database")
    assert skipped.status == "skipped" and "because “PostgreSQL login with the secret” (source)" in skipped.detail
    assert set(_problems(report)) == {"source.login", "source.database"}
    assert not report.passed


def test_a_forwarder_that_refuses_connections_fails_the_tcp_check(environment: MotoWorld) -> None:
    environment.forwarders["target"].set_refusing(True)
    report = _run(environment)

    tcp = report.by_id("target.tcp")
    assert tcp.status == "fail" and "closed it at once" in tcp.detail
    assert "no healthy target" in tcp.remedy and "forwarder is refusing" in tcp.remedy
    assert set(_problems(report)) == {"target.tcp", "target.login", "target.database"}
    assert report.by_id("target.login").status == "skipped"


def test_a_forwarder_slower_than_the_timeout_fails_at_the_deadline(environment: MotoWorld) -> None:
    environment.forwarders["source"].set_latency(3.0)
    options = VerifyOptions(api_timeout=8.0, network_timeout=0.8, dms_timeout=8.0, dms_poll_interval=0.05)
    started = time.monotonic()
    report = _run(environment, options)

    tcp = report.by_id("source.tcp")
    assert tcp.status == "fail" and "did not answer within 0.8 s" in tcp.detail
    assert "latency" in tcp.remedy and "security group" in tcp.remedy
    assert 0.7 <= tcp.duration < 2.0
    # The slow hop holds only its own chain: the source's chain ends at its 0.8 s deadline, not after 3 s.
    assert report.by_id("source.login").duration == 0.0 and time.monotonic() - started < 8.0
    assert set(_problems(report)) == {"source.tcp", "source.login", "source.database"}


def test_a_missing_target_database_is_named_with_the_create_step(environment: MotoWorld) -> None:
    environment.rewrite_secret("target", dbname="demo_db_missing")
    report = _run(environment)

    database = report.by_id("target.database")
    assert database.status == "fail" and "demo_db_missing does not exist on the target" in database.detail
    assert "DMS does not create databases" in database.remedy
    assert report.by_id("target.login").status == "ok"  # credentials are fine: the check says what is wrong


def test_an_endpoint_pending_acceptance_names_the_accept_command(environment: MotoWorld) -> None:
    from moto.backends import get_backend

    endpoint_id = environment.outputs.source.vpc_endpoint_id
    ec2_backend = get_backend("ec2")["123456789012"]["us-east-1"]
    ec2_backend.vpc_end_points[endpoint_id].state = "pendingAcceptance"
    report = _run(environment)

    endpoint = report.by_id("source.endpoint")
    assert endpoint.status == "fail" and "pendingAcceptance" in endpoint.detail
    assert "aws ec2 accept-vpc-endpoint-connections" in endpoint.remedy
    assert environment.outputs.source.endpoint_service_id in endpoint.command
    assert set(_problems(report)) == {"source.endpoint"}


def test_an_unhealthy_nlb_target_is_explained_as_a_writer_ip_change(
    environment: MotoWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.backends import get_backend
    from moto.elbv2.models import FakeHealthStatus

    arn = environment.outputs.target.target_group_arn
    group = get_backend("elbv2")["123456789012"]["us-east-1"].target_groups[arn]

    def failing(target: dict[str, Any], ec2_backend: Any) -> FakeHealthStatus:
        return FakeHealthStatus(
            target["Id"],
            target.get("Port", 5432),
            "traffic-port",
            "unhealthy",
            "Target.FailedHealthChecks",
            "Health checks failed",
        )

    monkeypatch.setattr(group, "health_for", failing)
    report = _run(environment)

    health = report.by_id("target.nlb_targets")
    assert health.status == "fail" and "10.0.1.10:5432 unhealthy (Target.FailedHealthChecks)" in health.detail
    assert "writer's IP changed after a failover" in health.remedy
    assert set(_problems(report)) == {"target.nlb_targets"}


def test_checks_run_in_parallel_so_the_total_is_about_the_slowest_chain(environment: MotoWorld) -> None:
    for forwarder in environment.forwarders.values():
        forwarder.set_latency(0.15)
    options = VerifyOptions(api_timeout=8.0, network_timeout=8.0, dms_timeout=8.0, dms_poll_interval=0.05)
    checks = build_checks(environment.target, environment.outputs, options)
    report = _run(environment, options)

    assert report.passed, _problems(report)
    # The critical path: each check's duration plus the longest path through the checks it needs.
    finish: dict[str, float] = {}
    for check in checks:  # plan order lists every check after the checks it needs
        finish[check.id] = report.by_id(check.id).duration + max((finish[n] for n in check.needs), default=0.0)
    slowest_chain = max(finish.values())
    network_chain = min(finish["source.database"], finish["target.database"])
    total_work = sum(r.duration for r in report.results)
    assert network_chain > 0.5  # the slowed hop really slowed both sides' chains
    # Room for thread hand-offs on a loaded two-core machine; a sequential run would take total_work.
    assert report.seconds < 1.25 * slowest_chain + 1.5, (report.seconds, slowest_chain)
    assert report.seconds < 0.7 * total_work, (report.seconds, total_work)


def test_the_checklist_is_known_before_anything_runs(environment: MotoWorld) -> None:
    checks = build_checks(environment.target, environment.outputs, FAST)
    ids = [c.id for c in checks]
    assert len(ids) == len(set(ids)) == 22
    assert all(c.command for c in checks if c.id != "source.database" and c.id != "target.database")


def test_a_malformed_secret_is_named_and_the_login_waits_for_a_fixed_one(environment: MotoWorld) -> None:
    sm = environment.client("secretsmanager")
    sm.put_secret_value(SecretId=environment.outputs.target.secret_arn, SecretString='{"username": "postgres"}')
    report = _run(environment)

    secret = report.by_id("target.secret")
    assert secret.status == "fail" and "lacks password, host, port, dbname" in secret.detail
    assert "username, password, host" in secret.remedy
    assert report.by_id("target.login").status == "skipped"
    assert set(_problems(report)) == {"target.secret", "target.login", "target.database"}


def test_a_secret_pointing_at_the_other_sides_endpoint_is_named_before_the_login_fails(
    environment: MotoWorld,
) -> None:
    environment.rewrite_secret("source", host=environment.outputs.target.endpoint_dns_name)
    report = _run(environment)

    secret = report.by_id("source.secret")
    assert secret.status == "warn" and "not the interface endpoint" in secret.detail
    assert "PrivateLink path" in secret.remedy
    # The login really goes to the target's cluster, which refuses the source's password.
    assert report.by_id("source.login").status == "fail"
    assert set(_problems(report)) == {"source.login", "source.database"}
