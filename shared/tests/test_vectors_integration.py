"""The Milvus index and rows against the real Milvus: the alias, the model guard, the start race,
which collection a store reads once the alias moves, and the library sample."""

import hashlib
import threading
import uuid

import numpy as np
import pytest

from shared.config import MilvusSettings
from shared.domain import ImageRecord
from shared.errors import ModelMismatch
from shared.vector_index import VectorIndex
from shared.vector_schema import ModelIdentity
from shared.vectors import VectorStore
from tests.support.processes import wait_until
from tests.support.servers import Servers

MODEL_A = ModelIdentity(name="tiny", weights="a", dim=8)
MODEL_B = ModelIdentity(name="tiny", weights="b", dim=8)


def _index(servers: Servers, alias: str) -> VectorIndex:
    return VectorIndex(MilvusSettings(uri=servers.milvus_uri, alias=alias))


def _record(image_id: str) -> ImageRecord:
    return ImageRecord(
        id=image_id,
        width=1,
        height=1,
        bytes=1,
        format="PNG",
        filename=f"{image_id}.png",
        ingested_at=0,
        embedding=np.ones(8, dtype=np.float32),
    )


def test_services_opening_an_empty_index_together_share_one_collection(servers: Servers) -> None:
    alias = f"race_{uuid.uuid4().hex[:8]}"
    indexes = [_index(servers, alias) for _ in range(4)]
    opened: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(indexes))

    def open_(index: VectorIndex) -> None:
        start.wait()
        try:
            opened.append(index.open(MODEL_A))
        except BaseException as exc:  # noqa: BLE001 (collected for the assertion)
            errors.append(exc)

    threads = [threading.Thread(target=open_, args=(i,)) for i in indexes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert len(set(opened)) == 1 and opened[0] == indexes[0].target()
    leftovers = [c for c in indexes[0].client.list_collections() if c.startswith(f"{alias}_")]
    assert leftovers == opened[:1]


def test_opening_with_another_model_is_refused_with_how_to_reindex(servers: Servers) -> None:
    alias = f"guard_{uuid.uuid4().hex[:8]}"
    _index(servers, alias).open(MODEL_A)
    with pytest.raises(ModelMismatch, match="re-index"):
        _index(servers, alias).open(MODEL_B)


def test_a_store_keeps_its_opened_collection_when_the_alias_moves(servers: Servers) -> None:
    alias = f"moves_{uuid.uuid4().hex[:8]}"
    opened = _index(servers, alias)
    first = opened.open(MODEL_A)
    on_first = VectorStore(opened)
    on_first.upsert([_record("old")])
    second = opened.create_collection(MODEL_B)
    opened.load(second)
    VectorStore(opened, second).upsert([_record("new")])

    assert opened.switch_alias(second) == first
    assert on_first.existing_ids(["old", "new"]) == {"old"}
    through_alias = VectorStore(_index(servers, alias))
    assert through_alias.existing_ids(["old", "new"]) == {"new"}


def test_a_sample_draws_from_old_and_new_rows_and_scores_come_alone(servers: Servers) -> None:
    index = _index(servers, f"sample_{uuid.uuid4().hex[:8]}")
    index.open(MODEL_A)
    store = VectorStore(index)
    old, new = np.eye(8, dtype=np.float32)[:2]
    records = [_record(hashlib.sha256(str(i).encode()).hexdigest()) for i in range(300)]
    for i, record in enumerate(records):
        record.embedding = old if i < 150 else new
    store.upsert(records[:150])
    store.upsert(records[150:])
    ids = [r.id for r in records]
    wait_until(lambda: len(store.get(ids)) == len(ids), 30, "every row readable")

    assert store.sample(512).shape == (300, 8)  # a library smaller than the sample: all of it
    some = store.sample(64)
    assert 24 <= len(some) <= 64
    assert {tuple(row) for row in some} == {tuple(old), tuple(new)}
    assert store.scores(old, 3) == pytest.approx([1.0, 1.0, 1.0])
