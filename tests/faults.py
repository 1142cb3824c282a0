"""Faults for tests on the real servers: a TCP path to a server that can be cut and restored.

A process pointed at the proxy's port talks to the real server through it; `cut()`
closes every connection and refuses new ones (what a process sees when the server or the
network is away), `restore()` lets them through again. Loopback only.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class CuttableProxy:
    """`port`: the port to listen on (a free one by default; a Kafka broker must advertise
    the proxy's, so that its clients come back through it after the bootstrap)."""

    def __init__(self, target_host: str, target_port: int, port: int = 0) -> None:
        self.target = (target_host, target_port)
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        if not port:
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
            probe.close()
        self.port = port

    def restore(self) -> None:
        """Accept connections (again) and pass them to the server."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Close every connection and stop listening: the server is unreachable."""
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, []
        for sock in [*([listener] if listener else []), *connections]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    client.close()
                    server.close()
                    return
                self._connections += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@contextmanager
def proxied(dsn: str) -> Iterator[tuple[CuttableProxy, str]]:
    """A proxy to the PostgreSQL server of `dsn`, and the DSN that goes through it."""
    credentials, rest = dsn.split("@", 1)
    host_port, database = rest.split("/", 1)
    host, port = host_port.rsplit(":", 1)
    proxy = CuttableProxy(host, int(port))
    proxy.restore()
    try:
        yield proxy, f"{credentials}@127.0.0.1:{proxy.port}/{database}"
    finally:
        proxy.cut()
