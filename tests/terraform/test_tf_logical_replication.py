"""The source's rds.logical_replication follows the configured migration type: real `terraform plan` of the bundle
against a moto server, with the tfvars the wizard writes (issue 13).

On for full-load-and-cdc and cdc (DMS reads changes through logical decoding), off for full-load; always written as
a value, so a change of type is a visible in-place update of the parameter group, never a replacement (the group
keeps its name while the cluster uses it, so a replacement would fail).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dms_tui.config import WizardConfig
from dms_tui.environment import Environment
from dms_tui.provision.workspace import TerraformBinary, Workspace, prepare_workspace, sandbox_override
from tests.terraform.run import terraform_in

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

REGION = "us-east-1"
SOURCE_GROUP = "module.source_db.aws_rds_cluster_parameter_group.this"
TARGET_GROUP = "module.target_db.aws_rds_cluster_parameter_group.this"


MOTO: dict[str, str] = {}  # the module's moto server URL, for the boto3 calls that stand in for an earlier bundle


@pytest.fixture(scope="module")
def workspace(terraform_binary: TerraformBinary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    from moto.server import ThreadedMotoServer

    from dms_tui.sandbox.moto_gaps import apply_moto_gap_fixes

    apply_moto_gap_fixes()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = MOTO["url"] = f"http://{host}:{port}"
        target = Environment(
            mode="sandbox", region=REGION, aws_endpoint_url=url, terraform_override=sandbox_override(url, REGION)
        )
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DMS_TUI_HOME", str(tmp_path_factory.mktemp("tf-logical-home")))
            prepared = prepare_workspace("dev", target)
        init = terraform_in(terraform_binary, prepared, "init", "-input=false")
        assert init.returncode == 0, init.stdout + init.stderr
        yield prepared
    finally:
        server.stop()


def planned_parameters(tf: TerraformBinary, workspace: Workspace, migration_type: str) -> dict[str, dict[str, Any]]:
    """The parameters each cluster parameter group would get, planned from the wizard's own tfvars for that type."""
    WizardConfig.default().with_value("migration_type", migration_type).save(workspace.var_file)
    plan_file = workspace.root_module / f"{migration_type}.tfplan"
    plan = terraform_in(
        tf,
        workspace,
        "plan",
        "-input=false",
        "-lock=false",
        f"-var-file={workspace.var_file}",
        f"-target={SOURCE_GROUP}",
        f"-target={TARGET_GROUP}",
        f"-out={plan_file}",
    )
    assert plan.returncode == 0, plan.stdout[-4000:] + plan.stderr[-4000:]
    shown = terraform_in(tf, workspace, "show", "-json", str(plan_file))
    assert shown.returncode == 0, shown.stderr
    groups: dict[str, dict[str, Any]] = {}
    for change in json.loads(shown.stdout)["resource_changes"]:
        if change["address"] in (SOURCE_GROUP, TARGET_GROUP):
            after = change["change"]["after"]
            groups[change["address"]] = {p["name"]: p for p in after["parameter"]} | {"_": after}
    return groups


@pytest.mark.parametrize(("migration_type", "expected"), [("full-load", "0"), ("full-load-and-cdc", "1"), ("cdc", "1")])
def test_the_source_parameter_follows_the_migration_type(
    terraform_binary: TerraformBinary, workspace: Workspace, migration_type: str, expected: str
) -> None:
    groups = planned_parameters(terraform_binary, workspace, migration_type)
    source = groups[SOURCE_GROUP]
    assert source["rds.logical_replication"]["value"] == expected
    assert source["rds.logical_replication"]["apply_method"] == "pending-reboot"  # static: takes effect on reboot
    assert source["rds.force_ssl"]["value"] == "1"  # the rest of the group is untouched by the type
    # The target is never a CDC source: the type does not reach its group.
    assert "rds.logical_replication" in source and groups[TARGET_GROUP]["rds.logical_replication"]["value"] == "0"


def test_changing_the_type_after_provisioning_updates_the_group_in_place(
    terraform_binary: TerraformBinary, workspace: Workspace
) -> None:
    """A source group made by the earlier bundle (logical replication on, a description that followed it) is taken
    over without a replacement (on AWS a replacement fails while the cluster uses the group), and switching the type
    to full-load is then an in-place update of the one parameter."""
    import boto3

    rds = boto3.client(
        "rds", region_name=REGION, endpoint_url=MOTO["url"], aws_access_key_id="x", aws_secret_access_key="x"
    )
    name = "dev-onprem-source-params"
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName=name,
        DBParameterGroupFamily="aurora-postgresql16",
        Description="TLS required, logical replication for DMS CDC",  # what the earlier bundle wrote
    )
    var_file = f"-var-file={workspace.var_file}"
    target = f"-target={SOURCE_GROUP}"
    try:
        WizardConfig.default().with_value("migration_type", "cdc").save(workspace.var_file)
        imported = terraform_in(terraform_binary, workspace, "import", "-input=false", var_file, SOURCE_GROUP, name)
        assert imported.returncode == 0, imported.stdout[-4000:] + imported.stderr[-4000:]
        taken_over = planned_change(terraform_binary, workspace, "cdc")
        assert "delete" not in taken_over["change"]["actions"], taken_over["change"]["actions"]
        applied = terraform_in(terraform_binary, workspace, "apply", "-auto-approve", "-input=false", var_file, target)
        assert applied.returncode == 0, applied.stdout[-4000:] + applied.stderr[-4000:]

        switched = planned_change(terraform_binary, workspace, "full-load")
        assert switched["change"]["actions"] == ["update"], switched["change"]["actions"]
        before = {p["name"]: p["value"] for p in switched["change"]["before"]["parameter"]}
        after = {p["name"]: p["value"] for p in switched["change"]["after"]["parameter"]}
        assert (before["rds.logical_replication"], after["rds.logical_replication"]) == ("1", "0")
        assert planned_change(terraform_binary, workspace, "cdc")["change"]["actions"] == ["no-op"]  # as applied
    finally:
        terraform_in(terraform_binary, workspace, "destroy", "-auto-approve", "-input=false", var_file, target)


def planned_change(tf: TerraformBinary, workspace: Workspace, migration_type: str) -> dict[str, Any]:
    """The source group's planned change (actions, before, after) once the tfvars say ``migration_type``."""
    WizardConfig.default().with_value("migration_type", migration_type).save(workspace.var_file)
    plan_file = workspace.root_module / f"change-{migration_type}.tfplan"
    plan = terraform_in(
        tf,
        workspace,
        "plan",
        "-input=false",
        "-lock=false",
        f"-var-file={workspace.var_file}",
        f"-target={SOURCE_GROUP}",
        f"-out={plan_file}",
    )
    assert plan.returncode == 0, plan.stdout[-4000:] + plan.stderr[-4000:]
    shown = json.loads(terraform_in(tf, workspace, "show", "-json", str(plan_file)).stdout)
    return next(c for c in shown["resource_changes"] if c["address"] == SOURCE_GROUP)


def test_a_bad_type_in_a_hand_edited_file_is_refused_by_terraform(
    terraform_binary: TerraformBinary, workspace: Workspace, tmp_path: Path
) -> None:
    document = WizardConfig.default().to_tfvars() | {"migration_type": "CDC"}
    var_file = tmp_path / "bad.tfvars.json"
    var_file.write_text(json.dumps(document), encoding="utf-8")
    plan = terraform_in(
        terraform_binary,
        workspace,
        "plan",
        "-input=false",
        "-lock=false",
        f"-var-file={var_file}",
        f"-target={SOURCE_GROUP}",
    )
    assert plan.returncode != 0
    assert "migration_type must be full-load, full-load-and-cdc or cdc" in " ".join(plan.stderr.split())
