"""Check 4: log in to PostgreSQL through the endpoint with the secret's credentials; server version; database.

The login uses the environment's TLS (:attr:`Environment.database_tls`), as the seed, the diff and the psql commands
shown do: ``sslmode=verify-ca`` against the CA that signs the server's certificate (the RDS bundle on AWS, the sandbox's
own CA in the sandbox, whose clusters refuse plaintext as Aurora with ``rds.force_ssl`` does), ``require`` where that
CA is not on this machine, said in the detail. The check reads ``pg_stat_ssl`` to report what the session really got.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from dms_tui.checks.result import Side
from dms_tui.checks.runner import Check, CheckContext, Outcome, fail, ok, warn
from dms_tui.checks.secret import credentials_key
from dms_tui.data.connect import DatabaseCredentials, connect, describe_route, psql_command, tls_params
from dms_tui.environment import Environment
from dms_tui.provision.outputs import SideOutputs

MAINTENANCE_DB = "postgres"


def _databases_key(side: Side) -> str:
    return f"{side}.databases"


def login_check(side: Side, outputs: SideOutputs, target: Environment, timeout: float) -> Check:
    def run(ctx: CheckContext) -> Outcome:
        credentials: DatabaseCredentials = ctx.facts.get(credentials_key(side))
        command = psql_command(credentials, target, dbname=credentials.dbname, sql="select version()")
        try:
            conn = _login(credentials, target, ctx)
        except psycopg.OperationalError as exc:
            return _login_failure(str(exc), credentials, target, command)
        with conn:
            version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            tls_row = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
            wanted = sorted({credentials.dbname, outputs.database_name})
            present = {
                str(row[0])
                for row in conn.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", (wanted,))
            }
            ctx.facts.set(_databases_key(side), (credentials.dbname, present))
        tls = bool(tls_row and tls_row[0])
        route = describe_route(credentials, target)
        detail = f"logged in as {credentials.username} via {route}; PostgreSQL {version}"
        if tls:
            return ok(f"{detail}; {target.database_tls.summary}", command=command)
        return warn(detail + "; but the session is not encrypted", "Use sslmode=verify-ca.", command=command)

    return Check(
        id=f"{side}.login",
        side=side,
        title="PostgreSQL login with the secret",
        run=run,
        timeout=timeout,
        needs=(f"{side}.secret", f"{side}.tcp"),
        command=f"psql \"{_endpoint_conninfo(outputs, target)}\" -c 'select version()'",
        timeout_remedy="The login did not finish in time: the path is slow (NLB target, security group, or a "
        "sandbox forwarder's latency) or the server is overloaded.",
    )


def _endpoint_conninfo(outputs: SideOutputs, target: Environment) -> str:
    """host, port and TLS of the side's endpoint, as a libpq keyword string (before the secret is read)."""
    params = {"host": outputs.endpoint_dns_name, "port": str(outputs.port), **tls_params(target)}
    return " ".join(f"{key}={value}" for key, value in params.items())


def _login(credentials: DatabaseCredentials, target: Environment, ctx: CheckContext) -> psycopg.Connection[Any]:
    """Connect to the secret's database, or to the maintenance database when that one is missing."""
    try:
        return connect(credentials, target, connect_timeout=ctx.remaining())
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc) or "database" not in str(exc):
            raise
    # The secret's database is missing: log in to the maintenance database so the database check can say so,
    # instead of blaming the credentials.
    return connect(credentials, target, dbname=MAINTENANCE_DB, connect_timeout=ctx.remaining())


def _login_failure(message: str, credentials: DatabaseCredentials, target: Environment, command: str) -> Outcome:
    first_line = message.strip().splitlines()[-1] if message.strip() else "connection failed"
    detail = f"login as {credentials.username} failed: {first_line}"
    if "password authentication failed" in message:
        remedy = (
            "The secret's password is not the database user's password. Set one from the other: re-run provision "
            "(it sets both from one generated value), or ALTER ROLE … PASSWORD from an admin session, or "
            "put-secret-value with the right password."
        )
    elif "does not exist" in message and "role" in message:
        remedy = f"The user {credentials.username} does not exist on this server: fix the secret's username."
    elif "certificate verify failed" in message or "root certificate" in message:
        tls = target.database_tls
        remedy = (
            f"The server's certificate is not signed by the CA in {tls.root_cert}: the endpoint reaches another "
            "server (check the NLB target group's registered IP), or that file is not the CA that signs this server's "
            "certificate (on AWS, the RDS CA bundle)."
        )
    elif "no encryption" in message:
        remedy = "The server accepts TLS connections only: connect with sslmode=verify-ca (or at least require)."
    elif "SSL" in message or "ssl" in message:
        remedy = (
            "TLS negotiation failed: Aurora offers TLS, so the endpoint may reach another server; check the NLB "
            "target group's registered IP."
        )
    elif "timeout" in message or "timed out" in message:
        remedy = "The login timed out: the path is slow or stalls (security group, NLB target health, latency)."
    elif "closed the connection" in message or "Connection refused" in message or "reset" in message:
        remedy = (
            "The connection was cut during login: the NLB has no healthy target, or the sandbox forwarder is "
            "refusing or dropping connections."
        )
    elif "pg_hba" in message:
        remedy = "The server's pg_hba.conf rejects this client address or user; allow the NLB's subnets."
    else:
        remedy = f"Run the command shown to see the full error: {command}"
    return fail(detail, remedy, command=command)


def database_check(side: Side, outputs: SideOutputs, target: Environment, timeout: float) -> Check:
    def run(ctx: CheckContext) -> Outcome:
        dbname, present = ctx.facts.get(_databases_key(side))
        credentials: DatabaseCredentials = ctx.facts.get(credentials_key(side))
        command = psql_command(
            credentials,
            target,
            dbname=MAINTENANCE_DB,
            sql=_exists_query(dbname),
        )
        if dbname not in present:
            if side == "target":
                remedy = (
                    f"DMS does not create databases: create {dbname} on the target (`dms-tui seed` does, as the "
                    f"seed's \"Create the target database\" step), or fix the secret's dbname."
                )
            else:
                remedy = f"Create {dbname} on the source (`dms-tui seed` does) or fix the secret's dbname."
            return fail(f"database {dbname} does not exist on the {side} server", remedy, command=command)
        if outputs.database_name != dbname:
            return warn(
                f"database {dbname} exists; terraform's outputs name {outputs.database_name} instead",
                "Make the secret's dbname and the provisioned database name agree, or DMS and the diff will "
                "look at different databases.",
                command=command,
            )
        return ok(f"database {dbname} exists", command=command)

    return Check(
        id=f"{side}.database",
        side=side,
        title="Migration database exists",
        run=run,
        timeout=timeout,
        needs=(f"{side}.login",),
    )


def _exists_query(dbname: str) -> str:
    """The query a person runs by hand to see the database; psycopg.sql quotes the name as a literal."""
    return sql.SQL("select datname from pg_database where datname = {}").format(sql.Literal(dbname)).as_string()
