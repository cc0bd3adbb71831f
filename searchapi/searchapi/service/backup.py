"""Back a library up into a folder, and put one back into an empty stack.

Backup: the catalog's snapshot first (``shared.catalog.snapshot``), then every object under the
library's prefixes, copied to ``objects/<key>``; the manifest is written last, so a folder without
one is not a backup. An object deleted between the snapshot and its copy is simply not there; a
row of the snapshot whose original is not there is reported (``missing_originals``).

Restore: only into an empty stack (no catalogued image, no object in the bucket) unless forced;
every file is checked against the manifest before anything is written. Then the catalog is put
back and migrated to the newest schema, rows reported without an original are dropped (as
``admin verify --repair`` would), jobs that were unfinished are marked failed (their queue
messages are not in the backup), and the objects go back with their content types. The vectors
are not in a backup: the caller rebuilds the index from the originals with the re-indexer.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select

from searchapi.service.backup_manifest import (
    MANIFEST,
    PREFIXES,
    BackupRefused,
    Manifest,
    StoredObject,
    object_path,
    sha256_file,
)
from shared.catalog import migrate, snapshot
from shared.catalog.db import Catalog
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import state_change
from shared.catalog.models import JobRow
from shared.config import ModelSettings
from shared.domain import JobState
from shared.embedding import weights_id
from shared.errors import DependencyUnavailable, ObjectNotFound
from shared.logging import get_logger
from shared.storage import ObjectStore
from shared.vector_index import VectorIndex
from shared.vectors import VectorStore

log = get_logger(__name__)
T = TypeVar("T")
R = TypeVar("R")
UNFINISHED = "not finished when the backup was taken"
ORIGINALS = ("originals/", "quarantine/")  # where an image's original may lie


@dataclass
class BackupSummary:
    images: int
    objects: int
    bytes: int
    missing_originals: list[str]


@dataclass
class RestoreSummary:
    images: int
    objects: int
    bytes: int
    dropped_rows: list[str]  # catalogued without an original when the backup was taken
    failed_jobs: int
    backup_model: str | None  # the model the backup's index was built with, if known
    indexed: int = 0
    collection: str = ""
    model: str = ""  # the model the index is rebuilt with: the configured one


class LibraryBackup:
    def __init__(
        self,
        catalog: Catalog,
        images: ImageCatalog,
        objects: ObjectStore,
        index: VectorIndex,
        model: ModelSettings,
        threads: int = 8,
    ) -> None:
        self._catalog = catalog
        self._images = images
        self._objects = objects
        self._index = index
        self._model = model
        self._threads = threads

    def backup(self, directory: Path, force: bool) -> BackupSummary:
        if directory.exists() and any(directory.iterdir()) and not force:
            raise BackupRefused(f"{directory} is not empty (--force writes over it)")
        directory.mkdir(parents=True, exist_ok=True)
        (directory / MANIFEST).unlink(missing_ok=True)  # a half-written backup has none
        taken = snapshot.dump(self._catalog, directory)
        stored = self._copy_objects(directory)  # after the snapshot: it names no newer image
        present = {key.split("/", 1)[1] for key in stored if key.startswith(ORIGINALS)}
        missing = sorted(taken.image_ids - present)
        catalog_file = directory / snapshot.file_name(taken.kind)
        Manifest(
            created_at=int(time.time() * 1000),
            catalog_kind=taken.kind,
            catalog_file=catalog_file.name,
            catalog_sha256=sha256_file(catalog_file) or "",
            schema_revision=taken.revision,
            index_model=self._index_model(),
            configured_model=f"{self._model.name}/{weights_id(self._model.pretrained)}",
            objects=stored,
            missing_originals=missing,
        ).write(directory)
        for image_id in missing:
            log.warning("backup: catalogued without an original", image_id=image_id)
        size = sum(found.size for found in stored.values())
        log.info("backup written", images=len(taken.image_ids), objects=len(stored), bytes=size)
        return BackupSummary(len(taken.image_ids), len(stored), size, missing)

    def restore(self, directory: Path, force: bool) -> RestoreSummary:
        manifest = Manifest.read(directory)
        if manifest.catalog_kind != self._catalog.dialect:
            raise BackupRefused(
                f"a {manifest.catalog_kind} backup restores into a {manifest.catalog_kind} "
                f"catalog, not {self._catalog.dialect}"
            )
        if bad := manifest.mismatches(directory):
            raise BackupRefused(
                f"{len(bad)} file(s) missing or changed since the backup, first {bad[0]}: "
                "nothing restored"
            )
        self._objects.ensure_bucket()
        if not force:
            self._refuse_unless_empty()
        snapshot.load(self._catalog, directory / manifest.catalog_file)
        migrate.upgrade(self._catalog)
        dropped = [i for i in manifest.missing_originals if self._images.delete(i)]
        failed = self._fail_unfinished_jobs()
        keys = sorted(manifest.objects)
        self._parallel(lambda key: self._put_back(directory, key, manifest.objects[key]), keys)
        size = sum(found.size for found in manifest.objects.values())
        log.info("catalog and objects restored", objects=len(keys), bytes=size)
        return RestoreSummary(
            self._images.count(), len(keys), size, dropped, failed, manifest.index_model
        )

    def indexed(self) -> int:
        """Catalogued images the index (behind its alias) holds, read with Strong consistency."""
        vectors = VectorStore(self._index)
        return sum(len(vectors.existing_ids(batch)) for batch in self._images.ids())

    def _refuse_unless_empty(self) -> None:
        images = snapshot.image_count(self._catalog)
        has_objects = next(iter(self._objects.keys("")), None) is not None
        if images or has_objects:
            held = f"{images} catalogued images" if images else "objects in its bucket"
            raise BackupRefused(f"the stack is not empty: it has {held} (--force replaces it)")

    def _copy_objects(self, directory: Path) -> dict[str, StoredObject]:
        keys = [key for prefix in PREFIXES for key in self._objects.keys(prefix)]
        copied = self._parallel(lambda key: (key, self._copy_out(directory, key)), keys)
        return {key: found for key, found in copied if found is not None}

    def _copy_out(self, directory: Path, key: str) -> StoredObject | None:
        try:
            content_type = self._objects.stat(key).content_type
            data = self._objects.get(key)
        except ObjectNotFound:
            return None  # deleted after the snapshot: the manifest reports a row left without it
        path = object_path(directory, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return StoredObject(hashlib.sha256(data).hexdigest(), len(data), content_type)

    def _put_back(self, directory: Path, key: str, stored: StoredObject) -> None:
        self._objects.put(key, object_path(directory, key).read_bytes(), stored.content_type)

    def _fail_unfinished_jobs(self) -> int:
        busy = (JobState.QUEUED.value, JobState.PROCESSING.value)
        with self._catalog.session() as session:
            ids = list(session.scalars(select(JobRow.id).where(JobRow.state.in_(busy))))
            if ids:
                session.execute(state_change(ids, JobState.FAILED, UNFINISHED))
        return len(ids)

    def _index_model(self) -> str | None:
        """The model behind the index now; unknown (None) when Milvus does not answer, which
        does not stop a backup: the index is rebuilt from the originals on restore anyway."""
        try:
            collection = self._index.target()
            return self._index.model_of(collection) if collection else None
        except DependencyUnavailable:
            log.warning("backup: vector database unreachable, index model not recorded")
            return None

    def _parallel(self, work: Callable[[T], R], items: Iterable[T]) -> list[R]:
        with ThreadPoolExecutor(self._threads, thread_name_prefix="backup") as pool:
            return list(pool.map(work, items))
