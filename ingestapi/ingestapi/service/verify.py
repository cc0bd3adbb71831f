"""``imgsearch admin verify [--repair]``: do the catalog, the bytes in MinIO and the index agree?

The catalog says which images exist, MinIO holds their bytes, Milvus indexes them. Each check
lists the three sides, then confirms every disagreement with point reads before it reports or
mends it, so an image finishing its ingest during the listing is not taken for a problem. Images
with a job still queued or processing are left to that job.

What ``--repair`` does, kind by kind (the bytes in ``originals/`` are the truth):

| kind | meaning | repair |
|---|---|---|
| index-without-bytes | an index row whose original is gone | drop the row (index and catalog) |
| catalog-without-bytes | a catalog row whose original is gone | drop the row |
| missing-thumbnail | catalogued, original present, no thumbnail | render it again |
| missing-phash | catalogued, original present, no perceptual hash | compute it from the original |
| missing-index-row | catalogued, original present, not searchable | ingest the original again |
| missing-catalog-row | indexed and present, not catalogued | catalogue the index row, hash it |
| orphan-original | bytes that nothing names | ingest them |
| stranded-staging | an upload no job will finish | queue it, or drop it if already done |
| held-without-bytes | a quarantined row whose held original is gone | drop the row |
| orphan-held-bytes | bytes in ``quarantine/`` no quarantined row names | drop them |

A quarantined image (``shared.compliance``) is a catalog row in that state with its bytes under
``quarantine/`` and no index row; the checks above see only the library's (indexed) rows. Bytes
left in ``quarantine/`` come from an admin's delete or release cut short: they are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.config import ImageLimits
from shared.domain import (
    original_key,
    quarantine_key,
    quarantine_thumb_key,
    staging_key,
    thumb_key,
)
from shared.errors import ImageNotFound, InvalidImage, ObjectNotFound
from shared.imaging import DecodedImage, decode_image, make_thumbnail
from shared.logging import get_logger
from shared.phash import perceptual_hash
from shared.storage import ObjectStore
from shared.vectors import VectorStore

log = get_logger(__name__)
# (image_id, filename, params): staged bytes → a new ingest job
Requeue = Callable[[str, str, dict[str, Any]], object]
REINGEST = {"source": "upload", "tags": []}  # the worker keeps what the catalog already knows


@dataclass
class Problem:
    kind: str
    image_id: str
    detail: str
    repaired: bool = False


@dataclass
class VerifyReport:
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def unrepaired(self) -> int:
        return sum(not p.repaired for p in self.problems)


@dataclass
class _Sides:
    catalog: set[str]
    index: set[str]
    originals: set[str]
    thumbs: set[str]
    staging: set[str]
    busy: set[str]
    unhashed: set[str]
    held: set[str]  # quarantined rows
    held_bytes: set[str]  # originals under quarantine/


def _suffix_ids(keys: set[str], prefix: str, suffix: str = "") -> set[str]:
    return {k.removeprefix(prefix).removesuffix(suffix) for k in keys}


class LibraryChecker:
    def __init__(
        self,
        images: ImageCatalog,
        jobs: JobStore,
        objects: ObjectStore,
        vectors: VectorStore,
        requeue: Requeue,
        limits: ImageLimits,
        held: ImageCatalog,
    ) -> None:
        self._images = images
        self._jobs = jobs
        self._objects = objects
        self._vectors = vectors
        self._requeue = requeue
        self._limits = limits
        self._held = held  # the catalog's quarantined images

    def verify(self, repair: bool) -> VerifyReport:
        sides = self._list()
        report = VerifyReport(
            counts={
                "catalog": len(sides.catalog),
                "index": len(sides.index),
                "originals": len(sides.originals),
                "thumbnails": len(sides.thumbs),
                "staging": len(sides.staging),
                "quarantined": len(sides.held),
            }
        )
        for problem in self._candidates(sides):
            if not self._confirmed(problem):
                continue
            if repair:
                self._repair(problem)
            report.problems.append(problem)
            log.warning(
                "library problem",
                kind=problem.kind,
                image_id=problem.image_id,
                repaired=problem.repaired,
            )
        return report

    def _list(self) -> _Sides:
        catalog = {i for batch in self._images.ids() for i in batch}
        index = {i for batch in self._vectors.ids() for i in batch}
        held_keys = {k for k in self._objects.keys("quarantine/") if not k.endswith(".webp")}
        return _Sides(
            catalog=catalog,
            index=index,
            originals=_suffix_ids(set(self._objects.keys("originals/")), "originals/"),
            thumbs=_suffix_ids(set(self._objects.keys("thumbs/")), "thumbs/", ".webp"),
            staging=_suffix_ids(set(self._objects.keys("staging/")), "staging/"),
            busy=self._jobs.busy_image_ids(),
            unhashed=self._images.unhashed_ids(),
            held={i for batch in self._held.ids() for i in batch},
            held_bytes=_suffix_ids(held_keys, "quarantine/"),
        )

    def _candidates(self, s: _Sides) -> list[Problem]:
        settled = (s.catalog | s.index | s.originals) - s.busy
        found = [
            Problem("index-without-bytes", i, "indexed, but its original is gone")
            for i in sorted((s.index - s.originals) & settled)
        ]
        found += [
            Problem("catalog-without-bytes", i, "catalogued, but its original is gone")
            for i in sorted((s.catalog - s.originals - s.index) & settled)
        ]
        found += [
            Problem("missing-thumbnail", i, "no thumbnail")
            for i in sorted((s.catalog & s.originals) - s.thumbs - s.busy)
        ]
        found += [
            Problem("missing-phash", i, "no perceptual hash (duplicate search misses it)")
            for i in sorted((s.catalog & s.originals & s.unhashed) - s.busy)
        ]
        found += [
            Problem("missing-index-row", i, "catalogued, but not searchable")
            for i in sorted((s.catalog & s.originals) - s.index - s.busy)
        ]
        found += [
            Problem("missing-catalog-row", i, "indexed, but not in the catalog")
            for i in sorted((s.index & s.originals) - s.catalog - s.busy)
        ]
        found += [
            Problem("orphan-original", i, "bytes no catalog row or index row names")
            for i in sorted(s.originals - s.catalog - s.index - s.staging - s.busy)
        ]
        found += [
            Problem("stranded-staging", i, "an upload no job is working on")
            for i in sorted(s.staging - s.busy)
        ]
        found += [
            Problem("held-without-bytes", i, "quarantined, but its original is gone")
            for i in sorted(s.held - s.held_bytes - s.busy)
        ]
        found += [
            Problem("orphan-held-bytes", i, "bytes in quarantine no quarantined row names")
            for i in sorted(s.held_bytes - s.held - s.busy)
        ]
        return found

    def _confirmed(self, problem: Problem) -> bool:
        """Read the image's sides again, one by one: true when the problem still holds."""
        image_id = problem.image_id
        if image_id in self._jobs.busy_image_ids([image_id]):
            return False
        has_original = self._objects.exists(original_key(image_id))
        in_catalog = bool(self._images.existing_ids([image_id]))
        in_index = bool(self._vectors.existing_ids([image_id]))
        held = bool(self._held.existing_ids([image_id]))
        has_held_bytes = self._objects.exists(quarantine_key(image_id))
        return {
            "index-without-bytes": in_index and not has_original,
            "catalog-without-bytes": in_catalog and not has_original and not in_index,
            "missing-thumbnail": in_catalog
            and has_original
            and not self._objects.exists(thumb_key(image_id)),
            "missing-phash": in_catalog and has_original and self._unhashed(image_id),
            "missing-index-row": in_catalog and has_original and not in_index,
            "missing-catalog-row": in_index and has_original and not in_catalog,
            "orphan-original": has_original and not in_catalog and not in_index,
            "stranded-staging": self._objects.exists(staging_key(image_id)),
            "held-without-bytes": held and not has_held_bytes,
            "orphan-held-bytes": has_held_bytes and not held,
        }[problem.kind]

    def _repair(self, problem: Problem) -> None:
        image_id = problem.image_id
        kind = problem.kind
        if kind in ("index-without-bytes", "catalog-without-bytes"):
            self._vectors.delete([image_id])
            self._images.delete(image_id)
            self._objects.delete(thumb_key(image_id))
        elif kind == "missing-thumbnail":
            self._render_thumbnail(image_id)
        elif kind == "missing-phash":
            self._hash(image_id)
        elif kind in ("missing-index-row", "orphan-original"):
            self._ingest_again(image_id)
        elif kind == "missing-catalog-row":
            self._images.add(self._vectors.get([image_id], strong=True))
            self._hash(image_id)  # the index keeps no perceptual hash
        elif kind == "stranded-staging":
            if self._images.existing_ids([image_id]) and self._vectors.existing_ids([image_id]):
                self._objects.delete(staging_key(image_id))
            else:
                self._requeue(image_id, self._filename(image_id), REINGEST)
        elif kind == "held-without-bytes":
            self._held.delete(image_id)
            self._objects.delete(quarantine_thumb_key(image_id))
        elif kind == "orphan-held-bytes":
            self._objects.delete(quarantine_thumb_key(image_id))
            self._objects.delete(quarantine_key(image_id))
        problem.repaired = True

    def _render_thumbnail(self, image_id: str) -> None:
        if decoded := self._decoded_original(image_id):
            self._objects.put(thumb_key(image_id), make_thumbnail(decoded.image), "image/webp")

    def _hash(self, image_id: str) -> None:
        if decoded := self._decoded_original(image_id):
            self._images.set_phash(image_id, perceptual_hash(decoded.image))

    def _decoded_original(self, image_id: str) -> DecodedImage | None:
        try:
            return decode_image(self._objects.get(original_key(image_id)), self._limits.max_pixels)
        except (InvalidImage, ObjectNotFound):
            return None

    def _unhashed(self, image_id: str) -> bool:
        try:
            return self._images.get(image_id).phash is None
        except ImageNotFound:
            return False

    def _ingest_again(self, image_id: str) -> None:
        """Stage the original again and queue a job: the worker rebuilds what is missing and
        keeps what the catalog already knows (filename, ingest time, tags)."""
        data = self._objects.get(original_key(image_id))
        content_type = self._objects.stat(original_key(image_id)).content_type
        self._objects.put(staging_key(image_id), data, content_type)
        self._requeue(image_id, self._filename(image_id), REINGEST)

    def _filename(self, image_id: str) -> str:
        try:
            return self._images.get(image_id).filename
        except ImageNotFound:
            return image_id
