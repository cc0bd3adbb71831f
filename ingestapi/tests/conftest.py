from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.stack import Stack


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("ingest")
    stack.start_ingestapi()
    stack.start_worker()
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.urls["ingestapi"], timeout=60) as client:
        yield client
