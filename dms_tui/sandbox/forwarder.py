"""A loopback TCP forwarder: the sandbox's stand-in for the NLB + PrivateLink hop.

Every connection to an interface endpoint's DNS name really crosses this separate listener, so fault tests can
slow the hop (latency), cut it (drop every open connection) or take the endpoint down (refuse new connections)
without touching the database behind it. Thread-based on purpose: it lives in the sandbox daemon and in tests,
neither of which owns an asyncio loop.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from types import TracebackType

log = logging.getLogger(__name__)

_CHUNK = 256 * 1024
_CONNECT_TIMEOUT = 10.0
# The listener wakes this often to notice stop() even if shutdown() did not interrupt accept().
_ACCEPT_POLL = 0.5


def _abort(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP reset (SO_LINGER 0), as an NLB does when a target goes away."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        # shutdown wakes the relay threads blocked in recv()/send() on this socket; close alone would not.
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class _RelayedConnection:
    """One client connection and its upstream socket, relayed by two pump threads."""

    def __init__(self, forwarder: TcpForwarder, client: socket.socket, upstream: socket.socket) -> None:
        self._forwarder = forwarder
        self.client = client
        self.upstream = upstream
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def start(self) -> None:
        name = self._forwarder.name or "forwarder"
        for source, sink, direction in ((self.client, self.upstream, "up"), (self.upstream, self.client, "down")):
            threading.Thread(target=self._pump, args=(source, sink), name=f"{name}-{direction}", daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while not self._closed.is_set():
                data = source.recv(_CHUNK)
                if not data:
                    break
                latency = self._forwarder.latency
                # Waiting on the closed-event (not time.sleep) lets drop/stop cut a slowed connection at once.
                if latency > 0 and self._closed.wait(latency):
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            # A half-close would keep PostgreSQL sessions lingering; one side ending ends the relayed connection.
            self.close(abort=False)

    def close(self, *, abort: bool) -> None:
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
        for sock in (self.client, self.upstream):
            if abort:
                _abort(sock)
            else:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
        self._forwarder._forget(self)


class TcpForwarder:
    """Loopback TCP forwarder standing in for NLB + PrivateLink. Thread-based (no asyncio loop needed)."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        name: str = "",
    ) -> None:
        self.target_host = target_host
        self.target_port = int(target_port)
        self.listen_host = listen_host
        self.name = name
        self._requested_port = int(listen_port)
        self._port: int | None = None
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[_RelayedConnection] = set()
        self._latency = 0.0
        self._refusing = False
        self.connections_accepted = 0
        self.connections_refused = 0

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind and start accepting; ``port`` is then the real listening port."""
        if self._listener is not None:
            return
        listener = socket.create_server((self.listen_host, self._requested_port), backlog=128)
        listener.settimeout(_ACCEPT_POLL)
        self._listener = listener
        self._port = int(listener.getsockname()[1])
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"{self.name or 'forwarder'}-accept", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Close the listener and every relayed connection."""
        self._stopping.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                listener.close()
        self.drop_connections()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2 * _ACCEPT_POLL + 1)

    def __enter__(self) -> TcpForwarder:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- state --------------------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the forwarder is not started; call start() first")
        return self._port

    @property
    def running(self) -> bool:
        return self._listener is not None and not self._stopping.is_set()

    @property
    def latency(self) -> float:
        return self._latency

    @property
    def refusing(self) -> bool:
        return self._refusing

    @property
    def active_connections(self) -> int:
        with self._lock:
            return len(self._connections)

    # -- faults -------------------------------------------------------------------------------------------------

    def set_latency(self, seconds: float) -> None:
        """Delay added before relaying each chunk, in both directions (0 removes it)."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        self._latency = float(seconds)

    def drop_connections(self) -> None:
        """Cut every open relayed connection now (TCP reset), as when the NLB loses its target."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.close(abort=True)

    def set_refusing(self, refusing: bool) -> None:
        """True: accept and immediately reset new connections (the endpoint is "down"); open ones stay."""
        self._refusing = bool(refusing)

    # -- internals ----------------------------------------------------------------------------------------------

    def _forget(self, connection: _RelayedConnection) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # listener closed by stop()
            if self._stopping.is_set():
                _abort(client)
                return
            if self._refusing:
                self.connections_refused += 1
                _abort(client)
                continue
            # Connecting upstream in its own thread keeps a slow target from blocking other clients' accepts.
            threading.Thread(target=self._connect_upstream, args=(client,), daemon=True).start()

    def _connect_upstream(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection((self.target_host, self.target_port), timeout=_CONNECT_TIMEOUT)
        except OSError as exc:
            log.warning("forwarder %s: cannot reach %s:%s: %s", self.name, self.target_host, self.target_port, exc)
            _abort(client)
            return
        upstream.settimeout(None)
        client.settimeout(None)
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = _RelayedConnection(self, client, upstream)
        with self._lock:
            if self._stopping.is_set():
                stopped = True
            else:
                stopped = False
                self._connections.add(connection)
                self.connections_accepted += 1
        if stopped:
            _abort(client)
            _abort(upstream)
            return
        connection.start()

    def __repr__(self) -> str:
        where = f"{self.listen_host}:{self._port}" if self._port else "not started"
        return f"TcpForwarder({self.name!r}, {where} -> {self.target_host}:{self.target_port})"
