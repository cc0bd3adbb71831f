"""The layering rules, checked on the source: a rule nobody checks is a rule nobody keeps.

- ``service/`` modules hold the work and nothing of HTTP: no FastAPI, Starlette or uvicorn.
- Services depend on ``shared`` only, never on each other (ingestapi sends the worker's task by
  name); ``shared`` depends on no service.
- torch and open_clip are imported only where models run: the worker, searchapi and ``shared``'s
  embedder (lazily).
- The APIs' dependencies (``api/deps.py``) are ``async def``: FastAPI runs a plain ``def``
  dependency in the thread pool, a thread hop per request for a container lookup.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("ingestapi", "ingestworker", "searchapi")
APIS = ("ingestapi", "searchapi")
HTTP_FRAMEWORKS = {"fastapi", "starlette", "uvicorn"}
MODEL_LIBRARIES = {"torch", "open_clip", "onnx", "onnxruntime"}


def _imported_packages(path: Path) -> set[str]:
    """Top-level packages a module imports, lazily (inside functions) included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package / package).rglob("*.py"))


def _service_modules() -> list[Path]:
    return [path for name in SERVICES for path in (ROOT / name / name / "service").glob("*.py")]


def test_the_rules_see_the_code() -> None:
    """Guards against a rule passing because it found nothing to check."""
    assert len(_service_modules()) >= 5
    assert all(_modules(name) for name in (*SERVICES, "shared"))


@pytest.mark.parametrize("path", _service_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_service_modules_know_nothing_of_http(path: Path) -> None:
    assert not _imported_packages(path) & HTTP_FRAMEWORKS


@pytest.mark.parametrize("package", [*SERVICES, "shared"])
def test_services_depend_on_shared_only(package: str) -> None:
    others = {name for name in SERVICES if name != package}
    for path in _modules(package):
        assert not _imported_packages(path) & others, f"{path} imports another service"


def test_model_libraries_stay_where_models_run() -> None:
    allowed = ROOT / "shared" / "shared" / "embedding"
    for path in _modules("ingestapi") + _modules("shared"):
        if path.parent != allowed:
            assert not _imported_packages(path) & MODEL_LIBRARIES, f"{path} imports torch"


@pytest.mark.parametrize("api", APIS)
def test_api_dependencies_run_on_the_event_loop(api: str) -> None:
    tree = ast.parse((ROOT / api / api / "api" / "deps.py").read_text())
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    depended = {
        node.args[0].id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Depends"
        and node.args
        and isinstance(node.args[0], ast.Name)
    }
    assert len(depended) >= 5  # the rule sees the dependencies
    plain = sorted(
        name for name in depended if not isinstance(functions[name], ast.AsyncFunctionDef)
    )
    assert plain == [], f"{api}: plain def dependencies run in the thread pool"
