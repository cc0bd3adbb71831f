"""``imgsearch admin backup DIR`` / ``restore DIR``: the work behind the two commands.

They run where the services' configuration is (conf/*.yaml and the environment, read by the same
loader as searchapi's) and talk to the catalog, MinIO and Milvus directly: a backup must not need
the APIs up. The work is ``searchapi.service.backup.LibraryBackup``; restore then rebuilds the
index from the originals with the one re-index mechanism (``Reindexer``) and the configured model.
Restart searchapi and the workers afterwards: they hold the collection they opened at start.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from searchapi.config import SearchSettings
from searchapi.container import Container
from searchapi.service.backup import BackupSummary, RestoreSummary
from shared.logging import configure_logging


def _container(task: str) -> Container:
    settings = SearchSettings()
    configure_logging(settings.log, task)
    return Container(settings=settings)


def backup(directory: Path, force: bool) -> BackupSummary:
    return _container("backup").library_backup().backup(directory, force)


def restore(directory: Path, force: bool) -> RestoreSummary:
    container = _container("restore")
    library = container.library_backup()
    restored = library.restore(directory, force)
    batch_size = container.embedder().batch_size  # the configured one, else sized for the device
    collection = container.reindexer(batch_size=batch_size).run(drop_previous=True)
    model = container.embedder().identity.key
    return replace(restored, collection=collection, indexed=library.indexed(), model=model)
