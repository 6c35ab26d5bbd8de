"""Checks 2 and 3: the interface endpoint's DNS name resolves, and a TCP connection through it reaches PostgreSQL.

The TCP probe sends PostgreSQL's 8-byte SSLRequest and reads the one-byte answer ('S' or 'N'), so it proves that a
PostgreSQL server really answers at the far end of the NLB + PrivateLink hop (not merely that something accepted
the connection), and learns whether that server offers TLS. It never logs in.
"""

from __future__ import annotations

import shlex
import socket
import struct
import time

from dms_tui.checks.result import Side
from dms_tui.checks.runner import Check, CheckContext, Outcome, fail, ok, warn
from dms_tui.environment import Environment
from dms_tui.provision.outputs import SideOutputs

#: PostgreSQL's SSLRequest: length 8, request code 80877103 (protocol 1234.5679).
SSL_REQUEST = struct.pack("!II", 8, 80877103)


def addresses_key(side: Side) -> str:
    return f"{side}.addresses"


def dns_check(side: Side, outputs: SideOutputs, target: Environment, timeout: float) -> Check:
    name = outputs.endpoint_dns_name
    port = outputs.port

    def run(ctx: CheckContext) -> Outcome:
        if target.resolves_locally:
            return _sandbox_resolution(ctx, side, name, port, target)
        try:
            infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            return fail(
                f"{name} does not resolve: {exc.strerror}",
                "Check the name against the interface endpoint's DNS entries (aws ec2 describe-vpc-endpoints); "
                "if the endpoint was just created, its DNS record can take a minute to appear.",
            )
        addresses = sorted({(str(info[4][0]), int(info[4][1])) for info in infos})
        ctx.facts.set(addresses_key(side), addresses)
        listed = ", ".join(a for a, _ in addresses)
        return ok(f"{name} resolves to {listed}")

    return Check(
        id=f"{side}.dns",
        side=side,
        title="Interface endpoint name resolves",
        run=run,
        timeout=timeout,
        # In the sandbox the name is mapped, not in DNS: its status lists each endpoint name's forwarder.
        command=shlex.join(["dms-tui", "sandbox", "status"])
        if target.resolves_locally and target.emulated
        else f"getent hosts {shlex.quote(name)}",
        timeout_remedy="The resolver did not answer in time; check /etc/resolv.conf and the VPC's DNS settings "
        "(enableDnsSupport).",
    )


def _sandbox_resolution(ctx: CheckContext, side: Side, name: str, port: int, target: Environment) -> Outcome:
    host, local_port = target.resolve(name, port)
    if (host, local_port) == (name, port) and target.tunnels is not None:
        return fail(
            f"no Session Manager tunnel leads to {name}",
            "The tunnels were opened for the endpoints of the recorded outputs; start `dms-tui --tunnel` again so "
            "they match the provisioned endpoints.",
        )
    if (host, local_port) == (name, port):
        return fail(
            f"the sandbox has no forwarder for {name}",
            "The sandbox maps each interface endpoint name to a local TCP forwarder; start (or restart) it with "
            "`dms-tui sandbox up` so the forwarders match the provisioned endpoints.",
        )
    ctx.facts.set(addresses_key(side), [(host, local_port)])
    return ok(f"{name} → {host}:{local_port}: this name is mapped to {target.local_route} (no DNS query is made)")


def tcp_check(side: Side, outputs: SideOutputs, target: Environment, timeout: float) -> Check:
    name = outputs.endpoint_dns_name
    port = outputs.port

    def run(ctx: CheckContext) -> Outcome:
        addresses: list[tuple[str, int]] = ctx.facts.get(addresses_key(side)) or [target.resolve(name, port)]
        outcome: Outcome | None = None
        for address in addresses:
            outcome = _probe(address, ctx, port)
            if outcome.status != "fail":
                return outcome
        assert outcome is not None
        return outcome

    return Check(
        id=f"{side}.tcp",
        side=side,
        title="TCP connect to PostgreSQL through the endpoint",
        run=run,
        timeout=timeout,
        needs=(f"{side}.dns",),
        # Where the connection really goes (in the sandbox the endpoint name is mapped, not in DNS).
        command=shlex.join(["nc", "-vz", *(str(part) for part in target.resolve(name, port))]),
        timeout_remedy=_SLOW_REMEDY,
    )


_SLOW_REMEDY = (
    "The path answers too slowly or stalls: check that the database's security group allows the NLB's private "
    "IPs on the port and that the NLB has a healthy target; in the sandbox, a forwarder's latency is above this "
    "check's timeout."
)


def _probe(address: tuple[str, int], ctx: CheckContext, port: int) -> Outcome:
    host, real_port = address
    where = f"{host}:{real_port}"
    started = time.monotonic()
    try:
        sock = socket.create_connection((host, real_port), timeout=ctx.remaining())
    except ConnectionRefusedError:
        return fail(
            f"connection to {where} refused",
            "Nothing listens there: the NLB listener (or, in the sandbox, the forwarder) is missing or stopped. "
            "Check the listener port and `dms-tui sandbox status`.",
        )
    except TimeoutError:
        return fail(
            f"no TCP answer from {where} within {ctx.timeout:.1f} s",
            f"The interface endpoint's security group must allow inbound TCP {port} from the bastion and DMS "
            "subnets; also check the subnet's network ACLs.",
        )
    except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
        # Accepted and cut before connect() returned: the same fault as a close right after connecting.
        return _closed_at_once(where)
    except OSError as exc:
        return fail(f"cannot connect to {where}: {exc.strerror or exc}", "Check the route to the endpoint's subnet.")
    with sock:
        connect_ms = (time.monotonic() - started) * 1000
        try:
            sock.settimeout(ctx.remaining())
            sock.sendall(SSL_REQUEST)
            answer = sock.recv(1)
        except TimeoutError:
            return fail(f"connected to {where}, but PostgreSQL did not answer within {ctx.timeout:.1f} s", _SLOW_REMEDY)
        except OSError as exc:
            answer = b""
            if not isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
                return fail(f"connected to {where}, then: {exc.strerror or exc}", _SLOW_REMEDY)
    if answer == b"":
        return _closed_at_once(where)
    if answer == b"S":
        return ok(f"PostgreSQL answered at {where} in {connect_ms:.0f} ms (TCP connect); it offers TLS")
    if answer == b"N":
        return warn(
            f"PostgreSQL answered at {where} but offers no TLS",
            "Aurora always offers TLS, so this endpoint reaches some other server: check the NLB target group's "
            "registered IP.",
        )
    return fail(
        f"{where} answered, but not like PostgreSQL (first byte {answer!r})",
        "Another service listens on this port: check the NLB listener and target group port.",
    )


def _closed_at_once(where: str) -> Outcome:
    return fail(
        f"{where} accepted the TCP connection and closed it at once",
        "Nothing healthy is behind the endpoint: the NLB has no healthy target (see the NLB target health "
        "check) or, in the sandbox, the forwarder is refusing connections (endpoint down).",
    )
