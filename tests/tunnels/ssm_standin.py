"""The stand-in AWS CLI and Session Manager plugin (tests/tunnels/standin), installed first on PATH for a test."""

from __future__ import annotations

import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STANDIN = Path(__file__).parent / "standin"
BASTION = "i-0123456789abcdef0"  # the bastion id of tests/checks/moto_environment.py's outputs


@dataclass
class SsmStandIn:
    bin_dir: Path
    log: Path

    def route(self, routes: dict[str, tuple[str, int]]) -> None:
        """Where the stand-in bastion reaches each remote host (endpoint DNS name → a real PostgreSQL)."""
        os.environ["SSM_STANDIN_ROUTES"] = json.dumps({host.lower(): list(address) for host, address in routes.items()})

    def lines(self, kind: str) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [line.split() for line in self.log.read_text().splitlines() if line.startswith(kind + " ")]

    def accepted(self, host: str) -> int:
        return sum(1 for words in self.lines("plugin") if words[2] == host and words[3] == "accepted")

    def plugin_pids(self, host: str | None = None) -> list[int]:
        return [
            int(words[1])
            for words in self.lines("plugin")
            if words[3] == "listening" and (host is None or words[2] == host)
        ]

    def aws_pids(self) -> list[int]:
        return [int(words[1]) for words in self.lines("aws")]

    def remove_plugin(self) -> None:
        (self.bin_dir / "session-manager-plugin").unlink()


def executable(path: Path, source: Path) -> None:
    path.write_text(f"#!{sys.executable}\n" + source.read_text())
    path.chmod(0o755)


def postgres_answers(address: tuple[str, int]) -> bytes:
    """PostgreSQL's one-byte answer to an SSLRequest through ``address`` ('S': it will talk TLS, as every server here does)."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"\x00\x00\x00\x08\x04\xd2\x16\x2f")
        return sock.recv(1)


def write_terraform_outputs(world: Any, path: Path) -> Path:
    """``world``'s outputs as `terraform output -json` writes them (for --outputs FILE)."""
    flat: dict[str, Any] = {}
    for name, value in world.outputs.to_json().items():
        if isinstance(value, dict):
            flat.update({f"{name}_{key}": inner for key, inner in value.items()})
        else:
            flat[name] = value
    path.write_text(json.dumps({name: {"value": value} for name, value in flat.items()}))
    return path
