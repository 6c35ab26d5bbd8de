"""The sandbox's clusters serve TLS from the sandbox's own CA, and clients verify it as they would Aurora's (issue 15).

Real clusters (the session's test clusters, which share one CA as the sandbox's do, and one fresh cluster for the
upgrade of a cluster that predates TLS); real libpq connections over TCP.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dms_tui.data.connect import DatabaseCredentials, connect
from dms_tui.environment import Environment
from dms_tui.sandbox.postgres import LocalPostgres, PostgresBinariesNotFound
from dms_tui.sandbox.tls import LOOPBACK_NAMES, SandboxCA, certificate_names

SSL_OF_SESSION = "select ssl from pg_stat_ssl where pid = pg_backend_pid()"


def _tcp(server: Any, **params: str) -> str:
    """A TCP login to the test cluster with ``params`` replacing its TLS settings."""
    conninfo = psycopg.conninfo.conninfo_to_dict(server.url())
    conninfo.update(params)
    return psycopg.conninfo.make_conninfo("", **conninfo)


def test_a_login_over_tcp_uses_tls_verified_against_the_ca(pg_source: Any) -> None:
    assert "sslmode=verify-ca" in pg_source.url() and str(pg_source.cluster.ca.cert_path) in pg_source.url()
    with psycopg.connect(pg_source.url()) as conn:
        assert conn.execute(SSL_OF_SESSION).fetchone() == (True,)
        assert conn.info.pgconn.ssl_in_use
    # The certificate also names the loopback addresses, so even verify-full passes where clients connect.
    with psycopg.connect(_tcp(pg_source, sslmode="verify-full")) as conn:
        assert conn.execute(SSL_OF_SESSION).fetchone() == (True,)


def test_a_plaintext_login_over_tcp_is_refused_with_a_clear_error(pg_source: Any) -> None:
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(_tcp(pg_source, sslmode="disable", sslrootcert=""))
    message = str(refused.value)
    assert "pg_hba.conf rejects connection" in message and "no encryption" in message, message
    # The login check turns it into a remedy a person can act on.
    from dms_tui.checks.login import _login_failure

    creds = DatabaseCredentials("postgres", "x", "127.0.0.1", pg_source.cluster.port, "postgres")
    outcome = _login_failure(message, creds, Environment(mode="sandbox", region="us-east-1"), "psql ...")
    assert "accepts TLS connections only" in outcome.remedy


def test_verify_ca_fails_against_a_root_certificate_that_did_not_sign_the_server(
    pg_source: Any, tmp_path: Path
) -> None:
    stranger = SandboxCA(tmp_path / "other-ca").ensure()
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(_tcp(pg_source, sslrootcert=str(stranger.cert_path)))
    # Through the environment, as every check, seed and diff connects: the same refusal, and the check says why.
    creds = DatabaseCredentials("postgres", pg_source.password, "127.0.0.1", pg_source.cluster.port, "postgres")
    wrong = Environment(mode="sandbox", region="us-east-1", database_ca=stranger.cert_path)
    with pytest.raises(psycopg.OperationalError) as failed:
        connect(creds, wrong)
    from dms_tui.checks.login import _login_failure

    outcome = _login_failure(str(failed.value), creds, wrong, "psql ...")
    assert f"not signed by the CA in {stranger.cert_path}" in outcome.remedy
    right = Environment(mode="sandbox", region="us-east-1", database_ca=pg_source.cluster.ca.cert_path)
    with connect(creds, right) as conn:
        assert conn.execute(SSL_OF_SESSION).fetchone() == (True,)


def test_no_private_key_is_readable_by_anyone_else(pg_source: Any, pg_target: Any) -> None:
    ca = pg_source.cluster.ca
    assert pg_target.cluster.ca == ca  # one CA for both clusters
    keys = [(ca.key_path, os.geteuid())] + [
        (server.cluster.server_key, server.cluster.user.uid) for server in (pg_source, pg_target)
    ]
    for key, owner in keys:
        info = key.stat()
        assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == owner, key
    assert stat.S_IMODE(pg_source.cluster.tls_dir.stat().st_mode) == 0o700


def test_the_ca_and_server_certificates_are_made_once_and_grow_to_cover_new_names(tmp_path: Path) -> None:
    ca = SandboxCA(tmp_path / "tls").ensure()
    ca_pem = ca.cert_path.read_bytes()
    assert ca.ensure().cert_path.read_bytes() == ca_pem  # safe to run twice: the same CA
    cert, key = tmp_path / "srv" / "server.crt", tmp_path / "srv" / "server.key"
    dns = "vpce-0abc-1.vpce-svc-0abc.us-east-1.vpce.amazonaws.com"
    assert ca.ensure_server_certificate(cert, key, ()) is True
    assert certificate_names(cert) == set(LOOPBACK_NAMES)
    assert ca.ensure_server_certificate(cert, key, ()) is False  # nothing new to cover: kept
    assert ca.ensure_server_certificate(cert, key, (dns.upper() + ".",)) is True
    assert certificate_names(cert) == {*LOOPBACK_NAMES, dns}
    assert ca.ensure_server_certificate(cert, key, (dns,)) is False
    # A certificate from another CA (a sandbox whose CA was replaced) is replaced, keeping what it covered.
    other = SandboxCA(tmp_path / "other").ensure()
    assert other.ensure_server_certificate(cert, key, ()) is True and certificate_names(cert) == {*LOOPBACK_NAMES, dns}
    # A damaged CA is made again.
    ca.key_path.write_text("not a key")
    assert ca.ensure().cert_path.read_bytes() != ca_pem


def test_a_cluster_that_predates_tls_serves_it_after_the_next_start(tmp_path: Path) -> None:
    """An existing sandbox state dir: its cluster has no certificate and password logins without TLS. The next
    start (what `sandbox up` does) creates the certificate, locks TCP to TLS and restarts the server with its data."""
    try:
        cluster = LocalPostgres(tmp_path / "old", ca=SandboxCA(tmp_path / "tls"))
    except PostgresBinariesNotFound as exc:
        pytest.skip(str(exc))
    try:
        cluster.start()
        cluster.set_password("postgres", "pw-in-memory")
        cluster.create_database("kept")
        # Turn it into what an earlier dms-tui left: no TLS files, plaintext scram over TCP, a server without ssl.
        cluster.stop()
        (cluster.hba_file).write_text("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
        for path in (cluster.server_cert, cluster.server_key):
            path.unlink()
        old_options = " ".join(o for o in cluster.server_options() if "ssl" not in o)
        started = cluster._run(
            [str(cluster.bindir / "pg_ctl"), "start", "-w", "-D", str(cluster.datadir), "-l", str(cluster.logfile)]
            + ["-o", old_options]
        )
        assert started.returncode == 0, started.stderr
        plain = _tcp_url(cluster, sslmode="disable")
        with psycopg.connect(plain) as conn:
            assert conn.execute(SSL_OF_SESSION).fetchone() == (False,)
        assert not cluster.serves_tls()

        cluster.start()
        cluster.start()  # safe to run twice
        assert cluster.serves_tls() and cluster.server_cert.is_file()
        with pytest.raises(psycopg.OperationalError, match="no encryption"):
            psycopg.connect(plain)
        with psycopg.connect(_tcp_url(cluster)) as conn:
            assert conn.execute(SSL_OF_SESSION).fetchone() == (True,)
            assert conn.execute("select 1 from pg_database where datname = 'kept'").fetchone() == (1,)
    finally:
        cluster.remove()


def _tcp_url(cluster: LocalPostgres, **params: str) -> str:
    conninfo = psycopg.conninfo.conninfo_to_dict(cluster.url("postgres", password="pw-in-memory"))
    conninfo.update(params)
    return psycopg.conninfo.make_conninfo("", **conninfo)
