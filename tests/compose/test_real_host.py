"""Static checks that the Compose path starts on a real host: what a first `up` needs that
`docker compose config` accepts either way.

The first tests run the checks on the real files (docker-compose.yml as Compose resolves it,
docker/docker.mk as make plans it); the last feed them broken examples, so every check is seen
to fail when it should.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.compose.checks import COMPOSE_FILE, MAKE_DOCKER_MK, services
from tests.compose.real_host import (
    bucket_init_problems,
    compose_version_problems,
    conf_value,
    dev_message_queue,
    locked_version,
    message_queue_problems,
    milvus_server_problems,
    offline_problems,
    shared_image_problems,
)

MODEL_USERS = ["ingestworker", "ingestworker-gpu", "searchapi"]


def _docker_init_plan(directory: Path) -> str:
    (directory / ".env").write_text("")  # docker-init's own prerequisite, there already
    return subprocess.run(
        [*MAKE_DOCKER_MK, "-n", "docker-init"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


# ---------------------------------------------------------------- the real files


def test_cdnapi_starts_after_a_one_shot_job_made_its_bucket() -> None:
    svcs = services()
    bucket = svcs["cdnapi"]["environment"].get("MINIO__BUCKET") or conf_value(
        "cdnapi", "minio", "bucket"
    )
    assert bucket == "images"
    assert bucket_init_problems(svcs, "cdnapi", bucket) == []


def test_compose_runs_the_milvus_release_the_tests_run_with_its_queue_set() -> None:
    milvus = services()["milvus"]
    assert milvus_server_problems(milvus["image"], locked_version("milvus")) == []
    assert dev_message_queue() == "rocksmq"
    assert message_queue_problems(milvus["environment"], dev_message_queue()) == []


def test_model_users_stay_offline_and_only_the_prefetch_reaches_the_hub(tmp_path: Path) -> None:
    assert offline_problems(services(), MODEL_USERS, _docker_init_plan(tmp_path)) == []


def test_cpu_and_gpu_workers_run_one_image_built_once() -> None:
    assert shared_image_problems(services(), "ingestworker", "ingestworker-gpu") == []


def test_the_file_names_the_compose_release_its_features_need() -> None:
    assert compose_version_problems(COMPOSE_FILE.read_text()) == []


# ---------------------------------------------------------------- each check can fail


def test_the_real_host_checks_find_what_is_broken() -> None:
    healthy = {"minio": {"condition": "service_healthy"}}
    init = {"restart": "no", "command": ["mc mb --ignore-existing s3/images"]}
    svcs = {
        "minio": {},
        "cdn": {
            "environment": {"MINIO__ENDPOINT": "minio:9000"},
            "depends_on": {"init": {"condition": "service_completed_successfully"}},
        },
        "init": init,  # another MinIO's address, and no wait for MinIO's health
    }
    assert len(bucket_init_problems(svcs, "cdn", "images")) == 2
    svcs["init"] = {**init, "command": ["mc alias set s3 http://minio:9000 u p && mc mb s3/x"]}
    assert len(bucket_init_problems(svcs, "cdn", "images")) == 1  # another bucket
    svcs["init"] = {**svcs["init"], "restart": "unless-stopped", "depends_on": healthy}
    assert len(bucket_init_problems(svcs, "cdn", "images")) == 1  # no one-shot job

    assert milvus_server_problems("milvusdb/milvus:v2.6.16", "2.3.5")
    assert milvus_server_problems("milvusdb/milvus:v2.3.5", "2.3.5") == []
    assert message_queue_problems({}, "rocksmq")
    assert message_queue_problems({"MQ_TYPE": "woodpecker"}, "rocksmq")

    svcs = {"w": {"environment": {"HF_HUB_OFFLINE": "0"}}, "s": {"environment": {}}}
    online_prefetch = "docker compose run --rm ingestworker python -m ingestworker.prefetch"
    assert len(offline_problems(svcs, ["w", "s"], online_prefetch)) == 3

    build = {"context": ".", "dockerfile": "docker/ingestworker.Dockerfile"}
    svcs = {"cpu": {"build": build}, "gpu": {"build": build, "image": "gpu"}}
    assert len(shared_image_problems(svcs, "cpu", "gpu")) == 4

    restart = (
        "services:\n  a:\n    depends_on:\n      b: {condition: service_healthy, restart: true}\n"
    )
    assert compose_version_problems(restart)  # no stated minimum
    assert compose_version_problems("# Needs Compose 2.16 or newer\n" + restart)
    assert compose_version_problems("# Needs Compose 2.17 or newer\n" + restart) == []
    include = "# Needs Compose 2.17 or newer\ninclude: [other.yml]\nservices: {}\n"
    assert compose_version_problems(include)
