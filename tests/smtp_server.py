"""A small SMTP server on loopback for tests and benches (aiosmtpd), recording every message it accepts.

    server = SMTPTestServer(port=free_port(), reject={"refuse@example.org": "550 5.1.1 Boîte inconnue"})
    server.start()            # listening; start/stop/start again on the same port
    server.count              # messages accepted so far (a message counts once its final "." arrived)
    server.messages[0].recipients, .raw, .message_id
    server.stop()

As a separate process (so that the server does not take the sender's CPU in a bench):

    python -m tests.smtp_server --port 8025

prints ``ready`` once listening, then answers one line per command read on stdin: ``count`` (messages
accepted), ``stats`` (JSON: count, distinct recipients, recipients received more than once), ``reset``;
it stops at end of input.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"

# aiosmtpd logs every command at DEBUG/INFO: too much for thousands of messages.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    """A TCP port free on loopback right now (the server can then be started and stopped on it)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    recipients: list[str]
    raw: bytes

    @property
    def message_id(self) -> str:
        return (BytesHeaderParser().parsebytes(self.raw)["Message-ID"] or "").strip()


class _Handler:
    def __init__(self, server: SMTPTestServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        self.server._rcpt_seen += 1
        if self.server.before_rcpt_answer is not None:
            self.server.before_rcpt_answer(self.server._rcpt_seen)
        answer = self.server.reject.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        # Called only once the final "." arrived: a transaction cut before it is never recorded.
        self.server._record(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                                     or envelope.content))
        if self.server.before_data_answer is not None:
            self.server.before_data_answer(self.server.count)
        return "250 2.0.0 Message accepted"


class SMTPTestServer:
    """Loopback SMTP server; ``reject`` maps a recipient address to the answer given at RCPT (e.g. a 550)."""

    def __init__(self, port: int | None = None, *, reject: dict[str, str] | None = None, keep: bool = True):
        self.port = port or free_port()
        self.reject = {address.lower(): answer for address, answer in (reject or {}).items()}
        self.keep = keep  # False: count only (benches)
        self.messages: list[Received] = []
        self._count = 0
        self._recipients: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        # Test hooks, called in the server's thread before it answers (e.g. to kill the sender right there):
        # ``before_rcpt_answer(n)`` at the n-th RCPT command, ``before_data_answer(n)`` once the n-th message
        # is accepted (recorded) and before its "250" is written.
        self._rcpt_seen = 0
        self.before_rcpt_answer = None
        self.before_data_answer = None

    def _record(self, message: Received) -> None:
        with self._lock:
            self._count += 1
            self._recipients.update(message.recipients)
            if self.keep:
                self.messages.append(message)

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def count(self) -> int:
        return self._count

    def recipients(self) -> Counter[str]:
        """How many messages each envelope recipient received."""
        with self._lock:
            return Counter(self._recipients)

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self._count = 0
            self._recipients.clear()

    def start(self) -> SMTPTestServer:
        if self._controller is None:
            # A controller's event loop is closed when it stops: a new one for every start.
            controller = Controller(_Handler(self), hostname=HOST, port=self.port, ready_timeout=10,
                                    data_size_limit=0)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SMTPTestServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Loopback SMTP server answering count/stats/reset on stdin.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = SMTPTestServer(args.port, keep=False).start()
    print("ready", flush=True)
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "count":
                print(server.count, flush=True)
            elif command == "stats":
                recipients = server.recipients()
                print(json.dumps({"count": server.count, "recipients": len(recipients),
                                  "doubled": sum(1 for n in recipients.values() if n > 1)}), flush=True)
            elif command == "reset":
                server.reset()
                print("ok", flush=True)
            else:
                print(f"unknown command {command!r}", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
