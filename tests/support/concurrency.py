"""Running work on many threads at once, for tests of what happens when jobs overlap."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def at_once(count: int, work: Callable[[int], Any], timeout: float = 60) -> dict[int, Any]:
    """Run ``work(i)`` for i in range(count), each on its own thread, all released together;
    answers what each returned or raised, by i."""
    results: dict[int, Any] = {}
    start = threading.Barrier(count)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # the outcome the test asserts on
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results
