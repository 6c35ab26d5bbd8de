"""The sandbox's certificate authority and its clusters' server certificates: TLS exactly as against Aurora.

Aurora serves a certificate signed by the RDS CA and refuses plaintext (``rds.force_ssl = 1``); clients verify the
chain against the RDS CA bundle. The sandbox does the same with a CA of its own, created once per sandbox working
directory (``tls/ca.crt`` and ``tls/ca.key``), which signs one server certificate per cluster. Clients are given
``ca.crt`` as their ``sslrootcert`` where on AWS they would be given the RDS bundle.

Why ``verify-ca`` and not ``verify-full``: on AWS a client reaches Aurora through the interface endpoint's DNS name
(``vpce-….vpce.amazonaws.com``), which is not a name in Aurora's certificate (RDS names the cluster endpoints), so
``verify-full`` cannot pass through PrivateLink; ``verify-ca`` proves the server holds a key the CA vouched for. The
sandbox's server certificates still name every address a client uses (loopback, where the forwarders listen, and the
interface endpoint DNS names they stand for), so a ``verify-full`` client also passes here.

Keys are EC P-256 (generated in milliseconds), written 0600: the CA key owned by whoever runs the sandbox, a server
key by the user the cluster runs as (PostgreSQL refuses a key that others can read).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import ipaddress
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: Names and addresses every server certificate covers: where the clusters and the forwarders listen.
LOOPBACK_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")

CA_VALIDITY = datetime.timedelta(days=3650)
SERVER_VALIDITY = datetime.timedelta(days=825)
_RENEW_BEFORE = datetime.timedelta(days=30)


def sandbox_ca(workdir: Path) -> SandboxCA:
    """The CA of the sandbox working directory ``workdir``: one per sandbox, shared by every environment."""
    return SandboxCA(workdir / "tls")


class TlsSetupError(RuntimeError):
    """The CA or a server certificate could not be created or read; the message says which file and why."""


@dataclass(frozen=True)
class SandboxCA:
    """The certificate authority under ``directory`` (created by :meth:`ensure`; safe to call again)."""

    directory: Path

    @property
    def cert_path(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def key_path(self) -> Path:
        return self.directory / "ca.key"

    def ensure(self) -> SandboxCA:
        """Create the CA when it is missing or unreadable (a second caller waits for the first)."""
        with self._locked():
            if self._load() is None:
                self._create()
        return self

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.directory / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _load(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
        try:
            cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        except (OSError, ValueError):
            return None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or cert.public_key() != key.public_key():
            return None
        if cert.not_valid_after_utc - _now() < SERVER_VALIDITY:
            return None  # could not outlive a new server certificate: start over
        return cert, key

    def _create(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"dms-tui sandbox CA ({self.directory})"[:64])])
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_private(self.key_path, _key_pem(key), owner=None)
        _write_public(self.cert_path, cert.public_bytes(serialization.Encoding.PEM))

    def ensure_server_certificate(
        self, cert_path: Path, key_path: Path, names: Iterable[str], *, owner: tuple[int, int] | None = None
    ) -> bool:
        """Make ``cert_path``/``key_path`` a certificate from this CA covering ``names`` (and loopback), keeping
        the names it already covers; True when a new one was written (a running server must reload it).
        ``owner``: (uid, gid) of the server user, who must own the key."""
        self.ensure()
        with self._locked():
            loaded = self._load()
            if loaded is None:
                raise TlsSetupError(f"the sandbox CA in {self.directory} cannot be read")
            ca_cert, ca_key = loaded
            wanted = {_normalise(n) for n in (*LOOPBACK_NAMES, *names) if n}
            current = _current_names(cert_path, key_path, ca_cert)
            if current is not None and wanted <= current:
                return False
            wanted |= certificate_names(cert_path)  # keep what it covered, even from a replaced CA's certificate
            key = ec.generate_private_key(ec.SECP256R1())
            now = _now()
            cert = (
                x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
                .issuer_name(ca_cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + SERVER_VALIDITY)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.SubjectAlternativeName(_general_names(wanted)), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256())
            )
            _write_private(key_path, _key_pem(key), owner=owner)
            _write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM), owner=owner)
            return True


def certificate_names(cert_path: Path) -> set[str]:
    """The DNS names and IP addresses a certificate's subjectAltName covers (empty when unreadable)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return set()
    return {str(n).lower() for n in san.get_values_for_type(x509.DNSName)} | {
        str(a) for a in san.get_values_for_type(x509.IPAddress)
    }


def _current_names(cert_path: Path, key_path: Path, ca_cert: x509.Certificate) -> set[str] | None:
    """What an existing server certificate covers, or None when it must be replaced (missing, another CA's, its
    key lost, close to expiry)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert.verify_directly_issued_by(ca_cert)
    except (OSError, ValueError, TypeError, InvalidSignature):  # missing, damaged, or signed by an earlier CA
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or cert.public_key() != key.public_key():
        return None
    if cert.not_valid_after_utc - _now() < _RENEW_BEFORE:
        return None
    return certificate_names(cert_path)


def _normalise(name: str) -> str:
    name = name.strip().lower().rstrip(".")
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(name))
    return name


def _general_names(names: Iterable[str]) -> list[x509.GeneralName]:
    result: list[x509.GeneralName] = []
    for name in sorted(names):
        try:
            result.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            result.append(x509.DNSName(name))
    return result


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, data: bytes, *, owner: tuple[int, int] | None) -> None:
    """Write a key 0600 from its first byte (never readable by others, not even briefly), then move it in place."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        if owner is not None and owner != (os.geteuid(), os.getegid()):
            os.fchown(fd, *owner)
    finally:
        os.close(fd)
    tmp.replace(path)


def _write_public(path: Path, data: bytes, *, owner: tuple[int, int] | None = None) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o644)
    if owner is not None and owner != (os.geteuid(), os.getegid()):
        os.chown(tmp, *owner)
    tmp.replace(path)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
