"""The sandbox DMS engine's endpoint for a test database URL (one helper for the engine, CDC and fidelity tests)."""

from __future__ import annotations

import psycopg

from dms_tui.sandbox.dms_engine import PostgresEndpoint


def endpoint(url: str) -> PostgresEndpoint:
    """Host, port, database, user and password of ``url``; its TLS mode and CA when it names them."""
    parts = psycopg.conninfo.conninfo_to_dict(url)
    tls = {key: str(parts[key]) for key in ("sslmode", "sslrootcert") if parts.get(key)}
    return PostgresEndpoint(
        str(parts["host"]),
        int(str(parts["port"])),
        str(parts["dbname"]),
        str(parts["user"]),
        str(parts["password"]),
        **tls,
    )
