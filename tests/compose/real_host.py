"""Checks that the Compose path starts on a real host, for what `docker compose config` cannot
see: the order of a first start, the Milvus server line, its message queue, the model hub, one
worker image, and the Compose release the file needs.

Like tests/compose/checks.py, each check returns the problems it finds, so a test can run it on
the real files and on broken examples alike.
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.compose.checks import ROOT, is_one_shot

Version = tuple[int, ...]

# Compose features a change to docker-compose.yml may reach for, each with the Compose release
# that brought it (an older Compose refuses the file, or silently ignores the key).
FEATURES: list[tuple[str, Version, Callable[[dict[str, Any]], bool]]] = [
    ("depends_on: {restart: ...}", (2, 17, 0), lambda c: _depends_on_uses(c, "restart")),
    ("depends_on: {required: ...}", (2, 20, 0), lambda c: _depends_on_uses(c, "required")),
    ("top-level include", (2, 20, 0), lambda c: "include" in c),
    ("develop (watch)", (2, 22, 0), lambda c: _services_use(c, "develop")),
    ("configs: {content: ...}", (2, 23, 1), lambda c: _configs_use(c, "content")),
    ("env_file: [{required: ...}]", (2, 24, 0), lambda c: _env_files_optional(c)),
    (
        "post_start / pre_stop hooks",
        (2, 30, 0),
        lambda c: _services_use(c, "post_start", "pre_stop"),
    ),
]
STATED_MINIMUM = re.compile(r"^#.*\bCompose (\d+)\.(\d+)(?:\.(\d+))? or newer", re.M)


def _services(config: dict[str, Any]) -> list[dict[str, Any]]:
    return list((config.get("services") or {}).values())


def _depends_on_uses(config: dict[str, Any], key: str) -> bool:
    return any(
        isinstance(spec, dict) and key in spec
        for svc in _services(config)
        if isinstance(svc.get("depends_on"), dict)
        for spec in svc["depends_on"].values()
    )


def _services_use(config: dict[str, Any], *keys: str) -> bool:
    return any(key in svc for svc in _services(config) for key in keys)


def _configs_use(config: dict[str, Any], key: str) -> bool:
    return any(key in (spec or {}) for spec in (config.get("configs") or {}).values())


def _env_files_optional(config: dict[str, Any]) -> bool:
    files = [svc.get("env_file") for svc in _services(config)]
    return any(isinstance(f, list) and any(isinstance(e, dict) for e in f) for f in files)


def compose_version_problems(text: str) -> list[str]:
    """The file names the Compose release it needs (a comment: "Compose X.Y or newer"), and no
    feature it uses is newer than that."""
    stated = STATED_MINIMUM.search(text)
    if not stated:
        return ["names no minimum Compose release (a comment: 'Compose X.Y or newer')"]
    minimum = tuple(int(part or 0) for part in stated.groups())
    config = yaml.safe_load(text)
    return [
        f"uses {feature}, new in Compose {'.'.join(map(str, since))}, above the stated minimum"
        for feature, since, used in FEATURES
        if used(config) and since > minimum
    ]


def conf_value(service: str, section: str, key: str) -> Any:
    """A setting as a service reads it from conf/: conf/<service>.yaml over conf/common.yaml."""
    for name in (service, "common"):
        conf = yaml.safe_load((ROOT / "conf" / f"{name}.yaml").read_text()) or {}
        if (found := (conf.get(section) or {}).get(key)) is not None:
            return found
    return None


def bucket_init_problems(svcs: dict[str, Any], reader: str, bucket: str) -> list[str]:
    """``reader`` (whose readiness needs ``bucket``) starts only after a one-shot job made that
    bucket, on ``reader``'s MinIO, once that MinIO was healthy."""
    endpoint = str((svcs[reader].get("environment") or {}).get("MINIO__ENDPOINT", ""))
    waits = {
        dep
        for dep, spec in (svcs[reader].get("depends_on") or {}).items()
        if (spec or {}).get("condition") == "service_completed_successfully"
        and dep in svcs
        and is_one_shot(svcs[dep])
    }
    makers = [
        dep
        for dep in waits
        if re.search(rf"\bmc mb\b.*\S+/{re.escape(bucket)}\b", _command_of(svcs[dep]))
    ]
    if not makers:
        return [f"{reader}: starts before any one-shot job has made the bucket {bucket}"]
    problems = []
    for maker in makers:
        if f"http://{endpoint}" not in _command_of(svcs[maker]):
            problems.append(f"{maker}: makes {bucket} elsewhere than {reader}'s {endpoint}")
        host = endpoint.partition(":")[0]
        condition = ((svcs[maker].get("depends_on") or {}).get(host) or {}).get("condition")
        if condition != "service_healthy":
            problems.append(f"{maker}: may run before {host} is healthy")
    return problems


def _command_of(svc: dict[str, Any]) -> str:
    parts = [*(svc.get("entrypoint") or []), *(svc.get("command") or [])]
    return " ".join(map(str, parts))


def locked_version(package: str) -> str:
    """The version of ``package`` that uv.lock pins (what `make dev` and the tests install)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    return str(next(p["version"] for p in lock if p["name"] == package))


def milvus_server_problems(image: str, tested: str) -> list[str]:
    """Compose runs the Milvus release the tests run."""
    name, _, tag = image.rpartition(":")
    if name != "milvusdb/milvus" or tag != f"v{tested}":
        return [f"Compose runs {image}; the tests run Milvus {tested} (milvusdb/milvus:v{tested})"]
    return []


def dev_message_queue() -> str | None:
    """The message queue of the Milvus `make dev` and the tests run (PyPI's `milvus` package)."""
    spec = importlib.util.find_spec("milvus")
    if spec is None or spec.origin is None:
        return None
    template = Path(spec.origin).parent / "data" / "config.yaml.template"
    found = re.search(r"^mq:\n(?:[ \t]+#.*\n)*[ \t]+type:\s*(\w+)", template.read_text(), re.M)
    return found.group(1) if found else None


def message_queue_problems(environment: dict[str, Any], dev_queue: str | None) -> list[str]:
    """Milvus's queue is set, not defaulted (defaults differ between releases, and the queue
    cannot change once data exists), and is the one `make dev` runs."""
    chosen = environment.get("MQ_TYPE")
    if not chosen or chosen == "default":
        return ["milvus: MQ_TYPE is left to the release's default"]
    if chosen != dev_queue:
        return [f"milvus: MQ_TYPE={chosen}, while make dev and the tests run {dev_queue}"]
    return []


def offline_problems(svcs: dict[str, Any], names: list[str], prefetch_plan: str) -> list[str]:
    """The services that load the model never reach the hub (HF_HUB_OFFLINE=1); the one prefetch
    step of docker-init does (HF_HUB_OFFLINE=0)."""
    problems = [
        f"{name}: HF_HUB_OFFLINE is not 1"
        for name in names
        if str((svcs[name].get("environment") or {}).get("HF_HUB_OFFLINE")) != "1"
    ]
    if not re.search(r"\brun\b.*-e HF_HUB_OFFLINE=0 .*ingestworker\.prefetch", prefetch_plan):
        problems.append("docker-init: the prefetch does not run with HF_HUB_OFFLINE=0")
    return problems


def shared_image_problems(svcs: dict[str, Any], builder: str, user: str) -> list[str]:
    """``user`` runs the image ``builder`` builds, under one name: one build, one image, and
    Compose never looks for it in a registry."""
    problems = []
    if not svcs[builder].get("build") or not svcs[builder].get("image"):
        problems.append(f"{builder}: does not build a named image")
    if svcs[user].get("image") != svcs[builder].get("image"):
        problems.append(f"{user}: runs {svcs[user].get('image')}, not {builder}'s image")
    if svcs[user].get("build"):
        problems.append(f"{user}: builds the image a second time")
    if svcs[user].get("pull_policy") != "never":
        problems.append(f"{user}: may look for the locally built image in a registry")
    return problems
