"""The OpenAPI documents tell the truth: each route's own problems, and what every route answers.

Rules:
- A route declares the problems it answers itself: ``responses=problems(400, 404)``. Each status
  is an ``application/problem+json`` answer whose body is the ``Problem`` component and whose
  description names the ``type`` codes (``urn:imagesearch:problem:{code}``) it may carry; ``why``
  narrows a description to what this route means by it.
- ``document_api(app)``, called once by each service's ``create_app`` after its routers, adds
  what routes answer without saying so:
  - 422 ``validation`` where FastAPI validates parameters or a body (a problem, not FastAPI's
    JSON ``HTTPValidationError``, which the services never answer);
  - 400 where a JSON body does not parse, and 400 413 415 422 where a route reads a multipart
    upload itself (``shared.uploads``);
  - 408 ``request-timeout`` where a request has a body (``shared.http_timeouts``);
  - 503 ``dependency-unavailable`` on every ``/api/`` route: identity alone asks the catalog;
  - the ops endpoints' shapes: ``/metrics`` text, ``/readyz`` 200 or 503 with every check.
- A bound that the running service's settings set (a page's largest ``limit``) is declared
  ``Query(json_schema_extra=bound_by(maximum="max_limit"))`` and filled in by
  ``document_api`` from the settings it is given, so the document served is the one enforced.
- Who may call a route and its 401/403/429 refusals come from ``shared.identity.http``, which
  builds them with ``problems`` too.

Needs the ``web`` extra (fastapi).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import FastAPI, Path

from shared.web import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
IMAGE_ID_PATTERN = "^[0-9a-f]{64}$"
UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
BOUND_BY = "x-bound-by"


def _id_path(pattern: str, description: str) -> Any:
    # Documented, not enforced here: the domain's own check answers a 400 `invalid-input`
    # whose detail says what an id looks like, as it does for the CLI.
    return Path(description=description, json_schema_extra={"pattern": pattern})


def bound_by(**keywords: str) -> dict[str, Any]:
    """A parameter's JSON Schema ``keywords`` whose values are settings (module doc)."""
    return {BOUND_BY: keywords}


ImageId = Annotated[str, _id_path(IMAGE_ID_PATTERN, "the SHA-256 of the image's bytes")]
JobId = Annotated[str, _id_path(UUID_PATTERN, "as POST /api/v1/ingest answered it")]

# What each status means here, with the `type` codes the project answers it with.
CODES: dict[int, str] = {
    400: "Invalid request (`invalid-input`, `url-not-allowed`)",
    401: "No credential, or one not accepted (`unauthenticated`, `session-expired`)",
    403: "The credential's role is too low (`forbidden`), or no CSRF token (`csrf`)",
    404: "Not found (`not-found`, `image-not-found`, `job-not-found`, `variant-not-found`, "
    "`user-not-found`, `key-not-found`, `camera-not-found`, `capture-not-found`)",
    408: "The request body came too slowly (`request-timeout`)",
    409: "Clashes with what exists (`conflict`)",
    413: "Too many bytes (`file-too-large`)",
    415: "Not an image type we accept (`unsupported-media-type`)",
    422: "Invalid request or image (`validation`, `invalid-image`, `corrupt-image`, "
    "`empty-file`, `image-too-large`, `url-unreachable`, `url-redirects`, `url-bad-status`, "
    "`rejected`)",
    429: "Over the rate limit (`rate-limited`); see Retry-After",
    503: "A backing service did not answer (`dependency-unavailable`, `model-mismatch`, "
    "`links-unavailable`); see Retry-After",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem; `errors` lists each field's or file's problem.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "pattern": "^urn:imagesearch:problem:[a-z0-9-]+$"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}

READINESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ready", "not ready"]},
        "checks": {"type": "object", "additionalProperties": {"type": "boolean"}},
    },
}


def problems(*statuses: int, why: Mapping[int, str] | None = None) -> dict[int | str, Any]:
    """The ``responses`` of a route's own problem answers (keyed as the document keys them)."""
    notes = why or {}
    return {
        str(status): {
            "description": notes.get(status, CODES[status]),
            "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
        }
        for status in statuses
    }


def document_api(app: FastAPI, settings: Mapping[str, int] | None = None) -> None:
    """Complete ``app``'s OpenAPI document with the answers no route declares and the bounds
    ``settings`` set, by name (module doc)."""
    build = app.openapi
    documented: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not documented:
            schema = build()
            _complete(schema, settings or {})
            documented.append(schema)
        return documented[0]

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(schema: dict[str, Any], settings: Mapping[str, int]) -> None:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            _add_implicit(path, operation)
            for parameter in operation.get("parameters", []):
                _fill_bounds(parameter["schema"], settings)
        if shape := OPS_SHAPES.get(path):
            shape(operations["get"]["responses"])
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def _add_implicit(path: str, operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    body = operation.get("requestBody", {}).get("content", {})
    implicit: list[int] = []
    if "422" in responses or body:
        implicit.append(422)
    if "application/json" in body:
        implicit.append(400)  # a body that is not JSON at all
    if "multipart/form-data" in body:
        implicit += [400, 413, 415]
    if body:
        implicit.append(408)
    if path.startswith("/api/"):
        implicit.append(503)
    for status, response in problems(*implicit).items():
        declared = responses.get(status)
        if declared is None or PROBLEM_JSON not in declared.get("content", {}):
            responses[status] = response  # replaces FastAPI's JSON 422


def _fill_bounds(schema: dict[str, Any], settings: Mapping[str, int]) -> None:
    for keyword, setting in schema.pop(BOUND_BY, {}).items():
        schema[keyword] = settings[setting]


def _metrics(responses: dict[str, Any]) -> None:
    responses["200"] = {
        "description": "Prometheus samples, the readiness checks among them",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }


def _readiness(responses: dict[str, Any]) -> None:
    content = {"application/json": {"schema": READINESS_SCHEMA}}
    responses["200"] = {"description": "every check passes", "content": content}
    responses["503"] = {"description": "a check fails: `checks` says which", "content": content}


def _health(responses: dict[str, Any]) -> None:
    body = {"type": "object", "properties": {"status": {"const": "ok"}}, "required": ["status"]}
    responses["200"] = {
        "description": "the process answers",
        "content": {"application/json": {"schema": body}},
    }


OPS_SHAPES: dict[str, Callable[[dict[str, Any]], None]] = {
    "/metrics": _metrics,
    "/readyz": _readiness,
    "/healthz": _health,
}
