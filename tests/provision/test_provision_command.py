"""`dms-tui provision plan|apply|destroy|attach|cancel` against the fake terraform: output, --json, exit codes,
and the detached apply that outlives the command (and Ctrl+C, which stops following, not terraform)."""

from __future__ import annotations

import json

import pytest

from dms_tui.cli import main


@pytest.fixture
def fake_env(fake_terraform, aws_identity, monkeypatch):
    """The fake terraform's knobs, in AWS mode with an identity (moto's STS): nothing typed but flags."""

    def apply(**knobs: str) -> None:
        for key, value in fake_terraform.env(**knobs).items():
            monkeypatch.setenv(key, value)

    apply()
    return apply


def _provision(fake_terraform, *args: str) -> list[str]:
    return ["provision", *args, "--workdir", str(fake_terraform.workdir), "--terraform", str(fake_terraform.path)]


def test_plan_prints_the_resources_by_module_and_exits_0(fake_terraform, fake_env, capsys):
    assert main(_provision(fake_terraform, "plan")) == 0
    err = capsys.readouterr().err
    assert "plan: 6 to add, 0 to change, 0 to destroy" in err
    assert "module.network" in err and "create   module.network.aws_vpc.this" in err
    assert [json.loads(line)[0] for line in fake_terraform.invocations()] == ["version", "init", "plan"]


def test_plan_with_an_invalid_cidr_prints_the_diagnostic_and_exits_1(fake_terraform, fake_env, capsys):
    fake_env(plan="plan_invalid_cidr.jsonl")
    assert main(_provision(fake_terraform, "plan")) == 1
    err = capsys.readouterr().err
    assert '"10.0.300.0/24" is not a valid CIDR block' in err
    assert "modules/network/main.tf:19" in err and "cidr_block = var.subnet_cidrs[count.index]" in err


def test_apply_yes_json_prints_one_document_with_counts_and_outputs(fake_terraform, fake_env, capsys):
    assert main(_provision(fake_terraform, "apply", "--yes", "--json")) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] and (document["planned"], document["done"], document["failed"]) == (6, 6, 0)
    assert document["summary"]["operation"] == "apply"
    assert document["outputs"]["vpc_id"].startswith("vpc-")
    assert [c["command"].split()[1] for c in document["commands"]] == ["init", "plan", "apply"]
    # the saved plan is what gets applied
    assert json.loads(fake_terraform.invocations()[-2])[-1] == "tfplan"


def test_apply_without_yes_and_without_a_terminal_does_not_run(fake_terraform, fake_env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(_provision(fake_terraform, "apply")) == 2
    assert "--yes" in capsys.readouterr().err
    assert "apply" not in [json.loads(line)[0] for line in fake_terraform.invocations()]


def test_a_failing_apply_exits_1_and_names_the_failed_resource(fake_terraform, fake_env, capsys):
    fake_env(apply="apply_errored.jsonl")
    assert main(_provision(fake_terraform, "apply", "--yes")) == 1
    err = capsys.readouterr().err
    assert "✗ module.network.aws_subnet.private[2]" in err and "InvalidSubnet.Range" in err


def test_destroy_yes_prints_one_line_per_destroyed_resource(fake_terraform, fake_env, capsys):
    assert main(_provision(fake_terraform, "destroy", "--yes")) == 0
    err = capsys.readouterr().err
    assert err.count("✓ ") == 6 and "destroyed in" in err
    assert "destroy: 0 added, 0 changed, 6 destroyed" in err


def test_terraform_too_old_is_an_actionable_error_and_nothing_runs(fake_terraform, fake_env, capsys):
    fake_env(version="1.5.7")
    assert main(_provision(fake_terraform, "plan", "--json")) == 2
    captured = capsys.readouterr()
    assert "1.11 or newer" in json.loads(captured.out)["error"]
    assert [json.loads(line)[0] for line in fake_terraform.invocations()] == ["version"]
