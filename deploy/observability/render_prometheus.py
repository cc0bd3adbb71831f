"""Render the Prometheus config of ``make observe`` (Prometheus beside ``make dev``) from Compose's.

The jobs, their settings and the rules stay those of ``prometheus/prometheus.yml``, so dashboards
and alerts read the same ``job`` labels in both; only the addresses change, to the native stack's
loopback ports or to those given with ``--target`` (the tests give their own). A job with no
native target (the Redis and node exporters run in Compose only) is left out. Outside Compose,
MinIO's metrics need a bearer token: a JWT signed with MinIO's secret key, the one
``mc admin prometheus generate`` makes.

    python deploy/observability/render_prometheus.py --out run/observe/prometheus.yml
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

import jwt
import yaml
from jwt.warnings import InsecureKeyLengthWarning

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
COMPOSE_CONFIG = HERE / "prometheus" / "prometheus.yml"
RULES = HERE / "prometheus" / "rules"
# make dev's loopback ports (tools/dev_env.py); Milvus picks its metrics port per data directory
DEV_TARGETS = {
    "ingestapi": "127.0.0.1:8000",
    "searchapi": "127.0.0.1:8001",
    "cdnapi": "127.0.0.1:8002",
    "ingestworker": "127.0.0.1:8003",
    "minio": "127.0.0.1:9000",
}
TOKEN_YEARS = 100  # as long-lived as mc's: it is only as secret as the key that signs it


def minio_token(access_key: str, secret_key: str) -> str:
    expires = int(time.time()) + TOKEN_YEARS * 365 * 24 * 3600
    claims = {"exp": expires, "sub": access_key, "iss": "prometheus"}
    with warnings.catch_warnings():  # MinIO's key is what it is (make dev's: 10 characters)
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, secret_key, algorithm="HS512")


def milvus_target(data_dir: Path) -> str | None:
    """Milvus's metrics address, from the ports tools/milvusd.py keeps for its data directory."""
    ports = data_dir / "ports.json"
    if not ports.exists():
        return None
    return f"127.0.0.1:{json.loads(ports.read_text())['metrics_port']}"


def render(
    targets: dict[str, str], interval: str | None, minio_credentials: tuple[str, str]
) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(COMPOSE_CONFIG.read_text())
    if interval:
        config["global"] = {"scrape_interval": interval, "evaluation_interval": interval}
    config["rule_files"] = [str(RULES / "*.yml")]
    jobs = []
    for job in config["scrape_configs"]:
        name = job["job_name"]
        if name not in targets:
            continue
        job = {k: v for k, v in job.items() if not k.endswith("_sd_configs")}
        job["static_configs"] = [{"targets": [targets[name]]}]
        if name == "minio":
            job["authorization"] = {"credentials": minio_token(*minio_credentials)}
        jobs.append(job)
    config["scrape_configs"] = jobs
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="JOB=HOST:PORT",
        help="scrape these instead of make dev's services (repeat per job)",
    )
    parser.add_argument("--listen", default="127.0.0.1:9090", help="Prometheus's own address")
    parser.add_argument("--interval", help="scrape and rule interval (default: Compose's)")
    parser.add_argument("--milvus-data", type=Path, default=ROOT / "data" / "milvus")
    parser.add_argument("--minio-user", default=os.environ.get("MINIO__ACCESS_KEY", "minioadmin"))
    parser.add_argument(
        "--minio-password", default=os.environ.get("MINIO__SECRET_KEY", "minioadmin")
    )
    args = parser.parse_args()

    if args.target:
        targets = dict(given.split("=", 1) for given in args.target)
    else:
        targets = dict(DEV_TARGETS)
        if milvus := milvus_target(args.milvus_data):
            targets["milvus"] = milvus
    targets["prometheus"] = args.listen
    config = render(targets, args.interval, (args.minio_user, args.minio_password))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(yaml.safe_dump(config, sort_keys=False))


if __name__ == "__main__":
    main()
