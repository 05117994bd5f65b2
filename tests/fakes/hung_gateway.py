"""An SMS gateway that hangs: it takes every HTTP request on 127.0.0.1 and never answers (until
told it has recovered; then it answers as Twilio does, 201 with a message id). In a thread, so
that a `guahao worker` in another process or the test's own event loop can both use it."""

from __future__ import annotations

import json
import re
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class HungGateway(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Hang)
        self.requests = 0  # taken so far, answered or not
        self.arrived = threading.Event()  # the first request came
        self.recovered = False
        self.closing = threading.Event()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def took_one(self) -> int:
        with self.lock:
            self.requests += 1
            number = self.requests
        self.arrived.set()
        return number


class _Hang(socketserver.StreamRequestHandler):
    server: HungGateway

    def handle(self) -> None:
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = self.rfile.readline()
                if not line:
                    return
                head += line
            length = re.search(rb"(?i)content-length:\s*(\d+)", head)
            self.rfile.read(int(length.group(1)) if length else 0)
            number = self.server.took_one()
            if not self.server.recovered:
                self.server.closing.wait()
                return
            body = json.dumps({"sid": f"SM{number:032d}", "status": "queued"}).encode()
            self.wfile.write(
                b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )


@contextmanager
def running_hung_gateway() -> Iterator[HungGateway]:
    gateway = HungGateway()
    thread = threading.Thread(target=gateway.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        gateway.closing.set()
        gateway.shutdown()
        gateway.server_close()
        thread.join(10)
