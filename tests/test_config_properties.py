"""Property-based: whatever a person or a file throws at the configuration model, it answers with problems, never
with a crash, and every answer names a field and says something."""

from __future__ import annotations

import copy
import ipaddress
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dms_tui import config as rules  # the table of rules the model and variables.tf share
from dms_tui.config import (
    OPTIONAL_TFVARS_KEYS,
    POSTGRES_RESERVED_WORDS,
    RESERVED_DATABASE_NAMES,
    RESERVED_ROLE_NAMES,
    ConfigError,
    Problem,
    WizardConfig,
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

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
anything = st.one_of(json_values, st.text(alphabet=string.printable, max_size=30))


def assert_well_formed(problem: Problem | None) -> None:
    if problem is not None:
        assert isinstance(problem, Problem)
        assert problem.field.strip() and problem.message.strip()


# ------------------------------------------------------------------------------------------------ validators


@FAST
@given(value=anything, region=st.sampled_from(["us-east-1", "eu-west-1", "", "nowhere"]))
def test_no_field_validator_raises_on_any_input(value: Any, region: str) -> None:
    assert_well_formed(validate_cidr("vpcs.dms.cidr", value, role="vpc"))
    assert_well_formed(validate_cidr("vpcs.dms.private_subnets[0]", value, role="subnet"))
    for kind in ("environment", "vpc_name", "cluster_name", "database_name", "master_username"):
        assert_well_formed(validate_identifier("field", value, kind))  # type: ignore[arg-type]
    for kind in ("aurora", "dms", "ec2"):
        assert_well_formed(validate_instance_class("field", value, kind))  # type: ignore[arg-type]
    assert_well_formed(validate_port("source_db.port", value))
    assert_well_formed(validate_allocated_storage("dms_allocated_storage", value))
    assert_well_formed(validate_region("aws_region", value))
    assert_well_formed(validate_availability_zone("vpcs.dms.azs[0]", value, region))
    assert_well_formed(validate_engine_version("source_db.engine_version", value))
    for problem in validate_tags("tags", value):
        assert_well_formed(problem)


networks = st.builds(
    lambda address, prefix: (ipaddress.IPv4Address(address), prefix),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=0, max_value=32),
)


@FAST
@given(networks)
def test_any_ipv4_block_is_judged_and_host_bits_get_the_corrected_network(address_prefix: Any) -> None:
    address, prefix = address_prefix
    text = f"{address}/{prefix}"
    network = ipaddress.IPv4Network(text, strict=False)
    problem = validate_cidr("vpcs.source.cidr", text)
    assert_well_formed(problem)
    if network.network_address != address:
        assert problem is not None and f"did you mean {network}?" in problem.message
    elif 16 <= prefix <= 28 and network.subnet_of(ipaddress.IPv4Network("10.0.0.0/8")):
        assert problem is None


@FAST
@given(st.integers(min_value=0, max_value=2**128 - 1), st.integers(min_value=0, max_value=128))
def test_ipv6_blocks_are_refused_with_a_message(address: int, prefix: int) -> None:
    text = f"{ipaddress.IPv6Network((address, prefix), strict=False)}"
    problem = validate_cidr("vpcs.target.cidr", text)
    assert problem is not None and "IPv6" in problem.message


# ------------------------------------------------------------------------------------------- whole documents


@FAST
@given(json_values)
def test_from_tfvars_on_random_documents_only_ever_raises_config_error(document: Any) -> None:
    try:
        WizardConfig.from_tfvars(document)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert_well_formed(problem)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, prefix + (index,))
    return found


SEED_PATHS = _paths(WizardConfig.default().to_tfvars())


@FAST
@given(st.sampled_from(SEED_PATHS), anything, st.booleans())
def test_one_changed_value_is_either_accepted_losslessly_or_refused_with_reasons(
    path: tuple[Any, ...], value: Any, delete: bool
) -> None:
    document = copy.deepcopy(WizardConfig.default().to_tfvars())
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    try:
        config = WizardConfig.from_tfvars(document)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert_well_formed(problem)
        return
    if delete and len(path) == 1 and path[0] in OPTIONAL_TFVARS_KEYS:
        # A key a file written by an older version lacks reads as its documented default, and is written out so.
        document[path[0]] = WizardConfig.default().to_tfvars()[path[0]]
    assert config.to_tfvars() == document, "an accepted document must round-trip without loss"
    assert validate(config) == []


# A strategy for configurations that should all be valid: names, zones, and subnets carved out of each VPC.
# Built from character choices rather than st.from_regex: several times faster, which matters on a busy CI box.
_lower_alnum = string.ascii_lowercase + string.digits
resource_names = st.builds(
    lambda first, head, tail: first + head + (f"-{tail}" if tail else ""),
    st.sampled_from(string.ascii_lowercase),
    st.text(_lower_alnum, max_size=6),
    st.text(_lower_alnum, max_size=6),
)
sql_names = st.builds(
    lambda first, rest: first + rest, st.sampled_from(string.ascii_lowercase), st.text(_lower_alnum + "_", max_size=14)
).filter(lambda s: s not in POSTGRES_RESERVED_WORDS and s not in RESERVED_DATABASE_NAMES)
tag_keys = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(string.ascii_letters),
    st.text(_lower_alnum + " _.:/=+@-", max_size=20),
)


@st.composite
def vpcs(draw: st.DrawFn, region: str, name: str) -> dict[str, Any]:
    first_octet = draw(st.sampled_from([10, 172, 192]))
    base = {10: "10.{}.0.0", 172: "172.{}.0.0", 192: "192.168.0.0"}[first_octet]
    cidr_prefix = draw(st.integers(min_value=16, max_value=24))
    second = draw(st.integers(min_value=16, max_value=31)) if first_octet == 172 else draw(st.integers(0, 255))
    network = ipaddress.IPv4Network(f"{base.format(second)}/{cidr_prefix}", strict=False)
    subnet_prefix = draw(st.integers(min_value=cidr_prefix + 1, max_value=28))
    block_count = 2 ** (subnet_prefix - cidr_prefix)
    count = draw(st.integers(min_value=2, max_value=min(4, block_count)))
    indexes = draw(st.lists(st.integers(0, block_count - 1), min_size=count, max_size=count, unique=True))
    size = 2 ** (32 - subnet_prefix)
    chosen = [ipaddress.IPv4Network((int(network.network_address) + i * size, subnet_prefix)) for i in indexes]
    zones = rules.zone_names(region)
    azs = [zones[0], zones[1]] + [draw(st.sampled_from(zones)) for _ in range(count - 2)]
    return {"name": name, "cidr": str(network), "azs": azs, "private_subnets": [str(b) for b in chosen]}


@st.composite
def valid_documents(draw: st.DrawFn) -> dict[str, Any]:
    region = draw(st.sampled_from(sorted(rules.REGION_ZONE_LETTERS)))
    names = draw(st.lists(resource_names, min_size=3, max_size=3, unique=True))
    clusters = draw(st.lists(resource_names, min_size=2, max_size=2, unique=True))

    def database(cluster: str) -> dict[str, Any]:
        return {
            "cluster_name": cluster,
            "engine_version": f"{draw(st.sampled_from(rules.AURORA_POSTGRESQL_MAJOR_VERSIONS))}.{draw(st.integers(0, 20))}",
            "instance_class": draw(
                st.sampled_from([f"{f}.{s}" for f, sizes in rules.AURORA_POSTGRESQL_CLASSES.items() for s in sizes])
            ),
            "database_name": draw(sql_names),
            "master_username": draw(
                sql_names.filter(lambda s: s not in RESERVED_ROLE_NAMES and not s.startswith(("pg_", "rds_")))
            ),
            "port": draw(st.integers(min_value=1150, max_value=65535)),
        }

    return {
        "environment": draw(resource_names),
        "aws_region": region,
        "vpcs": {role: draw(vpcs(region, name)) for role, name in zip(("source", "dms", "target"), names, strict=True)},
        "source_db": database(clusters[0]),
        "target_db": database(clusters[1]),
        "dms_replication_instance_class": draw(
            st.sampled_from([f"{f}.{s}" for f, sizes in rules.DMS_REPLICATION_CLASSES.items() for s in sizes])
        ),
        "dms_allocated_storage": draw(st.integers(min_value=5, max_value=6144)),
        "bastion_instance_type": f"{draw(st.sampled_from(rules.EC2_BASTION_FAMILIES))}.micro",
        "create_dms_service_roles": draw(st.booleans()),
        "migration_type": draw(st.sampled_from(rules.MIGRATION_TYPES)),
        "tags": draw(
            st.dictionaries(
                tag_keys,
                st.text(string.ascii_letters + " -_.", max_size=30),
                max_size=5,
            )
        ),
    }


@FAST
@given(valid_documents())
def test_valid_configurations_round_trip_exactly(document: dict[str, Any]) -> None:
    config = WizardConfig.from_tfvars(document)
    assert config.to_tfvars() == document
    assert WizardConfig.from_tfvars(config.to_tfvars()) == config
