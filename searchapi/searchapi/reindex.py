"""``python -m searchapi.reindex`` (``make reindex``): re-embed every original with the configured
model into a new collection, then move the ``images`` alias to it in one step.

Search keeps answering throughout: running services read the collection they verified at start,
and the alias moves only when the new collection is complete. After the move, restart searchapi
and the workers with the new model configuration (they refuse to start otherwise).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

from searchapi.config import SearchSettings
from shared.domain import ImageRecord, original_key
from shared.embedding import ClipEmbedder
from shared.errors import InvalidImage
from shared.imaging import decode_image
from shared.logging import configure_logging, get_logger
from shared.storage import ObjectStore
from shared.vectors import VectorStore

log = get_logger("reindex")
ORIGINALS = "originals/"


class Reindexer:
    def __init__(self, settings: SearchSettings, batch_size: int) -> None:
        self.settings = settings
        self.batch_size = batch_size
        self.embedder = ClipEmbedder(settings.model)
        self.objects = ObjectStore(settings.minio)
        self.target = VectorStore(settings.milvus)  # writes go to the new collection
        self.previous = VectorStore(settings.milvus)  # metadata comes from the old one

    def run(self, drop_previous: bool) -> str:
        self.embedder.load()
        old = self.target.target()
        self.previous.collection = old
        new = self.target.create_collection(self.embedder.identity)
        self.target.collection = new
        self.target.load(new)
        log.info("re-index started", old=old, new=new, model=self.embedder.identity.key)
        self._copy_missing()  # the bulk of the work, while search uses the old collection
        self.target.switch_alias(new)
        log.info("alias moved", alias=self.target.alias, collection=new)
        self._copy_missing()  # images that landed in the old collection meanwhile
        if drop_previous and old:
            self.target.drop_collection(old)
            log.info("dropped previous collection", collection=old)
        return new

    def _copy_missing(self) -> None:
        for batch in self._batches(self._ids()):
            present = self.target.existing_ids(batch)
            missing = [i for i in batch if i not in present]
            if missing:
                self.target.upsert(self._records(missing))
                log.info("re-embedded", images=len(missing))

    def _ids(self) -> Iterator[str]:
        for key in self.objects.keys(ORIGINALS):
            yield key.removeprefix(ORIGINALS)

    def _batches(self, ids: Iterator[str]) -> Iterator[list[str]]:
        batch: list[str] = []
        for image_id in ids:
            batch.append(image_id)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _records(self, ids: list[str]) -> list[ImageRecord]:
        known = (
            {r.id: r for r in self.previous.get(ids, strong=True)}
            if self.previous.collection
            else {}
        )
        records, images = [], []
        for image_id in ids:
            data = self.objects.get(original_key(image_id))
            try:
                decoded = decode_image(data, max_pixels=self.settings.search.max_pixels)
            except InvalidImage as exc:
                log.warning("skipped undecodable original", image_id=image_id, reason=exc.detail)
                continue
            old = known.get(image_id)
            records.append(
                ImageRecord(
                    id=image_id,
                    width=decoded.info.width,
                    height=decoded.info.height,
                    bytes=len(data),
                    format=decoded.info.format,
                    filename=old.filename if old else image_id,
                    ingested_at=old.ingested_at if old else int(time.time() * 1000),
                    meta=old.meta if old else {"exif": decoded.exif, "source": "reindex"},
                )
            )
            images.append(decoded.image)
        if images:
            for record, vector in zip(records, self.embedder.embed_images(images), strict=True):
                record.embedding = vector
        return records


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--drop-previous", action="store_true", help="drop the old collection after"
    )
    args = parser.parse_args(argv)
    settings = SearchSettings()
    configure_logging(settings.log, "reindex")
    started = time.perf_counter()
    new = Reindexer(settings, args.batch_size).run(args.drop_previous)
    log.info("re-index done", collection=new, seconds=round(time.perf_counter() - started, 1))
    print(
        f"'{settings.milvus.alias}' now points at {new}. Restart searchapi and the workers with "
        f"MODEL__NAME={settings.model.name} MODEL__PRETRAINED={settings.model.pretrained}."
    )


if __name__ == "__main__":
    main()
