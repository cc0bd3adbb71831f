"""The one MinIO client: a bucket of content-addressed objects (see ``shared.domain`` for keys)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, BinaryIO, cast

import urllib3
from minio import Minio
from minio.commonconfig import REPLACE, CopySource
from minio.deleteobjects import DeleteObject
from minio.error import MinioException, S3Error

from shared.config import MinioSettings
from shared.errors import DependencyUnavailable, ObjectNotFound
from shared.logging import get_logger

_MISSING = {"NoSuchKey", "NoSuchObject"}
log = get_logger(__name__)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str


@contextmanager
def _mapped_errors(key: str = "") -> Iterator[None]:
    try:
        yield
    except S3Error as exc:
        if exc.code in _MISSING:
            raise ObjectNotFound(f"no object {key}") from exc
        raise DependencyUnavailable("object storage") from exc
    except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise DependencyUnavailable("object storage") from exc


class ObjectStore:
    def __init__(self, settings: MinioSettings, connections: int = 16) -> None:
        """``connections``: how many are kept open; at least as many as the threads that call at
        once, or each call past that opens a connection, closes it after, and logs a warning."""
        timeout = urllib3.Timeout(connect=settings.timeout_s, read=settings.timeout_s)
        # A short retry budget: callers (Celery) own the real retry policy, with backoff.
        retries = urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504))
        http = urllib3.PoolManager(timeout=timeout, retries=retries, maxsize=connections)
        self.bucket = settings.bucket
        self._client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key,
            secure=settings.secure,
            http_client=http,
        )

    def ensure_bucket(self) -> None:
        with _mapped_errors():
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket)
                except S3Error as exc:  # another process made it first
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise

    def ping(self) -> bool:
        """True when MinIO answers and the bucket exists."""
        try:
            with _mapped_errors():
                return bool(self._client.bucket_exists(self.bucket))
        except DependencyUnavailable:
            return False

    def put(self, key: str, data: bytes | IO[bytes], content_type: str, length: int = -1) -> None:
        stream = io.BytesIO(data) if isinstance(data, bytes) else cast(BinaryIO, data)
        size = len(data) if isinstance(data, bytes) else length
        with _mapped_errors(key):
            self._client.put_object(
                self.bucket,
                key,
                stream,
                size,
                content_type=content_type,
                part_size=0 if size >= 0 else 16 * 1024 * 1024,
            )

    def copy(self, source_key: str, key: str, content_type: str) -> None:
        """A server-side copy (the bytes never travel through us), stored with ``content_type``;
        ``ObjectNotFound`` when ``source_key`` is missing."""
        with _mapped_errors(source_key):
            self._client.copy_object(
                self.bucket,
                key,
                CopySource(self.bucket, source_key),
                metadata={"Content-Type": content_type},
                metadata_directive=REPLACE,
            )

    def get(self, key: str) -> bytes:
        with _mapped_errors(key):
            response = self._client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def stat(self, key: str) -> ObjectInfo:
        with _mapped_errors(key):
            found = self._client.stat_object(self.bucket, key)
        return ObjectInfo(
            key=key,
            size=int(found.size or 0),
            content_type=found.content_type or "application/octet-stream",
        )

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        """Idempotent: deleting a missing object is not an error."""
        with _mapped_errors(key):
            self._client.remove_object(self.bucket, key)

    def delete_many(self, keys: list[str]) -> None:
        """``delete`` for every key, in one request per thousand."""
        if not keys:
            return
        with _mapped_errors(keys[0]):
            failed = list(self._client.remove_objects(self.bucket, map(DeleteObject, keys)))
        if failed:
            first = failed[0]
            log.warning("delete failed", key=first.name, code=first.code, failed=len(failed))
            raise DependencyUnavailable("object storage")

    def keys(self, prefix: str) -> Iterator[str]:
        with _mapped_errors(prefix):
            for found in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
                if found.object_name:
                    yield found.object_name
