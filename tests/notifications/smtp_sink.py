"""A small real SMTP server for tests: accepts mail, or refuses chosen recipients with chosen codes.

Django's SMTP backend talks to it over a socket exactly as it would to a trust's relay, so the
error classification is tested against real protocol replies, not mocks.
"""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message


@dataclass
class Sink:
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Message] = field(default_factory=list)
    refuse: dict[str, tuple[int, str]] = field(default_factory=dict)  # recipient -> (code, text)
    hang_up_after: int | None = None  # drop the connection after this many accepted messages
    connections: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()


def _handler(sink: Sink) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write((line + "\r\n").encode())

        def handle(self) -> None:
            with sink._lock:
                sink.connections += 1
            self.reply("220 sink ESMTP")
            recipients: list[str] = []
            while line := self.rfile.readline():
                command = line.decode(errors="replace").strip()
                verb = command[:4].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 sink")
                elif verb == "MAIL":
                    recipients = []
                    self.reply("250 OK")
                elif verb == "RCPT":
                    address = command.split(":", 1)[1].strip().strip("<>").lower()
                    if address in sink.refuse:
                        code, text = sink.refuse[address]
                        self.reply(f"{code} {text}")
                    else:
                        recipients.append(address)
                        self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    data = b""
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    with sink._lock:
                        sink.received.append(message_from_bytes(data))
                        accepted = len(sink.received)
                    if sink.hang_up_after is not None and accepted >= sink.hang_up_after:
                        sink.hang_up_after = None
                        return  # connection dropped before the reply: the client sees a disconnect
                    self.reply("250 OK queued")
                elif verb == "RSET" or verb == "NOOP":
                    self.reply("250 OK")
                elif verb == "QUIT":
                    self.reply("221 Bye")
                    return
                else:
                    self.reply("502 Command not implemented")

    return Handler


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start(sink: Sink) -> _Server:
    server = _Server((sink.host, sink.port), _handler(sink))
    sink.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
