"""The Milvus vector store against the real Milvus: the alias, the model guard, the start race."""

import threading
import uuid

import pytest

from shared.config import MilvusSettings
from shared.errors import ModelMismatch
from shared.vector_schema import ModelIdentity
from shared.vectors import VectorStore
from tests.support.servers import Servers

MODEL_A = ModelIdentity(name="tiny", weights="a", dim=8)


def _store(servers: Servers, alias: str) -> VectorStore:
    return VectorStore(MilvusSettings(uri=servers.milvus_uri, alias=alias))


def test_services_opening_an_empty_index_together_share_one_collection(servers: Servers) -> None:
    alias = f"race_{uuid.uuid4().hex[:8]}"
    stores = [_store(servers, alias) for _ in range(4)]
    opened: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def open_(store: VectorStore) -> None:
        start.wait()
        try:
            opened.append(store.open(MODEL_A))
        except BaseException as exc:  # noqa: BLE001 (collected for the assertion)
            errors.append(exc)

    threads = [threading.Thread(target=open_, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert len(set(opened)) == 1 and opened[0] == stores[0].target()
    leftovers = [c for c in stores[0].client.list_collections() if c.startswith(f"{alias}_")]
    assert leftovers == opened[:1]


def test_opening_with_another_model_is_refused_with_how_to_reindex(servers: Servers) -> None:
    alias = f"guard_{uuid.uuid4().hex[:8]}"
    _store(servers, alias).open(MODEL_A)
    with pytest.raises(ModelMismatch, match="re-index"):
        _store(servers, alias).open(ModelIdentity(name="tiny", weights="b", dim=8))
