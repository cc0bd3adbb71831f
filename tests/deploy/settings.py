"""Whether every rendered container gets the settings its service reads, and only safe ones.

A container's settings are rebuilt as it would build them: its environment (literal values,
Secret and ConfigMap references, ``$(VAR)`` spliced in by Kubernetes) and the ConfigMap mounted
at its CONF_DIR. A Python container's settings class then loads them for real; cdnapi's (Go)
names come from its Config structs' yaml tags. Which service a container runs comes from its
``python -m <package>...`` command or its image (``imagesearch-<service>``).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pydantic
import yaml

from shared.config import MIN_SECRET_CHARS
from shared.exposure import is_placeholder, unsafe_defaults
from tests.compose.checks import (
    env_names,
    go_env_names,
    logical_lines,
    loopback_problems,
    settings_class,
)
from tests.deploy.policy import Manifest, containers, name_of, pod_spec

ROOT = Path(__file__).resolve().parents[2]
CDNAPI_CONFIG = ROOT / "cdnapi" / "internal" / "config"
FRONTEND_IMAGE = ROOT / "docker" / "frontend.Dockerfile"
PYTHON = ("ingestapi", "searchapi", "ingestworker")
EMBEDDERS = ("searchapi", "ingestworker")
REFERENCE = re.compile(r"\$\((\w+)\)")
ADDRESS = re.compile(r"(ENDPOINT|HOST|URL|URI)$")
CREDENTIAL = re.compile(r"SECRET|PASSWORD|ACCESS_KEY|TOKEN")
OPTIONAL_ADDRESSES = {"MINIO__PUBLIC_ENDPOINT"}  # empty: presigned URLs name minio.endpoint
CDNAPI_WRITES = ("CACHE__DISK_DIR",)  # directories cdnapi writes: volumes, under a read-only root
Container = dict[str, Any]


class Unresolved(Exception):
    """A container refers to a Secret or ConfigMap key that nothing provides."""


@dataclass
class Started:
    """One container as it would start: what it runs, its environment and its conf files."""

    where: str
    service: str
    container: Container
    env: dict[str, str]
    conf: dict[str, str]
    long_running: bool

    def mounts(self, writable: bool = False) -> set[str]:
        found = self.container.get("volumeMounts", [])
        return {m["mountPath"] for m in found if not (writable and m.get("readOnly"))}

    def port(self) -> int | None:
        ports = self.container.get("ports", [])
        return next((p["containerPort"] for p in ports if p.get("name") == "http"), None)

    def conf_names(self, file: str) -> dict[str, Any]:
        return flat(yaml.safe_load(self.conf.get(file, "")) or {})

    def unread(self, readable: Any) -> list[str]:
        """Variables and own-file keys with no setting behind them: typos, or settings gone."""
        given = [(n, "sets") for n in self.env if "__" in n]
        given += [(n, "its conf file sets") for n in self.conf_names(f"{self.service}.yaml")]
        unknown = [(n, how) for n, how in given if n not in readable]
        return [f"{self.where}: {how} {n}, which it never reads" for n, how in unknown]


def flat(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"http": {"port": 1}} -> {"HTTP__PORT": 1}: the names the environment would use."""
    names: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}".upper()
        names.update(flat(value, name + "__") if isinstance(value, dict) else {name: value})
    return names


def service_of(container: Container) -> str:
    command = container.get("command", [])
    if command[:2] == ["python", "-m"]:
        return str(command[2]).split(".")[0]
    found = re.search(r"imagesearch-(\w+)[:@]", container["image"])
    return found.group(1) if found else ""


def stored(manifests: list[Manifest], kind: str) -> dict[str, dict[str, str]]:
    """Secrets or ConfigMaps by name, their values in plain text."""
    found = {}
    for m in (m for m in manifests if m["kind"] == kind):
        data = dict(m.get("data") or {})
        if kind == "Secret":
            data = {k: base64.b64decode(v).decode() for k, v in data.items()}
        found[m["metadata"]["name"]] = {**data, **(m.get("stringData") or {})}
    return found


def environment(container: Container, manifests: list[Manifest]) -> dict[str, str]:
    """The variables the container starts with, as Kubernetes resolves them."""
    stores = {"secretKeyRef": stored(manifests, "Secret")}
    stores["configMapKeyRef"] = stored(manifests, "ConfigMap")
    env: dict[str, str] = {}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = REFERENCE.sub(lambda m: env.get(m[1], m[0]), str(var["value"]))
            continue
        (kind, ref), *_ = var["valueFrom"].items()
        value = stores.get(kind, {}).get(ref["name"], {}).get(ref["key"])
        if value is not None:
            env[var["name"]] = value
        elif not ref.get("optional"):
            raise Unresolved(f"{var['name']}: {kind} {ref['name']}/{ref['key']} does not exist")
    return env


def started(manifests: list[Manifest]) -> Iterator[Started | str]:
    """Every container of every workload as it would start, or why it could not."""
    configmaps = stored(manifests, "ConfigMap")
    for manifest in manifests:
        pod = pod_spec(manifest)
        if pod is None:
            continue
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in containers(pod):
            where = f"{name_of(manifest)}: {container['name']}"
            try:
                env = environment(container, manifests)
            except Unresolved as missing:
                yield f"{where}: {missing}"
                continue
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            volume = volumes.get(mounts.get(env.get("CONF_DIR", ""), ""), {})
            conf = configmaps.get(volume.get("configMap", {}).get("name"), {})
            serves = manifest["kind"] == "Deployment" and container in pod["containers"]
            yield Started(where, service_of(container), container, env, conf, serves)


def load_python(seen: Started, scratch: Path) -> Any:
    """The service's settings class, loaded as the container would load it."""
    scratch.mkdir(parents=True, exist_ok=True)
    for file, text in seen.conf.items():
        (scratch / file).write_text(text)
    with mock.patch.dict(os.environ, {**seen.env, "CONF_DIR": str(scratch)}, clear=True):
        return settings_class(seen.service)()


def python_problems(seen: Started, settings: Any) -> list[str]:
    """A long-running Python service: all it is given is read, nothing unsafe, nothing local."""
    where = seen.where
    problems = seen.unread(env_names(settings_class(seen.service)))
    problems += [f"{where}: {reason}" for reason in unsafe_defaults(settings)]
    problems += loopback_problems(where, settings.model_dump(mode="json"))
    if not settings.database.url.startswith("postgresql"):
        problems.append(f"{where}: the catalog is not the shared PostgreSQL")
    signing = getattr(settings, "signing", None)
    if signing and not settings.auth.public_read:
        if len(signing.secret.get_secret_value()) < MIN_SECRET_CHARS:
            problems.append(f"{where}: private reads without a signing.secret")
    worker = seen.service == "ingestworker"
    port = settings.worker.http_port if worker else settings.http.port
    if port != seen.port():
        problems.append(f"{where}: listens on {port}; the container declares {seen.port()}")
    if seen.service in EMBEDDERS and seen.env.get("HF_HUB_OFFLINE") != "1":
        problems.append(f"{where}: HF_HUB_OFFLINE is not 1 (every start would wait for the hub)")
    return problems


def one_shot_problems(seen: Started, settings: Any) -> list[str]:
    """A step that runs once (an init container, the install hook): what it needs is set."""
    step = " ".join(seen.container.get("command", []))
    problems = []
    if step.endswith(("ingestapi.migrate", "ingestapi.bootstrap")):
        url = settings.database.url
        if not url.startswith("postgresql") or is_placeholder(urlsplit(url).password or "admin"):
            problems.append(f"{seen.where}: no PostgreSQL catalog with a real password")
        problems += loopback_problems(seen.where, {"database.url": url})
    if step.endswith("ingestapi.bootstrap"):
        password = settings.auth.bootstrap_password.get_secret_value()
        if not password or is_placeholder(password):
            problems.append(f"{seen.where}: AUTH__BOOTSTRAP_PASSWORD is empty or a placeholder")
    return problems


def cdnapi_problems(seen: Started) -> list[str]:
    """cdnapi (Go): all it is given is read; addresses set and not local; credentials from a
    Secret and no placeholder (the signing key 32+ characters while reads are private); the
    directories it writes on volumes."""
    readable = go_env_names(CDNAPI_CONFIG)
    given = {**seen.conf_names("common.yaml"), **seen.conf_names("cdnapi.yaml"), **seen.env}
    settings = {n: str(v) for n, v in given.items() if n in readable}
    private = settings.get("AUTH__PUBLIC_READ", "false").lower() not in ("true", "1", "yes")
    refs = seen.container.get("env", [])
    from_secret = {v["name"] for v in refs if "secretKeyRef" in v.get("valueFrom", {})}
    problems = seen.unread(readable)
    for name in sorted(readable):
        value = settings.get(name, "")
        if ADDRESS.search(name) and not value and name not in OPTIONAL_ADDRESSES:
            problems.append(f"{seen.where}: {name} is not set")
        if not CREDENTIAL.search(name) or (name == "SIGNING__SECRET" and not private):
            continue
        shortest = MIN_SECRET_CHARS if name == "SIGNING__SECRET" else 1
        if name not in from_secret:
            problems.append(f"{seen.where}: {name} does not come from a Secret")
        elif len(value) < shortest or is_placeholder(value):
            problems.append(f"{seen.where}: {name} is empty, short or a placeholder")
    for name in CDNAPI_WRITES:
        if settings.get(name) not in seen.mounts(writable=True):
            problems.append(f"{seen.where}: {name} {settings.get(name)!r} is not a writable volume")
    # trusted_proxies names the peers, not where cdnapi connects: loopback there is no address
    problems += loopback_problems(seen.where, {**settings, "HTTP__TRUSTED_PROXIES": ""})
    if settings.get("HTTP__PORT") != str(seen.port()):
        problems.append(f"{seen.where}: listens on {settings.get('HTTP__PORT')}, not {seen.port()}")
    return problems


def frontend_problems(seen: Started) -> list[str]:
    """The front door (Nginx): every ${VAR} of its templates set, by its image or the chart."""
    image = logical_lines(FRONTEND_IMAGE.read_text())
    templates = [m for line in image for m in re.findall(r"^COPY\s+(\S+\.template)\s", line)]
    text = "\n".join(line for t in templates for line in logical_lines((ROOT / t).read_text()))
    wanted = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", text))
    baked = {k for line in image if line.startswith("ENV ") for k in re.findall(r"(\w+)=", line)}
    missing = sorted(wanted - baked - set(seen.env))
    problems = [f"{seen.where}: nothing sets {name}" for name in missing]
    problems += loopback_problems(
        seen.where, {n: v for n, v in seen.env.items() if n.endswith("_ADDR")}
    )
    return problems


def setting_problems(manifests: list[Manifest], scratch: Path) -> list[str]:
    """Every container of every workload, and one model for all the containers that embed."""
    problems: list[str] = []
    models: dict[str, tuple[str, str]] = {}
    for seen in started(manifests):
        if isinstance(seen, str):
            problems.append(seen)
            continue
        if seen.service == "cdnapi":
            problems += cdnapi_problems(seen)
        if seen.service == "frontend":
            problems += frontend_problems(seen)
        if seen.service not in PYTHON:
            continue
        try:
            settings = load_python(seen, scratch / re.sub(r"\W+", "-", seen.where))
        except pydantic.ValidationError as invalid:
            problems.append(f"{seen.where}: invalid settings: {invalid}")
            continue
        checks = python_problems if seen.long_running else one_shot_problems
        problems += checks(seen, settings)
        if seen.service in EMBEDDERS:
            models[seen.where] = (settings.model.name, settings.model.pretrained)
            if settings.model.cache_dir not in seen.mounts():
                problems.append(f"{seen.where}: model.cache_dir is not a volume")
    if len(set(models.values())) > 1:
        problems.append(f"the containers that embed disagree on the model: {models}")
    return problems
