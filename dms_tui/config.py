"""The wizard's configuration: one validated model <-> terraform/variables/<env>/common.tfvars.json.

``WizardConfig`` holds exactly the Terraform bundle's input variables (see the contract in terraform/provisioning/
variables.tf). Building one never validates, so the UI can hold half-typed values; ``validate()`` lists every
problem, the field-level ``validate_*`` helpers check one value while a person types, and ``from_tfvars`` / ``load``
refuse a document whole, with every problem listed. Field names in problems are dotted paths into the tfvars
document: ``vpcs.source.cidr``, ``vpcs.dms.private_subnets[1]``, ``target_db.database_name``, ``tags.Project``.

The rules themselves (patterns, lengths, ranges, reserved names, the AWS catalog of regions, zones and instance
classes) are one table, terraform/provisioning/config_rules.json, which variables.tf's validation blocks read too: the
wizard and `terraform plan` refuse the same values (tests/test_config_rules_corpus.py holds them to it). This module
adds only the messages and what terraform cannot see (JSON types before conversion, unknown attributes).

Nothing here is secret: passwords never enter the configuration (Terraform generates them ephemerally).
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import ipaddress
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from dms_tui.resources import terraform_bundle_dir


def _load_rules() -> dict[str, Any]:
    path = terraform_bundle_dir() / "provisioning" / "config_rules.json"
    rules: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return rules


#: The table of rules shared with variables.tf (see the module docstring).
RULES: Mapping[str, Any] = MappingProxyType(_load_rules())

#: Shown by the UI next to the VPC CIDR fields: overlapping VPCs are the pattern, not a mistake.
OVERLAPPING_VPCS_EXPLANATION = (
    "The three VPCs may use the same or overlapping CIDR blocks (the default gives all three 10.0.0.0/16), just "
    "as an on-premises network often overlaps the cloud's. Nothing routes between them: no peering, no transit "
    "gateway. DMS reaches each database through AWS PrivateLink, an interface endpoint in the DMS VPC that "
    "connects to a Network Load Balancer in the database's VPC, so the address ranges never meet."
)

VPC_ROLES: tuple[str, ...] = ("source", "dms", "target")
DATABASE_ROLES: tuple[str, ...] = ("source_db", "target_db")

#: The top-level Terraform variables, in the order the tfvars document lists them.
TFVARS_KEYS: tuple[str, ...] = (
    "environment",
    "aws_region",
    "vpcs",
    "source_db",
    "target_db",
    "dms_replication_instance_class",
    "dms_allocated_storage",
    "bastion_instance_type",
    "create_dms_service_roles",
    "migration_type",
    "tags",
)
#: Variables an older version's file may lack: read as their default (what terraform's own default gives too).
OPTIONAL_TFVARS_KEYS: frozenset[str] = frozenset({"migration_type"})
VPC_KEYS: tuple[str, ...] = ("name", "cidr", "azs", "private_subnets")
DATABASE_KEYS: tuple[str, ...] = (
    "cluster_name",
    "engine_version",
    "instance_class",
    "database_name",
    "master_username",
    "port",
)

# AWS limits (VPC user guide): a VPC's and a subnet's IPv4 block is between /16 and /28.
MIN_PREFIX, MAX_PREFIX = RULES["cidr"]["min_prefix"], RULES["cidr"]["max_prefix"]
REFUSED_RANGES: tuple[ipaddress.IPv4Network, ...] = tuple(
    ipaddress.IPv4Network(r) for r in RULES["cidr"]["refused_ranges"]
)
AURORA_PORT_RANGE = (RULES["aurora_port"]["min"], RULES["aurora_port"]["max"])
DMS_STORAGE_RANGE_GB = (RULES["dms_allocated_storage_gib"]["min"], RULES["dms_allocated_storage_gib"]["max"])
MAX_TAGS = RULES["tags"]["max_count"]  # per resource; the provider's default_tags count against it
TAG_KEY_MAX_LEN = RULES["tags"]["key_max_length"]
TAG_VALUE_MAX_LEN = RULES["tags"]["value_max_length"]
_RESOURCE_NAME_MAX = RULES["resource_name"]["max_length"]
ENVIRONMENT_MAX_LEN = _RESOURCE_NAME_MAX["environment"]  # it prefixes resource names; NLB names stop at 32 characters
VPC_NAME_MAX_LEN = _RESOURCE_NAME_MAX["vpc_name"]
CLUSTER_ID_MAX_LEN = _RESOURCE_NAME_MAX["cluster_name"]
DATABASE_NAME_MAX_LEN = RULES["sql_identifier"]["max_length"]["database_name"]
MASTER_USERNAME_MAX_LEN = RULES["sql_identifier"]["max_length"]["master_username"]  # Aurora's limit (PostgreSQL: 63)

#: PostgreSQL's reserved key words ("reserved" and "reserved (can be function or type)"): RDS refuses them as
#: database names and master user names.
POSTGRES_RESERVED_WORDS = frozenset(RULES["postgres_reserved_words"])
#: Roles RDS / Aurora keep for themselves (admin: "a reserved word used by the engine"), and role names PostgreSQL
#: gives a special meaning; plus the prefixes of both.
RESERVED_ROLE_NAMES = frozenset(RULES["reserved_role_names"])
RESERVED_ROLE_PREFIXES: tuple[str, ...] = tuple(RULES["reserved_role_prefixes"])
RESERVED_DATABASE_NAMES = frozenset(RULES["reserved_database_names"])

#: The AWS catalog: region -> zone letters; instance class family -> sizes; Aurora PostgreSQL major versions.
REGION_ZONE_LETTERS: Mapping[str, str] = MappingProxyType(RULES["regions"])
AURORA_POSTGRESQL_CLASSES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {family: tuple(sizes) for family, sizes in RULES["aurora_postgresql_classes"].items()}
)
AURORA_SERVERLESS_CLASS: str = RULES["aurora_serverless_class"]
DMS_REPLICATION_CLASSES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {family: tuple(sizes) for family, sizes in RULES["dms_replication_classes"].items()}
)
EC2_BASTION_FAMILIES: tuple[str, ...] = tuple(RULES["ec2_bastion_families"])
#: DMS migration types (dms_tui.domain.dms.MigrationType; tests/test_config.py holds the two equal). The two that
#: capture changes turn rds.logical_replication on in the source's parameter group (terraform/provisioning/main.tf).
MIGRATION_TYPES: tuple[str, ...] = tuple(RULES["migration_types"])
DEFAULT_MIGRATION_TYPE = "full-load"
AURORA_POSTGRESQL_MAJOR_VERSIONS: tuple[int, ...] = tuple(RULES["engine_version"]["majors"])

# The table's patterns are RE2 written with ASCII classes only, so Python's re reads them the same way.
_RESOURCE_NAME = re.compile(RULES["resource_name"]["pattern"])
_SQL_IDENTIFIER = re.compile(RULES["sql_identifier"]["pattern"])
_ENGINE_VERSION = re.compile(RULES["engine_version"]["pattern"])
_EC2_SIZE = re.compile(RULES["ec2_size_pattern"])
_TAG_CATEGORIES = tuple(RULES["tags"]["text_unicode_categories"])
_TAG_OTHER_CHARACTERS = frozenset(RULES["tags"]["text_other_characters"])
_LOWERCASE_NAME_CHARACTERS = re.compile(r"^[a-z][a-z0-9-]*$")  # for the message only: the verdict is the table's
_REGION_SHAPE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$")  # for the message only
_ZONE_ID = re.compile(r"^[a-z]{3,5}[0-9]-az[0-9]+$")
_SIMPLE_TAG_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def zone_names(region: str) -> tuple[str, ...]:
    """The availability zone names of ``region`` (empty when the table does not know the region)."""
    return tuple(region + letter for letter in REGION_ZONE_LETTERS.get(region, ""))


def _tag_text_ok(text: str) -> bool:
    """AWS's tag characters: Unicode letters, separators and numbers, and _ . : / = + - @ (the table's rule)."""
    return all(unicodedata.category(c)[0] in _TAG_CATEGORIES or c in _TAG_OTHER_CHARACTERS for c in text)


IdentifierKind = Literal["environment", "vpc_name", "cluster_name", "database_name", "master_username"]
CidrRole = Literal["vpc", "subnet"]
InstanceClassKind = Literal["aurora", "dms", "ec2"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration: which field (a dotted path) and what to do about it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ConfigError(ValueError):
    """A configuration was refused; ``problems`` lists every reason, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        count = len(self.problems)
        head = "1 problem" if count == 1 else f"{count} problems"
        super().__init__(f"{head} in the configuration:\n" + "\n".join(f"  {p}" for p in self.problems))


# --------------------------------------------------------------------------------------------------- the model


def _freeze_list(value: Any) -> Any:
    """Lists become tuples so the frozen model stays immutable; anything else is kept for validate() to report."""
    return tuple(value) if isinstance(value, list | tuple) else value


@dataclass(frozen=True)
class VpcConfig:
    """One of the three VPCs: its Name tag, IPv4 CIDR block, and private subnets (one per listed zone)."""

    name: str
    cidr: str
    azs: tuple[str, ...]
    private_subnets: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "azs", _freeze_list(self.azs))
        object.__setattr__(self, "private_subnets", _freeze_list(self.private_subnets))

    def to_tfvars(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cidr": self.cidr,
            "azs": list(self.azs),
            "private_subnets": list(self.private_subnets),
        }


@dataclass(frozen=True)
class VpcSet:
    """The pattern's three VPCs: the on-premises source, the DMS VPC, and the Aurora target."""

    source: VpcConfig
    dms: VpcConfig
    target: VpcConfig

    def items(self) -> tuple[tuple[str, VpcConfig], ...]:
        return (("source", self.source), ("dms", self.dms), ("target", self.target))


@dataclass(frozen=True)
class DatabaseConfig:
    """An Aurora PostgreSQL cluster (the "on-premises" source is one too, as in AWS's sample)."""

    cluster_name: str
    engine_version: str
    instance_class: str
    database_name: str
    master_username: str
    port: int

    def to_tfvars(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DATABASE_KEYS}


@dataclass(frozen=True)
class WizardConfig:
    """Everything a person configures; exactly the Terraform bundle's input variables."""

    environment: str
    aws_region: str
    vpcs: VpcSet
    source_db: DatabaseConfig
    target_db: DatabaseConfig
    dms_replication_instance_class: str
    dms_allocated_storage: int
    bastion_instance_type: str
    create_dms_service_roles: bool
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)
    #: Chosen before Provision: it decides the source's rds.logical_replication (a static parameter), and it is the
    #: Migrate step's default.
    migration_type: str = DEFAULT_MIGRATION_TYPE

    def __post_init__(self) -> None:
        # A read-only copy: the caller's dict cannot change a frozen config behind its back.
        if isinstance(self.tags, Mapping):
            object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))

    @classmethod
    def default(cls, env: str = "dev") -> WizardConfig:
        """The seed's settings: three 10.0.0.0/16 VPCs with two /24 subnets in us-east-1a/b, demo_db, postgres."""

        def vpc(name: str) -> VpcConfig:
            return VpcConfig(name, "10.0.0.0/16", ("us-east-1a", "us-east-1b"), ("10.0.1.0/24", "10.0.2.0/24"))

        def database(cluster_name: str) -> DatabaseConfig:
            return DatabaseConfig(cluster_name, "16.6", "db.r6g.large", "demo_db", "postgres", 5432)

        return cls(
            environment=env,
            aws_region="us-east-1",
            vpcs=VpcSet(source=vpc("onprem-source"), dms=vpc("dms"), target=vpc("aurora-target")),
            source_db=database("onprem-source"),
            target_db=database("aurora-target"),
            dms_replication_instance_class="dms.t3.medium",
            dms_allocated_storage=50,
            bastion_instance_type="t3.micro",
            create_dms_service_roles=True,
            tags={"Project": "dms-tui", "Environment": env},
            migration_type=DEFAULT_MIGRATION_TYPE,
        )

    def to_tfvars(self) -> dict[str, Any]:
        """The tfvars JSON document: exactly the contract's keys, in its order."""
        return {
            "environment": self.environment,
            "aws_region": self.aws_region,
            "vpcs": {role: vpc.to_tfvars() for role, vpc in self.vpcs.items()},
            "source_db": self.source_db.to_tfvars(),
            "target_db": self.target_db.to_tfvars(),
            "dms_replication_instance_class": self.dms_replication_instance_class,
            "dms_allocated_storage": self.dms_allocated_storage,
            "bastion_instance_type": self.bastion_instance_type,
            "create_dms_service_roles": self.create_dms_service_roles,
            "migration_type": self.migration_type,
            "tags": dict(self.tags) if isinstance(self.tags, Mapping) else self.tags,
        }

    def to_json(self) -> str:
        """The tfvars document as the file holds it (2-space indent, trailing newline)."""
        return json.dumps(self.to_tfvars(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_tfvars(cls, document: Any) -> WizardConfig:
        """Build from a parsed tfvars document, or raise ConfigError listing every problem."""
        return _parse_tfvars(document)

    @classmethod
    def load(cls, path: Path | str) -> WizardConfig:
        """Read and validate a tfvars JSON file; ConfigError (with every problem) when it cannot be used."""
        return load(path)

    def save(self, path: Path | str) -> None:
        """Validate, then write atomically (temp file + rename); nothing is written when invalid."""
        problems = validate(self)
        if problems:
            raise ConfigError(problems)
        _write_atomically(Path(path), self.to_json())

    def with_value(self, field_path: str, value: Any) -> WizardConfig:
        """A copy with one field changed, addressed by its dotted path (``vpcs.dms.private_subnets[1]``)."""
        return _replace_path(self, _split_path(field_path), value, field_path)


def tfvars_path(workdir: Path | str, env: str) -> Path:
    """Where an environment's tfvars live in a copy of the bundle: <workdir>/variables/<env>/common.tfvars.json."""
    problem = validate_identifier("environment", env, "environment")
    if problem is not None:  # the name becomes a directory: refuse anything that could escape it
        raise ConfigError([problem])
    return Path(workdir) / "variables" / env / "common.tfvars.json"


def load(path: Path | str) -> WizardConfig:
    """Read and validate a tfvars JSON file; ConfigError (with every problem) when it cannot be used."""
    path = Path(path)
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [Problem(label, "file not found; check the path, or create one with `dms-tui config init`")]
        ) from None
    except IsADirectoryError:
        raise ConfigError([Problem(label, "is a directory; give the path of a common.tfvars.json file")]) from None
    except UnicodeDecodeError:
        raise ConfigError([Problem(label, "is not UTF-8 text; a .tfvars.json file is UTF-8 JSON")]) from None
    except OSError as exc:
        raise ConfigError([Problem(label, f"cannot be read ({exc.strerror}); check its permissions")]) from None
    duplicates: list[str] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        document = json.loads(text, object_pairs_hook=pairs_hook)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [
                Problem(
                    label,
                    f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); fix the syntax — "
                    "a .tfvars.json file is plain JSON, without comments or trailing commas",
                )
            ]
        ) from None
    except RecursionError:
        raise ConfigError([Problem(label, "is nested too deeply to be a tfvars document")]) from None
    if duplicates:
        # json keeps the last value silently; terraform would too, so a round trip would lose the others.
        raise ConfigError(
            [
                Problem(label, f"lists the key {key!r} more than once; keep one of them")
                for key in sorted(set(duplicates))
            ]
        )
    return _parse_tfvars(document)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o644)  # not secret; mkstemp's 0600 would only surprise a person reading it
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


# --------------------------------------------------------------------------------------------- reading tfvars


_MISSING: Any = None  # stands in for a value the document lacks; its problem is already reported


def _parse_tfvars(document: Any) -> WizardConfig:
    if not isinstance(document, Mapping):
        raise ConfigError(
            [
                Problem(
                    "tfvars", "must be a JSON object whose keys are the Terraform variables: " + ", ".join(TFVARS_KEYS)
                )
            ]
        )
    problems: list[Problem] = []
    reported: list[str] = []  # fields with a structural problem: validate() stays quiet below them
    defaults = WizardConfig.default().to_tfvars()

    def read_object(path: str, value: Any, keys: Sequence[str], default: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            if path not in reported and not any(path.startswith(r + ".") for r in reported):
                problems.append(Problem(path, f"must be an object with the keys {', '.join(keys)}"))
                reported.append(path)
            return dict.fromkeys(keys, _MISSING)
        for key in value:
            if key not in keys:
                # terraform itself only warns about an undeclared variable and silently drops an unknown attribute
                # (checked with terraform 1.11): the setting would look applied while it is not, so refuse it here.
                what = (
                    "is not a variable of the Terraform bundle, so terraform would ignore it"
                    if path == ""
                    else f"is not an attribute of {path}, so terraform would silently drop it"
                )
                hint = difflib.get_close_matches(str(key), keys, n=1)
                fix = f"did you mean {hint[0]!r}?" if hint else f"expected: {', '.join(keys)}"
                problems.append(Problem(_join(path, str(key)), f"{what}; remove or rename it ({fix})"))
        result: dict[str, Any] = {}
        for key in keys:
            if key in value:
                result[key] = value[key]
            elif path == "" and key in OPTIONAL_TFVARS_KEYS:
                result[key] = default[key]
            else:
                full = _join(path, key)
                example = json.dumps(default.get(key)) if key in default else None
                fix = f"add it, e.g. {example}" if example and len(example) <= 60 else "add it"
                problems.append(Problem(full, f"is missing; {fix}"))
                reported.append(full)
                result[key] = _MISSING
        return result

    top = read_object("", document, TFVARS_KEYS, defaults)
    vpcs_raw = read_object("vpcs", top["vpcs"], VPC_ROLES, defaults["vpcs"])
    vpcs = {
        role: VpcConfig(**read_object(f"vpcs.{role}", vpcs_raw[role], VPC_KEYS, defaults["vpcs"][role]))
        for role in VPC_ROLES
    }
    databases = {
        role: DatabaseConfig(**read_object(role, top[role], DATABASE_KEYS, defaults[role])) for role in DATABASE_ROLES
    }
    config = WizardConfig(
        environment=top["environment"],
        aws_region=top["aws_region"],
        vpcs=VpcSet(**vpcs),
        source_db=databases["source_db"],
        target_db=databases["target_db"],
        dms_replication_instance_class=top["dms_replication_instance_class"],
        dms_allocated_storage=top["dms_allocated_storage"],
        bastion_instance_type=top["bastion_instance_type"],
        create_dms_service_roles=top["create_dms_service_roles"],
        tags=top["tags"],
        migration_type=top["migration_type"],
    )
    problems.extend(p for p in validate(config) if not _under_any(p.field, reported))
    if problems:
        raise ConfigError(problems)
    return config


def _join(parent: str, key: str) -> str:
    """The field path of ``key`` under ``parent``; odd keys (empty, dotted, spaced) are quoted in brackets."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
        return f"{parent}[{json.dumps(key)}]"
    return f"{parent}.{key}" if parent else key


def _under_any(field_path: str, prefixes: Iterable[str]) -> bool:
    return any(field_path == p or field_path.startswith((p + ".", p + "[")) for p in prefixes)


# ------------------------------------------------------------------------------------------ editing by path

_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def _split_path(field_path: str) -> list[str | int]:
    parts: list[str | int] = []
    for chunk in field_path.split("."):
        match = _PATH_PART.fullmatch(chunk)
        if match is None:
            raise KeyError(f"{field_path!r} is not a configuration field path")
        parts.append(match.group(1))
        parts.extend(int(index) for index in re.findall(r"\[(\d+)\]", match.group(2)))
    return parts


def _replace_path(node: Any, parts: list[str | int], value: Any, field_path: str) -> Any:
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(head, int):
        if not isinstance(node, tuple) or head >= len(node):
            raise KeyError(f"{field_path!r}: index {head} is out of range")
        items = list(node)
        items[head] = _replace_path(items[head], rest, value, field_path)
        return tuple(items)
    if not dataclasses.is_dataclass(node) or head not in {f.name for f in dataclasses.fields(node)}:
        raise KeyError(f"{field_path!r} is not a configuration field path")
    return dataclasses.replace(node, **{head: _replace_path(getattr(node, head), rest, value, field_path)})  # type: ignore[type-var]


# ------------------------------------------------------------------------------------- field-level validators


def _text_problem(field_path: str, value: object, example: str) -> Problem | None:
    """Common checks for a text field: it is text, not empty, and has no stray spaces."""
    if not isinstance(value, str):
        return Problem(field_path, f"must be text, e.g. {example}")
    if not value.strip():
        return Problem(field_path, f"is empty; enter a value such as {example}")
    if value != value.strip():
        return Problem(field_path, f"has spaces around {value.strip()!r}; remove them")
    return None


def validate_cidr(field_path: str, text: object, *, role: CidrRole = "vpc") -> Problem | None:
    """An IPv4 CIDR block as AWS takes it for a VPC or a subnet: canonical, host bits clear, /16 to /28."""
    example = "10.0.0.0/16" if role == "vpc" else "10.0.1.0/24"
    problem = _text_problem(field_path, text, example)
    if problem is not None:
        return problem
    assert isinstance(text, str)
    if "/" not in text:
        return Problem(
            field_path,
            f"{text} has no prefix length; write it as a CIDR block such as {text}/{24 if role == 'subnet' else 16}",
        )
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        return Problem(field_path, f"{text} is not a valid IPv4 CIDR block ({exc}); use the form {example}")
    if loose.version != 4:
        return Problem(field_path, f"{text} is IPv6; this pattern uses IPv4 CIDR blocks such as {example}")
    if str(loose.network_address) != text.split("/", 1)[0]:
        return Problem(field_path, f"{text} has host bits set; did you mean {loose}?")
    if str(loose) != text:
        # e.g. a netmask instead of a prefix length: terraform's cidrsubnet() and the AWS API want the short form
        return Problem(field_path, f"write {text} as {loose}")
    if loose.prefixlen < MIN_PREFIX or loose.prefixlen > MAX_PREFIX:
        what = "a VPC" if role == "vpc" else "a subnet"
        return Problem(
            field_path,
            f"{text} is a /{loose.prefixlen}; AWS allows {what} CIDR block between /{MIN_PREFIX} and /{MAX_PREFIX}",
        )
    assert isinstance(loose, ipaddress.IPv4Network)
    refused = next((r for r in REFUSED_RANGES if loose.subnet_of(r)), None)
    if refused is not None:
        return Problem(
            field_path,
            f"{text} is inside {refused} (0.0.0.0/8, loopback, link-local, multicast or reserved), which AWS "
            f"refuses; use e.g. {example}",
        )
    return None


def validate_identifier(field_path: str, text: object, kind: IdentifierKind) -> Problem | None:
    """A name: an AWS resource name (environment, VPC name, cluster identifier) or a PostgreSQL identifier."""
    if kind in ("environment", "vpc_name", "cluster_name"):
        return _validate_resource_name(field_path, text, kind)
    return _validate_sql_identifier(field_path, text, kind)


def _validate_resource_name(field_path: str, text: object, kind: IdentifierKind) -> Problem | None:
    limit = {"environment": ENVIRONMENT_MAX_LEN, "vpc_name": VPC_NAME_MAX_LEN}.get(kind, CLUSTER_ID_MAX_LEN)
    example = {"environment": "dev", "vpc_name": "onprem-source"}.get(kind, "aurora-target")
    problem = _text_problem(field_path, text, example)
    if problem is not None:
        return problem
    assert isinstance(text, str)
    if len(text) > limit:
        return Problem(
            field_path, f"is {len(text)} characters long; use at most {limit} (it becomes part of AWS resource names)"
        )
    if not text[0].isascii() or not text[0].isalpha():
        return Problem(field_path, f"{text!r} must start with a letter, e.g. {example}")
    if not _LOWERCASE_NAME_CHARACTERS.fullmatch(text):
        lowered = text.lower()
        if _LOWERCASE_NAME_CHARACTERS.fullmatch(lowered):
            return Problem(
                field_path, f"{text!r} has capital letters; AWS keeps these names lowercase — use {lowered!r}"
            )
        return Problem(field_path, f"{text!r} may only hold lowercase letters, digits and hyphens, e.g. {example}")
    if not _RESOURCE_NAME.fullmatch(text):  # the table's rule: single hyphens between letters and digits
        fixed = re.sub(r"-{2,}", "-", text).rstrip("-")
        return Problem(field_path, f"{text!r} must not end with a hyphen or contain two in a row; use {fixed!r}")
    return None


def _validate_sql_identifier(field_path: str, text: object, kind: IdentifierKind) -> Problem | None:
    is_user = kind == "master_username"
    limit = MASTER_USERNAME_MAX_LEN if is_user else DATABASE_NAME_MAX_LEN
    example = "postgres" if is_user else "demo_db"
    problem = _text_problem(field_path, text, example)
    if problem is not None:
        return problem
    assert isinstance(text, str)
    if len(text) > limit:
        why = " (Aurora's limit for the master user)" if is_user else ""
        return Problem(field_path, f"is {len(text)} characters long; use at most {limit}{why}")
    if not text[0].isascii() or not text[0].isalpha():
        return Problem(field_path, f"{text!r} must start with a letter, e.g. {example}")
    if not _SQL_IDENTIFIER.fullmatch(text):
        return Problem(field_path, f"{text!r} may only hold letters, digits and underscores, e.g. {example}")
    word = text.lower()
    if word in POSTGRES_RESERVED_WORDS:
        return Problem(
            field_path,
            f"{text!r} is a PostgreSQL reserved word, which Aurora refuses; pick another name such as {example}",
        )
    if is_user and (word in RESERVED_ROLE_NAMES or word.startswith(RESERVED_ROLE_PREFIXES)):
        return Problem(
            field_path, f"{text!r} is a role name RDS or PostgreSQL reserves; pick another, such as postgres"
        )
    if not is_user and word in RESERVED_DATABASE_NAMES:
        return Problem(field_path, f"{text!r} is a database Aurora reserves for itself; pick another, such as demo_db")
    return None


def _whole_number(value: object) -> int | None:
    """An int, or text holding one (as typed into a form); bools and fractions are not whole numbers here."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,9}\s*", value):
        return int(value)
    return None


def validate_port(field_path: str, value: object) -> Problem | None:
    """An Aurora port: a whole number from 1150 to 65535 (int, or text typed into a form)."""
    low, high = AURORA_PORT_RANGE
    number = _whole_number(value)
    if number is None or not low <= number <= high:
        return Problem(field_path, f"must be a whole number from {low} to {high} (Aurora's range), e.g. 5432")
    return None


def validate_allocated_storage(field_path: str, value: object) -> Problem | None:
    """The DMS replication instance's storage in GiB: a whole number from 5 to 6144."""
    low, high = DMS_STORAGE_RANGE_GB
    number = _whole_number(value)
    if number is None or not low <= number <= high:
        return Problem(field_path, f"must be a whole number of GiB from {low} to {high} (DMS's range), e.g. 50")
    return None


def validate_region(field_path: str, text: object) -> Problem | None:
    """An AWS region this version knows, e.g. us-east-1."""
    problem = _text_problem(field_path, text, "us-east-1")
    if problem is not None:
        return problem
    assert isinstance(text, str)
    if text in REGION_ZONE_LETTERS:
        return None
    lowered = text.lower()
    if lowered in REGION_ZONE_LETTERS:
        return Problem(field_path, f"region names are lowercase; use {lowered!r}")
    hint = difflib.get_close_matches(text, list(REGION_ZONE_LETTERS), n=1)
    if hint:
        return Problem(field_path, f"{text!r} is not an AWS region; did you mean {hint[0]!r}?")
    if _REGION_SHAPE.fullmatch(text):
        return Problem(
            field_path,
            f"{text!r} is not a region this version of dms-tui knows; add it to terraform/provisioning/config_rules.json",
        )
    return Problem(field_path, f"{text!r} is not an AWS region name; use one such as us-east-1")


def validate_availability_zone(field_path: str, text: object, region: str) -> Problem | None:
    """An availability zone name of ``region`` (us-east-1a), not a zone ID (use1-az1) or another region's zone."""
    zones = zone_names(region) if isinstance(region, str) else ()
    example = zones[0] if zones else "us-east-1a"
    problem = _text_problem(field_path, text, example)
    if problem is not None:
        return problem
    assert isinstance(text, str)
    if not zones:
        return None  # the region itself is reported; a zone cannot be judged against it
    if text in zones:
        return None
    if _ZONE_ID.fullmatch(text):
        return Problem(field_path, f"{text!r} is a zone ID; use a zone name such as {example}")
    listing = ", ".join(zones)
    if not text.startswith(region):
        return Problem(field_path, f"{text!r} is not in the region {region}; use one of {listing}")
    return Problem(field_path, f"{text!r} is not an availability zone of {region}; use one of {listing}")


def validate_instance_class(field_path: str, text: object, kind: InstanceClassKind) -> Problem | None:
    """An instance class of a family that exists for Aurora PostgreSQL, DMS, or EC2 (the bastion)."""
    example = {"aurora": "db.r6g.large", "dms": "dms.t3.medium", "ec2": "t3.micro"}[kind]
    problem = _text_problem(field_path, text, example)
    if problem is not None:
        return problem
    assert isinstance(text, str)
    if kind == "ec2":
        family, _, size = text.partition(".")
        if family not in EC2_BASTION_FAMILIES:
            families = ", ".join(EC2_BASTION_FAMILIES)
            return Problem(
                field_path, f"{text!r} is not an EC2 instance type of a known family ({families}); e.g. {example}"
            )
        if not _EC2_SIZE.fullmatch(size):
            return Problem(
                field_path, f"{text!r} has no valid size after {family}.; e.g. {family}.micro or {family}.large"
            )
        return None
    if kind == "aurora" and text == AURORA_SERVERLESS_CLASS:
        return Problem(
            field_path,
            "Aurora Serverless v2 needs capacity settings this wizard does not manage; pick a provisioned class "
            "such as db.r6g.large or db.t4g.medium",
        )
    catalog = AURORA_POSTGRESQL_CLASSES if kind == "aurora" else DMS_REPLICATION_CLASSES
    what = "an Aurora PostgreSQL DB instance class" if kind == "aurora" else "a DMS replication instance class"
    family, dot, size = text.rpartition(".")
    if not dot or family not in catalog:
        return Problem(field_path, f"{text!r} is not {what} (families: {', '.join(catalog)}); e.g. {example}")
    if size not in catalog[family]:
        return Problem(field_path, f"{family} comes in the sizes {', '.join(catalog[family])}, not {size!r}")
    return None


def validate_migration_type(field_path: str, value: object) -> Problem | None:
    """A DMS migration type: full-load, full-load-and-cdc or cdc (the form DMS and `dms-tui migrate` take)."""
    choices = ", ".join(MIGRATION_TYPES)
    if not isinstance(value, str):
        return Problem(field_path, f"must be text, one of {choices}")
    if value in MIGRATION_TYPES:
        return None
    normalised = value.strip().lower().replace("_", "-").replace(" ", "-")
    if normalised in MIGRATION_TYPES:
        return Problem(field_path, f"write {value!r} as {normalised!r} (lowercase, with hyphens)")
    hint = difflib.get_close_matches(normalised, MIGRATION_TYPES, n=1)
    guess = f"did you mean {hint[0]!r}? " if hint else ""
    return Problem(
        field_path,
        f"{value!r} is not a migration type; {guess}use full-load (copy once), full-load-and-cdc (copy, then "
        "replicate changes) or cdc (replicate changes only)",
    )


def validate_engine_version(field_path: str, text: object) -> Problem | None:
    """An Aurora PostgreSQL engine version, major.minor (e.g. 16.6)."""
    problem = _text_problem(field_path, text, "16.6")
    if problem is not None:
        return problem
    assert isinstance(text, str)
    match = _ENGINE_VERSION.fullmatch(text)
    majors = AURORA_POSTGRESQL_MAJOR_VERSIONS
    if match is None:
        return Problem(field_path, f"{text!r} is not an engine version; write major.minor, e.g. 16.6")
    if int(match.group(1)) not in majors:
        return Problem(
            field_path,
            f"Aurora PostgreSQL has no major version {match.group(1)}; use {majors[0]}–{majors[-1]}, e.g. 16.6",
        )
    return None


def _tag_field(key: str) -> str:
    return f"tags.{key}" if _SIMPLE_TAG_KEY.fullmatch(key) else f"tags[{json.dumps(key)}]"


def validate_tags(field_path: str, tags: object) -> list[Problem]:
    """Common tags: at most 50, keys 1–128 and values 0–256 characters, no aws: prefix, AWS's tag characters."""
    if not isinstance(tags, Mapping):
        return [Problem(field_path, 'must be an object of tag names to values, e.g. {"Project": "dms-tui"}')]
    problems: list[Problem] = []
    if len(tags) > MAX_TAGS:
        problems.append(Problem(field_path, f"has {len(tags)} tags; AWS allows at most {MAX_TAGS} per resource"))
    for key, value in tags.items():
        if not isinstance(key, str):
            problems.append(Problem(field_path, f"tag name {key!r} must be text"))
            continue
        where = _tag_field(key) if field_path == "tags" else f"{field_path}[{json.dumps(key)}]"
        if not 1 <= len(key) <= TAG_KEY_MAX_LEN:
            problems.append(Problem(where, f"a tag name must be 1 to {TAG_KEY_MAX_LEN} characters long"))
        elif key.lower().startswith(RULES["tags"]["reserved_key_prefix"]):
            problems.append(Problem(where, "tag names starting with 'aws:' are reserved for AWS; drop the prefix"))
        elif not _tag_text_ok(key):
            problems.append(Problem(where, "a tag name may hold letters, digits, spaces and _ . : / = + - @ only"))
        if not isinstance(value, str):
            problems.append(Problem(where, f'the value must be text (write it in quotes, e.g. "{value}")'))
        elif len(value) > TAG_VALUE_MAX_LEN:
            problems.append(
                Problem(where, f"the value is {len(value)} characters long; AWS allows at most {TAG_VALUE_MAX_LEN}")
            )
        elif not _tag_text_ok(value):
            problems.append(Problem(where, "a tag value may hold letters, digits, spaces and _ . : / = + - @ only"))
    return problems


def validate_vpc(role: str, vpc: VpcConfig, region: str) -> list[Problem]:
    """One VPC: its name, CIDR, and subnets (inside the VPC, not overlapping, in at least two zones)."""
    prefix = f"vpcs.{role}"
    problems: list[Problem] = []

    def add(problem: Problem | None) -> None:
        if problem is not None:
            problems.append(problem)

    add(validate_identifier(f"{prefix}.name", vpc.name, "vpc_name"))
    cidr_problem = validate_cidr(f"{prefix}.cidr", vpc.cidr, role="vpc")
    add(cidr_problem)
    vpc_network = ipaddress.IPv4Network(vpc.cidr) if cidr_problem is None else None

    zones: list[str] = []
    if not isinstance(vpc.azs, tuple):
        add(Problem(f"{prefix}.azs", f'must be a list of availability zone names, e.g. ["{region}a", "{region}b"]'))
    else:
        for index, zone in enumerate(vpc.azs):
            zone_problem = validate_availability_zone(f"{prefix}.azs[{index}]", zone, region)
            add(zone_problem)
            if zone_problem is None:
                zones.append(zone)

    subnets: list[tuple[int, ipaddress.IPv4Network]] = []
    if not isinstance(vpc.private_subnets, tuple):
        add(Problem(f"{prefix}.private_subnets", 'must be a list of CIDR blocks, e.g. ["10.0.1.0/24", "10.0.2.0/24"]'))
    else:
        for index, block in enumerate(vpc.private_subnets):
            subnet_field = f"{prefix}.private_subnets[{index}]"
            subnet_problem = validate_cidr(subnet_field, block, role="subnet")
            add(subnet_problem)
            if subnet_problem is not None:
                continue
            subnet = ipaddress.IPv4Network(block)
            if vpc_network is not None and not subnet.subnet_of(vpc_network):
                suggestion = _free_block(vpc_network, subnet.prefixlen, [s for _, s in subnets])
                fix = f"; pick one inside it, e.g. {suggestion}" if suggestion else "; pick a block inside it"
                add(Problem(subnet_field, f"{block} is outside the VPC's {vpc_network}{fix}"))
                continue
            clash = next(((i, s) for i, s in subnets if s.overlaps(subnet)), None)
            if clash is not None:
                taken = [s for _, s in subnets] + [subnet]
                suggestion = _free_block(vpc_network, subnet.prefixlen, taken) if vpc_network else None
                fix = f"; use a free block such as {suggestion}" if suggestion else "; use a block that is still free"
                add(Problem(subnet_field, f"{block} overlaps private_subnets[{clash[0]}] ({clash[1]}){fix}"))
                continue
            subnets.append((index, subnet))

    if isinstance(vpc.azs, tuple) and isinstance(vpc.private_subnets, tuple):
        if len(vpc.private_subnets) < 2:
            add(
                Problem(
                    f"{prefix}.private_subnets",
                    f"has {len(vpc.private_subnets)} subnet(s); give at least two, in two different availability "
                    "zones (Aurora and DMS subnet groups need two zones)",
                )
            )
        elif len(vpc.azs) != len(vpc.private_subnets):
            add(
                Problem(
                    f"{prefix}.azs",
                    f"lists {len(vpc.azs)} zone(s) for {len(vpc.private_subnets)} private subnets; give each subnet "
                    "its zone, in the same order",
                )
            )
        elif len(zones) == len(vpc.azs) and len(set(zones)) < 2:
            add(
                Problem(
                    f"{prefix}.azs",
                    f"puts every subnet in {zones[0]}; use at least two different availability zones (Aurora and "
                    "DMS subnet groups need two)",
                )
            )
    return problems


def _free_block(
    vpc_network: ipaddress.IPv4Network, prefixlen: int, taken: Sequence[ipaddress.IPv4Network]
) -> ipaddress.IPv4Network | None:
    """The first block of that size inside the VPC that overlaps nothing taken (a suggestion for a message)."""
    if prefixlen < vpc_network.prefixlen:
        return None
    for candidate in vpc_network.subnets(new_prefix=prefixlen):
        if not any(candidate.overlaps(t) for t in taken):
            return candidate
    return None


def validate_database(role: str, database: DatabaseConfig) -> list[Problem]:
    """One Aurora PostgreSQL cluster's settings."""
    checks = (
        validate_identifier(f"{role}.cluster_name", database.cluster_name, "cluster_name"),
        validate_engine_version(f"{role}.engine_version", database.engine_version),
        validate_instance_class(f"{role}.instance_class", database.instance_class, "aurora"),
        validate_identifier(f"{role}.database_name", database.database_name, "database_name"),
        validate_identifier(f"{role}.master_username", database.master_username, "master_username"),
        _typed_whole_number(f"{role}.port", database.port) or validate_port(f"{role}.port", database.port),
    )
    return [p for p in checks if p is not None]


def _typed_whole_number(field_path: str, value: object) -> Problem | None:
    """In the document itself a number must be a JSON number (text would not survive a lossless round trip)."""
    if isinstance(value, bool) or not isinstance(value, int):
        shown = json.dumps(value) if isinstance(value, str | float | bool) or value is None else type(value).__name__
        return Problem(field_path, f"must be a whole JSON number without quotes, not {shown}")
    return None


def validate(config: WizardConfig) -> list[Problem]:
    """Every problem with ``config``, in the order of the tfvars document; empty when it can be applied."""
    problems: list[Problem] = []

    def add(problem: Problem | None) -> None:
        if problem is not None:
            problems.append(problem)

    add(validate_identifier("environment", config.environment, "environment"))
    region_problem = validate_region("aws_region", config.aws_region)
    add(region_problem)
    region = config.aws_region if region_problem is None else ""
    for role, vpc in config.vpcs.items():
        problems.extend(validate_vpc(role, vpc, region))
    names: dict[str, str] = {}
    for role, vpc in config.vpcs.items():
        if isinstance(vpc.name, str) and vpc.name in names:
            add(
                Problem(
                    f"vpcs.{role}.name",
                    f"{vpc.name!r} is already the {names[vpc.name]} VPC's name; give each VPC its own name",
                )
            )
        if isinstance(vpc.name, str):
            names.setdefault(vpc.name, role)
    for role in DATABASE_ROLES:
        problems.extend(validate_database(role, getattr(config, role)))
    if (
        isinstance(config.source_db.cluster_name, str)
        and config.source_db.cluster_name == config.target_db.cluster_name
    ):
        add(
            Problem(
                "target_db.cluster_name",
                f"{config.target_db.cluster_name!r} is also the source cluster's name; cluster identifiers must be "
                "unique in an account and region — pick another, e.g. aurora-target",
            )
        )
    add(validate_instance_class("dms_replication_instance_class", config.dms_replication_instance_class, "dms"))
    add(
        _typed_whole_number("dms_allocated_storage", config.dms_allocated_storage)
        or validate_allocated_storage("dms_allocated_storage", config.dms_allocated_storage)
    )
    add(validate_instance_class("bastion_instance_type", config.bastion_instance_type, "ec2"))
    if not isinstance(config.create_dms_service_roles, bool):
        add(
            Problem(
                "create_dms_service_roles",
                "must be true or false: true creates the account-wide dms-vpc-role and dms-cloudwatch-logs-role, "
                "false uses the ones already in the account",
            )
        )
    add(validate_migration_type("migration_type", config.migration_type))
    problems.extend(validate_tags("tags", config.tags))
    return problems


def overlapping_vpcs(config: WizardConfig) -> list[tuple[str, str]]:
    """Pairs of VPC roles whose CIDR blocks overlap: allowed by design (see OVERLAPPING_VPCS_EXPLANATION)."""
    networks: list[tuple[str, ipaddress.IPv4Network]] = []
    for role, vpc in config.vpcs.items():
        if validate_cidr("", vpc.cidr) is None:
            networks.append((role, ipaddress.IPv4Network(vpc.cidr)))
    return [(a, b) for i, (a, na) in enumerate(networks) for b, nb in networks[i + 1 :] if na.overlaps(nb)]
