"""One Milvus connection for the index and the rows: a lazy client and one error mapping.

Milvus answering "unavailable" (or not answering at all) becomes ``DependencyUnavailable``, which
every service maps to 503; any other Milvus error is a bug and propagates as it is.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pymilvus import MilvusClient, MilvusException

from shared.config import MilvusSettings
from shared.errors import DependencyUnavailable

_UNAVAILABLE_CODES = {1, 2, 10, 1100}


def _unavailable(exc: Exception) -> bool:
    code = getattr(exc, "code", None)
    return not isinstance(exc, MilvusException) or code in _UNAVAILABLE_CODES


@contextmanager
def mapped_errors() -> Iterator[None]:
    try:
        yield
    except MilvusException as exc:
        if _unavailable(exc):
            raise DependencyUnavailable("vector database") from exc
        raise
    except (ConnectionError, TimeoutError, OSError) as exc:
        raise DependencyUnavailable("vector database") from exc


class MilvusConnection:
    """The client, made on first use (so building a container never dials Milvus)."""

    def __init__(self, settings: MilvusSettings) -> None:
        self._settings = settings
        self._client: MilvusClient | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> MilvusClient:
        with self._lock:
            if self._client is None:
                with mapped_errors():
                    self._client = MilvusClient(
                        uri=self._settings.uri,
                        token=self._settings.token,
                        timeout=self._settings.timeout_s,
                    )
            return self._client

    def ping(self) -> bool:
        try:
            with mapped_errors():
                self.client.get_server_version()
        except DependencyUnavailable:
            return False
        return True
