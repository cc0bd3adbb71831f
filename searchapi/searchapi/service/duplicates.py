"""Near-duplicates: images whose perceptual hashes (``shared.phash``) differ in at most
``max_distance`` of their 64 bits, apart from exact duplicates (same bytes, same id: stored once)
and from "similar" (CLIP neighbours: the same kind of picture, not a copy of it).

A group is a set of images joined by a chain of near pairs (``hash_pairs``). Within a group the
largest copy comes first (most pixels, then most bytes, then id), and each image says how far its
hash is from that first one's. Groups are listed with most copies first, then by the id of their
first image, a page at a time with a keyset cursor (``(copies, first id)``): an image arriving
while someone pages does not repeat or skip a group.

Finding the groups of a large library takes seconds (pairs among 100k hashes), so the hashes and
the groups found at each distance are kept until the catalog's hashed images change (their count
or newest ingest) or ``max_age_s`` passes. Records are read fresh for each page: an image deleted
since is left out at once.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from searchapi.service.hash_pairs import components, near_pairs
from shared.catalog.images import ImageCatalog
from shared.domain import ImageRecord, check_image_id
from shared.errors import Conflict, InvalidInput
from shared.phash import as_uint64

MAX_DISTANCE = 16  # beyond it, different pictures share a group more often than not


@dataclass
class Duplicate:
    record: ImageRecord
    distance: int  # bits apart from the group's first image, or from the image asked about


@dataclass
class DuplicateGroups:
    max_distance: int
    groups: list[list[Duplicate]]
    next_cursor: str | None


@dataclass
class NearImages:
    image_id: str
    max_distance: int
    duplicates: list[Duplicate]


@dataclass
class _Hashes:
    """The catalog's hashed images as arrays, positions in best-copy-first order."""

    stamp: tuple[int, int]
    read_at: float
    ids: list[str]
    hashes: np.ndarray
    groups: dict[int, list[np.ndarray]] = field(default_factory=dict)  # by max_distance

    @classmethod
    def read(cls, images: ImageCatalog, stamp: tuple[int, int]) -> _Hashes:
        hashed = sorted(images.hashed(), key=lambda h: (-h.pixels, -h.bytes, h.id))
        return cls(
            stamp, time.monotonic(), [h.id for h in hashed], as_uint64([h.phash for h in hashed])
        )

    def grouped(self, max_distance: int) -> list[np.ndarray]:
        """Groups of two or more positions, ascending (best copy first), in listing order."""
        if max_distance not in self.groups:
            labels = components(len(self.ids), near_pairs(self.hashes, max_distance))
            order = np.argsort(labels, kind="stable")  # positions ascend within a label
            cuts = np.flatnonzero(np.diff(labels[order])) + 1
            groups = [g for g in np.split(order, cuts) if len(g) > 1]
            groups.sort(key=lambda g: (-len(g), self.ids[g[0]]))
            self.groups[max_distance] = groups
        return self.groups[max_distance]


def encode_cursor(max_distance: int, copies: int, first_id: str) -> str:
    raw = json.dumps([max_distance, copies, first_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(max_distance: int, cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        distance, copies, first_id = json.loads(raw)
        key = (int(copies), str(first_id))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidInput("the cursor is not one this service gave out") from exc
    if distance != max_distance:
        raise InvalidInput(f"the cursor belongs to max_distance={distance}, not {max_distance}")
    return key


class DuplicateService:
    def __init__(
        self, images: ImageCatalog, max_distance: int, max_age_s: float, max_limit: int
    ) -> None:
        self._images = images
        self._max_distance = max_distance
        self._max_age_s = max_age_s
        self._max_limit = max_limit
        self._lock = threading.Lock()
        self._cached: _Hashes | None = None

    def groups(
        self, max_distance: int | None, limit: int, cursor: str | None = None
    ) -> DuplicateGroups:
        """A page of groups of near-duplicates across the library."""
        max_distance = self._distance(max_distance)
        limit = max(1, min(limit, self._max_limit))
        with self._lock:
            hashes = self._hashes()
            groups = hashes.grouped(max_distance)
        listed = groups
        if cursor:
            copies, first_id = decode_cursor(max_distance, cursor)
            listed = [g for g in groups if (-len(g), hashes.ids[g[0]]) > (-copies, first_id)]
        page = listed[:limit]
        records = {r.id: r for r in self._images.get_many(hashes.ids[p] for g in page for p in g)}
        found = [self._group(hashes, g, records) for g in page]
        last = page[-1] if len(listed) > limit else None
        next_cursor = None
        if last is not None:
            next_cursor = encode_cursor(max_distance, len(last), hashes.ids[last[0]])
        return DuplicateGroups(max_distance, [g for g in found if len(g) > 1], next_cursor)

    def of_image(self, image_id: str, max_distance: int | None) -> NearImages:
        """The images within ``max_distance`` bits of this one (itself left out), closest
        first, then largest first."""
        max_distance = self._distance(max_distance)
        record = self._images.get(check_image_id(image_id))
        if record.phash is None:
            raise Conflict(
                f"image {image_id} has no perceptual hash yet; "
                "`imgsearch admin verify --repair` computes it"
            )
        with self._lock:
            hashes = self._hashes()
        distances = np.bitwise_count(hashes.hashes ^ as_uint64([record.phash])[0])
        near = [int(p) for p in np.flatnonzero(distances <= max_distance)]
        records = {r.id: r for r in self._images.get_many(hashes.ids[p] for p in near)}
        found = [
            Duplicate(records[hashes.ids[p]], int(distances[p]))
            for p in near
            if hashes.ids[p] in records and hashes.ids[p] != image_id
        ]
        found.sort(key=lambda d: d.distance)  # stable: largest first within a distance
        return NearImages(image_id, max_distance, found)

    def _distance(self, asked: int | None) -> int:
        distance = self._max_distance if asked is None else asked
        if not 0 <= distance <= MAX_DISTANCE:
            raise InvalidInput(f"max_distance is 0 to {MAX_DISTANCE} bits")
        return distance

    def _hashes(self) -> _Hashes:
        stamp = self._images.hashed_stamp()
        cached = self._cached
        if (
            cached is None
            or cached.stamp != stamp
            or time.monotonic() - cached.read_at > self._max_age_s
        ):
            cached = self._cached = _Hashes.read(self._images, stamp)
        return cached

    @staticmethod
    def _group(
        hashes: _Hashes, group: np.ndarray, records: dict[str, ImageRecord]
    ) -> list[Duplicate]:
        """The group's images still catalogued, with their distance to the first of them."""
        present = [p for p in group if hashes.ids[p] in records]
        if not present:
            return []
        distances = np.bitwise_count(hashes.hashes[present] ^ hashes.hashes[present[0]])
        return [
            Duplicate(records[hashes.ids[p]], int(d))
            for p, d in zip(present, distances, strict=True)
        ]
