"""Stand-in for the Session Manager plugin in port-forwarding mode (tests only).

It listens on the local port, prints what the real plugin prints, and relays each accepted connection to the real
PostgreSQL that SSM_STANDIN_ROUTES names for the remote host (as the bastion would reach the interface endpoint).
Every session and accepted connection is written to SSM_STANDIN_LOG, so a test can see the traffic cross it.
"""

import json
import os
import socket
import sys
import threading

bastion, host, port, local_port = sys.argv[1:5]
routes = json.loads(os.environ["SSM_STANDIN_ROUTES"])


def note(text: str) -> None:
    with open(os.environ["SSM_STANDIN_LOG"], "a", encoding="utf-8") as log:
        log.write(f"plugin {os.getpid()} {host} {text}\n")


if bastion != os.environ.get("SSM_STANDIN_BASTION"):
    print(
        f"\nAn error occurred (TargetNotConnected) when calling the StartSession operation: {bastion} is not "
        "connected.",
        flush=True,
    )
    sys.exit(254)
upstream = routes.get(host.lower())
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(local_port)))
listener.listen(16)
session = f"standin-{os.getpid()}"
print(f"\nStarting session with SessionId: {session}", flush=True)
print(f"Port {local_port} opened for sessionId {session}.", flush=True)
print("Waiting for connections...", flush=True)
note("listening")


def pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


while True:
    client, _ = listener.accept()
    note("accepted")
    print(f"\nConnection accepted for session [{session}]", flush=True)
    if upstream is None:  # the bastion cannot reach this host: the connection ends at once
        client.close()
        continue
    remote = socket.create_connection((upstream[0], int(upstream[1])))
    for a, b in ((client, remote), (remote, client)):
        threading.Thread(target=pump, args=(a, b), daemon=True).start()
