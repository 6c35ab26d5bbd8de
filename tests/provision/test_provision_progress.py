"""The progress reducer: what the provision screen and the headless command show, from recorded streams."""

from __future__ import annotations

from pathlib import Path

from dms_tui.provision.events import (
    ApplyComplete,
    ApplyProgress,
    ApplyStart,
    PlannedChange,
    parse_lines,
)
from dms_tui.provision.progress import ProvisionProgress, format_elapsed, reduce_event, reduce_events


def _progress(streams: Path, name: str) -> ProvisionProgress:
    return reduce_events(parse_lines((streams / name).read_text(encoding="utf-8").splitlines()))


def test_a_successful_apply_ends_with_every_planned_resource_created(streams: Path) -> None:
    progress = _progress(streams, "apply.jsonl")
    assert progress.planned == progress.done == 6 and progress.failed == 0
    assert {r.state for r in progress.resources.values()} == {"created"}
    assert progress.final_summary is not None and progress.final_summary.operation == "apply"
    assert progress.fraction == 1.0
    secret = progress.resources['module.secrets.aws_secretsmanager_secret.db["source"]']
    assert secret.elapsed() >= 10 and secret.describe().startswith("created in ")


def test_resources_are_grouped_by_module_in_first_seen_order(streams: Path) -> None:
    groups = _progress(streams, "plan.jsonl").by_module()
    assert set(groups) == {"", "module.network", "module.secrets"}
    assert sorted(r.address for r in groups["module.network"]) == [
        "module.network.aws_subnet.private[0]",
        "module.network.aws_subnet.private[1]",
        "module.network.aws_vpc.this",
    ]
    assert all(r.state == "pending" for rs in groups.values() for r in rs)


def test_an_interrupted_apply_counts_the_finished_and_marks_the_rest_failed(streams: Path) -> None:
    progress = _progress(streams, "apply_interrupted.jsonl")
    assert (progress.planned, progress.done, progress.failed) == (6, 4, 2)
    failed = {r.address for r in progress.resources.values() if r.state == "failed"}
    assert failed == {f'module.secrets.aws_secretsmanager_secret.db["{k}"]' for k in ("source", "target")}
    assert any(d.summary == "execution halted" for d in progress.errors)


def test_destroy_walks_every_resource_through_destroying_to_destroyed(streams: Path) -> None:
    events = list(parse_lines((streams / "destroy.jsonl").read_text(encoding="utf-8").splitlines()))
    seen_destroying: set[str] = set()
    progress = ProvisionProgress()
    for event in events:
        progress = reduce_event(progress, event)
        seen_destroying |= {r.address for r in progress.running if r.state == "destroying"}
    assert progress.planned == progress.done == 6
    assert {r.state for r in progress.resources.values()} == {"destroyed"}
    assert seen_destroying == set(progress.resources)


def test_a_long_running_resource_reads_still_creating_with_its_elapsed_time() -> None:
    start = ApplyStart(
        address="module.aurora.aws_rds_cluster.target", action="create", module="module.aurora", at=1000.0
    )
    progress = reduce_events(
        [
            PlannedChange(
                address=start.address, action="create", module="module.aurora", resource_type="aws_rds_cluster"
            ),
            start,
            ApplyProgress(address=start.address, action="create", elapsed=360.0, at=1360.0),
        ]
    )
    cluster = progress.resources[start.address]
    assert cluster.describe(now=1000.0 + 370) == "still creating 6m10s"
    assert cluster.describe() == "still creating 6m00s"  # without a clock: terraform's last report
    assert (progress.planned, progress.done, len(progress.running)) == (1, 0, 1)


def test_a_replace_is_done_only_after_both_its_delete_and_its_create() -> None:
    address = "module.dms.aws_dms_replication_instance.this"
    progress = reduce_events([PlannedChange(address=address, action="replace")])
    for event in (
        ApplyStart(address=address, action="delete", at=1.0),
        ApplyComplete(address=address, action="delete", at=2.0),
    ):
        progress = reduce_event(progress, event)
    assert progress.done == 0
    for event in (
        ApplyStart(address=address, action="create", at=3.0),
        ApplyComplete(address=address, action="create", at=9.0),
    ):
        progress = reduce_event(progress, event)
    assert progress.done == 1 and progress.resources[address].state == "created"


def test_the_reducer_never_mutates_the_progress_it_is_given(streams: Path) -> None:
    before = _progress(streams, "plan.jsonl")
    snapshot = dict(before.resources)
    after = reduce_event(before, ApplyStart(address="module.network.aws_vpc.this", action="create", at=5.0))
    assert dict(before.resources) == snapshot
    assert after.resources["module.network.aws_vpc.this"].state == "creating"
    assert before.resources["module.network.aws_vpc.this"].state == "pending"


def test_elapsed_times_are_compact() -> None:
    assert [format_elapsed(s) for s in (0, 0.35, 59.9, 60, 370, 3720)] == [
        "0ms",
        "350ms",
        "59s",
        "1m00s",
        "6m10s",
        "1h02m",
    ]


def test_the_real_bundle_plan_counts_managed_resources_like_terraform_and_not_data_reads(streams: Path) -> None:
    progress = _progress(streams, "bundle_plan.jsonl")
    assert progress.plan_summary is not None
    assert progress.planned == progress.plan_summary.add > 50
    data_reads = [r for r in progress.resources.values() if r.data_source]
    assert any(r.state == "read" for r in data_reads)  # read while planning; none counted as planned work
    assert progress.done == 0
    assert {'module.vpc["source"]', "module.source_link", "module.dms", "module.bastion"} <= set(progress.by_module())


def test_the_real_bundle_apply_shows_the_bastion_still_creating_then_failed_on_interrupt(streams: Path) -> None:
    lines = (streams / "bundle_apply_interrupted.jsonl").read_text(encoding="utf-8").splitlines()
    events = list(parse_lines(lines))
    interrupt = next(i for i, e in enumerate(events) if "Interrupt received" in e.message)
    before = reduce_events(events[:interrupt])
    bastion = before.resources["module.bastion.aws_instance.bastion"]
    assert bastion.describe().startswith("still creating 11m")
    after = reduce_events(events[interrupt:], start=before)
    assert after.resources["module.bastion.aws_instance.bastion"].state == "failed"
    assert (after.planned, after.done, after.failed) == (before.planned, before.planned - 1, 1)
