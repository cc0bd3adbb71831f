"""Reconnect backoff: exponential with full jitter, capped, and what an error says (no secret)."""

from __future__ import annotations

import av
import pytest

from ingestworker.service.stream_reader import StreamError, backoff_s, open_stream, scrubbed


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(0, 0.5), (1, 1.0), (2, 2.0), (5, 16.0), (6, 30.0), (60, 30.0)]
)
def test_backoff_spans_zero_to_the_doubled_step_capped_at_the_max(
    attempt: int, ceiling: float
) -> None:
    assert backoff_s(attempt, 0.5, 30, draw=lambda: 0.0) == 0.0
    assert backoff_s(attempt, 0.5, 30, draw=lambda: 0.999999) == pytest.approx(ceiling, rel=1e-5)


def test_backoff_draws_are_spread_over_the_whole_window() -> None:
    draws = [backoff_s(3, 0.5, 30) for _ in range(2000)]
    assert all(0 <= value < 4.0 for value in draws)
    assert min(draws) < 0.4 and max(draws) > 3.6  # full jitter, not a fixed or halved step


def test_an_ffmpeg_error_is_told_without_the_url_or_its_password() -> None:
    url = "rtsp://viewer:hunter2-secret@127.0.0.1:1/cam"
    error = av.error.ConnectionRefusedError(111, "Connection refused", url)
    assert url in str(error)  # what FFmpeg's own text would leak
    assert scrubbed(error, url) == "Connection refused"


def test_a_closed_port_fails_to_open_with_a_reason_free_of_secrets() -> None:
    url = "rtsp://viewer:hunter2-secret@127.0.0.1:1/cam"
    with pytest.raises(StreamError) as caught:
        with open_stream(url, 2, 2):
            pass
    assert caught.value.reason == "cannot connect: Connection refused"
    assert "hunter2" not in repr(caught.value) and caught.value.__cause__ is None
