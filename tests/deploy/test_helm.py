"""The Helm chart (deploy/helm/imagesearch), rendered by the pinned Helm with its default values and
with values-production.yaml, linted, validated against the pinned Kubernetes schemas and held to
the policies: pinned images, probes, resources, hardening, credentials only in Secrets, every
setting each service reads provided, only the front door reachable, and no default credential.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from shared.exposure import PLACEHOLDERS
from tests.deploy.chart import (
    CHART,
    DEFAULT_VALUES,
    HELM,
    PRODUCTION_VALUES,
    TEST_SECRETS,
    helm,
    helm_version_pinned,
    lint,
    of_kind,
    refusal,
    render,
    secret_values,
)
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
from tools.sync_chart_files import drift

Manifests = list[dict[str, Any]]

# The Secret an operator makes for values-production.yaml (README.md beside the chart).
SECRET_KEYS = {
    "auth-jwt-secret": "authJwtSecret",
    "signing-secret": "signingSecret",
    "admin-password": "adminPassword",
    "s3-access-key": "s3AccessKey",
    "s3-secret-key": "s3SecretKey",
    "redis-password": "redisPassword",
    "postgres-password": "postgresPassword",
    "milvus-token": "milvusToken",
}


def existing_secret(name: str) -> dict[str, Any]:
    data = {k: base64.b64encode(TEST_SECRETS[v].encode()).decode() for k, v in SECRET_KEYS.items()}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": data}


@pytest.fixture(scope="module")
def default() -> Manifests:
    return render(DEFAULT_VALUES)


@pytest.fixture(scope="module")
def production() -> Manifests:
    """values-production.yaml, plus the Secret it names (made by the operator, not the chart)."""
    manifests = render(PRODUCTION_VALUES, values={})
    return [*manifests, existing_secret("imagesearch-credentials")]


@pytest.fixture(params=["default", "production"])
def rendered(request: pytest.FixtureRequest) -> Manifests:
    manifests: Manifests = request.getfixturevalue(request.param)
    return manifests


def test_helm_is_the_pinned_version_from_make_setup() -> None:
    assert helm("version").returncode == 0
    built = subprocess.run(["go", "version", "-m", str(HELM)], capture_output=True, text=True)
    assert f"\tmod\thelm.sh/helm/v3\t{helm_version_pinned()}\t" in built.stdout, (
        f"{HELM} is not the Helm the Makefile pins: `make setup` installs it"
    )


@pytest.mark.parametrize(
    "values", [DEFAULT_VALUES, PRODUCTION_VALUES], ids=["default", "production"]
)
def test_helm_lint_passes_strictly(values: Path) -> None:
    assert lint(values, values=None if values == DEFAULT_VALUES else {}) == ""


def test_chart_copies_of_conf_and_dashboards_are_current() -> None:
    assert drift(CHART.parents[2]) == [], "run: python tools/sync_chart_files.py"


def test_every_manifest_matches_the_pinned_kubernetes_schemas(
    rendered: Manifests,
) -> None:
    assert schema_problems(rendered) == []


def test_every_image_is_pinned(rendered: Manifests) -> None:
    assert image_problems(rendered) == []


def test_every_long_running_container_has_health_and_readiness_probes(rendered: Manifests) -> None:
    assert probe_problems(rendered) == []


def test_every_container_has_requests_and_limits(rendered: Manifests) -> None:
    assert resource_problems(rendered) == []


def test_every_container_runs_non_root_read_only_without_capabilities(rendered: Manifests) -> None:
    assert security_problems(rendered) == []


def test_no_credential_outside_a_secret(rendered: Manifests) -> None:
    assert config_secret_problems(rendered, list(TEST_SECRETS.values())) == []


def test_every_container_gets_every_setting_its_service_needs(
    rendered: Manifests, tmp_path: Path
) -> None:
    assert setting_problems(rendered, tmp_path) == []


def test_only_the_front_door_is_reachable_from_outside(rendered: Manifests) -> None:
    assert exposure_problems(rendered) == []


def test_every_deployment_has_a_disruption_budget_and_apis_autoscale(rendered: Manifests) -> None:
    assert availability_problems(rendered) == []


def test_production_runs_gpu_workers_scaled_on_both_queues(production: Manifests) -> None:
    gpu = of_kind(production, "Deployment")["imagesearch-ingestworker-gpu"]
    pod = gpu["spec"]["template"]["spec"]
    worker = pod["containers"][0]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert {"name": "MODEL__DEVICE", "value": "cuda"} in worker["env"]
    assert pod["nodeSelector"] and pod["tolerations"]
    scaled = of_kind(production, "ScaledObject")
    assert set(scaled) == {"imagesearch-ingestworker", "imagesearch-ingestworker-gpu"}
    for scaler in scaled.values():
        lists = {t["metadata"]["listName"] for t in scaler["spec"]["triggers"]}
        assert lists == {"ingest", "variants"}


def test_the_install_hook_migrates_then_bootstraps_before_the_services(default: Manifests) -> None:
    job = of_kind(default, "Job")["imagesearch-migrate"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    pod = job["spec"]["template"]["spec"]
    steps = [c["command"] for c in [*pod["initContainers"], *pod["containers"]]]
    assert steps == [["python", "-m", "ingestapi.migrate"], ["python", "-m", "ingestapi.bootstrap"]]
    # the settings and credentials it reads are hooks too, made before it (lower weight)
    for kind in ("ConfigMap", "Secret"):
        annotations = of_kind(default, kind)["imagesearch-migrate"]["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == job["metadata"]["annotations"]["helm.sh/hook"]
        assert int(annotations["helm.sh/hook-weight"]) < int(
            job["metadata"]["annotations"]["helm.sh/hook-weight"]
        )


def test_the_front_door_takes_client_addresses_from_the_ingress_controller(
    default: Manifests, tmp_path: Path
) -> None:
    snippet = of_kind(default, "ConfigMap")["imagesearch-frontend"]["data"]["real-ip.conf.template"]
    assert (
        "set_real_ip_from 10.0.0.0/8;" in snippet and "real_ip_header X-Forwarded-For;" in snippet
    )
    (tmp_path / "real-ip.conf").write_text(snippet)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; events {{}} http {{ include {tmp_path}/real-ip.conf; }}\n"
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    done = subprocess.run(
        [
            nginx,
            "-t",
            "-q",
            "-e",
            "stderr",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    frontend = of_kind(default, "Deployment")["imagesearch-frontend"]["spec"]["template"]["spec"]
    mounts = {m["mountPath"] for m in frontend["containers"][0]["volumeMounts"]}
    assert "/etc/nginx/templates/real-ip.conf.template" in mounts


def test_production_offers_dashboards_and_service_monitors(production: Manifests) -> None:
    monitors = of_kind(production, "ServiceMonitor")
    assert {m["metadata"]["labels"]["app.kubernetes.io/component"] for m in monitors.values()} == {
        "ingestapi",
        "searchapi",
        "cdnapi",
        "ingestworker",
        "ingestworker-gpu",
    }
    dashboards = [
        m
        for m in production
        if m["kind"] == "ConfigMap" and "grafana_dashboard" in m["metadata"]["labels"]
    ]
    copies = sorted(p.name for p in (CHART / "files" / "dashboards").glob("*.json"))
    assert sorted(k for m in dashboards for k in m["data"]) == copies


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("field", sorted(k for k in TEST_SECRETS if k != "milvusToken"))
def test_chart_refuses_to_render_without_each_credential(field: str) -> None:
    values = secret_values()
    del values[f"secrets.{field}"]
    assert f"secrets.{field} is required" in refusal(DEFAULT_VALUES, values=values)


@pytest.mark.parametrize("word", sorted(PLACEHOLDERS) + ["change-me-please", "MinioAdmin"])
def test_chart_refuses_the_placeholders_the_services_refuse(word: str) -> None:
    stderr = refusal(DEFAULT_VALUES, values=secret_values(s3SecretKey=word))
    assert "secrets.s3SecretKey is a well-known default or placeholder" in stderr


def test_chart_refuses_short_signing_keys() -> None:
    stderr = refusal(DEFAULT_VALUES, values=secret_values(signingSecret="x" * 31))
    assert "secrets.signingSecret must have at least 32 characters" in stderr


def test_chart_refuses_credentials_in_plain_config() -> None:
    values = {**secret_values(), "config.common.minio.secret_key": "s3-secret-8e6c4a2f"}
    assert "config.common.minio.secret_key is a credential" in refusal(
        DEFAULT_VALUES, values=values
    )


def test_chart_refuses_a_moving_image_tag() -> None:
    values = {**secret_values(), "image.tag": "latest"}
    assert "empty and latest are refused" in refusal(DEFAULT_VALUES, values=values)


def test_an_existing_secret_replaces_the_chart_credentials(tmp_path: Path) -> None:
    manifests = render(DEFAULT_VALUES, values={"secrets.existingSecret": "mine"})
    assert of_kind(manifests, "Secret") == {}
    with_secret = [*manifests, existing_secret("mine")]
    assert setting_problems(with_secret, tmp_path) == []
