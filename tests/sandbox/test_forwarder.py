"""The TCP forwarder that stands in for NLB + PrivateLink: it relays, and it can be slowed, cut and taken down."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from dms_tui.sandbox.forwarder import TcpForwarder


class EchoServer:
    """A tiny upstream that echoes every byte back, so the relay is observable without a database."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            while data := conn.recv(65536):
                conn.sendall(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _roundtrip(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    received = b""
    while len(received) < len(payload):
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def _wait_for(predicate, timeout: float = 3.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_bytes_cross_the_hop_unchanged_in_both_directions(echo: EchoServer) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB, larger than one relay chunk
    with TcpForwarder("127.0.0.1", echo.port, name="echo") as fwd:
        assert fwd.port != echo.port
        with _connect(fwd.port) as sock:
            assert _roundtrip(sock, payload) == payload
            assert fwd.active_connections == 1
        assert _wait_for(lambda: fwd.active_connections == 0)
    assert echo.accepted == 1


def test_latency_delays_each_direction_and_can_be_removed(echo: EchoServer) -> None:
    with TcpForwarder("127.0.0.1", echo.port) as fwd, _connect(fwd.port) as sock:
        _roundtrip(sock, b"warm-up")
        fwd.set_latency(0.15)
        started = time.monotonic()
        assert _roundtrip(sock, b"ping") == b"ping"
        slowed = time.monotonic() - started
        fwd.set_latency(0)
        started = time.monotonic()
        _roundtrip(sock, b"ping")
        fast = time.monotonic() - started
    assert slowed >= 0.3  # 0.15 s on the way in and 0.15 s on the way back
    assert fast < 0.1
    with pytest.raises(ValueError):
        TcpForwarder("127.0.0.1", 1).set_latency(-1)


def test_drop_connections_cuts_open_connections_but_accepts_new_ones(echo: EchoServer) -> None:
    with TcpForwarder("127.0.0.1", echo.port) as fwd:
        first, second = _connect(fwd.port), _connect(fwd.port)
        _roundtrip(first, b"a")
        _roundtrip(second, b"b")
        assert fwd.active_connections == 2
        fwd.drop_connections()
        for sock in (first, second):
            # A reset surfaces as ConnectionResetError, or as EOF: either way the session is gone.
            with pytest.raises(OSError):
                if sock.recv(10) == b"":
                    raise ConnectionResetError("closed by the forwarder")
            sock.close()
        assert _wait_for(lambda: fwd.active_connections == 0)
        with _connect(fwd.port) as third:
            assert _roundtrip(third, b"still up") == b"still up"


def test_drop_cuts_a_connection_even_while_it_is_being_slowed(echo: EchoServer) -> None:
    with TcpForwarder("127.0.0.1", echo.port) as fwd, _connect(fwd.port) as sock:
        fwd.set_latency(30)
        sock.sendall(b"stuck")
        assert _wait_for(lambda: fwd.active_connections == 1)
        started = time.monotonic()
        fwd.drop_connections()
        with contextlib.suppress(OSError):
            assert sock.recv(10) == b""
        assert time.monotonic() - started < 2


def test_refusing_takes_the_endpoint_down_until_it_is_lifted(echo: EchoServer) -> None:
    with TcpForwarder("127.0.0.1", echo.port) as fwd:
        fwd.set_refusing(True)
        # The reset can surface at connect, send or receive, depending on timing; each is "the endpoint is down".
        with pytest.raises(OSError), _connect(fwd.port) as sock:
            sock.sendall(b"hello")
            if sock.recv(10) == b"":
                raise ConnectionResetError("closed by the forwarder")
        assert fwd.connections_refused == 1
        assert echo.accepted == 0  # the refused client never reached the upstream
        fwd.set_refusing(False)
        with _connect(fwd.port) as sock:
            assert _roundtrip(sock, b"back") == b"back"


def test_stop_closes_the_listener_and_relayed_connections(echo: EchoServer) -> None:
    fwd = TcpForwarder("127.0.0.1", echo.port)
    fwd.start()
    port = fwd.port
    sock = _connect(port)
    _roundtrip(sock, b"x")
    fwd.stop()
    with contextlib.suppress(OSError):
        assert sock.recv(10) == b""
    sock.close()
    assert fwd.active_connections == 0
    with pytest.raises(OSError):
        _connect(port).close()


def test_an_unreachable_target_resets_the_client_instead_of_hanging() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        dead_port = int(placeholder.getsockname()[1])
    with TcpForwarder("127.0.0.1", dead_port) as fwd, _connect(fwd.port) as sock:
        with contextlib.suppress(OSError):
            assert sock.recv(10) == b""
        assert fwd.active_connections == 0


def test_port_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="start"):
        _ = TcpForwarder("127.0.0.1", 1).port


def test_postgresql_login_through_the_forwarder_and_a_cut_session(pg_target) -> None:  # type: ignore[no-untyped-def]
    cluster = pg_target.cluster
    with TcpForwarder("127.0.0.1", cluster.port, name="target") as fwd:
        url = cluster.url("postgres", password=pg_target.password, port=fwd.port)
        with psycopg.connect(url, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            fwd.drop_connections()
            with pytest.raises(psycopg.OperationalError):
                conn.execute("SELECT 1")
        fwd.set_refusing(True)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=5)
