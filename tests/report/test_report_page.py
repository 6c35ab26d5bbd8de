"""The hand-over report from recorded facts: every section, the real ids, the times, nothing secret, nothing fetched.

The evidence is recorded through the same functions the steps call (dms_tui.report.evidence), from the steps' own
typed results; tests/report/test_report_after_sandbox_journey.py makes one after a real sandbox journey.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from dms_tui import exit_codes
from dms_tui.aws.task_poller import ReplicationTaskSnapshot, TableStatistics, TaskStats
from dms_tui.checks.result import CheckResult, VerifyReport
from dms_tui.data.diff.result import DiffReport, RowImage, TableDiff
from dms_tui.journey import DiffRecord, Journey, PrepareRecord, Step, VerifyRecord, save_checkpoint
from dms_tui.provision.outputs import EnvironmentOutputs, SideOutputs
from dms_tui.report import default_report_path, write_report
from dms_tui.report.evidence import (
    evidence_path,
    load_evidence,
    record_cutover,
    record_diff,
    record_task,
    record_verify,
    redact,
)
from dms_tui.report.html import SECTIONS, seconds_text

PASSWORD = "Tr0ub4dor&3-not-for-reports"
T0 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


def _side(role: str, suffix: str) -> SideOutputs:
    return SideOutputs(
        vpc_id=f"vpc-{suffix}",
        vpc_cidr="10.0.0.0/16",
        cluster_identifier=f"dev-{role}",
        database_name="demo_db",
        port=5432,
        secret_arn=f"arn:aws:secretsmanager:us-east-1:123456789012:secret:dev-{role}-dms-{suffix}",
        nlb_arn=f"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/dev-{role}-nlb/{suffix}",
        target_group_arn=f"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/dev-{role}-writer/{suffix}",
        endpoint_service_id=f"vpce-svc-{suffix}",
        vpc_endpoint_id=f"vpce-{suffix}",
        endpoint_dns_name=f"vpce-{suffix}-x.vpce-svc-{suffix}.us-east-1.vpce.amazonaws.com",
        dms_endpoint_arn=f"arn:aws:dms:us-east-1:123456789012:endpoint:{suffix.upper()}",
    )


OUTPUTS = EnvironmentOutputs(
    source=_side("onprem-source", "0a1b2c3d4e5f60718"),
    target=_side("aurora-target", "9f8e7d6c5b4a39281"),
    dms_vpc_id="vpc-0dd0dd0dd0dd0dd01",
    dms_vpc_cidr="10.0.0.0/16",
    dms_replication_instance_arn="arn:aws:dms:us-east-1:123456789012:rep:dev-dms-instance",
    dms_access_role_arn="arn:aws:iam::123456789012:role/dev-dms-secrets",
    bastion_instance_id="i-0b0b0b0b0b0b0b0b0",
    region="us-east-1",
)


def _journey() -> Journey:
    journey = Journey("dev", "sandbox")
    journey.update(outputs=OUTPUTS.to_json())
    for step in (Step.CONFIGURE, Step.PROVISION):
        journey.complete(step)
    journey.complete(Step.VERIFY, verify=VerifyRecord(passed=True, counts={"ok": 2, "warn": 1}, seconds=1.25))
    journey.complete(Step.PREPARE, prepare=PrepareRecord(source_rows=100_000, primary_key=True))
    journey.update_task(
        identifier="dms-tui-demo-task", arn="arn:aws:dms:us-east-1:123456789012:task:DEMO", rows=100_000
    )
    journey.complete(Step.MIGRATE)
    journey.complete(Step.DIFF, diff=DiffRecord(identical=True, tables=1))
    return journey


def _record_everything(journey: Journey) -> None:
    checks = (
        CheckResult("api", "environment", "AWS APIs answer", "ok", 0.042, "sts, dms, ec2 answered"),
        CheckResult(
            "login-source",
            "source",
            "source login through the interface endpoint",
            "ok",
            1.43,
            f"logged in as dms_user (postgresql://dms_user:{PASSWORD}@vpce-0a1b:5432/demo_db)",
        ),
        CheckResult("dms-test", "target", "DMS test connection", "warn", 73.0, f"password={PASSWORD} took long"),
    )
    record_verify(journey, VerifyReport(checks, 74.5), "dms-tui verify --sandbox")
    table = TableStatistics(
        "demo_schema",
        "demo_accounts",
        "Table completed",
        full_load_rows=100_000,
        full_load_start_time=T0,
        full_load_end_time=T0 + dt.timedelta(seconds=4),
    )
    stats = TaskStats(
        full_load_progress_percent=100,
        elapsed_time_ms=5_200,
        tables_loaded=1,
        full_load_start_date=T0,
        full_load_finish_date=T0 + dt.timedelta(seconds=5),
    )
    snapshot = ReplicationTaskSnapshot(
        "arn:aws:dms:us-east-1:123456789012:task:DEMO",
        "dms-tui-demo-task",
        "full-load",
        "stopped",
        "Stop Reason FULL_LOAD_ONLY_FINISHED",
        None,
        stats,
        (table,),
        T0 + dt.timedelta(seconds=6),
    )
    record_task(journey, snapshot, ["aws dms start-replication-task --replication-task-arn arn:aws:dms:…:task:DEMO"])
    identical = TableDiff(
        "demo_schema.demo_accounts",
        "demo_schema.demo_accounts",
        ("accountnumber",),
        ("accountnumber",),
        100_000,
        100_000,
    )
    differs = TableDiff(
        "demo_schema.other",
        "demo_schema.other",
        None,
        ("note",),
        3,
        2,
        missing_in_target=(RowImage(None, {"note": "customer's secret note"}, 1, 0),),
    )
    record_diff(journey, DiffReport((identical, differs), 2.5), "dms-tui diff --sandbox")


class _Page(HTMLParser):
    """Section ids, and every attribute that could make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.fetching: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        if tag == "section" and values.get("id"):
            self.sections.append(str(values["id"]))
        for name in ("src", "href", "srcset", "data", "action", "poster"):
            if values.get(name):
                self.fetching.append(f"{tag} {name}={values[name]}")


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def test_every_section_with_the_real_ids_times_and_counts(tmp_path: Path) -> None:
    journey = _journey()
    _record_everything(journey)
    record_cutover(journey, {"writes stopped": 0.4, "changes applied": 3.2, "applications switched": 12.0})
    path = write_report(journey.state, OUTPUTS, tmp_path / "report.html", now=T0 + dt.timedelta(hours=1))
    text = path.read_text(encoding="utf-8")
    page = _parse(text)

    assert page.sections == list(SECTIONS)
    for resource in (
        OUTPUTS.source.vpc_id,
        OUTPUTS.target.vpc_id,
        OUTPUTS.dms_vpc_id,
        OUTPUTS.source.vpc_endpoint_id,
        OUTPUTS.target.endpoint_service_id,
        OUTPUTS.source.cluster_identifier,
        "dev-aurora-target-nlb",  # the NLB's name, out of its ARN
        OUTPUTS.bastion_instance_id,
        OUTPUTS.target.dms_endpoint_arn,
    ):
        assert resource in text, resource
    assert "42 ms" in text and "1.4 s" in text and "1m13s" in text  # each check's time
    recorded_day = load_evidence(journey.env, journey.mode)["verify"]["recorded_at"][:10]  # when the run was recorded
    assert f"run at {recorded_day}" in text
    assert "100,000" in text and "20,000 rows/s" in text  # rows in 5 s of full load
    assert "Stop Reason FULL_LOAD_ONLY_FINISHED" in text
    assert "identical" in text and "1 missing in target" in text
    assert "applications switched" in text and "15.6 s in all" in text
    assert "dms-tui seed --sandbox --rows 100000 --primary-key" in text
    assert "aws dms start-replication-task" in text


def test_no_secret_and_no_row_contents_reach_the_page_or_the_evidence(tmp_path: Path) -> None:
    journey = _journey()
    _record_everything(journey)
    text = write_report(journey.state, OUTPUTS, tmp_path / "report.html").read_text(encoding="utf-8")
    stored = evidence_path("dev", "sandbox").read_text(encoding="utf-8")
    for where in (text, stored):
        assert PASSWORD not in where
        assert "customer's secret note" not in where
    assert "postgresql://dms_user:***@vpce-0a1b" in text
    assert "password=***" in text


def test_the_page_fetches_nothing_and_runs_nothing(tmp_path: Path) -> None:
    journey = _journey()
    _record_everything(journey)
    text = write_report(journey.state, OUTPUTS, tmp_path / "report.html").read_text(encoding="utf-8")
    page = _parse(text)
    assert page.fetching == []
    assert not page.tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert "default-src 'none'" in text  # a browser is told so, too
    assert not re.search(r"url\(|@import", text)


def test_a_journey_that_has_only_begun_still_gives_a_page_saying_what_has_not_run(tmp_path: Path) -> None:
    journey = Journey("dev", "aws")
    text = write_report(journey.state, None, tmp_path / "r.html").read_text(encoding="utf-8")
    assert _parse(text).sections == list(SECTIONS)
    assert "Not provisioned yet" in text and "Verify has not run yet" in text and "No cutover in this journey" in text


def test_from_the_checkpoint_alone_the_headlines_are_shown(tmp_path: Path) -> None:
    journey = _journey()  # records, no evidence
    assert load_evidence("dev", "sandbox") == {}
    text = write_report(journey.state, None, tmp_path / "r.html").read_text(encoding="utf-8")
    assert OUTPUTS.source.vpc_endpoint_id in text  # the outputs come from the checkpoint
    assert "per-check times were not recorded" in text
    assert "dms-tui-demo-task" in text


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.0042, "4 ms"), (0.9994, "999 ms"), (1.43, "1.4 s"), (370, "6m10s"), (7300, "2h01m")]
)
def test_durations_read_as_a_person_says_them(seconds: float, text: str) -> None:
    assert seconds_text(seconds) == text


def test_redact_masks_passwords_in_urls_and_after_password_keys() -> None:
    assert redact("postgres://u:p%40ss@h/db") == "postgres://u:***@h/db"
    assert redact('{"password": "hunter2", "user": "u"}') == '{"password": "***", "user": "u"}'
    assert redact("PGPASSWORD=hunter2 psql") == "PGPASSWORD=*** psql"
    assert (
        redact("arn:aws:secretsmanager:us-east-1:1:secret:dev-dms-x")
        == "arn:aws:secretsmanager:us-east-1:1:secret:dev-dms-x"
    )


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "dms_tui", *args],
        env={**os.environ, "DMS_TUI_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_the_report_command_writes_the_page_and_says_where(dms_home: Path, tmp_path: Path) -> None:
    journey = _journey()
    _record_everything(journey)
    save_checkpoint(journey.state)
    done = _cli(dms_home, "report", "--sandbox", "--html", str(tmp_path / "hand-over.html"))
    assert done.returncode == exit_codes.OK, done
    assert done.stdout.strip() == f"wrote {(tmp_path / 'hand-over.html').resolve()}"
    assert _parse((tmp_path / "hand-over.html").read_text()).sections == list(SECTIONS)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--env", "nowhere"], "No journey is recorded for nowhere"),
        (["--html-dir"], "is a folder"),
        (["--missing-dir"], "Cannot write"),
    ],
)
def test_the_report_command_refuses_plainly_and_writes_nothing(
    dms_home: Path, tmp_path: Path, args: list[str], said: str
) -> None:
    save_checkpoint(_journey().state)
    target = {"--html-dir": tmp_path, "--missing-dir": tmp_path / "no" / "such" / "r.html"}.get(
        args[0], tmp_path / "r.html"
    )
    extra = args if args[0] == "--env" else []
    done = _cli(dms_home, "report", "--sandbox", *extra, "--html", str(target))
    assert done.returncode == exit_codes.NOT_RUN, done
    assert said in done.stderr
    assert not (tmp_path / "r.html").exists()
    assert not list(tmp_path.glob(".report-*"))


def test_the_wizard_gets_a_default_place_per_environment_and_time() -> None:
    path = default_report_path("dev", "sandbox", now=dt.datetime(2026, 12, 2, 10, 30, 5))
    assert path.name == "report-sandbox-dev-20261202-103005.html" and path.parent.is_dir()


def test_in_chromium_every_section_is_shown(browser: Any, tmp_path: Path) -> None:
    journey = _journey()
    _record_everything(journey)
    path = write_report(journey.state, OUTPUTS, tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    for section in SECTIONS:
        assert page.locator(f"section#{section} h2").is_visible(), section
    assert page.locator("#verify tbody tr").count() == 3
    assert page.locator("#task tbody tr").count() == 1
    assert page.locator("#diff tbody tr").count() == 2
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert requests == [path.as_uri()]
