"""Images in the catalog: the rows the worker writes when an image becomes searchable, and the
reads Milvus cannot serve (newest first, counts, filters by source, tag and camera, tag edits, the
perceptual hashes duplicate search compares).

An ``ImageCatalog`` sees the images in one state: ``indexed`` (the library) unless built for
``quarantined`` (held by a compliance check for an admin's review). Rows in another state are
absent to it in every read, count and edit, so a held image never shows in listings, duplicates
or re-indexing, and releasing one is writing its row through the library's catalog.

Pages use keyset cursors, ``(sort key, id)``: an image ingested while someone pages through the
library never shifts what the next page holds.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, Select, and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.catalog.db import Catalog
from shared.catalog.jobs import state_change
from shared.catalog.models import ImageRow, ImageTag
from shared.domain import ImageRecord, JobState, normalise_tags
from shared.errors import ImageNotFound, InvalidInput
from shared.imaging import MIME_TYPES

Sort = Literal["newest", "oldest", "name"]
INDEXED = "indexed"
QUARANTINED = "quarantined"
_FINISHED = {INDEXED: JobState.DONE, QUARANTINED: JobState.QUARANTINED}


@dataclass(frozen=True)
class ImageQuery:
    sort: Sort = "newest"
    source: str | None = None
    tag: str | None = None
    limit: int = 50
    cursor: str | None = None
    camera_id: str | None = None


@dataclass(frozen=True)
class HashedImage:
    """What duplicate search weighs of an image: its perceptual hash, and its size (the largest
    copy is shown first)."""

    id: str
    phash: str
    pixels: int
    bytes: int


@dataclass
class ImagePage:
    records: list[ImageRecord]
    total: int
    next_cursor: str | None


def _record(row: ImageRow) -> ImageRecord:
    return ImageRecord(
        id=row.id,
        width=row.width,
        height=row.height,
        bytes=row.bytes,
        format=row.format,
        filename=row.filename,
        ingested_at=row.ingested_at,
        meta={"exif": row.exif},
        source=row.source,
        camera_id=row.camera_id,
        captured_at=row.captured_at,
        tags=[t.tag for t in row.tags],
        phash=row.phash,
    )


def _row(record: ImageRecord) -> ImageRow:
    return ImageRow(
        id=record.id,
        filename=record.filename,
        mime=MIME_TYPES.get(record.format, "application/octet-stream"),
        format=record.format,
        width=record.width,
        height=record.height,
        bytes=record.bytes,
        ingested_at=record.ingested_at,
        source=record.source,
        camera_id=record.camera_id,
        captured_at=record.captured_at,
        exif=record.meta.get("exif", {}),
        state="indexed",
        tags=[ImageTag(tag=tag) for tag in record.tags],
        phash=record.phash,
    )


def _sort_key(sort: Sort, row: ImageRow) -> list[Any]:
    return [row.filename if sort == "name" else row.ingested_at, row.id]


def encode_cursor(sort: Sort, key: list[Any]) -> str:
    raw = json.dumps([sort, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: Sort, cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found_sort, key, image_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidInput("the cursor is not one this service gave out") from exc
    if found_sort != sort:
        raise InvalidInput(f"the cursor belongs to sort={found_sort}, not sort={sort}")
    return [key, image_id]


class ImageCatalog:
    def __init__(self, catalog: Catalog, state: str = INDEXED) -> None:
        self._catalog = catalog
        self._state = state
        self._in_state = ImageRow.state == state

    def add(self, records: Sequence[ImageRecord], finished_jobs: Sequence[str] = ()) -> None:
        """Insert or replace rows, in this catalog's state (idempotent: a re-run writes the same
        rows again); the ``finished_jobs`` become `done` (`quarantined`) in the same transaction.
        Two jobs adding the same new image at once (its bytes uploaded twice) race to insert its
        row: the loser's unit of work runs once more, and replaces the row the winner wrote."""
        try:
            self._add(records, finished_jobs)
        except IntegrityError:
            self._add(records, finished_jobs)

    def _add(self, records: Sequence[ImageRecord], finished_jobs: Sequence[str]) -> None:
        with self._catalog.session() as session:
            for record in records:
                row = _row(record)
                row.state = self._state
                session.merge(row)
            if finished_jobs:
                session.execute(state_change(finished_jobs, _FINISHED[self._state]))

    def get(self, image_id: str) -> ImageRecord:
        with self._catalog.session() as session:
            return _record(self._row(session, image_id))

    def get_many(self, ids: Iterable[str]) -> list[ImageRecord]:
        """The catalogued ones among ``ids`` (unknown ids are left out), in id order."""
        wanted = sorted(set(ids))
        if not wanted:
            return []
        with self._catalog.session() as session:
            rows = session.scalars(
                select(ImageRow)
                .where(ImageRow.id.in_(wanted), self._in_state)
                .order_by(ImageRow.id)
            )
            return [_record(row) for row in rows]

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(set(ids))
        if not wanted:
            return set()
        with self._catalog.session() as session:
            query = select(ImageRow.id).where(ImageRow.id.in_(wanted), self._in_state)
            return set(session.scalars(query))

    def delete(self, image_id: str) -> bool:
        """Remove the row (its tags go with it); False when there was none."""
        with self._catalog.session() as session:
            removed = session.execute(
                delete(ImageRow).where(ImageRow.id == image_id, self._in_state)
            )
            return bool(cast(CursorResult[Any], removed).rowcount)

    def count(self) -> int:
        with self._catalog.session() as session:
            query = select(func.count()).select_from(ImageRow).where(self._in_state)
            return int(session.scalar(query) or 0)

    def ids(self, batch_size: int = 1000) -> Iterator[list[str]]:
        """Every image id, in batches, in id order (for checks and re-index)."""
        after = ""
        while True:
            with self._catalog.session() as session:
                query = select(ImageRow.id).where(ImageRow.id > after, self._in_state)
                batch = list(session.scalars(query.order_by(ImageRow.id).limit(batch_size)))
            if not batch:
                return
            yield batch
            after = batch[-1]

    def hashed(self) -> list[HashedImage]:
        """Every image that has a perceptual hash, in id order."""
        pixels = ImageRow.width * ImageRow.height
        query = select(ImageRow.id, ImageRow.phash, pixels, ImageRow.bytes).where(self._in_state)
        with self._catalog.session() as session:
            rows = session.execute(query.where(ImageRow.phash.is_not(None)).order_by(ImageRow.id))
            return [HashedImage(i, cast(str, phash), px, size) for i, phash, px, size in rows]

    def hashed_stamp(self) -> tuple[int, int]:
        """How many images have a hash, and the newest ingest: changes when hashes come or go."""
        with self._catalog.session() as session:
            query = select(func.count(ImageRow.phash), func.max(ImageRow.ingested_at))
            count, newest = session.execute(query.where(self._in_state)).one()
            return int(count), int(newest or 0)

    def unhashed_ids(self) -> set[str]:
        """Images catalogued without a perceptual hash (before hashes were computed)."""
        with self._catalog.session() as session:
            query = select(ImageRow.id).where(ImageRow.phash.is_(None), self._in_state)
            return set(session.scalars(query))

    def set_phash(self, image_id: str, phash: str) -> None:
        with self._catalog.session() as session:
            self._row(session, image_id).phash = phash

    def page(self, query: ImageQuery) -> ImagePage:
        filtered = self._filtered(select(ImageRow), query)
        with self._catalog.session() as session:
            total = session.scalar(select(func.count()).select_from(filtered.subquery()))
            rows = list(session.scalars(self._ordered(filtered, query).limit(query.limit + 1)))
            more = len(rows) > query.limit
            rows = rows[: query.limit]
            records = [_record(row) for row in rows]
        cursor = encode_cursor(query.sort, _sort_key(query.sort, rows[-1])) if more else None
        return ImagePage(records=records, total=int(total or 0), next_cursor=cursor)

    def _filtered(self, statement: Select[Any], query: ImageQuery) -> Select[Any]:
        statement = statement.where(self._in_state)
        if query.source:
            statement = statement.where(ImageRow.source == query.source)
        if query.tag:
            tagged = select(ImageTag.image_id).where(ImageTag.tag == query.tag)
            statement = statement.where(ImageRow.id.in_(tagged))
        if query.camera_id:
            statement = statement.where(ImageRow.camera_id == query.camera_id)
        return statement

    def _ordered(self, statement: Select[Any], query: ImageQuery) -> Select[Any]:
        column = ImageRow.filename if query.sort == "name" else ImageRow.ingested_at
        descending = query.sort == "newest"
        if query.cursor:
            key, image_id = decode_cursor(query.sort, query.cursor)
            if descending:
                after = or_(column < key, and_(column == key, ImageRow.id < image_id))
            else:
                after = or_(column > key, and_(column == key, ImageRow.id > image_id))
            statement = statement.where(after)
        if descending:
            return statement.order_by(column.desc(), ImageRow.id.desc())
        return statement.order_by(column.asc(), ImageRow.id.asc())

    def set_tags(self, image_id: str, tags: Sequence[str]) -> list[str]:
        """Replace the image's tags; answers the tags it has now, sorted."""
        with self._catalog.session() as session:
            row = self._row(session, image_id)
            row.tags = [ImageTag(tag=tag) for tag in sorted(set(tags))]
            return [t.tag for t in row.tags]

    def change_tags(self, image_id: str, add: Sequence[str], remove: Sequence[str]) -> list[str]:
        """Add and remove tags in one step; answers the tags it has now, sorted."""
        with self._catalog.session() as session:
            row = self._row(session, image_id)
            current = {t.tag for t in row.tags}
            wanted = normalise_tags((current | set(add)) - set(remove))  # over the cap: rolls back
            row.tags = [t for t in row.tags if t.tag in wanted] + [
                ImageTag(tag=tag) for tag in wanted if tag not in current
            ]
            return wanted

    def _row(self, session: Session, image_id: str) -> ImageRow:
        row = session.get(ImageRow, image_id)
        if row is None or row.state != self._state:
            raise ImageNotFound(f"no image {image_id}")
        return row
