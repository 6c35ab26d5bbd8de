"""`dms-tui verify` and `dms-tui seed` headless: exit codes, one JSON document, nothing secret printed."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from moto_environment import MotoWorld  # type: ignore[import-not-found]

from dms_tui import cli
from dms_tui.commands import seed as seed_command
from dms_tui.commands import verify as verify_command


@pytest.fixture
def wired(environment: MotoWorld, monkeypatch: pytest.MonkeyPatch) -> MotoWorld:
    """The commands find this environment as they would find a running sandbox."""

    def resolve(args: Any) -> tuple[Any, Any]:
        return environment.target, environment.outputs

    monkeypatch.setattr(verify_command, "resolve_environment", resolve)
    monkeypatch.setattr(seed_command, "resolve_environment", resolve)
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


def test_verify_without_an_environment_exits_3_and_says_what_to_do(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["verify", "--outputs", str(tmp_path / "missing.json")])
    _, err = capsys.readouterr()
    assert code == 3 and "missing.json" in err
    code = cli.main(["verify", "--env", "nowhere"])
    _, err = capsys.readouterr()
    assert code == 3 and "provision it first" in " ".join(err.split())


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
