"""The OpenAPI document an app serves, completed by ``document_api``: apps built here, no servers.

The contract test (tests/contract) fuzzes the real services against their documents; these pin
what ``document_api`` adds, so a broken rule shows here first and by name.
"""

from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Query, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from shared.openapi import ImageId, bound_by, document_api, problems
from shared.ops import new_registry, ops_router
from shared.uploads import multipart_openapi
from shared.web import PROBLEM_JSON, install_problem_handlers

PROBLEM = {"$ref": "#/components/schemas/Problem"}


class Note(BaseModel):
    text: str


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/api/v1/things/{image_id}", responses=problems(400, 404))
    async def thing(
        image_id: ImageId,
        limit: Annotated[int, Query(ge=1, json_schema_extra=bound_by(maximum="max_limit"))] = 5,
    ) -> dict[str, str]:
        return {"id": image_id}

    @app.put("/api/v1/things/{image_id}")
    async def put_thing(image_id: str, note: Note) -> dict[str, str]:
        return {"id": image_id}

    @app.post("/api/v1/uploads", openapi_extra=multipart_openapi("file", many=False))
    async def upload(request: Request) -> dict[str, str]:
        return {}

    app.include_router(ops_router(new_registry(), lambda: {"catalog": False}))
    document_api(app, {"max_limit": 7})
    return app


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return _app().openapi()


def _responses(spec: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    responses: dict[str, Any] = spec["paths"][path][method]["responses"]
    return responses


def _problem_statuses(responses: dict[str, Any]) -> set[str]:
    return {
        s
        for s, r in responses.items()
        if r.get("content", {}).get(PROBLEM_JSON) == {"schema": PROBLEM}
    }


def test_a_routes_own_problems_are_problem_json_naming_their_type_codes(
    spec: dict[str, Any],
) -> None:
    responses = _responses(spec, "/api/v1/things/{image_id}")
    assert {"400", "404"} <= _problem_statuses(responses)
    assert "`image-not-found`" in responses["404"]["description"]
    assert spec["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
    ]


def test_request_validation_is_a_422_problem_not_fastapis_json(spec: dict[str, Any]) -> None:
    assert "422" in _problem_statuses(_responses(spec, "/api/v1/things/{image_id}"))
    assert not {"HTTPValidationError", "ValidationError"} & set(spec["components"]["schemas"])


def test_a_body_may_time_out_and_an_upload_may_be_too_large_or_of_the_wrong_type(
    spec: dict[str, Any],
) -> None:
    assert "408" in _problem_statuses(_responses(spec, "/api/v1/things/{image_id}", "put"))
    upload = _problem_statuses(_responses(spec, "/api/v1/uploads", "post"))
    assert {"400", "408", "413", "415", "422"} <= upload
    assert "408" not in _problem_statuses(_responses(spec, "/api/v1/things/{image_id}"))


def test_every_api_route_may_find_a_dependency_down_and_the_ops_routes_are_as_they_answer(
    spec: dict[str, Any],
) -> None:
    assert "503" in _problem_statuses(_responses(spec, "/api/v1/uploads", "post"))
    assert "503" not in _responses(spec, "/healthz")
    assert set(_responses(spec, "/metrics")["200"]["content"]) == {"text/plain"}
    assert {"200", "503"} <= set(_responses(spec, "/readyz"))


def test_ids_carry_their_pattern_and_settings_fill_in_their_bounds(spec: dict[str, Any]) -> None:
    params = {
        p["name"]: p["schema"]
        for p in spec["paths"]["/api/v1/things/{image_id}"]["get"]["parameters"]
    }
    assert params["image_id"]["pattern"] == "^[0-9a-f]{64}$"
    assert params["limit"]["maximum"] == 7 and "x-bound-by" not in params["limit"]


def test_a_405_names_every_method_the_path_serves() -> None:
    with TestClient(_app()) as client:
        refused = client.delete("/api/v1/things/abc")
    assert refused.status_code == 405
    assert refused.headers["content-type"] == PROBLEM_JSON
    assert {"GET", "PUT"} <= set(refused.headers["allow"].split(", "))
