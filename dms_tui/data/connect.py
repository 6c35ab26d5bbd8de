"""psycopg connections built from a Secrets Manager secret and the target environment.

The secret holds what DMS needs (username, password, host, port, dbname) with ``host`` set to the interface
endpoint's DNS name. The target environment says where that name really goes: unchanged on AWS, a local TCP
forwarder in the sandbox. The password lives only in memory: it is never part of a repr, a log line or a command
shown to a person (psql prompts for it, or reads PGPASSWORD from the person's own shell).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

from dms_tui.environment import Environment, SslMode

SECRET_FIELDS: tuple[str, ...] = ("username", "password", "host", "port", "dbname")


class SecretFormatError(ValueError):
    """A database secret lacks a field or holds one of the wrong shape."""


@dataclass(frozen=True)
class DatabaseCredentials:
    """The five fields of a DMS-style database secret. ``password`` never appears in repr()."""

    username: str
    password: str = field(repr=False)
    host: str
    port: int
    dbname: str

    @classmethod
    def from_secret(cls, secret: Mapping[str, Any]) -> DatabaseCredentials:
        """Validate a parsed secret; the error names every missing or malformed field (never its value)."""
        missing = [name for name in SECRET_FIELDS if secret.get(name) in (None, "")]
        if missing:
            raise SecretFormatError(
                "the secret lacks " + ", ".join(missing) + f"; it must hold all of {', '.join(SECRET_FIELDS)}"
            )
        try:
            port = int(secret["port"])
        except (TypeError, ValueError):
            raise SecretFormatError("the secret's port is not a number") from None
        if not 0 < port < 65536:
            raise SecretFormatError(f"the secret's port {port} is outside 1..65535")
        return cls(
            username=str(secret["username"]),
            password=str(secret["password"]),
            host=str(secret["host"]),
            port=port,
            dbname=str(secret["dbname"]),
        )

    @classmethod
    def from_secret_string(cls, secret_string: str) -> DatabaseCredentials:
        try:
            parsed = json.loads(secret_string)
        except json.JSONDecodeError:
            raise SecretFormatError("the secret is not a JSON document") from None
        if not isinstance(parsed, dict):
            raise SecretFormatError("the secret is JSON but not an object with named fields")
        return cls.from_secret(parsed)


def read_credentials(target: Environment, secret_arn: str) -> DatabaseCredentials:
    """Fetch and validate a database secret from Secrets Manager (boto3 errors propagate to the caller)."""
    client = target.client("secretsmanager")
    response = client.get_secret_value(SecretId=secret_arn)
    return DatabaseCredentials.from_secret_string(str(response.get("SecretString") or ""))


def connection_params(
    credentials: DatabaseCredentials,
    target: Environment,
    *,
    dbname: str | None = None,
    sslmode: SslMode | None = None,
    connect_timeout: float = 10,
    application_name: str = "dms-tui",
) -> dict[str, Any]:
    """Keyword arguments for ``psycopg.connect`` (they include the password: keep them in memory). TLS as the
    environment says (:attr:`Environment.database_tls`), unless ``sslmode`` overrides the mode."""
    host, port = target.resolve(credentials.host, credentials.port)
    return {
        "host": host,
        "port": port,
        "user": credentials.username,
        "password": credentials.password,
        "dbname": dbname or credentials.dbname,
        **tls_params(target, sslmode),
        # libpq's connect_timeout is whole seconds and values below 2 are raised to 2.
        "connect_timeout": max(2, int(round(connect_timeout))),
        "application_name": application_name,
    }


def connect(
    credentials: DatabaseCredentials,
    target: Environment,
    *,
    dbname: str | None = None,
    sslmode: SslMode | None = None,
    connect_timeout: float = 10,
    autocommit: bool = True,
) -> psycopg.Connection[Any]:
    """Open a connection through the environment's path to ``credentials.host``."""
    params = connection_params(credentials, target, dbname=dbname, sslmode=sslmode, connect_timeout=connect_timeout)
    return psycopg.connect(autocommit=autocommit, **params)


def psql_command(
    credentials: DatabaseCredentials,
    target: Environment,
    *,
    dbname: str | None = None,
    sql: str = "select 1",
    sslmode: SslMode | None = None,
) -> str:
    """The psql command a person could run by hand (no password: psql prompts, or uses their PGPASSWORD)."""
    host, port = target.resolve(credentials.host, credentials.port)
    conninfo = psycopg.conninfo.make_conninfo(
        "",
        host=host,
        port=port,
        user=credentials.username,
        dbname=dbname or credentials.dbname,
        **tls_params(target, sslmode),
    )
    return f"psql {shlex.quote(conninfo)} -c {shlex.quote(sql)}"


def tls_params(target: Environment, sslmode: SslMode | None = None) -> dict[str, str]:
    """``sslmode`` (and ``sslrootcert`` when the server is verified) for a connection here, the same in both
    modes; ``sslmode`` overrides the environment's mode (a test of a plaintext login, say)."""
    params = target.database_tls.libpq_params()
    if sslmode is not None:
        params["sslmode"] = sslmode
    return params


def describe_route(credentials: DatabaseCredentials, target: Environment) -> str:
    """One sentence on where a connection to the secret's host really goes, for details shown to a person."""
    host, port = target.resolve(credentials.host, credentials.port)
    if (host, port) == (credentials.host, credentials.port):
        return f"{credentials.host}:{credentials.port}"
    return f"{credentials.host}:{credentials.port} (mapped to {target.local_route} at {host}:{port})"
