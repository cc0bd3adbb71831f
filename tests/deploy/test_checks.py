"""Each chart check fails on a broken input: the chart's own rendering with one thing broken, a
stale copy of a conf file, a template Helm cannot read. A check that passes everything would
otherwise look the same as a chart that passes it."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.chart import CHART, DEFAULT_VALUES, TEST_SECRETS, lint, render
from tests.deploy.policy import (
    config_secret_problems,
    image_problems,
    probe_problems,
    resource_problems,
    schema_problems,
    security_problems,
)
from tests.deploy.settings import setting_problems
from tests.deploy.topology import availability_problems, exposure_problems
from tools.sync_chart_files import drift, sync

Manifests = list[dict[str, Any]]


@pytest.fixture(scope="module")
def chart_output() -> Manifests:
    return render(DEFAULT_VALUES)


@pytest.fixture
def broken(chart_output: Manifests) -> Manifests:
    """A copy of the chart's output, for one test to break."""
    return copy.deepcopy(chart_output)


def find(manifests: Manifests, kind: str, name: str) -> dict[str, Any]:
    return next(m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name)


def container(manifests: Manifests, deployment: str, index: int = 0) -> dict[str, Any]:
    found: dict[str, Any] = find(manifests, "Deployment", f"imagesearch-{deployment}")["spec"][
        "template"
    ]["spec"]["containers"][index]
    return found


def env_without(c: dict[str, Any], name: str) -> None:
    c["env"] = [e for e in c["env"] if e["name"] != name]


def set_conf(manifests: Manifests, file: str, text: str) -> None:
    find(manifests, "ConfigMap", "imagesearch-conf")["data"][file] += text


def test_schema_check_finds_unknown_fields_in_core_and_custom_kinds(broken: Manifests) -> None:
    find(broken, "Deployment", "imagesearch-searchapi")["spec"]["replica"] = 2
    scaled = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "w"}}
    scaled["spec"] = {"scaleTargetRef": {"name": "w"}, "trigger": []}
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    problems = schema_problems([*broken, scaled, unknown])
    assert len(problems) == 3, problems
    assert "replica" in problems[0] and "Widget" in problems[2]


@pytest.mark.parametrize("image", ["repo/ingestapi:latest", "repo/ingestapi", "repo/x:a b"])
def test_image_check_refuses_moving_or_missing_tags(broken: Manifests, image: str) -> None:
    container(broken, "ingestapi")["image"] = image
    assert image_problems(broken) == [
        f"Deployment/imagesearch-ingestapi: ingestapi: image {image!r}"
    ]


def test_image_check_accepts_a_digest(broken: Manifests) -> None:
    container(broken, "ingestapi")["image"] = "repo/ingestapi@sha256:" + "a" * 64
    assert image_problems(broken) == []


def test_probe_check_finds_missing_or_misdirected_probes(broken: Manifests) -> None:
    del container(broken, "searchapi")["readinessProbe"]
    container(broken, "cdnapi")["livenessProbe"]["httpGet"]["path"] = "/metrics"
    container(broken, "ingestapi")["livenessProbe"]["httpGet"]["port"] = "admin"
    assert len(probe_problems(broken)) == 3


def test_resource_check_finds_a_container_without_limits(broken: Manifests) -> None:
    del container(broken, "frontend")["resources"]["limits"]
    job = find(broken, "Job", "imagesearch-migrate")["spec"]["template"]["spec"]
    del job["initContainers"][0]["resources"]["requests"]["memory"]
    assert len(resource_problems(broken)) == 2


def test_security_check_finds_root_writable_and_capable_containers(broken: Manifests) -> None:
    worker = container(broken, "ingestworker")
    worker["securityContext"].update(readOnlyRootFilesystem=False, runAsUser=0)
    worker["securityContext"]["capabilities"] = {"add": ["NET_ADMIN"]}
    pod = find(broken, "Deployment", "imagesearch-cdnapi")["spec"]["template"]["spec"]
    pod["automountServiceAccountToken"] = True
    assert len(security_problems(broken)) == 4


def test_credential_check_finds_secrets_in_config_and_plain_env(broken: Manifests) -> None:
    set_conf(broken, "common.yaml", "database: {password: hunter2}\n")
    set_conf(broken, "cdnapi.yaml", f"extra: {TEST_SECRETS['signingSecret']}\n")
    env = container(broken, "searchapi")["env"]
    env.append({"name": "CACHE_URL", "value": "redis://:hunter2@cache:6379/0"})
    problems = config_secret_problems(broken, list(TEST_SECRETS.values()))
    assert len(problems) == 3, problems


def test_settings_check_finds_missing_secrets_unread_names_and_local_addresses(
    broken: Manifests, tmp_path: Path
) -> None:
    env_without(container(broken, "searchapi"), "SIGNING__SECRET")
    container(broken, "ingestapi")["env"].append({"name": "INGEST__MAX_FILEZ", "value": "3"})
    set_conf(broken, "ingestworker.yaml", "milvus: {uri: 'http://127.0.0.1:19530'}\n")
    env_without(container(broken, "ingestworker"), "HF_HUB_OFFLINE")
    problems = "\n".join(setting_problems(broken, tmp_path))
    assert "searchapi: private reads without a signing.secret" in problems
    assert "ingestapi: sets INGEST__MAX_FILEZ, which it never reads" in problems
    assert "ingestworker: milvus.uri = 'http://127.0.0.1:19530' is loopback" in problems
    assert "ingestworker: HF_HUB_OFFLINE is not 1" in problems


def test_settings_check_finds_what_cdnapi_lacks(broken: Manifests, tmp_path: Path) -> None:
    cdnapi = container(broken, "cdnapi")
    env_without(cdnapi, "REDIS__URL")
    cdnapi["volumeMounts"] = [m for m in cdnapi["volumeMounts"] if m["name"] != "cache"]
    secret = find(broken, "Secret", "imagesearch-credentials")
    secret["data"]["s3-secret-key"] = "bWluaW9hZG1pbg=="  # minioadmin
    problems = "\n".join(setting_problems(broken, tmp_path))
    assert "cdnapi: REDIS__URL is not set" in problems
    assert "cdnapi: CACHE__DISK_DIR '/var/cache/cdnapi' is not a writable volume" in problems
    assert "cdnapi: MINIO__SECRET_KEY is empty, short or a placeholder" in problems


def test_settings_check_finds_what_the_front_door_lacks(broken: Manifests, tmp_path: Path) -> None:
    env_without(container(broken, "frontend"), "SEARCHAPI_ADDR")
    container(broken, "frontend")["env"].append({"name": "CDNAPI_ADDR", "value": "127.0.0.1:8002"})
    problems = "\n".join(setting_problems(broken, tmp_path))
    assert "frontend: nothing sets SEARCHAPI_ADDR" in problems
    assert "CDNAPI_ADDR = '127.0.0.1:8002' is loopback" in problems


def test_settings_check_finds_a_secret_key_nothing_provides(
    broken: Manifests, tmp_path: Path
) -> None:
    del find(broken, "Secret", "imagesearch-credentials")["data"]["postgres-password"]
    problems = setting_problems(broken, tmp_path)
    assert any("postgres-password does not exist" in p for p in problems)


def test_settings_check_finds_embedders_on_different_models(
    broken: Manifests, tmp_path: Path
) -> None:
    container(broken, "ingestworker")["env"].append({"name": "MODEL__NAME", "value": "tiny-shapes"})
    assert any("disagree on the model" in p for p in setting_problems(broken, tmp_path))


def test_exposure_check_finds_open_services_and_policies(broken: Manifests) -> None:
    find(broken, "Service", "imagesearch-searchapi")["spec"]["type"] = "LoadBalancer"
    find(broken, "NetworkPolicy", "imagesearch-cdnapi")["spec"]["ingress"][0].pop("from")
    path = find(broken, "Ingress", "imagesearch-frontend")["spec"]["rules"][0]["http"]["paths"][0]
    path["backend"]["service"]["name"] = "imagesearch-ingestapi"
    broken.remove(find(broken, "NetworkPolicy", "imagesearch-default-deny"))
    search = find(broken, "NetworkPolicy", "imagesearch-searchapi")["spec"]["ingress"][0]
    search["from"] = [{"namespaceSelector": {"matchLabels": {"team": "search"}}}]
    problems = exposure_problems(broken)
    assert any("LoadBalancer" in p for p in problems)
    assert any("cdnapi: a NetworkPolicy lets anyone connect" in p for p in problems)
    assert any("leads to imagesearch-ingestapi" in p for p in problems)
    assert any("ingestworker: no default-deny" in p for p in problems)
    assert any("searchapi: the front door may not connect" in p for p in problems)


def test_availability_check_finds_missing_budgets_and_fixed_replicas(broken: Manifests) -> None:
    broken.remove(find(broken, "PodDisruptionBudget", "imagesearch-frontend"))
    broken.remove(find(broken, "HorizontalPodAutoscaler", "imagesearch-cdnapi"))
    find(broken, "Deployment", "imagesearch-searchapi")["spec"]["replicas"] = 2
    problems = availability_problems(broken)
    assert len(problems) == 3, problems


def test_drift_check_finds_stale_and_orphaned_copies(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "common.yaml").write_text("log: {level: INFO}\n")
    assert drift(tmp_path) == [
        "deploy/helm/imagesearch/files/conf/common.yaml differs from conf/common.yaml"
    ]
    sync(tmp_path)
    assert drift(tmp_path) == []
    (tmp_path / "conf" / "common.yaml").write_text("log: {level: DEBUG}\n")
    (tmp_path / "deploy/helm/imagesearch/files/dashboards/gone.json").write_text("{}")
    assert len(drift(tmp_path)) == 2


def test_lint_fails_on_a_broken_template(tmp_path: Path) -> None:
    chart = tmp_path / "imagesearch"
    shutil.copytree(CHART, chart)
    (chart / "templates" / "broken.yaml").write_text("kind: {{ .Values.nothing.here }\n")
    assert "parse error" in lint(DEFAULT_VALUES, chart=chart)
