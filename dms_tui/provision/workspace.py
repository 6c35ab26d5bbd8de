"""The per-environment working copy of the Terraform bundle, and the terraform binary that runs in it.

The packaged bundle is read-only; terraform runs in a copy under ``paths.environment_dir(env)/terraform``. Preparing
the copy refreshes the bundle's own files but keeps what terraform and the person own there: ``.terraform/``, the
lock file, state files and ``variables/``. The sandbox adds a standard ``*_override.tf`` that points the provider at
moto; terraform's CLI configuration installs providers from a filesystem mirror when one is available (offline).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from dms_tui.environment import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Environment
from dms_tui.paths import environment_dir
from dms_tui.resources import terraform_bundle_dir

MINIMUM_TERRAFORM = (1, 11, 0)
DEFAULT_PLUGIN_MIRROR = Path("/opt/tf-plugins")
PLUGIN_MIRROR_ENV = "DMS_TUI_TF_PLUGIN_DIR"
TERRAFORM_BINARY_ENV = "DMS_TUI_TERRAFORM"
OVERRIDE_FILE_NAME = "sandbox_override.tf"
CLI_CONFIG_FILE_NAME = "terraform.rc"

# Files of the bundle the copy refreshes (and deletes when the bundle no longer has them). Everything else in the
# working copy — .terraform/, the lock file, state, variables — belongs to terraform or the person.
_BUNDLE_SUFFIXES = (".tf", ".tftpl", ".md")
_BUNDLE_CODE_DIRS = ("provisioning", "modules")

#: Every AWS service the bundle's resources and data sources call; the sandbox override points each one at moto.
BUNDLE_SERVICES: tuple[str, ...] = ("dms", "ec2", "elbv2", "iam", "rds", "s3", "secretsmanager", "ssm", "sts")

INSTALL_HINT = (
    "Install terraform 1.11 or newer from https://developer.hashicorp.com/terraform/install (or your package "
    f"manager), put it on PATH or point {TERRAFORM_BINARY_ENV} at it, then try again."
)


class WorkspaceError(RuntimeError):
    """The working copy or the terraform binary cannot be used; the message says what to do."""


class TerraformNotFound(WorkspaceError):
    """No usable terraform binary (missing or older than 1.11)."""


@dataclass(frozen=True)
class TerraformBinary:
    """A terraform executable known to be recent enough for write-only attributes."""

    path: Path
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)


@dataclass(frozen=True)
class Workspace:
    """Where terraform runs for one environment, and how."""

    env_name: str
    root: Path
    plugin_mirror: Path | None
    env: dict[str, str] = field(repr=False)  # full process environment for terraform (os.environ + ours)

    @property
    def root_module(self) -> Path:
        """The directory terraform runs in (``terraform -chdir=...``)."""
        return self.root / "provisioning"

    @property
    def var_file(self) -> Path:
        """The environment's variables, written by the wizard's configuration model."""
        return self.root / "variables" / self.env_name / "common.tfvars.json"

    @property
    def cli_config_file(self) -> Path:
        return self.root / CLI_CONFIG_FILE_NAME

    @property
    def override_file(self) -> Path:
        return self.root_module / OVERRIDE_FILE_NAME


def _parse_version(text: str) -> tuple[int, int, int] | None:
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def find_terraform(candidate: str | None = None) -> TerraformBinary:
    """Locate terraform (argument, $DMS_TUI_TERRAFORM, then PATH) and check it is >= 1.11."""
    name = candidate or os.environ.get(TERRAFORM_BINARY_ENV) or "terraform"
    resolved = shutil.which(name)
    if resolved is None:
        raise TerraformNotFound(f"terraform was not found ({name!r} is not an executable on PATH). {INSTALL_HINT}")
    try:
        completed = subprocess.run(
            [resolved, "version", "-json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "CHECKPOINT_DISABLE": "1"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TerraformNotFound(f"{resolved} could not be run ({exc}). {INSTALL_HINT}") from exc
    version: tuple[int, int, int] | None = None
    try:
        version = _parse_version(str(json.loads(completed.stdout)["terraform_version"]))
    except (ValueError, KeyError, TypeError):
        # Very old releases have no -json; their plain banner still carries the version.
        version = _parse_version(completed.stdout)
    if version is None:
        raise TerraformNotFound(f"{resolved} did not report a version; is it really terraform? {INSTALL_HINT}")
    if version < MINIMUM_TERRAFORM:
        found = ".".join(str(part) for part in version)
        raise TerraformNotFound(
            f"{resolved} is terraform {found}; the bundle needs 1.11 or newer (write-only password attributes). "
            + INSTALL_HINT
        )
    return TerraformBinary(path=Path(resolved), version=version)


def plugin_mirror() -> Path | None:
    """The provider mirror to install from: $DMS_TUI_TF_PLUGIN_DIR, else /opt/tf-plugins, else none (registry)."""
    configured = os.environ.get(PLUGIN_MIRROR_ENV)
    if configured:
        path = Path(configured)
        if not path.is_dir():
            raise WorkspaceError(
                f"{PLUGIN_MIRROR_ENV} points at {path}, which is not a directory; fix the path or unset it "
                "to install providers from the registry."
            )
        return path
    return DEFAULT_PLUGIN_MIRROR if DEFAULT_PLUGIN_MIRROR.is_dir() else None


def cli_config(mirror: Path | None) -> str:
    """terraform CLI configuration: providers only from the mirror when there is one, else the normal registry."""
    if mirror is None:
        return "# No provider mirror on this machine: terraform installs providers from the registry.\n"
    return (
        "# Written by dms-tui: install providers from the local mirror (works offline).\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path = {json.dumps(str(mirror))}\n"
        "  }\n"
        "}\n"
    )


def sandbox_override(endpoint_url: str, region: str) -> str:
    """A standard ``*_override.tf`` pointing every service the bundle uses at the sandbox's moto server."""
    url = json.dumps(endpoint_url)
    endpoints = "\n".join(f"    {service} = {url}" for service in BUNDLE_SERVICES)
    return (
        "# Written by dms-tui for the embedded sandbox: every AWS call goes to the local moto server.\n"
        "# The keys are moto's fixed placeholders, not credentials.\n"
        'provider "aws" {\n'
        f"  region                      = {json.dumps(region)}\n"
        f"  access_key                  = {json.dumps(SANDBOX_ACCESS_KEY)}\n"
        f"  secret_key                  = {json.dumps(SANDBOX_SECRET_KEY)}\n"
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_region_validation      = true\n"
        "  s3_use_path_style           = true # moto serves every bucket on its one address\n"
        "  # moto answers an unimplemented call with HTTP 500, which the SDK would retry 25 times with back-off:\n"
        "  # fail fast with the error instead of appearing to hang.\n"
        "  max_retries = 2\n"
        "\n"
        "  endpoints {\n"
        f"{endpoints}\n"
        "  }\n"
        "}\n"
        "\n"
        "# moto creates no network interfaces for RDS instances, so there is no writer address to register behind\n"
        "# the NLBs; the sandbox's TCP forwarders stand in for NLB + PrivateLink instead.\n"
        "locals {\n"
        "  register_writer_targets = false\n"
        "}\n"
    )


def _refresh_bundle(bundle: Path, dest: Path) -> None:
    """Copy the bundle's code into ``dest`` and delete code files the bundle dropped; keep everything else."""
    wanted: set[Path] = set()
    for source in sorted(bundle.rglob("*")):
        relative = source.relative_to(bundle)
        if source.is_dir() or ".terraform" in relative.parts or relative.parts[0] == "variables":
            continue
        if relative.name.endswith((".tfstate", ".tfstate.backup")) or relative.name == ".terraform.lock.hcl":
            continue
        wanted.add(relative)
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    for code_dir in _BUNDLE_CODE_DIRS:
        for existing in sorted((dest / code_dir).rglob("*")):
            relative = existing.relative_to(dest)
            if ".terraform" in relative.parts or not existing.is_file():
                continue
            if existing.suffix in _BUNDLE_SUFFIXES and relative not in wanted and existing.name != OVERRIDE_FILE_NAME:
                existing.unlink()


def _seed_variables(bundle: Path, dest: Path, env_name: str) -> None:
    """Give a new environment the bundle's defaults; never touch variables that already exist."""
    var_file = dest / "variables" / env_name / "common.tfvars.json"
    if var_file.exists():
        return
    shipped = bundle / "variables" / env_name / "common.tfvars.json"
    if shipped.is_file():
        document = json.loads(shipped.read_text(encoding="utf-8"))
    else:
        document = json.loads((bundle / "variables" / "dev" / "common.tfvars.json").read_text(encoding="utf-8"))
        document["environment"] = env_name
        document.setdefault("tags", {})["Environment"] = env_name
    var_file.parent.mkdir(parents=True, exist_ok=True)
    var_file.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _terraform_environment(target: Environment, cli_config_file: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "TF_CLI_CONFIG_FILE": str(cli_config_file),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",  # no call home from an offline bastion
        }
    )
    return target.terraform_process_env(env)


def prepare_workspace(env: str, target: Environment) -> Workspace:
    """Create or refresh the environment's working copy of the bundle and return how to run terraform in it."""
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,15}", env):
        raise WorkspaceError(
            f"Environment name {env!r} is not usable: use 1-16 lowercase letters, digits or hyphens, starting with "
            "a letter (e.g. dev)."
        )
    bundle = terraform_bundle_dir()
    dest = environment_dir(env) / "terraform"
    dest.mkdir(parents=True, exist_ok=True)
    _refresh_bundle(bundle, dest)
    _seed_variables(bundle, dest, env)

    mirror = plugin_mirror()
    workspace = Workspace(
        env_name=env,
        root=dest,
        plugin_mirror=mirror,
        env=_terraform_environment(target, dest / CLI_CONFIG_FILE_NAME),
    )
    workspace.cli_config_file.write_text(cli_config(mirror), encoding="utf-8")
    if target.terraform_override is None:
        workspace.override_file.unlink(missing_ok=True)
    else:
        workspace.override_file.write_text(target.terraform_override, encoding="utf-8")
    return workspace
