"""The HTTP APIs behind the front door, as the CLI uses them. Errors are RFC 9457 problems."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from imgsearch_cli import __version__

DEFAULT_URL = "http://127.0.0.1:3000"
RETRY_STATUSES = frozenset({502, 503, 504})  # the service is restarting or overloaded: try again
REFUSED_STATUSES = frozenset({401, 403})  # the credential, not the request: retrying cannot help
ROLES = ("viewer", "editor", "admin")  # lowest first
UPLOAD_TIMEOUT = httpx.Timeout(300.0, connect=5.0)  # the answer comes after a batch is staged
# `admin verify` lists every store before it answers; the front door waits as long for it.
VERIFY_TIMEOUT = httpx.Timeout(600.0, connect=5.0)


class ApiError(Exception):
    """The server answered with an error; ``problem`` is its RFC 9457 body (or one made up)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        self.status = status
        self.problem = problem


def problem_of(response: httpx.Response) -> dict[str, Any]:
    """The response's problem body; a generic one when it has none (e.g. a proxy's HTML page)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and ("detail" in body or "title" in body):
        return body
    status = response.status_code
    return {"status": status, "title": response.reason_phrase, "detail": f"HTTP {status}"}


class Client:
    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        headers = {"User-Agent": f"imgsearch-cli/{__version__}", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout, connect=5.0)
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def absolute(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}{path}"

    def upload(self, paths: list[Path], tags: Sequence[str] = ()) -> httpx.Response:
        """POST the files as one multipart request with a ``tags`` part per tag; the caller reads
        the answer (202 or problem)."""
        handles = [path.open("rb") for path in paths]
        try:
            files = [
                ("files", (path.name, handle, _mime(path)))
                for path, handle in zip(paths, handles, strict=True)
            ]
            data = {"tags": list(tags)}
            return self._http.post("/api/v1/ingest", data=data, files=files, timeout=UPLOAD_TIMEOUT)
        finally:
            for handle in handles:
                handle.close()

    def job(self, job_id: str) -> dict[str, Any]:
        return self._json(self._http.get(f"/api/v1/ingest/jobs/{job_id}"))

    def search(self, text: str, limit: int, offset: int = 0) -> dict[str, Any]:
        params: dict[str, str | int] = {"text": text, "limit": limit, "offset": offset}
        return self._json(self._http.get("/api/v1/image/search", params=params))

    def search_image(self, path: Path, limit: int, offset: int = 0) -> dict[str, Any]:
        with path.open("rb") as handle:
            response = self._http.post(
                "/api/v1/image/search",
                params={"limit": limit, "offset": offset},
                files={"file": (path.name, handle, _mime(path))},
                timeout=UPLOAD_TIMEOUT,
            )
        return self._json(response)

    def verify(self, repair: bool) -> dict[str, Any]:
        """Catalog, bytes and index checked against each other; ``repair`` mends what it can."""
        body = {"repair": repair}
        return self._json(
            self._http.post("/api/v1/admin/verify", json=body, timeout=VERIFY_TIMEOUT)
        )

    def me(self) -> dict[str, Any]:
        """Who the server takes this client for (always answered, signed in or not)."""
        return self._json(self._http.get("/api/v1/auth/me"))

    def users(self) -> dict[str, Any]:
        return self._json(self._http.get("/api/v1/admin/users"))

    def create_user(self, username: str, password: str, role: str) -> dict[str, Any]:
        body = {"username": username, "password": password, "role": role}
        return self._json(self._http.post("/api/v1/admin/users", json=body))

    def update_user(self, username: str, changes: dict[str, Any]) -> dict[str, Any]:
        """``changes``: ``role`` and/or ``disabled``."""
        return self._json(self._http.patch(_user_path(username), json=changes))

    def set_password(self, username: str, password: str) -> None:
        """Also ends that user's sessions."""
        path = f"{_user_path(username)}/password"
        self._empty(self._http.put(path, json={"password": password}))

    def keys(self) -> dict[str, Any]:
        return self._json(self._http.get("/api/v1/admin/keys"))

    def create_key(self, name: str, role: str, expires_in_s: int | None) -> dict[str, Any]:
        """The key's record with the key itself under ``key``: the only time it is shown."""
        body: dict[str, Any] = {"name": name, "role": role}
        if expires_in_s is not None:
            body["expires_in_s"] = expires_in_s
        return self._json(self._http.post("/api/v1/admin/keys", json=body))

    def revoke_key(self, prefix: str) -> None:
        self._empty(self._http.delete(f"/api/v1/admin/keys/{quote(prefix, safe='')}"))

    def cameras(self) -> dict[str, Any]:
        return self._json(self._http.get("/api/v1/cameras"))

    def create_camera(self, name: str, rtsp_url: str) -> dict[str, Any]:
        """The camera as the server keeps it; its ``rtsp_url`` comes back masked."""
        body = {"name": name, "rtsp_url": rtsp_url}
        return self._json(self._http.post("/api/v1/cameras", json=body))

    def delete_camera(self, camera_id: str) -> None:
        self._empty(self._http.delete(f"/api/v1/cameras/{quote(camera_id, safe='')}"))

    def start_capture(self, body: dict[str, Any]) -> dict[str, Any]:
        """``{capture_id, state, camera_id}``: queued; the worker captures."""
        return self._json(self._http.post("/api/v1/ingest/rtsp", json=body))

    def capture(self, capture_id: str) -> dict[str, Any]:
        return self._json(self._http.get(f"/api/v1/ingest/captures/{quote(capture_id, safe='')}"))

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        if response.is_success:
            body: dict[str, Any] = response.json()
            return body
        raise ApiError(response.status_code, problem_of(response))

    @staticmethod
    def _empty(response: httpx.Response) -> None:
        if not response.is_success:
            raise ApiError(response.status_code, problem_of(response))


def _user_path(username: str) -> str:
    return f"/api/v1/admin/users/{quote(username, safe='')}"


def _mime(path: Path) -> str:
    """A hint only: the server decides what the bytes are."""
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
