"""Start-up in any order: wait, bounded, for dependencies that are still coming up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from shared.errors import DependencyUnavailable
from shared.logging import get_logger

T = TypeVar("T")
log = get_logger(__name__)


def when_available(step: Callable[[], T], deadline_s: float, max_delay_s: float = 5) -> T:
    """Run ``step``, retrying with back-off while a dependency is unavailable, up to a deadline."""
    deadline = time.monotonic() + deadline_s
    delay = 0.5
    while True:
        try:
            return step()
        except DependencyUnavailable as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.info("waiting for dependency", dependency=exc.dependency, retry_in_s=delay)
            time.sleep(delay)  # start-up back-off between attempts
            delay = min(delay * 2, max_delay_s)
