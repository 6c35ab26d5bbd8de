"""The wizard's model and terraform refuse the same values: one corpus, two judges, the same verdicts.

Both read the one table of rules (terraform/provisioning/config_rules.json): dms_tui.config for the wizard and
`dms-tui config check`, the validation blocks of terraform/provisioning/variables.tf for a hand-edited file at plan
time. Each case changes one value of the default tfvars document; the model's verdict is the set of top-level
variables it finds a problem in; terraform is asked through `terraform test` (one plan per case, all in one process)
to fail exactly those variables (``expect_failures``), and nothing else.

Outside the corpus, on purpose: a value's JSON type before terraform converts it ("5432" becomes 5432, "true"
becomes true, 1 becomes "1" in a map of strings) and unknown attributes terraform silently drops. The model refuses
those on its own (tests/test_config.py), because terraform cannot see them.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dms_tui.config import ConfigError, WizardConfig
from dms_tui.resources import terraform_bundle_dir

pytestmark = pytest.mark.terraform

PROVISIONING = terraform_bundle_dir() / "provisioning"
OK = "ok"

_SUBNETS = ["10.0.1.0/24", "10.0.2.0/24"]
_ZONES = ["us-east-1a", "us-east-1b"]

#: (what the case is, the dotted path into the tfvars document, the value put there)
CORPUS: list[tuple[str, str, Any]] = [
    ("the default", "environment", "dev"),
    ("one-letter environment", "environment", "a"),
    ("environment with a hyphen", "environment", "qa-2"),
    ("16-character environment", "environment", "abcdefghijklmnop"),
    ("17-character environment", "environment", "abcdefghijklmnopq"),
    ("capitalised environment", "environment", "Dev"),
    ("environment ending in a hyphen", "environment", "dev-"),
    ("environment with two hyphens", "environment", "de--v"),
    ("environment starting with a digit", "environment", "1dev"),
    ("environment with an underscore", "environment", "dev_1"),
    ("empty environment", "environment", ""),
    ("environment with a leading space", "environment", " dev"),
    ("the default region", "aws_region", "us-east-1"),
    ("a known region, zones of another", "aws_region", "eu-west-1"),
    ("region outside the catalog", "aws_region", "us-east-9"),
    ("capitalised region", "aws_region", "US-EAST-1"),
    ("not a region", "aws_region", "mars-1"),
    ("a /20 VPC holding its subnets", "vpcs.source.cidr", "10.0.0.0/20"),
    ("a /15 VPC", "vpcs.source.cidr", "10.0.0.0/15"),
    ("a /29 VPC", "vpcs.source.cidr", "10.0.0.0/29"),
    ("VPC cidr with host bits", "vpcs.source.cidr", "10.0.0.5/16"),
    ("IPv6 VPC cidr", "vpcs.source.cidr", "fd00::/16"),
    ("loopback VPC", "vpcs.source.cidr", "127.0.0.0/16"),
    ("link-local VPC", "vpcs.source.cidr", "169.254.0.0/16"),
    ("multicast VPC", "vpcs.source.cidr", "224.0.0.0/16"),
    ("reserved VPC", "vpcs.source.cidr", "240.0.0.0/16"),
    ("VPC in 0.0.0.0/8", "vpcs.source.cidr", "0.0.0.0/16"),
    ("cidr without a prefix", "vpcs.source.cidr", "10.0.0.0"),
    ("cidr with a netmask", "vpcs.source.cidr", "10.0.0.0/255.255.0.0"),
    ("subnets of two sizes", "vpcs.dms.private_subnets", ["10.0.1.0/24", "10.0.2.0/28"]),
    ("overlapping subnets", "vpcs.dms.private_subnets", ["10.0.1.0/24", "10.0.1.128/25"]),
    ("the same subnet twice", "vpcs.dms.private_subnets", ["10.0.1.0/24", "10.0.1.0/24"]),
    ("a subnet outside the VPC", "vpcs.dms.private_subnets", ["10.1.0.0/24", "10.0.2.0/24"]),
    ("one subnet (one zone)", "vpcs.dms.private_subnets", ["10.0.1.0/24"]),
    ("a /29 subnet", "vpcs.dms.private_subnets", ["10.0.1.0/29", "10.0.2.0/24"]),
    ("a subnet with host bits", "vpcs.dms.private_subnets", ["10.0.1.5/24", "10.0.2.0/24"]),
    ("other zones of the region", "vpcs.target.azs", ["us-east-1c", "us-east-1f"]),
    ("both subnets in one zone", "vpcs.target.azs", ["us-east-1a", "us-east-1a"]),
    ("zone IDs instead of names", "vpcs.target.azs", ["use1-az1", "use1-az2"]),
    ("a zone the region lacks", "vpcs.target.azs", ["us-east-1a", "us-east-1g"]),
    ("zones of another region", "vpcs.target.azs", ["us-west-2a", "us-west-2b"]),
    ("more zones than subnets", "vpcs.target.azs", ["us-east-1a", "us-east-1b", "us-east-1c"]),
    ("VPC name with digits", "vpcs.dms.name", "dms-vpc-1"),
    ("capitalised VPC name", "vpcs.dms.name", "Dms-Vpc"),
    ("VPC name ending in a hyphen", "vpcs.dms.name", "dms-"),
    ("VPC name starting with a digit", "vpcs.dms.name", "1dms"),
    ("33-character VPC name", "vpcs.dms.name", "a" * 33),
    ("two VPCs with one name", "vpcs.dms.name", "onprem-source"),
    ("short cluster name", "source_db.cluster_name", "pg-1"),
    ("63-character cluster name", "source_db.cluster_name", "a" * 63),
    ("64-character cluster name", "source_db.cluster_name", "a" * 64),
    ("capitalised cluster name", "source_db.cluster_name", "Pg"),
    ("cluster name ending in a hyphen", "source_db.cluster_name", "pg-"),
    ("target named like the source", "target_db.cluster_name", "onprem-source"),
    ("engine 11.22", "source_db.engine_version", "11.22"),
    ("engine 17.0", "target_db.engine_version", "17.0"),
    ("engine major only", "source_db.engine_version", "16"),
    ("engine with a patch level", "source_db.engine_version", "16.6.1"),
    ("engine major 10", "source_db.engine_version", "10.5"),
    ("engine major 18", "source_db.engine_version", "18.1"),
    ("engine with a v", "source_db.engine_version", "v16.6"),
    ("engine in Arabic-Indic digits", "source_db.engine_version", "\u0661\u0666.\u0666"),
    ("burstable Aurora class", "source_db.instance_class", "db.t4g.medium"),
    ("largest r6i", "target_db.instance_class", "db.r6i.32xlarge"),
    ("burstable class too large", "source_db.instance_class", "db.t4g.xlarge"),
    ("Aurora Serverless v2", "source_db.instance_class", "db.serverless"),
    ("a class Aurora PostgreSQL lacks", "source_db.instance_class", "db.m5.large"),
    ("class without db.", "source_db.instance_class", "r6g.large"),
    ("mixed-case database name", "source_db.database_name", "Demo_DB"),
    ("one-letter database name", "source_db.database_name", "a"),
    ("reserved word as database", "source_db.database_name", "select"),
    ("reserved word in capitals", "source_db.database_name", "SELECT"),
    ("Aurora's own database", "target_db.database_name", "template1"),
    ("database name with a hyphen", "source_db.database_name", "demo-db"),
    ("database name starting with a digit", "source_db.database_name", "1db"),
    ("64-character database name", "source_db.database_name", "a" * 64),
    ("user dms_admin", "source_db.master_username", "dms_admin"),
    ("16-character user", "source_db.master_username", "a" * 16),
    ("17-character user", "source_db.master_username", "a" * 17),
    ("user admin", "target_db.master_username", "admin"),
    ("user Admin", "target_db.master_username", "Admin"),
    ("user rdsadmin", "target_db.master_username", "rdsadmin"),
    ("user with pg_ prefix", "target_db.master_username", "pg_monitor"),
    ("user with rds_ prefix", "target_db.master_username", "rds_x"),
    ("user user", "target_db.master_username", "user"),
    ("user public", "target_db.master_username", "public"),
    ("user with a hyphen", "target_db.master_username", "master-user"),
    ("lowest port", "source_db.port", 1150),
    ("highest port", "source_db.port", 65535),
    ("port below the range", "source_db.port", 1149),
    ("port above the range", "target_db.port", 65536),
    ("port 80", "target_db.port", 80),
    ("largest c6i replication class", "dms_replication_instance_class", "dms.c6i.32xlarge"),
    ("t3 replication class too large", "dms_replication_instance_class", "dms.t3.xlarge"),
    ("a family DMS lacks", "dms_replication_instance_class", "dms.m5.large"),
    ("replication class without dms.", "dms_replication_instance_class", "t3.medium"),
    ("least storage", "dms_allocated_storage", 5),
    ("most storage", "dms_allocated_storage", 6144),
    ("too little storage", "dms_allocated_storage", 4),
    ("too much storage", "dms_allocated_storage", 6145),
    ("bastion m7i.2xlarge", "bastion_instance_type", "m7i.2xlarge"),
    ("bastion c7g.metal", "bastion_instance_type", "c7g.metal"),
    ("bastion family only", "bastion_instance_type", "t3"),
    ("bastion with an empty size", "bastion_instance_type", "t3."),
    ("bastion of an unlisted family", "bastion_instance_type", "x1.large"),
    ("bastion with two sizes", "bastion_instance_type", "t3.micro.x"),
    ("bastion of an unknown size", "bastion_instance_type", "t3.huge"),
    ("bastion 100xlarge", "bastion_instance_type", "t3.100xlarge"),
    ("full-load", "migration_type", "full-load"),
    ("full-load-and-cdc", "migration_type", "full-load-and-cdc"),
    ("cdc", "migration_type", "cdc"),
    ("CDC in capitals", "migration_type", "CDC"),
    ("full_load with an underscore", "migration_type", "full_load"),
    ("an empty migration type", "migration_type", ""),
    ("DMS's console name", "migration_type", "Migrate existing data"),
    ("no tags", "tags", {}),
    ("tags with AWS's punctuation", "tags", {"Owner": "team a", "cost:center": "1/2=+@_.-"}),
    ("tags in other scripts", "tags", {"Ünïcode": "日本語 ²"}),
    ("256-character tag value", "tags", {"a": "x" * 256}),
    ("128-character tag key", "tags", {"k" * 128: "v"}),
    ("50 tags", "tags", {f"t{i}": "v" for i in range(50)}),
    ("51 tags", "tags", {f"t{i}": "v" for i in range(51)}),
    ("aws: tag key", "tags", {"aws:x": "y"}),
    ("AWS: tag key", "tags", {"AWS:x": "y"}),
    ("empty tag key", "tags", {"": "x"}),
    ("257-character tag value", "tags", {"a": "x" * 257}),
    ("129-character tag key", "tags", {"k" * 129: "v"}),
    ("# in a tag key", "tags", {"a#b": "v"}),
    ("a tab in a tag value", "tags", {"a": "tab\there"}),
    ("a newline in a tag value", "tags", {"a": "two\nlines"}),
]


def _document(path: str, value: Any) -> dict[str, Any]:
    document = WizardConfig.default().to_tfvars()
    *parents, leaf = path.split(".")
    node = document
    for key in parents:
        node = node[key]
    node[leaf] = copy.deepcopy(value)
    return document


def model_verdict(document: dict[str, Any]) -> frozenset[str]:
    """The top-level variables the model finds a problem in (empty: it accepts the document)."""
    try:
        WizardConfig.from_tfvars(copy.deepcopy(document))
    except ConfigError as exc:
        return frozenset(re.split(r"[.\[]", problem.field, maxsplit=1)[0] for problem in exc.problems)
    return frozenset()


def test_the_corpus_has_both_verdicts_for_every_variable() -> None:
    # A corpus of only good (or only bad) values of a variable could not catch the two sides disagreeing.
    verdicts: dict[str, set[bool]] = {}
    for _, path, value in CORPUS:
        verdicts.setdefault(path.split(".")[0], set()).add(bool(model_verdict(_document(path, value))))
    for variable in WizardConfig.default().to_tfvars():
        if variable != "create_dms_service_roles":  # a bool has no bad value terraform would see
            assert verdicts.get(variable) == {True, False}, f"{variable}: the corpus needs good and bad values"


def test_variables_tf_takes_its_rules_from_the_table() -> None:
    text = (PROVISIONING / "variables.tf").read_text(encoding="utf-8")
    assert 'jsondecode(file("${path.module}/config_rules.json"))' in text
    hard_coded = re.findall(r'regex\("[^"]*"', text) + re.findall(r'"rdsadmin"|"template1"|"us-east-1"', text)
    assert not hard_coded, f"variables.tf repeats rules the table holds: {hard_coded}"


def _hcl(value: Any) -> str:
    """A JSON value as an HCL expression: JSON is HCL, once template sequences are escaped."""
    return json.dumps(value).replace("${", "$${").replace("%{", "%%{")


def _test_file(run: str, document: dict[str, Any], failing: frozenset[str]) -> str:
    """One run block: plan with ``document``; exactly the ``failing`` variables must fail their validation."""
    variables = "".join(f"    {name} = {_hcl(value)}\n" for name, value in document.items())
    expect = f"  expect_failures = [{', '.join(f'var.{v}' for v in sorted(failing))}]\n" if failing else ""
    return f'run "{run}" {{\n  command = plan\n  variables {{\n{variables}  }}\n{expect}}}\n'


@pytest.fixture(scope="module")
def terraform() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("terraform is not installed: the model/variables.tf agreement cannot be checked here")
    version = subprocess.run([binary, "version", "-json"], capture_output=True, text=True, timeout=60, check=False)
    found = json.loads(version.stdout or "{}").get("terraform_version", "0")
    if tuple(int(part) for part in found.split(".")[:2]) < (1, 9):
        pytest.skip(f"terraform {found} is older than 1.9: its validation blocks cannot read the table")
    return binary


def _disagreements(terraform: str, module: Path, rules: dict[str, Any] | None = None) -> list[str]:
    """Run the corpus through the model and through terraform (variables.tf reading ``rules``, by default the
    table); one line per case where they differ."""
    module.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROVISIONING / "variables.tf", module / "variables.tf")  # alone: no provider, no AWS, no moto
    table = rules if rules is not None else json.loads((PROVISIONING / "config_rules.json").read_text("utf-8"))
    (module / "config_rules.json").write_text(json.dumps(table), encoding="utf-8")
    cases = []
    for index, (_, path, value) in enumerate(CORPUS):
        document = _document(path, value)
        cases.append((f"case_{index:03d}", document, model_verdict(document)))
    for name, document, failing in cases:  # one file each: a failed run would skip the later runs of its file
        (module / f"{name}.tftest.hcl").write_text(_test_file(name, document, failing), encoding="utf-8")
    (module / "empty.tfrc").write_text("")
    env = {"TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": str(module / "empty.tfrc"), "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [terraform, *args, "-no-color"], cwd=module, env=env, capture_output=True, text=True, timeout=600
        )

    init = run("init", "-input=false", "-backend=false")
    assert init.returncode == 0, init.stdout + init.stderr
    done = run("test", "-json")
    status: dict[str, str] = {}
    diagnostics: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        message = json.loads(line)
        name = message.get("@testrun")
        if message.get("type") == "test_run" and message["test_run"].get("progress") == "complete":
            status[name] = message["test_run"]["status"]
        elif name and "diagnostic" in message:
            diagnostic = message["diagnostic"]
            diagnostics.setdefault(name, []).append(f"{diagnostic['summary']}: {diagnostic.get('detail', '')[:200]}")
    assert len(status) == len(CORPUS), done.stdout[-2000:] + done.stderr[-2000:]
    return [
        f"{what} ({path} = {value!r}): the model refuses {sorted(failing) or 'nothing'}; terraform: "
        + " | ".join(diagnostics.get(name, ["accepts it"]))
        for (name, _, failing), (what, path, value) in zip(cases, CORPUS, strict=True)
        if status[name] != "pass"
    ]


def test_the_model_and_terraform_give_the_same_verdicts(terraform: str, tmp_path: Path) -> None:
    disagreements = _disagreements(terraform, tmp_path)
    assert not disagreements, "\n".join(disagreements)


def test_the_check_notices_terraform_judging_by_other_rules(terraform: str, tmp_path: Path) -> None:
    # As before the table: terraform knew fewer reserved user names and took any number as an engine version.
    rules = json.loads((PROVISIONING / "config_rules.json").read_text("utf-8"))
    rules["reserved_role_names"].remove("public")
    rules["engine_version"]["pattern"] = "^([0-9]+)(\\.[0-9]+)*$"
    disagreements = _disagreements(terraform, tmp_path, rules)
    assert [line.split(" (", 1)[0] for line in disagreements] == [
        "engine major only",
        "engine with a patch level",
        "user public",
    ]
