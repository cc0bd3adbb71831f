"""Reading an RTSP stream with PyAV, and the backoff between connection attempts.

RTSP over TCP (interleaved): it passes firewalls and NAT and loses no packets, so frames arrive
whole. Both timeouts are FFmpeg's own (``timeout=(connect, read)``): a camera that stops sending
ends the read with an error instead of hanging the worker's thread. Frames are yielded as decoded
``av.VideoFrame``s; the caller converts only those it keeps.

FFmpeg's error texts name the URL, credentials included, so a ``StreamError`` carries only the
error's own words (``strerror``), with any password of the URL masked as well.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import av
from av.container import InputContainer
from av.video.frame import VideoFrame

from shared.cameras import redact

STREAM_ERRORS = (av.FFmpegError, OSError)


class StreamError(Exception):
    """The stream could not be opened or stopped delivering; ``reason`` holds no secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def backoff_s(
    attempt: int, initial_s: float, max_s: float, draw: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with full jitter: anywhere in [0, min(max_s, initial_s * 2**attempt)),
    so workers that lost the same camera at once do not knock on it in step."""
    return draw() * min(max_s, initial_s * 2.0 ** min(attempt, 32))


def scrubbed(exc: BaseException, url: str) -> str:
    """What went wrong, in words fit for a capture's ``error`` and the logs."""
    words = getattr(exc, "strerror", None) or type(exc).__name__
    return redact(str(words), url)


@contextmanager
def open_stream(
    url: str, connect_timeout_s: float, read_timeout_s: float
) -> Iterator[Iterator[VideoFrame]]:
    """The decoded video frames of ``url``, until the stream ends (``StreamError`` on failure)."""
    try:
        container = av.open(
            url, options={"rtsp_transport": "tcp"}, timeout=(connect_timeout_s, read_timeout_s)
        )
    except STREAM_ERRORS as exc:
        raise StreamError(f"cannot connect: {scrubbed(exc, url)}") from None
    try:
        if not isinstance(container, InputContainer) or not container.streams.video:
            raise StreamError("the stream has no video")
        yield _frames(container, url)
    finally:
        container.close()


def _frames(container: InputContainer, url: str) -> Iterator[VideoFrame]:
    try:
        yield from container.decode(video=0)
    except STREAM_ERRORS as exc:
        raise StreamError(f"the stream broke off: {scrubbed(exc, url)}") from None
    raise StreamError("the stream ended")
