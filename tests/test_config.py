"""The configuration model: the seed's defaults, lossless tfvars round trips, and every rule with its fix."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dms_tui import cli
from dms_tui.config import (
    OVERLAPPING_VPCS_EXPLANATION,
    TFVARS_KEYS,
    ConfigError,
    Problem,
    WizardConfig,
    load,
    overlapping_vpcs,
    tfvars_path,
    validate,
    validate_allocated_storage,
    validate_availability_zone,
    validate_cidr,
    validate_engine_version,
    validate_identifier,
    validate_instance_class,
    validate_port,
    validate_region,
    validate_tags,
)

REPO = Path(__file__).resolve().parent.parent

# The contract (notes/tfvars_contract.md), spelled out here so a drift in either direction fails a test.
SEED: dict[str, Any] = {
    "environment": "dev",
    "aws_region": "us-east-1",
    "vpcs": {
        "source": {
            "name": "onprem-source",
            "cidr": "10.0.0.0/16",
            "azs": ["us-east-1a", "us-east-1b"],
            "private_subnets": ["10.0.1.0/24", "10.0.2.0/24"],
        },
        "dms": {
            "name": "dms",
            "cidr": "10.0.0.0/16",
            "azs": ["us-east-1a", "us-east-1b"],
            "private_subnets": ["10.0.1.0/24", "10.0.2.0/24"],
        },
        "target": {
            "name": "aurora-target",
            "cidr": "10.0.0.0/16",
            "azs": ["us-east-1a", "us-east-1b"],
            "private_subnets": ["10.0.1.0/24", "10.0.2.0/24"],
        },
    },
    "source_db": {
        "cluster_name": "onprem-source",
        "engine_version": "16.6",
        "instance_class": "db.r6g.large",
        "database_name": "demo_db",
        "master_username": "postgres",
        "port": 5432,
    },
    "target_db": {
        "cluster_name": "aurora-target",
        "engine_version": "16.6",
        "instance_class": "db.r6g.large",
        "database_name": "demo_db",
        "master_username": "postgres",
        "port": 5432,
    },
    "dms_replication_instance_class": "dms.t3.medium",
    "dms_allocated_storage": 50,
    "bastion_instance_type": "t3.micro",
    "create_dms_service_roles": True,
    "migration_type": "full-load",
    "tags": {"Project": "dms-tui", "Environment": "dev"},
}


def seed() -> dict[str, Any]:
    return copy.deepcopy(SEED)


def problems_of(document: dict[str, Any]) -> dict[str, str]:
    """field -> message for a document that must be refused."""
    with pytest.raises(ConfigError) as caught:
        WizardConfig.from_tfvars(document)
    assert caught.value.problems, "a refusal must say why"
    return {p.field: p.message for p in caught.value.problems}


# ------------------------------------------------------------------------------------------ defaults and files


def test_the_defaults_reproduce_the_seed_exactly_including_key_order() -> None:
    document = WizardConfig.default().to_tfvars()
    assert document == SEED
    assert json.dumps(document) == json.dumps(SEED)
    assert tuple(document) == TFVARS_KEYS
    assert validate(WizardConfig.default()) == []


def test_another_environment_changes_only_its_name_and_tag() -> None:
    document = WizardConfig.default("qa").to_tfvars()
    assert document["environment"] == "qa" and document["tags"]["Environment"] == "qa"
    assert {k: v for k, v in document.items() if k not in ("environment", "tags")} == {
        k: v for k, v in SEED.items() if k not in ("environment", "tags")
    }


def test_the_bundled_seed_file_matches_the_model_when_present() -> None:
    bundled = REPO / "terraform" / "variables" / "dev" / "common.tfvars.json"
    if not bundled.exists():
        pytest.skip(f"{bundled} is not in this checkout yet (the Terraform bundle writes it)")
    assert load(bundled) == WizardConfig.default()


def test_a_round_trip_through_a_file_is_lossless(tmp_path: Path) -> None:
    config = (
        WizardConfig.default("stage")
        .with_value("vpcs.dms.cidr", "172.16.0.0/20")
        .with_value("vpcs.dms.azs", ("us-east-1c", "us-east-1d", "us-east-1f"))
        .with_value("vpcs.dms.private_subnets", ("172.16.0.0/24", "172.16.1.0/24", "172.16.8.0/22"))
        .with_value("target_db.port", 6543)
        .with_value("tags", {"Project": "dms-tui", "Environment": "stage", "Owner": "data team@example.com"})
    )
    path = tfvars_path(tmp_path, "stage")
    config.save(path)
    assert path == tmp_path / "variables" / "stage" / "common.tfvars.json"
    first = path.read_text()
    loaded = load(path)
    assert loaded == config
    loaded.save(path)
    assert path.read_text() == first
    assert json.loads(first) == config.to_tfvars()
    assert [p.name for p in path.parent.iterdir()] == ["common.tfvars.json"], "no temp file may be left behind"


def test_the_model_is_immutable() -> None:
    config = WizardConfig.default()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.environment = "prod"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.tags["Project"] = "other"  # type: ignore[index]
    source_tags = {"Project": "x"}
    tagged = dataclasses.replace(config, tags=source_tags)
    source_tags["Project"] = "changed behind its back"
    assert tagged.tags["Project"] == "x"


def test_with_value_edits_one_field_by_its_path() -> None:
    config = WizardConfig.default().with_value("vpcs.dms.private_subnets[1]", "10.0.3.0/24")
    assert config.vpcs.dms.private_subnets == ("10.0.1.0/24", "10.0.3.0/24")
    assert config.vpcs.source.private_subnets == ("10.0.1.0/24", "10.0.2.0/24")
    for bad_path in ("vpcs.nowhere.cidr", "vpcs.dms.private_subnets[7]", "source_db..port", "tags.Project"):
        with pytest.raises(KeyError):
            WizardConfig.default().with_value(bad_path, "x")


def test_an_invalid_config_is_not_saved_and_the_old_file_survives(tmp_path: Path) -> None:
    path = tmp_path / "variables" / "dev" / "common.tfvars.json"
    WizardConfig.default().save(path)
    before = path.read_text()
    broken = WizardConfig.default().with_value("vpcs.source.cidr", "10.0.0.0/8")
    with pytest.raises(ConfigError) as caught:
        broken.save(path)
    assert [p.field for p in caught.value.problems] == ["vpcs.source.cidr"]
    assert path.read_text() == before
    fresh = tmp_path / "never" / "common.tfvars.json"
    with pytest.raises(ConfigError):
        broken.save(fresh)
    assert not fresh.exists()


def test_tfvars_path_refuses_an_environment_that_would_leave_the_directory(tmp_path: Path) -> None:
    for env in ("../prod", "dev/x", "", "Prod"):
        with pytest.raises(ConfigError) as caught:
            tfvars_path(tmp_path, env)
        assert caught.value.problems[0].field == "environment"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "file not found"),
        ('{"environment": "dev",', "is not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"environment": "dev", "environment": "prod"}', "more than once"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_with_a_reason(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "common.tfvars.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert expected in str(caught.value)


# --------------------------------------------------------------------------------------------- document shape


def test_every_problem_in_a_document_is_listed_not_just_the_first() -> None:
    document = seed()
    document["vpcs"]["source"]["cidr"] = "10.0.1.5/24"
    document["vpcs"]["target"]["azs"] = ["us-east-1a", "us-east-1a"]
    document["source_db"]["port"] = "5432"
    document["target_db"]["database_name"] = "select"
    document["dms_allocated_storage"] = 4
    document["extra_variable"] = True
    del document["bastion_instance_type"]
    problems = problems_of(document)
    assert set(problems) == {
        "vpcs.source.cidr",
        "vpcs.target.azs",
        "source_db.port",
        "target_db.database_name",
        "dms_allocated_storage",
        "extra_variable",
        "bastion_instance_type",
    }
    assert "did you mean 10.0.1.0/24?" in problems["vpcs.source.cidr"]
    assert "without quotes" in problems["source_db.port"]
    assert "terraform would ignore it" in problems["extra_variable"]
    assert '"t3.micro"' in problems["bastion_instance_type"]


def test_a_misspelt_attribute_gets_a_suggestion() -> None:
    document = seed()
    document["target_db"]["databse_name"] = document["target_db"].pop("database_name")
    problems = problems_of(document)
    assert "did you mean 'database_name'" in problems["target_db.databse_name"]
    assert "is missing" in problems["target_db.database_name"]
    assert len(problems) == 2, "a missing field is reported once, not again as a type error"


def test_a_missing_or_malformed_object_is_reported_once() -> None:
    document = seed()
    del document["vpcs"]["dms"]
    document["source_db"] = "onprem"
    problems = problems_of(document)
    assert problems == {
        "vpcs.dms": problems["vpcs.dms"],
        "source_db": problems["source_db"],
    }
    assert "is missing" in problems["vpcs.dms"]
    assert "must be an object" in problems["source_db"]


def test_values_of_the_wrong_json_type_are_refused() -> None:
    document = seed()
    document["create_dms_service_roles"] = "yes"
    document["dms_allocated_storage"] = 50.0
    document["tags"]["CostCenter"] = 42
    document["vpcs"]["dms"]["azs"] = "us-east-1a,us-east-1b"
    problems = problems_of(document)
    assert "true or false" in problems["create_dms_service_roles"]
    assert "whole JSON number" in problems["dms_allocated_storage"]
    assert "must be text" in problems["tags.CostCenter"]
    assert "must be a list" in problems["vpcs.dms.azs"]


# ------------------------------------------------------------------------------------------------ networking


def test_overlapping_vpc_cidrs_are_accepted_and_explained() -> None:
    config = WizardConfig.default()
    assert validate(config) == []
    assert overlapping_vpcs(config) == [("source", "dms"), ("source", "target"), ("dms", "target")]
    assert "PrivateLink" in OVERLAPPING_VPCS_EXPLANATION and "no peering" in OVERLAPPING_VPCS_EXPLANATION
    separate = config.with_value("vpcs.dms.cidr", "10.1.0.0/16").with_value(
        "vpcs.dms.private_subnets", ("10.1.1.0/24", "10.1.2.0/24")
    )
    assert validate(separate) == []
    assert overlapping_vpcs(separate) == [("source", "target")]


@pytest.mark.parametrize(
    ("text", "role", "expected"),
    [
        ("10.0.1.5/24", "subnet", "10.0.1.5/24 has host bits set; did you mean 10.0.1.0/24?"),
        ("10.0.0.0/15", "vpc", "between /16 and /28"),
        ("10.0.0.0/29", "subnet", "between /16 and /28"),
        ("2001:db8::/56", "vpc", "IPv6"),
        ("10.0.0.0", "vpc", "no prefix length"),
        ("10.0.0.300/16", "vpc", "not a valid IPv4 CIDR block"),
        ("10.0.0.0/255.255.0.0", "vpc", "write 10.0.0.0/255.255.0.0 as 10.0.0.0/16"),
        ("127.0.0.0/16", "vpc", "loopback"),
        (" 10.0.0.0/16", "vpc", "spaces"),
        ("", "vpc", "is empty"),
        (16, "vpc", "must be text"),
    ],
)
def test_bad_cidr_blocks_say_how_to_fix_them(text: object, role: str, expected: str) -> None:
    problem = validate_cidr("vpcs.dms.cidr", text, role=role)  # type: ignore[arg-type]
    assert problem is not None and problem.field == "vpcs.dms.cidr"
    assert expected in problem.message


@pytest.mark.parametrize("text", ["10.0.0.0/16", "10.0.0.0/28", "192.168.4.0/22", "100.64.0.0/16"])
def test_good_cidr_blocks_pass(text: str) -> None:
    assert validate_cidr("vpcs.source.cidr", text) is None


def test_subnets_must_sit_inside_their_vpc_without_overlapping() -> None:
    document = seed()
    document["vpcs"]["dms"]["private_subnets"] = ["10.0.1.0/24", "10.0.1.128/25"]
    document["vpcs"]["target"]["private_subnets"] = ["10.0.1.0/24", "10.9.0.0/24"]
    problems = problems_of(document)
    assert problems["vpcs.dms.private_subnets[1]"].startswith("10.0.1.128/25 overlaps private_subnets[0]")
    assert "use a free block such as 10.0.0.0/25" in problems["vpcs.dms.private_subnets[1]"]
    assert "outside the VPC's 10.0.0.0/16" in problems["vpcs.target.private_subnets[1]"]
    assert set(problems) == {"vpcs.dms.private_subnets[1]", "vpcs.target.private_subnets[1]"}


def test_subnet_groups_need_two_subnets_in_two_zones() -> None:
    document = seed()
    document["vpcs"]["source"]["azs"] = ["us-east-1a"]
    document["vpcs"]["source"]["private_subnets"] = ["10.0.1.0/24"]
    document["vpcs"]["dms"]["azs"] = ["us-east-1b", "us-east-1b"]
    document["vpcs"]["target"]["azs"] = ["us-east-1a", "us-east-1b", "us-east-1c"]
    problems = problems_of(document)
    assert "at least two" in problems["vpcs.source.private_subnets"]
    assert "us-east-1b" in problems["vpcs.dms.azs"] and "two different" in problems["vpcs.dms.azs"]
    assert "3 zone(s) for 2 private subnets" in problems["vpcs.target.azs"]


def test_zones_must_belong_to_the_region() -> None:
    assert validate_availability_zone("vpcs.dms.azs[0]", "us-east-1a", "us-east-1") is None
    wrong_region = validate_availability_zone("vpcs.dms.azs[0]", "eu-west-1a", "us-east-1")
    assert wrong_region is not None and "not in the region us-east-1" in wrong_region.message
    no_such_zone = validate_availability_zone("vpcs.dms.azs[1]", "us-east-1g", "us-east-1")
    assert no_such_zone is not None and "us-east-1f" in no_such_zone.message
    zone_id = validate_availability_zone("vpcs.dms.azs[1]", "use1-az1", "us-east-1")
    assert zone_id is not None and "zone ID" in zone_id.message
    document = seed()
    document["aws_region"] = "eu-west-1"
    problems = problems_of(document)
    assert set(problems) == {f"vpcs.{role}.azs[{i}]" for role in ("source", "dms", "target") for i in (0, 1)}


def test_region_typos_get_a_suggestion() -> None:
    assert validate_region("aws_region", "eu-central-1") is None
    typo = validate_region("aws_region", "us-east1")
    assert typo is not None and "did you mean 'us-east-1'" in typo.message
    upper = validate_region("aws_region", "US-EAST-1")
    assert upper is not None and "lowercase" in upper.message


# ----------------------------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize("name", ["postgres", "demo_user", "A1", "migration_admin1"])
def test_usual_master_usernames_pass(name: str) -> None:
    assert validate_identifier("source_db.master_username", name, "master_username") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rdsadmin", "reserves"),
        ("admin", "reserves"),
        ("rds_superuser", "reserves"),
        ("pg_monitor", "reserves"),
        ("user", "reserved word"),
        ("1admin", "start with a letter"),
        ("admin-user", "letters, digits and underscores"),
        ("a" * 17, "at most 16"),
        ("", "is empty"),
    ],
)
def test_bad_master_usernames_are_refused(name: str, expected: str) -> None:
    problem = validate_identifier("target_db.master_username", name, "master_username")
    assert problem is not None and expected in problem.message


@pytest.mark.parametrize(
    ("name", "expected"),
    [("select", "reserved word"), ("template1", "reserves"), ("d" * 64, "at most 63"), ("démo", "letters")],
)
def test_bad_database_names_are_refused(name: str, expected: str) -> None:
    problem = validate_identifier("target_db.database_name", name, "database_name")
    assert problem is not None and expected in problem.message
    assert validate_identifier("target_db.database_name", "d" * 63, "database_name") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Aurora-Target", "use 'aurora-target'"),
        ("aurora-", "use 'aurora'"),
        ("aurora--target", "use 'aurora-target'"),
        ("9lives", "start with a letter"),
        ("aurora_target", "lowercase letters, digits and hyphens"),
        ("a" * 64, "at most 63"),
    ],
)
def test_cluster_identifiers_follow_the_rds_rules(name: str, expected: str) -> None:
    problem = validate_identifier("target_db.cluster_name", name, "cluster_name")
    assert problem is not None and expected in problem.message


def test_clusters_and_vpcs_need_distinct_names() -> None:
    document = seed()
    document["target_db"]["cluster_name"] = "onprem-source"
    document["vpcs"]["target"]["name"] = "dms"
    problems = problems_of(document)
    assert "unique in an account and region" in problems["target_db.cluster_name"]
    assert "dms VPC's name" in problems["vpcs.target.name"]


def test_the_environment_name_is_short_and_safe() -> None:
    assert validate_identifier("environment", "prod-eu", "environment") is None
    too_long = validate_identifier("environment", "a-very-long-environment", "environment")
    assert too_long is not None and "at most 16" in too_long.message


# ----------------------------------------------------------------------------------- numbers, classes, tags


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (5432, True),
        (1150, True),
        (65535, True),
        ("5432", True),
        (1149, False),
        (65536, False),
        (True, False),
        ("port", False),
        (5432.5, False),
    ],
)
def test_ports_follow_aurora_range(value: object, ok: bool) -> None:
    problem = validate_port("source_db.port", value)
    assert (problem is None) is ok
    if problem is not None:
        assert "1150 to 65535" in problem.message


def test_dms_storage_range() -> None:
    assert validate_allocated_storage("dms_allocated_storage", 5) is None
    assert validate_allocated_storage("dms_allocated_storage", 6144) is None
    for bad in (4, 6145, -1, "lots"):
        assert validate_allocated_storage("dms_allocated_storage", bad) is not None


@pytest.mark.parametrize(
    ("text", "kind", "ok"),
    [
        ("db.r6g.large", "aurora", True),
        ("db.t4g.medium", "aurora", True),
        ("db.serverless", "aurora", False),  # needs scaling settings the model does not hold
        ("db.t3.small", "aurora", False),  # burstable Aurora classes start at medium
        ("db.m5.large", "aurora", False),  # Aurora has no general-purpose m classes
        ("r6g.large", "aurora", False),
        ("dms.t3.medium", "dms", True),
        ("dms.r5.xlarge", "dms", True),
        ("dms.t3.huge", "dms", False),
        ("db.t3.medium", "dms", False),
        ("t3.micro", "ec2", True),
        ("m7g.2xlarge", "ec2", True),
        ("x9.micro", "ec2", False),
        ("t3", "ec2", False),
    ],
)
def test_instance_classes_come_from_families_that_exist(text: str, kind: str, ok: bool) -> None:
    problem = validate_instance_class("field", text, kind)  # type: ignore[arg-type]
    assert (problem is None) is ok, problem


def test_engine_versions() -> None:
    assert validate_engine_version("source_db.engine_version", "16.6") is None
    assert validate_engine_version("source_db.engine_version", "13.20") is None
    for bad in ("16", "16.6.1", "9.6", "latest"):
        problem = validate_engine_version("source_db.engine_version", bad)
        assert problem is not None and problem.field == "source_db.engine_version"


def test_tags_follow_aws_limits() -> None:
    assert validate_tags("tags", {"Project": "dms-tui", "Owner": "a.b@example.com"}) == []
    problems = {
        p.field: p.message
        for p in validate_tags("tags", {"aws:createdBy": "me", "k" * 129: "v", "Ok": "v" * 257, "Cost Center": "1"})
    }
    assert "reserved for AWS" in problems['tags["aws:createdBy"]']
    assert "1 to 128" in problems[f"tags.{'k' * 129}"]
    assert "at most 256" in problems["tags.Ok"]
    assert 'tags["Cost Center"]' not in problems
    many = {f"k{i}": "v" for i in range(51)}
    assert any("at most 50" in p.message for p in validate_tags("tags", many))


# -------------------------------------------------------------------------------------------------- the CLI


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_config_check_accepts_the_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "common.tfvars.json", seed())
    assert cli.main(["config", "check", str(path)]) == 0
    assert "valid" in capsys.readouterr().out


def test_config_check_prints_one_line_per_problem_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = seed()
    document["vpcs"]["dms"]["cidr"] = "10.0.0.1/16"
    document["tags"]["[bold red]Owner[/]"] = "x"  # outside text is printed as text, never as markup
    path = write(tmp_path / "common.tfvars.json", document)
    assert cli.main(["config", "check", str(path)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "vpcs.dms.cidr: 10.0.0.1/16 has host bits set; did you mean 10.0.0.0/16?",
        'tags["[bold red]Owner[/]"]: a tag name may hold letters, digits, spaces and _ . : / = + - @ only',
    ]


def test_config_check_json_and_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.json"
    assert cli.main(["config", "check", str(missing), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and "file not found" in report["problems"][0]["message"]
    garbage = tmp_path / "garbage.json"
    garbage.write_text("environment = dev\n")
    assert cli.main(["config", "check", str(garbage)]) == 2
    assert "is not valid JSON" in capsys.readouterr().out


def test_config_init_show_and_refusal_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--env", "qa", "config", "show"]) == 0
    assert json.loads(capsys.readouterr().out) == WizardConfig.default("qa").to_tfvars()
    assert cli.main(["config", "init", "--env", "qa", "--workdir", str(tmp_path)]) == 0
    saved = tfvars_path(tmp_path, "qa")
    assert load(saved) == WizardConfig.default("qa")
    capsys.readouterr()
    assert cli.main(["config", "init", "--env", "qa", "--workdir", str(tmp_path)]) == 1
    assert "already exists" in capsys.readouterr().err
    edited = WizardConfig.default("qa").with_value("target_db.port", 6000)
    edited.save(saved)
    assert cli.main(["config", "show", "--env", "qa", "--workdir", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["target_db"]["port"] == 6000


def test_problem_reads_as_field_colon_message() -> None:
    assert str(Problem("vpcs.dms.cidr", "fix it")) == "vpcs.dms.cidr: fix it"


# ---------------------------------------------------------------- real terraform: the bundle's variables.tf agrees


@pytest.fixture(scope="module")
def variables_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle's variables.tf alone, plus one output per variable, initialised (no provider needed)."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed; the variables.tf cross-check needs it")
    variables_tf = REPO / "terraform" / "provisioning" / "variables.tf"
    if not variables_tf.exists():
        pytest.skip(f"{variables_tf} is not in this checkout yet")
    module = tmp_path_factory.mktemp("variables-only")
    shutil.copy(variables_tf, module / "variables.tf")
    shutil.copy(variables_tf.with_name("config_rules.json"), module / "config_rules.json")  # the rules it reads
    (module / "echo.tf").write_text("".join(f'output "{name}" {{\n  value = var.{name}\n}}\n' for name in TFVARS_KEYS))
    (module / "empty.tfrc").write_text("")
    run_terraform(module, "init", "-input=false", "-backend=false")
    return module


def run_terraform(module: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(module / "empty.tfrc"), "TF_IN_AUTOMATION": "1"}
    return subprocess.run(
        ["terraform", f"-chdir={module}", *args, "-no-color"], capture_output=True, text=True, env=env, timeout=120
    )


def terraform_reads(module: Path, config_file: Path) -> tuple[int, Any]:
    """(exit code, the variables as terraform understood them) after planning with ``config_file``."""
    plan = module / "plan.bin"
    result = run_terraform(module, "plan", "-input=false", "-lock=false", f"-var-file={config_file}", f"-out={plan}")
    if result.returncode != 0:
        return result.returncode, result.stderr
    shown = run_terraform(module, "show", "-json", str(plan))
    outputs = json.loads(shown.stdout)["planned_values"]["outputs"]
    return 0, {name: outputs[name]["value"] for name in TFVARS_KEYS}


@pytest.mark.terraform
def test_terraform_reads_what_the_model_writes_value_for_value(variables_module: Path, tmp_path: Path) -> None:
    varied = (
        WizardConfig.default("qa")
        .with_value("aws_region", "eu-west-1")
        .with_value("vpcs.dms.cidr", "172.16.0.0/20")
        .with_value("vpcs.dms.azs", ("eu-west-1a", "eu-west-1b", "eu-west-1c"))
        .with_value("vpcs.dms.private_subnets", ("172.16.0.0/24", "172.16.1.0/24", "172.16.2.0/24"))
        .with_value("vpcs.source.azs", ("eu-west-1a", "eu-west-1b"))
        .with_value("vpcs.target.azs", ("eu-west-1b", "eu-west-1c"))
        .with_value("target_db.port", 6543)
        .with_value("create_dms_service_roles", False)
    )
    for config in (WizardConfig.default(), varied):
        path = tfvars_path(tmp_path, config.environment)
        config.save(path)
        code, seen = terraform_reads(variables_module, path)
        assert code == 0, seen
        assert seen == config.to_tfvars()


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("vpcs.source.cidr", "10.0.1.5/24"),
        ("vpcs.dms.cidr", "10.0.0.0/15"),
        ("vpcs.target.private_subnets", ("10.0.1.0/24",)),
        ("source_db.port", 80),
        ("target_db.master_username", "admin"),
        ("target_db.cluster_name", "Aurora-Target"),
        ("dms_allocated_storage", 7000),
        ("tags", {"aws:owner": "me"}),
    ],
)
def test_what_the_model_refuses_terraform_refuses_too(
    variables_module: Path, tmp_path: Path, path: str, value: Any
) -> None:
    broken = WizardConfig.default().with_value(path, value)
    assert validate(broken), "the model must refuse it"
    file = tmp_path / "broken.tfvars.json"
    file.write_text(broken.to_json())  # bypasses save(), which would refuse to write it
    code, diagnostics = terraform_reads(variables_module, file)
    assert code != 0 and "Invalid value for variable" in diagnostics


# ------------------------------------------------------------------------- the migration type (issue 13)


def test_the_migration_types_are_dms_s_own() -> None:
    from dms_tui.config import MIGRATION_TYPES
    from dms_tui.domain.dms import MigrationType

    assert MIGRATION_TYPES == tuple(t.value for t in MigrationType)


@pytest.mark.parametrize("kind", ["full-load", "full-load-and-cdc", "cdc"])
def test_the_migration_type_survives_a_round_trip_through_the_file(tmp_path: Path, kind: str) -> None:
    config = WizardConfig.default("stage").with_value("migration_type", kind)
    path = tfvars_path(tmp_path, "stage")
    config.save(path)
    assert json.loads(path.read_text())["migration_type"] == kind
    assert load(path) == config and load(path).migration_type == kind
    assert "password" not in path.read_text().lower()


def test_a_file_from_before_the_migration_type_reads_as_full_load(tmp_path: Path) -> None:
    """An environment configured by an older version is not refused: the default is what terraform would use too."""
    document = seed()
    del document["migration_type"]
    config = load(write(tmp_path / "old.tfvars.json", document))
    assert config.migration_type == "full-load"
    assert tuple(config.to_tfvars()) == TFVARS_KEYS  # written back whole


@pytest.mark.parametrize(
    ("value", "advice"),
    [
        ("CDC", "write 'CDC' as 'cdc' (lowercase, with hyphens)"),
        ("full_load_and_cdc", "write 'full_load_and_cdc' as 'full-load-and-cdc'"),
        ("full-lod", "did you mean 'full-load'?"),
        ("", "use full-load (copy once), full-load-and-cdc (copy, then replicate changes) or cdc"),
        (1, "must be text, one of full-load, full-load-and-cdc, cdc"),
    ],
)
def test_a_bad_migration_type_is_refused_with_advice(value: Any, advice: str) -> None:
    document = seed()
    document["migration_type"] = value
    assert advice in problems_of(document)["migration_type"]


def test_config_migration_type_sets_it_and_running_it_twice_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tfvars_path(tmp_path, "qa")
    flags = ["--env", "qa", "--workdir", str(tmp_path)]
    assert cli.main(["config", "migration-type", "full-load-and-cdc", *flags]) == 0
    said = capsys.readouterr().out
    assert "migration_type = full-load-and-cdc (was full-load)" in said
    assert "dms-tui provision apply --env qa sets rds.logical_replication = 1 on the source" in " ".join(said.split())
    assert "writer reboots" in " ".join(said.split())
    assert load(saved).migration_type == "full-load-and-cdc"
    assert load(saved) == WizardConfig.default("qa").with_value("migration_type", "full-load-and-cdc")
    written = saved.stat().st_mtime_ns, saved.read_text()

    assert cli.main(["config", "migration-type", "full-load-and-cdc", *flags, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["written"] is False and report["migration_type"] == "full-load-and-cdc"
    assert report["source_logical_replication"] is True
    assert (saved.stat().st_mtime_ns, saved.read_text()) == written  # the second run wrote nothing

    assert cli.main(["config", "migration-type", *flags]) == 0  # no TYPE: shows it
    assert (
        "qa: migration_type = full-load-and-cdc (rds.logical_replication = 1 on the source)" in capsys.readouterr().out
    )


def test_config_migration_type_refuses_a_bad_value_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tfvars_path(tmp_path, "qa")
    flags = ["--env", "qa", "--workdir", str(tmp_path)]
    assert cli.main(["config", "migration-type", "full_load", *flags]) == 2
    assert (
        capsys.readouterr().out.strip() == "migration_type: write 'full_load' as 'full-load' (lowercase, with hyphens)"
    )
    assert not saved.exists()
    WizardConfig.default("qa").with_value("migration_type", "cdc").save(saved)
    before = saved.read_text()
    assert cli.main(["config", "migration-type", "streaming", *flags, "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["problems"][0]["field"] == "migration_type"
    assert saved.read_text() == before


def test_config_migration_type_refuses_to_rewrite_an_invalid_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = seed()
    document["environment"] = "qa"
    document["target_db"]["port"] = 80
    saved = tfvars_path(tmp_path, "qa")
    saved.parent.mkdir(parents=True)
    write(saved, document)
    before = saved.read_text()
    assert cli.main(["config", "migration-type", "cdc", "--env", "qa", "--workdir", str(tmp_path)]) == 2
    assert "target_db.port" in capsys.readouterr().out
    assert saved.read_text() == before
