"""Domain errors. Each service maps them once to an HTTP status and an RFC 9457 problem body.

``detail`` strings are written for the person who sent the request: they never carry internal
exception text, hostnames or stack traces.
"""

from __future__ import annotations


class ImageSearchError(Exception):
    """Base of every error this project raises on purpose."""

    code = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(ImageSearchError):
    code = "invalid-input"


class InvalidImage(InvalidInput):
    """The bytes are not an image we accept (wrong type, corrupt, truncated, empty)."""

    code = "invalid-image"

    def __init__(self, detail: str, code: str = "invalid-image") -> None:
        super().__init__(detail)
        self.code = code


class UnsupportedImageType(InvalidImage):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, "unsupported-media-type")


class ImageTooLarge(InvalidImage):
    """Too many pixels (decompression-bomb guard)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, "image-too-large")


class FileTooLarge(InvalidImage):
    """Too many bytes (the upload byte cap)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, "file-too-large")


class UrlNotAllowed(InvalidInput):
    """A URL to fetch that we refuse: scheme, credentials or a non-public address (SSRF guard)."""

    code = "url-not-allowed"


class UrlNotFetched(InvalidInput):
    """A URL we fetched gave no body: unreachable, timed out, non-2xx or too many redirects."""

    def __init__(self, detail: str, code: str = "url-unreachable") -> None:
        super().__init__(detail)
        self.code = code


class NotFound(ImageSearchError):
    code = "not-found"


class ImageNotFound(NotFound):
    code = "image-not-found"


class JobNotFound(NotFound):
    code = "job-not-found"


class VariantNotFound(NotFound):
    code = "variant-not-found"


class ObjectNotFound(NotFound):
    code = "object-not-found"


class Conflict(ImageSearchError):
    """The request clashes with what exists (a username already taken)."""

    code = "conflict"


class Unauthenticated(ImageSearchError):
    """No credential, or one we do not accept (unknown, revoked, expired)."""

    def __init__(self, detail: str, code: str = "unauthenticated") -> None:
        super().__init__(detail)
        self.code = code


class Forbidden(ImageSearchError):
    """A valid credential whose role may not do this (or a page request without its CSRF token)."""

    def __init__(self, detail: str, code: str = "forbidden") -> None:
        super().__init__(detail)
        self.code = code


class RateLimited(ImageSearchError):
    """Over a rate limit; ``headers`` say when to come back (Retry-After, RateLimit)."""

    code = "rate-limited"

    def __init__(self, detail: str, headers: dict[str, str]) -> None:
        super().__init__(detail)
        self.headers = headers


class DependencyUnavailable(ImageSearchError):
    """A backing service (MinIO, Milvus, Redis) did not answer. Transient: retry later."""

    code = "dependency-unavailable"

    def __init__(self, dependency: str, detail: str | None = None) -> None:
        super().__init__(detail or f"{dependency} is unavailable; try again shortly")
        self.dependency = dependency


class ModelMismatch(ImageSearchError):
    """The collection behind the alias was built by another model than the configured one."""

    code = "model-mismatch"
