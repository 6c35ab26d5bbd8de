"""`dms-tui migrate --sandbox`: the seed's demo migration and a multi-table run, end to end on the embedded sandbox.

One sandbox for the module (its cold `up` takes seconds). The same code path as AWS: the commands create the task
through the sandbox's DMS API, and the sandbox's data plane really moves the rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from running_sandbox import connect_side, provisioned_sandbox, side_rows  # type: ignore[import-not-found]

from dms_tui.cli import main as cli_main
from dms_tui.sandbox.environment import running_sandbox

# A data plane that stops answering must fail these tests in about a minute, not hang the suite.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def sandbox_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("migrate-home")
    with provisioned_sandbox(home):  # up, then the boto3 path the Provision step takes without terraform
        yield home


@pytest.fixture
def home(sandbox_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DMS_TUI_HOME", str(sandbox_home))
    return sandbox_home


def test_the_seed_demo_migrates_its_four_rows_over_a_stale_target(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with connect_side("source") as src:
        src.execute("DROP SCHEMA IF EXISTS demo_schema CASCADE; CREATE SCHEMA demo_schema")
        src.execute(
            "CREATE TABLE demo_schema.demo_accounts (accountNumber int, firstName varchar(50), "
            "lastName varchar(50), creationTime timestamp)"
        )
        src.execute(
            "INSERT INTO demo_schema.demo_accounts VALUES (1, 'John', 'Smith', '2024-01-01'), "
            "(2, 'Mary', 'Doe', '2024-01-02'), (3, 'Tom', 'Good', '2024-01-03'), (4, 'Peter', 'Flynn', '2024-01-04')"
        )
    with connect_side("target") as tgt:  # a row left by an earlier run: TRUNCATE_BEFORE_LOAD must remove it
        tgt.execute("DROP SCHEMA IF EXISTS demo_schema CASCADE; CREATE SCHEMA demo_schema")
        tgt.execute(
            "CREATE TABLE demo_schema.demo_accounts (accountNumber int, firstName varchar(50), "
            "lastName varchar(50), creationTime timestamp)"
        )
        tgt.execute("INSERT INTO demo_schema.demo_accounts VALUES (99, 'Stale', 'Row', now())")

    code = cli_main(
        [
            "migrate",
            "--sandbox",
            "--prep-mode",
            "TRUNCATE_BEFORE_LOAD",
            "--interval",
            "0.2",
            "--max-poll-failures",
            "2",
            "--json",
        ]
    )
    document = json.loads(capsys.readouterr().out)
    assert code == 0 and document["ok"], document.get("error") or document["snapshot"]
    [table] = document["snapshot"]["tables"]
    assert (table["table_name"], table["table_state"], table["full_load_rows"]) == (
        "demo_accounts",
        "Table completed",
        4,
    )
    query = "SELECT accountnumber, firstname, lastname FROM demo_schema.demo_accounts ORDER BY 1"
    assert (
        side_rows("target", query)
        == side_rows("source", query)
        == [(1, "John", "Smith"), (2, "Mary", "Doe"), (3, "Tom", "Good"), (4, "Peter", "Flynn")]
    )


def test_a_multi_table_run_honours_an_exclude_rule_and_a_rename(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with connect_side("source") as src:
        src.execute("DROP SCHEMA IF EXISTS sales CASCADE; CREATE SCHEMA sales")
        src.execute("CREATE TABLE sales.customers (id int PRIMARY KEY, name text)")
        src.execute("CREATE TABLE sales.orders (id int PRIMARY KEY, customer_id int, total numeric(10,2))")
        src.execute("CREATE TABLE sales.audit_log (id int, note text)")
        src.execute("INSERT INTO sales.customers SELECT g, 'customer ' || g FROM generate_series(1, 20) g")
        src.execute("INSERT INTO sales.orders SELECT g, g % 20 + 1, g * 1.5 FROM generate_series(1, 300) g")
        src.execute("INSERT INTO sales.audit_log VALUES (1, 'must not be copied')")
    with connect_side("target") as tgt:
        tgt.execute("DROP SCHEMA IF EXISTS sales CASCADE")
    mappings = tmp_path / "mappings.json"
    mappings.write_text(
        json.dumps(
            {
                "rules": [
                    {
                        "rule-type": "selection",
                        "rule-id": "1",
                        "rule-name": "sales",
                        "rule-action": "include",
                        "object-locator": {"schema-name": "sales", "table-name": "%"},
                    },
                    {
                        "rule-type": "selection",
                        "rule-id": "2",
                        "rule-name": "no-audit",
                        "rule-action": "exclude",
                        "object-locator": {"schema-name": "sales", "table-name": "audit_log"},
                    },
                    {
                        "rule-type": "transformation",
                        "rule-id": "3",
                        "rule-name": "rename-orders",
                        "rule-action": "rename",
                        "rule-target": "table",
                        "object-locator": {"schema-name": "sales", "table-name": "orders"},
                        "value": "customer_orders",
                    },
                ]
            }
        )
    )

    code = cli_main(
        [
            "migrate",
            "--sandbox",
            "--mappings",
            str(mappings),
            "--prep-mode",
            "DROP_AND_CREATE",
            "--task-id",
            "sales-task",
            "--interval",
            "0.2",
            "--max-poll-failures",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "every table completed" in out and "AWS_SECRET_ACCESS_KEY=testing aws dms create-replication-task" in out
    assert side_rows("target", "SELECT count(*), sum(total) FROM sales.customer_orders") == side_rows(
        "source", "SELECT count(*), sum(total) FROM sales.orders"
    )
    assert side_rows("target", "SELECT count(*) FROM sales.customers") == [(20,)]
    assert side_rows(
        "target", "SELECT to_regclass('sales.audit_log') IS NULL, to_regclass('sales.orders') IS NULL"
    ) == [(True, True)]


def test_a_full_load_and_cdc_run_returns_once_replicating_and_later_writes_reach_the_target(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    with connect_side("source") as src:
        src.execute("DROP SCHEMA IF EXISTS live CASCADE; CREATE SCHEMA live")
        src.execute("CREATE TABLE live.events (id int PRIMARY KEY, note text)")
        src.execute("INSERT INTO live.events SELECT g, 'loaded ' || g FROM generate_series(1, 50) g")
    with connect_side("target") as tgt:
        tgt.execute("DROP SCHEMA IF EXISTS live CASCADE")
    mappings = {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "live",
                "rule-action": "include",
                "object-locator": {"schema-name": "live", "table-name": "%"},
            }
        ]
    }
    path = home / "live-mappings.json"
    path.write_text(json.dumps(mappings))
    argv = ["migrate", "--sandbox", "--mappings", str(path), "--migration-type", "full-load-and-cdc"]
    code = cli_main([*argv, "--task-id", "live-task", "--interval", "0.2", "--max-poll-failures", "2", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0 and document["ok"], document.get("error") or document["snapshot"]
    assert document["snapshot"]["status"] == "running"  # returned while the task keeps replicating
    assert side_rows("target", "SELECT count(*) FROM live.events") == [(50,)]

    with connect_side("source") as src:  # written after the command returned: change data capture carries them over
        src.execute("INSERT INTO live.events VALUES (51, 'written live')")
        src.execute("UPDATE live.events SET note = 'changed live' WHERE id = 1")
        src.execute("DELETE FROM live.events WHERE id = 2")
    query = "SELECT count(*), min(note) FILTER (WHERE id = 1), bool_or(id = 51), bool_or(id = 2) FROM live.events"
    deadline = time.monotonic() + 30
    while side_rows("target", query) != [(50, "changed live", True, False)]:
        assert time.monotonic() < deadline, side_rows("target", query)
        time.sleep(0.2)

    target, _ = running_sandbox()
    dms = target.client("dms")
    arn = document["snapshot"]["task_arn"]
    dms.stop_replication_task(ReplicationTaskArn=arn)  # the next run's replace needs it stopped anyway
    deadline = time.monotonic() + 30
    while dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])[
        "ReplicationTasks"
    ][0]["Status"] not in ("stopped", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_assessment_then_a_validated_run(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`task check --assess` reads both sandbox catalogs before any task exists; `migrate` with EnableValidation
    prints each table's ValidationState."""
    with connect_side("source") as src:
        src.execute("DROP SCHEMA IF EXISTS val CASCADE; CREATE SCHEMA val")
        src.execute("CREATE TABLE val.accounts (id int PRIMARY KEY, balance numeric(10,2))")
        src.execute("INSERT INTO val.accounts SELECT g, g * 2.5 FROM generate_series(1, 100) g")
        src.execute("CREATE TABLE val.journal (line int)")
        src.execute("INSERT INTO val.journal VALUES (1), (2)")
    mappings = tmp_path / "mappings.json"
    mappings.write_text(
        json.dumps(
            {
                "rules": [
                    {
                        "rule-type": "selection",
                        "rule-id": "1",
                        "rule-name": "val",
                        "rule-action": "include",
                        "object-locator": {"schema-name": "val", "table-name": "%"},
                    }
                ]
            }
        )
    )
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"ValidationSettings": {"EnableValidation": True}}))

    code = cli_main(["task", "check", "--assess", "--sandbox", "--mappings", str(mappings)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "premigration assessment: 1 finding(s)" in out
    assert "warning: val.journal: no primary key or unique index" in out and "fix: add a primary key" in out

    # Without --migration-type the assessment takes the environment's configured type: for a CDC type a keyless
    # table is an error (its updates and deletes would not be applied). Set back after, for the migrate below.
    assert cli_main(["config", "migration-type", "full-load-and-cdc"]) == 0
    try:
        code = cli_main(["task", "check", "--assess", "--sandbox", "--mappings", str(mappings)])
        out = capsys.readouterr().out
        assert "error: val.journal: no primary key or unique index" in out, out
        assert "updates and deletes are not applied during CDC" in out
    finally:
        assert cli_main(["config", "migration-type", "full-load"]) == 0
    capsys.readouterr()

    code = cli_main(
        [
            "migrate",
            "--sandbox",
            "--mappings",
            str(mappings),
            "--settings",
            str(settings),
            "--prep-mode",
            "DROP_AND_CREATE",
            "--task-id",
            "val-task",
            "--interval",
            "0.2",
            "--max-poll-failures",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "val.accounts: Table completed, 100 rows, validation Validated" in out
    assert "val.journal: Table completed, 2 rows, validation No primary key" in out
