"""Checks of how the rendered workloads are reached and kept running: only the front door takes
outside traffic, every Deployment has a disruption budget, and what autoscales leaves its
replica count to its autoscaler. Each returns the problems it finds.
"""

from __future__ import annotations

from typing import Any

from tests.deploy.policy import Manifest, name_of

FRONT_DOOR = "frontend"
APIS = ("ingestapi", "searchapi", "cdnapi")
COMPONENT = "app.kubernetes.io/component"


def component_of(manifest: Manifest) -> str:
    return str(manifest["metadata"].get("labels", {}).get(COMPONENT, ""))


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels", {})
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def pod_labels(manifest: Manifest) -> dict[str, str]:
    labels: dict[str, str] = manifest["spec"]["template"]["metadata"]["labels"]
    return labels


def exposure_problems(manifests: list[Manifest]) -> list[str]:
    """No Service outside the cluster network; the Ingress leads to the front door only; every
    pod starts from a default-deny policy, only the front door's opens to anyone, and the
    front door may reach each API."""
    services = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "Service"}
    problems = [
        f"{name_of(s)}: type {s['spec']['type']} (not ClusterIP)"
        for s in services.values()
        if s["spec"].get("type", "ClusterIP") != "ClusterIP"
    ]
    for ingress in (m for m in manifests if m["kind"] == "Ingress"):
        for rule in ingress["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                target = path["backend"]["service"]["name"]
                if component_of(services.get(target, {"metadata": {}})) != FRONT_DOOR:
                    problems.append(f"{name_of(ingress)}: leads to {target}, not the front door")
    return problems + network_problems(manifests)


def network_problems(manifests: list[Manifest]) -> list[str]:
    policies = [m for m in manifests if m["kind"] == "NetworkPolicy"]
    problems = []
    for pod in (m for m in manifests if m["kind"] in ("Deployment", "Job")):
        mine = [p["spec"] for p in policies if selects(p["spec"]["podSelector"], pod_labels(pod))]
        if not any("Ingress" in p["policyTypes"] and not p.get("ingress") for p in mine):
            problems.append(f"{name_of(pod)}: no default-deny ingress policy selects its pods")
        rules = [rule for p in mine for rule in p.get("ingress", [])]
        if any(not rule.get("from") for rule in rules) and component_of(pod) != FRONT_DOOR:
            problems.append(f"{name_of(pod)}: a NetworkPolicy lets anyone connect")
        peers = [peer.get("podSelector", {}) for rule in rules for peer in rule.get("from", [])]
        front_door = {"matchLabels": {COMPONENT: FRONT_DOOR}}
        if component_of(pod) in APIS and not any(
            selects(front_door, p.get("matchLabels", {})) for p in peers
        ):
            problems.append(f"{name_of(pod)}: the front door may not connect")
    return problems


def availability_problems(manifests: list[Manifest]) -> list[str]:
    """Every Deployment has a PodDisruptionBudget; the APIs have an HPA; a Deployment scaled by
    an HPA or a KEDA ScaledObject does not also pin its replica count."""
    problems = []
    budgets = [m for m in manifests if m["kind"] == "PodDisruptionBudget"]
    scalers = {
        m["spec"]["scaleTargetRef"]["name"]: m
        for m in manifests
        if m["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")
    }
    for deployment in (m for m in manifests if m["kind"] == "Deployment"):
        where = name_of(deployment)
        if not any(selects(b["spec"]["selector"], pod_labels(deployment)) for b in budgets):
            problems.append(f"{where}: no PodDisruptionBudget")
        scaler = scalers.get(deployment["metadata"]["name"])
        if (
            component_of(deployment) in APIS
            and (scaler or {}).get("kind") != "HorizontalPodAutoscaler"
        ):
            problems.append(f"{where}: an API without a HorizontalPodAutoscaler")
        if scaler and "replicas" in deployment["spec"]:
            problems.append(f"{where}: sets replicas although {name_of(scaler)} scales it")
    return problems
