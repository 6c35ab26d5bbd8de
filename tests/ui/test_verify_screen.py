"""Story: after provisioning, the person watches every hop being checked, reads why one failed, fixes it, runs the
checks again and goes on.

The environment is real: moto (in-process) holds the AWS objects, the session's two PostgreSQL clusters are the
databases, and real TCP forwarders stand in for NLB + PrivateLink (tests/checks/moto_environment.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Static
from textual.worker import WorkerFailed

from dms_tui.app import DmsTuiApp, ErrorScreen
from dms_tui.checks.result import CheckEvent, CheckFinished, CheckResult, ChecksPlanned, CheckStarted, VerifyReport
from dms_tui.checks.runner import Check
from dms_tui.environment import Environment
from dms_tui.journey import Journey, Step
from dms_tui.provision.outputs import EnvironmentOutputs, SideOutputs
from dms_tui.screens.verify import VerifyScreen
from dms_tui.widgets.checklist import Checklist
from dms_tui.widgets.command_hint import CommandHint
from tests.checks.moto_environment import FAST, REGION, MotoWorld, moto_environment
from tests.ui.conftest import instant_services
from tests.ui.test_snapshots import freeze


@pytest.fixture
def environment(pg_source: Any, pg_target: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoWorld]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with moto_environment({"source": pg_source, "target": pg_target}) as env:
        yield env


def _app(environment: MotoWorld) -> DmsTuiApp:
    """The wizard on this environment (already provisioned), with the checks' short deadlines."""
    journey = Journey.resume_or_start("dev", environment.target.mode)
    return DmsTuiApp(journey, services=instant_services(environment.target, options={"verify_options": FAST}))


async def _open_verify(app: DmsTuiApp, pilot: Pilot, environment: MotoWorld) -> VerifyScreen:  # type: ignore[type-arg]
    await app.workers.wait_for_complete()  # the Welcome screen's instant mode
    app.journey.update(outputs=environment.outputs.to_json())
    app.journey.complete(Step.CONFIGURE)
    app.journey.complete(Step.PROVISION)
    screen = VerifyScreen(app.journey)
    await app.push_screen(screen)
    await _settle(app, pilot)
    return screen


async def _settle(app: DmsTuiApp, pilot: Pilot) -> None:  # type: ignore[type-arg]
    await app.workers.wait_for_complete()
    await pilot.pause(0.05)  # the last posted events and the report are handled
    await pilot.pause()


def _detail(screen: VerifyScreen) -> str:
    return str(screen.query_one("#verify-detail-text", Static).render())


async def _highlight(pilot: Pilot, screen: VerifyScreen, check_id: str) -> None:  # type: ignore[type-arg]
    checklist = screen.query_one(Checklist)
    checklist.focus()  # after a passing run the focus is on Next (Enter moves on); the person tabs back to the list
    checklist.highlighted = checklist.get_option_index(check_id)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_a_healthy_environment_settles_every_row_and_lets_the_person_go_on(
    environment: MotoWorld, size: tuple[int, int]
) -> None:
    app = _app(environment)
    async with app.run_test(size=size) as pilot:
        screen = await _open_verify(app, pilot, environment)
        assert screen.report is not None and screen.report.passed
        checklist = screen.query_one(Checklist)
        settled = checklist.settled()
        assert len(settled) == len(screen.report.results) >= 20
        assert all(r.status in ("ok", "warn") for r in settled)
        # grouped by side: source rows, then target rows, then the general ones, each under a header
        ids = [o.id for o in checklist.options]
        assert ids[0] == "group:source" and ids.index("group:target") < ids.index("group:environment")
        assert all(i.startswith("source.") for i in ids[1 : ids.index("group:target")])
        summary = str(screen.query_one("#verify-summary", Static).render())
        assert f"✓ {screen.report.counts()['ok']} " in summary and f"in {screen.report.seconds:.1f} s" in summary
        assert not screen.query_one("#next", Button).disabled
        assert not app.running_jobs

        # the detail pane and the equivalent command follow the highlighted row
        await _highlight(pilot, screen, "target.login")
        assert "PostgreSQL 15" in _detail(screen)
        assert screen.query_one(CommandHint).command.startswith("psql ")
        await pilot.press("down")
        assert screen.query_one(Checklist).highlighted_id == "target.database"
        assert "target.database" != "target.login" and "Migration database exists" in _detail(screen)

        moved_to: list[Step] = []
        app.goto = moved_to.append  # type: ignore[method-assign]  # the Prepare screen is tested on its own
        await pilot.press("f5")
        assert app.journey.state.is_done(Step.VERIFY) and moved_to == [Step.PREPARE]
        assert app.journey.state.verify.passed is True


async def test_a_wrong_password_fails_the_login_explains_it_and_run_again_passes_after_the_fix(
    environment: MotoWorld,
) -> None:
    environment.rewrite_secret("source", password="not-the-password")
    app = _app(environment)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_verify(app, pilot, environment)
        assert screen.report is not None and not screen.report.passed
        checklist = screen.query_one(Checklist)
        assert checklist.result("source.login").status == "fail"  # type: ignore[union-attr]
        assert checklist.result("source.database").status == "skipped"  # type: ignore[union-attr]
        assert screen.query_one("#next", Button).disabled
        summary = str(screen.query_one("#verify-summary", Static).render())
        assert "✗ 1 " in summary and "– 1 " in summary and "fix the ✗ rows" in summary

        await _highlight(pilot, screen, "source.login")
        detail = _detail(screen)
        assert "password authentication failed" in detail and "what to do" in detail
        assert "secret's password is not the database user's password" in detail
        for password in environment.passwords.values():
            assert password not in detail and password not in screen.query_one(CommandHint).command
        await pilot.press("f5")  # refused: a check failed
        assert not app.journey.state.is_done(Step.VERIFY) and app.screen is screen

        environment.rewrite_secret("source", password=environment.passwords["source"])
        await pilot.press("r")  # DMS tests the same connections again
        await _settle(app, pilot)
        assert screen.report is not None
        assert screen.report.passed, {r.id: r.detail for r in screen.report.results if not r.passed}
        assert screen.query_one(Checklist).result("source.login").status == "ok"  # type: ignore[union-attr]
        assert not screen.query_one("#next", Button).disabled


async def test_a_forwarder_that_refuses_shows_the_tcp_row_failed_with_its_remedy(
    environment: MotoWorld,
) -> None:
    environment.forwarders["target"].set_refusing(True)
    app = _app(environment)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await _open_verify(app, pilot, environment)
        tcp = screen.query_one(Checklist).result("target.tcp")
        assert tcp is not None and tcp.status == "fail"
        await _highlight(pilot, screen, "target.tcp")
        detail = _detail(screen)
        assert tcp.detail.splitlines()[0] in detail and tcp.remedy.splitlines()[0] in detail
        assert screen.query_one("#next", Button).disabled


async def test_without_outputs_the_error_says_to_provision_first(make_app: Callable[..., DmsTuiApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        screen = VerifyScreen(app.journey)
        await app.push_screen(screen)
        with pytest.raises(WorkerFailed):  # the step's StepError, shown by the app's one error modal
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ErrorScreen)
        error = str(app.screen.query_one("#error-text", Static).render())
        assert "has not been provisioned" in error and "dms-tui provision apply --sandbox" in error
        await pilot.press("escape")
        assert app.screen is screen and screen.query_one("#next", Button).disabled
        assert not screen.query_one("#rerun", Button).disabled and not app.running_jobs


async def test_headless_verify_and_the_screen_find_the_same_on_the_same_environment(
    environment: MotoWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dms_tui import cli
    from dms_tui.commands import verify as verify_command
    from dms_tui.environment import OpenedEnvironment

    environment.forwarders["target"].set_refusing(True)  # one hop down, so the outcome is not all-green
    monkeypatch.setattr(
        verify_command, "open_environment", lambda request, **_: OpenedEnvironment(environment.target, "moto")
    )
    assert cli.main(["verify", "--json", "--timeout", "3", "--dms-timeout", "8"]) == 1
    headless = json.loads(capsys.readouterr().out)

    app = _app(environment)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_verify(app, pilot, environment)  # the second run on these DMS connections
        assert screen.report is not None
        assert screen.report.counts() == headless["counts"]
        assert {r.id: r.status for r in screen.report.results} == {c["id"]: c["status"] for c in headless["checks"]}
        assert app.journey.state.verify is not None and app.journey.state.verify.counts == headless["counts"]
        assert screen.equivalent_command() == "dms-tui verify --sandbox"


# -- snapshots: injected results, so durations, details and the total time are the same on every run ----------------

SNAPSHOT_HOME = Path("/tmp/dms-tui-snapshot-home")


def _fixed_outputs() -> EnvironmentOutputs:
    def side(name: str, number: int) -> SideOutputs:
        return SideOutputs(
            vpc_id=f"vpc-0{number}aa",
            vpc_cidr="10.0.0.0/16",
            cluster_identifier=f"{name}-cluster",
            database_name="demo_db",
            port=5432,
            secret_arn=f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-db-AbCdEf",
            nlb_arn=f"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/{name}/0{number}",
            target_group_arn=f"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{name}-db/0{number}",
            endpoint_service_id=f"vpce-svc-0{number}",
            vpc_endpoint_id=f"vpce-0{number}",
            endpoint_dns_name=f"vpce-0{number}-abc.vpce-svc-0{number}.us-east-1.vpce.amazonaws.com",
            dms_endpoint_arn=f"arn:aws:dms:us-east-1:123456789012:endpoint:{name.upper()}",
        )

    return EnvironmentOutputs(
        source=side("source", 1),
        target=side("target", 2),
        dms_vpc_id="vpc-0dms",
        dms_vpc_cidr="10.0.0.0/16",
        dms_replication_instance_arn="arn:aws:dms:us-east-1:123456789012:rep:DMSDEMO",
        dms_access_role_arn="arn:aws:iam::123456789012:role/dms-access",
        bastion_instance_id="i-0123456789abcdef0",
        region="us-east-1",
    )


def _scripted_runner(failing: bool) -> Any:
    """Runs the real checklist's checks with fixed outcomes (the real titles and commands; fixed times)."""

    def run(checks: list[Check], **_: Any) -> Generator[CheckEvent, None, VerifyReport]:
        yield ChecksPlanned(tuple(c.info for c in checks))
        results = []
        for index, check in enumerate(checks):
            yield CheckStarted(check.id, check.side, check.title)
            status, detail, remedy = "ok", f"{check.title}: as expected", ""
            if check.id == "environment.clock":
                status, detail, remedy = "warn", "the clock is 2.1 s ahead of AWS", "Run chronyc makestep."
            if failing and check.id == "source.login":
                status = "fail"
                detail = 'connection failed: FATAL: password authentication failed for user "postgres"'
                remedy = "The secret's password is not the database user's password: re-run provisioning."
            if failing and check.id == "source.database":
                status, detail = "skipped", "skipped: because “PostgreSQL login with the secret” (source) did not pass"
            duration = 0.0 if status == "skipped" else 0.05 + (index % 7) * 0.11
            result = CheckResult(check.id, check.side, check.title, status, duration, detail, remedy, check.command)
            yield CheckFinished(result)
            results.append(result)
        return VerifyReport(tuple(results), seconds=1.37)

    return run


def _snapshot_app(failing: bool, monkeypatch: pytest.MonkeyPatch) -> DmsTuiApp:
    import shutil

    shutil.rmtree(SNAPSHOT_HOME, ignore_errors=True)
    monkeypatch.setenv("DMS_TUI_HOME", str(SNAPSHOT_HOME))
    journey = Journey.resume_or_start("dev", "sandbox")
    journey.update(outputs=_fixed_outputs().to_json(), done=(Step.CONFIGURE, Step.PROVISION), current=Step.VERIFY)
    # The sandbox's CA where `sandbox up` puts it, so the login command shows verify-ca as the sandbox runs it.
    ca = SNAPSHOT_HOME / "state" / "sandbox" / "tls" / "ca.crt"
    target = Environment(mode="sandbox", region="us-east-1", env="dev", database_ca=ca)
    services = instant_services(target, _fixed_outputs(), options={"verify_runner": _scripted_runner(failing)})
    app = DmsTuiApp(journey, services=services)

    async def open_verify(pilot: Pilot) -> None:  # type: ignore[type-arg]
        await freeze(pilot)
        await app.push_screen(VerifyScreen(app.journey))
        await freeze(pilot)
        await pilot.pause(0.1)

    app._snapshot_setup = open_verify  # type: ignore[attr-defined]
    return app


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_snapshot_a_passing_run(snap_compare, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app = _snapshot_app(False, monkeypatch)
    assert snap_compare(app, terminal_size=size, run_before=app._snapshot_setup)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_snapshot_a_failing_run(snap_compare, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app = _snapshot_app(True, monkeypatch)
    assert snap_compare(app, terminal_size=size, run_before=app._snapshot_setup)


def _rendered_text(widget: Any) -> str:
    """The characters the widget draws on screen now (its border included), line by line."""
    from textual.geometry import Region

    strips = widget.render_lines(Region(0, 0, widget.region.width, widget.region.height))
    return "\n".join(strip.text for strip in strips)


async def test_every_checks_command_is_readable_whole_at_80x24(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 80x24 the equivalent command box shows each check's whole command (a psql login with its TLS options, DMS's
    test-connection with its describe), not only what `c` copies; the primary action stays in view."""
    from tests.ui.test_viewport import assert_arrival, shown_whole

    app = _snapshot_app(False, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await app._snapshot_setup(pilot)  # type: ignore[attr-defined]
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        checklist = screen.query_one(Checklist)
        hint = screen.query_one(CommandHint)
        longest = ""
        for index, option in enumerate(checklist.options):
            if option.disabled or not option.id:
                continue
            checklist.highlighted = index
            await pilot.pause()
            command = hint.command
            assert command, option.id
            longest = max(longest, command, key=len)
            assert shown_whole(hint), f"the command box is not whole on screen for {option.id}"
            drawn = "".join(_rendered_text(hint).split())
            assert "".join(("$ " + command).split()) in drawn.replace("│", ""), f"{option.id}: {command!r} is cut"
            assert not hint.cut and not hint.border_subtitle, option.id
        assert len(longest) > 4 * 76, "the longest command (DMS's test-connection and its describe) needs 5+ lines"
        assert_arrival(app, "#next", inputs=False, focused=False)
