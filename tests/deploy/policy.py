"""Checks of rendered Kubernetes manifests, each returning the problems it finds, so a test can
run it on the chart's output and on a deliberately broken manifest alike.

Schemas: the Kubernetes JSON schemas of one pinned version (``KUBERNETES``, from the pinned
kubernetes-validate package, strict: unknown fields are errors). The custom resources of KEDA and
the Prometheus Operator are not in them; they are checked against the small schemas in
``schemas/`` beside this file instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from tests.deploy.chart import KUBERNETES

CUSTOM_SCHEMAS = Path(__file__).parent / "schemas"
CUSTOM_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "triggerauthentication.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.json",
}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
CREDENTIAL_KEY = re.compile(r"secret|password|token|access_key", re.I)
URL_WITH_PASSWORD = re.compile(r"\w+://[^/\s:@]*:[^@\s]+@")
ENV_REFERENCE = re.compile(r"\$\(\w+\)")  # $(VAR): Kubernetes splices a Secret's value in
PINNED = re.compile(r"^[^\s:@]+(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$")

Manifest = dict[str, Any]


def name_of(manifest: Manifest) -> str:
    return f"{manifest['kind']}/{manifest['metadata']['name']}"


def pod_spec(manifest: Manifest) -> dict[str, Any] | None:
    if manifest["kind"] not in WORKLOADS:
        return None
    spec: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return spec


def containers(pod: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from pod.get("initContainers", [])
    yield from pod["containers"]


def every_container(manifests: list[Manifest]) -> Iterator[tuple[str, dict[str, Any]]]:
    """("Kind/name: container", container) for every container, init containers included."""
    for manifest in manifests:
        pod = pod_spec(manifest)
        for container in containers(pod) if pod else []:
            yield f"{name_of(manifest)}: {container['name']}", container


def long_running(manifests: list[Manifest]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The containers that serve until stopped: Deployments' own, not init containers."""
    for manifest in (m for m in manifests if m["kind"] == "Deployment"):
        for container in manifest["spec"]["template"]["spec"]["containers"]:
            yield f"{name_of(manifest)}: {container['name']}", container


# ---------------------------------------------------------------- schemas


@cache
def custom_schema(file: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((CUSTOM_SCHEMAS / file).read_text())
    return schema


def schema_problems(manifests: list[Manifest], version: str = KUBERNETES) -> list[str]:
    problems = []
    for manifest in manifests:
        custom = CUSTOM_KINDS.get((manifest.get("apiVersion", ""), manifest.get("kind", "")))
        try:
            if custom:
                jsonschema.validate(manifest, custom_schema(custom))
            else:
                kubernetes_validate.validate(manifest, version, strict=True)
        except jsonschema.ValidationError as error:
            where = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"{name_of(manifest)}: {where}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{name_of(manifest)}: {error.message}")
    return problems


# ---------------------------------------------------------------- containers


def image_problems(manifests: list[Manifest]) -> list[str]:
    """Every image names a fixed tag (or a digest): never none, never `latest`."""
    problems = []
    for where, container in every_container(manifests):
        image = container.get("image", "")
        last = image.rsplit("/", 1)[-1]
        tag = last.partition("@")[0].partition(":")[2]
        if not PINNED.match(image) or ("@" not in last and tag in ("", "latest")):
            problems.append(f"{where}: image {image!r}")
    return problems


def resource_problems(manifests: list[Manifest]) -> list[str]:
    """Requests and limits of CPU and memory on every container, init containers included."""
    problems = []
    for where, container in every_container(manifests):
        resources = container.get("resources", {})
        for level in ("requests", "limits"):
            missing = {"cpu", "memory"} - set(resources.get(level, {}))
            if missing:
                problems.append(f"{where}: no {level} for {sorted(missing)}")
    return problems


def probe_problems(manifests: list[Manifest]) -> list[str]:
    """Long-running containers: liveness on /healthz, readiness on /readyz (or /healthz where a
    service has nothing to wait for), on a port the container declares."""
    wanted = {"liveness": {"/healthz"}, "readiness": {"/readyz", "/healthz"}}
    problems = []
    for where, container in long_running(manifests):
        declared = [(p.get("name"), p["containerPort"]) for p in container.get("ports", [])]
        ports = {port for pair in declared for port in pair}
        for probe, paths in wanted.items():
            get = container.get(f"{probe}Probe", {}).get("httpGet", {})
            if get.get("path") not in paths:
                problems.append(f"{where}: no {probe} probe on {' or '.join(sorted(paths))}")
            elif get.get("port") not in ports:
                problems.append(f"{where}: {probe} probe on undeclared port {get.get('port')}")
    return problems


def security_problems(manifests: list[Manifest]) -> list[str]:
    """Non-root, read-only root, no privilege escalation, every capability dropped, the
    runtime's seccomp profile, no host namespaces or paths, no API token."""
    problems = []
    for manifest in manifests:
        pod = pod_spec(manifest)
        if pod is None:
            continue
        where = name_of(manifest)
        pod_context = pod.get("securityContext", {})
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: mounts a service account token")
        if any(pod.get(h) for h in ("hostNetwork", "hostPID", "hostIPC")):
            problems.append(f"{where}: shares a host namespace")
        if any("hostPath" in v for v in pod.get("volumes", [])):
            problems.append(f"{where}: mounts a host path")
        for container in containers(pod):
            context = {**pod_context, **container.get("securityContext", {})}
            checks = {
                "runAsNonRoot": context.get("runAsNonRoot") is True,
                "a non-root uid": context.get("runAsUser", 1) != 0,
                "readOnlyRootFilesystem": context.get("readOnlyRootFilesystem") is True,
                "allowPrivilegeEscalation false": context.get("allowPrivilegeEscalation") is False,
                "capabilities drop ALL": "ALL" in context.get("capabilities", {}).get("drop", []),
                "seccomp RuntimeDefault": context.get("seccompProfile", {}).get("type")
                == "RuntimeDefault",
            }
            problems += [
                f"{where}: {container['name']}: not {c}" for c, ok in checks.items() if not ok
            ]
    return problems


# ---------------------------------------------------------------- configuration and credentials


def config_secret_problems(manifests: list[Manifest], secrets: list[str]) -> list[str]:
    """No credential in a ConfigMap or a literal env value: not one of the known ``secrets``, no
    credential-named setting with a value, no URL carrying a password."""
    problems = []
    texts: list[tuple[str, str]] = []
    for manifest in (m for m in manifests if m["kind"] == "ConfigMap"):
        for key, text in manifest.get("data", {}).items():
            texts.append((f"{name_of(manifest)}: {key}", text))
            problems += [f"{name_of(manifest)}: {key}: {p}" for p in _credential_settings(text)]
    for where, container in every_container(manifests):
        texts += [
            (f"{where}: env {e['name']}", str(e["value"]))
            for e in container.get("env", [])
            if "value" in e
        ]
    for place, text in texts:
        if any(secret in text for secret in secrets):
            problems.append(f"{place}: holds a credential")
        elif URL_WITH_PASSWORD.search(ENV_REFERENCE.sub("", text)):
            problems.append(f"{place}: a URL with a password in it")
    return problems


def _credential_settings(text: str) -> list[str]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    return [
        f"{k} is a credential" for k, v in _flat(data).items() if CREDENTIAL_KEY.search(k) and v
    ]


def _flat(data: Any, path: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}"""
    if not isinstance(data, dict):
        return {path: data} if path else {}
    found: dict[str, Any] = {}
    for key, value in data.items():
        found.update(_flat(value, f"{path}.{key}".lstrip(".")))
    return found
