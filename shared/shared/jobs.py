"""Job records of our own, in Redis.

Celery reports every unknown task id as PENDING, so it cannot tell "queued" from "never existed";
these records can. ingestapi creates them, the worker moves them through their states.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis

from shared.domain import Job, JobState
from shared.errors import DependencyUnavailable, JobNotFound

DEFAULT_TTL_S = 7 * 24 * 3600


@contextmanager
def _mapped_errors() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise DependencyUnavailable("job store") from exc


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _now_ms() -> int:
    return int(time.time() * 1000)


class JobStore:
    def __init__(self, client: redis.Redis, ttl_s: int = DEFAULT_TTL_S) -> None:
        self._redis = client
        self._ttl_s = ttl_s

    @staticmethod
    def _key(job_id: str) -> str:
        return f"imagesearch:job:{job_id}"

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except redis.RedisError:
            return False

    def create(self, job: Job) -> None:
        job.created_at = job.updated_at = _now_ms()
        fields: dict[Any, str | int] = {
            "state": job.state.value,
            "image_id": job.image_id or "",
            "filename": job.filename or "",
            "error": job.error or "",
            "created_at": job.created_at,
            "updated_at": job.updated_at,
        }
        with _mapped_errors():
            pipe = self._redis.pipeline()
            pipe.hset(self._key(job.job_id), mapping=fields)
            pipe.expire(self._key(job.job_id), self._ttl_s)
            pipe.execute()

    def get(self, job_id: str) -> Job:
        with _mapped_errors():
            raw: dict[Any, Any] = self._redis.hgetall(self._key(job_id))  # type: ignore[assignment]
        if not raw:
            raise JobNotFound(f"no job {job_id}")
        fields = {_text(k): _text(v) for k, v in raw.items()}
        return Job(
            job_id=job_id,
            state=JobState(fields["state"]),
            image_id=fields.get("image_id") or None,
            filename=fields.get("filename") or None,
            error=fields.get("error") or None,
            created_at=int(fields.get("created_at", 0)),
            updated_at=int(fields.get("updated_at", 0)),
        )

    def set_state(self, job_id: str, state: JobState, error: str | None = None) -> None:
        fields: dict[Any, str | int] = {
            "state": state.value,
            "error": error or "",
            "updated_at": _now_ms(),
        }
        with _mapped_errors():
            pipe = self._redis.pipeline()
            pipe.hset(self._key(job_id), mapping=fields)
            pipe.expire(self._key(job_id), self._ttl_s)
            pipe.execute()


# The one Celery task of the pipeline. ingestapi sends it by name, so it never imports the worker.
INGEST_TASK = "ingestworker.process_image"
INGEST_QUEUE = "ingest"
