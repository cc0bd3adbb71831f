"""A client that sends a request a few bytes at a time and times what the server does about it."""

from __future__ import annotations

import select
import socket
import time
from dataclasses import dataclass


@dataclass
class Cut:
    """What the server did, in seconds from the end of what was sent at once."""

    answered_s: float  # until the first byte of its answer (when it closed, if it never answered)
    closed_s: float  # until it closed the connection
    last_sent_s: float  # until the last trickled byte went out
    answer: bytes

    @property
    def status_line(self) -> bytes:
        return self.answer.split(b"\r\n", 1)[0]

    @property
    def body(self) -> bytes:
        return self.answer.partition(b"\r\n\r\n")[2]


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def trickle(
    sock: socket.socket,
    at_once: bytes,
    slowly: bytes,
    interval: float,
    piece: int = 1,
    give_up_s: float = 15,
) -> Cut:
    """Send ``at_once``, then ``slowly`` ``piece`` bytes per ``interval``, reading whatever the
    server answers, until it closes the connection; fail if it has not after ``give_up_s``."""
    sock.sendall(at_once)
    started = last_sent = time.monotonic()
    answered: float | None = None
    answer = b""
    while time.monotonic() - started < give_up_s:
        closed = False
        if select.select([sock], [], [], interval)[0]:
            chunk = _recv(sock)
            closed = not chunk
            answer += chunk
            answered = answered or (time.monotonic() if chunk else None)
        elif slowly:
            closed = not _send(sock, slowly[:piece])
            slowly = slowly[piece:]
            last_sent = time.monotonic()
        if closed:
            now = time.monotonic()
            return Cut((answered or now) - started, now - started, last_sent - started, answer)
    raise AssertionError(f"the connection is still open after {give_up_s} s; got {answer!r}")


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except ConnectionResetError:  # a reset is a close too (Nginx resets timed-out connections)
        return b""


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False
