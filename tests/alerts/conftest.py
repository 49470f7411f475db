"""Local receivers for alert deliveries: an SMTP server (aiosmtpd) and an HTTP endpoint.

Both listen on 127.0.0.1 and record what they receive; the webhook can be told to
answer the next N requests with an error status.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """Messages the SMTP server accepted: (recipients, parsed message)."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 OK"

    def deliveries(self) -> list[tuple[str, str]]:
        """(alert key, recipient) of every received message, one per key."""
        out = []
        for rcpts, msg in self.messages:
            for key in msg.get_all("X-Crmlens-Alert", []):
                out += [(str(key).strip(), r) for r in rcpts]
        return out

    def clear(self) -> None:
        self.messages.clear()
        self.logins.clear()


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    inbox = Inbox()

    def authenticate(server, session, envelope, mechanism, data):  # type: ignore[no-untyped-def]
        login, password = (
            v.decode() if isinstance(v, bytes) else str(v)
            for v in (data.login, data.password)
        )
        inbox.logins.append((login, password))
        # handled=False: the server answers 235 or 535 itself
        return AuthResult(success=password == "s3cret", handled=False)

    inbox.port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=inbox.port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class Hook:
    """What the HTTP receiver got; `fail_next` requests are answered with `fail_status`."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    calls: int = 0
    fail_next: int = 0
    fail_status: int = 500
    lock: threading.Lock = field(default_factory=threading.Lock)

    def alert_keys(self) -> list[str]:
        return [p["alert"] for p in self.received]

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.headers.clear()
            self.calls = 0
            self.fail_next = 0
            self.fail_status = 500


@pytest.fixture(scope="module")
def webhook() -> Iterator[Hook]:
    hook = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with hook.lock:
                hook.calls += 1
                fail = hook.fail_next > 0
                if fail:
                    hook.fail_next -= 1
                else:
                    hook.received.append(json.loads(body))
                    hook.headers.append(dict(self.headers))
            self.send_response(hook.fail_status if fail else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(autouse=True)
def _fresh_receivers(request: pytest.FixtureRequest) -> None:
    """Each test starts with empty receivers (they are shared by a module)."""
    for name in ("smtp_server", "webhook"):
        if name in request.fixturenames:
            request.getfixturevalue(name).clear()
