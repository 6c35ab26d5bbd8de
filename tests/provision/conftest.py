"""Fixtures for the terraform runner tests: the recorded streams and the fake terraform that replays them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
STREAMS = HERE / "streams"
FAKE_TERRAFORM = HERE / "fake_terraform.py"


@dataclass(frozen=True)
class FakeTerraform:
    """The fake executable plus the environment knobs a test sets (see fake_terraform.py)."""

    path: Path
    workdir: Path
    pidfile: Path
    argv_log: Path

    def env(self, **knobs: str | float) -> dict[str, str]:
        env = {"FAKE_TERRAFORM_PIDFILE": str(self.pidfile), "FAKE_TERRAFORM_ARGV_LOG": str(self.argv_log)}
        env.update({f"FAKE_TERRAFORM_{key.upper()}": str(value) for key, value in knobs.items()})
        return env

    def pid(self) -> int:
        return int(self.pidfile.read_text())

    def invocations(self) -> list[str]:
        return self.argv_log.read_text().splitlines() if self.argv_log.exists() else []


@pytest.fixture
def streams() -> Path:
    """tests/provision/streams: real `terraform -json` recordings (see record_streams.py)."""
    return STREAMS


@pytest.fixture
def fake_terraform(tmp_path: Path) -> FakeTerraform:
    workdir = tmp_path / "root-module"
    workdir.mkdir()
    return FakeTerraform(FAKE_TERRAFORM, workdir, tmp_path / "fake.pid", tmp_path / "argv.jsonl")


@pytest.fixture(scope="session")
def moto_sts_url() -> Iterator[str]:
    """A moto server on loopback: the AWS identity `open_environment` looks up (STS) and the account-wide DMS roles
    the provision step looks up before a plan (IAM GetRole), with no account."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_identity(moto_sts_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """AWS mode with an identity boto3's default chain finds (moto's STS) and moto's IAM (the DMS roles lookup);
    returned for subprocesses too."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto accepts any key
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_STS": moto_sts_url,
        "AWS_ENDPOINT_URL_IAM": moto_sts_url,  # the provision step's GetRole for the DMS service roles
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def bundle_streams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The recorded streams, with `terraform output -json` shaped like the bundle's (every name the app reads)."""
    import json
    import shutil

    from dms_tui.provision.outputs import OUTPUT_NAMES

    streams = tmp_path / "streams"
    shutil.copytree(STREAMS, streams)
    outputs = {name: {"sensitive": False, "type": "string", "value": f"value-of-{name}"} for name in OUTPUT_NAMES}
    outputs["source_port"]["value"] = outputs["target_port"]["value"] = 5432
    (streams / "output.json").write_text(json.dumps(outputs))
    monkeypatch.setenv("FAKE_TERRAFORM_STREAMS", str(streams))
    return streams
