"""Near pairs among many 64-bit perceptual hashes, and the groups they join, without comparing
every hash with every other one (100k hashes make 5 billion pairs).

Pigeonhole: cut each hash into 4 segments of 16 bits. Two hashes at most ``d`` bits apart differ
in at most ``d // 4`` bits in one of their segments at least. So, per segment, every hash looks
into the buckets of the segment values within ``d // 4`` bits of its own (137 of 65,536 buckets
for d = 8..11), and only the hashes found there are compared on all 64 bits. Each pair of
buckets is visited from one side only.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

import numpy as np

SEGMENTS = 4
_SEGMENT_BITS = 16
_BUCKETS = 1 << _SEGMENT_BITS
_PER_STEP = 4_000_000  # lookups or candidates handled at once: bounds the memory of a step


def _masks(radius: int) -> np.ndarray:
    """Every 16-bit value with at most ``radius`` bits set, 0 first."""
    masks = [0]
    for bits in range(1, radius + 1):
        masks += [sum(1 << b for b in chosen) for chosen in combinations(range(16), bits)]
    return np.array(masks, dtype=np.int32)


def _runs(sizes: np.ndarray) -> Iterator[slice]:
    """Consecutive lookups whose buckets hold about ``_PER_STEP`` hashes together (one at
    least), so a crowded bucket (many copies of one blank picture) cannot exhaust memory."""
    ends = np.cumsum(sizes, dtype=np.int64)
    start = 0
    while start < len(sizes):
        before = int(ends[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, before + _PER_STEP, side="right")))
        yield slice(start, stop)
        start = stop


class _Segment:
    """One 16-bit segment of every hash, with its hashes sorted into 65,536 buckets."""

    def __init__(self, hashes: np.ndarray, segment: int) -> None:
        shifted = hashes >> np.uint64(segment * _SEGMENT_BITS)
        self.values = (shifted & np.uint64(_BUCKETS - 1)).astype(np.int32)
        self.order = np.argsort(self.values, kind="stable").astype(np.int32)
        self.counts = np.bincount(self.values, minlength=_BUCKETS).astype(np.int32)
        self.starts = np.cumsum(self.counts, dtype=np.int32) - self.counts

    def lookups(self, masks: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(hash, bucket) pairs to look into: the hash's own bucket, then for each mask the
        bucket ``value ^ mask`` when it is above the hash's own, so a pair of buckets is
        visited from one side only."""
        everyone = np.arange(len(self.values), dtype=np.int32)
        yield everyone, self.values
        step = max(1, _PER_STEP // max(1, len(self.values)))
        for first in range(1, len(masks), step):
            probes = self.values[:, None] ^ masks[None, first : first + step]
            looks = probes > self.values[:, None]
            yield np.broadcast_to(everyone[:, None], probes.shape)[looks], probes[looks]

    def members(self, queries: np.ndarray, buckets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each query paired with every hash in its bucket."""
        counts = self.counts[buckets]
        runs_begin = np.cumsum(counts, dtype=np.int64) - counts
        shifts = self.starts[buckets] - runs_begin  # where the bucket starts, less its run's start
        positions = np.repeat(shifts, counts) + np.arange(int(counts.sum()))
        return np.repeat(queries, counts), self.order[positions]


def _found(
    hashes: np.ndarray, segment: _Segment, masks: np.ndarray, d: int
) -> Iterator[np.ndarray]:
    """Near pairs found through one segment, as keys ``i * n + j`` with ``i < j``."""
    for queries, buckets in segment.lookups(masks):
        for run in _runs(segment.counts[buckets]):
            left, right = segment.members(queries[run], buckets[run])
            keep = (np.bitwise_count(hashes[left] ^ hashes[right]) <= d) & (left != right)
            left, right = left[keep].astype(np.int64), right[keep].astype(np.int64)
            yield np.minimum(left, right) * len(hashes) + np.maximum(left, right)


def near_pairs(hashes: np.ndarray, max_distance: int) -> np.ndarray:
    """Every pair of positions ``(i, j)``, ``i < j``, whose hashes differ in at most
    ``max_distance`` bits, once each, as an array of shape (pairs, 2)."""
    masks = _masks(max_distance // SEGMENTS)
    found = [
        keys
        for number in range(SEGMENTS)
        for keys in _found(hashes, _Segment(hashes, number), masks, max_distance)
    ]
    keys = np.sort(np.concatenate([np.empty(0, dtype=np.int64), *found]))
    keys = keys[np.diff(keys, prepend=-1) != 0]  # once each (np.unique is slower: it hashes)
    return np.stack(np.divmod(keys, max(1, len(hashes))), axis=1)


def components(count: int, pairs: np.ndarray) -> np.ndarray:
    """A label per position: positions joined by a chain of pairs share one (the least position
    among them)."""
    labels = np.arange(count)
    if len(pairs) == 0:
        return labels
    left, right = pairs[:, 0], pairs[:, 1]
    while True:
        a, b = labels[left], labels[right]
        apart = a != b
        if not apart.any():
            return labels
        # Hook each root onto the smaller root it is paired with, then flatten the trees.
        np.minimum.at(labels, np.maximum(a, b)[apart], np.minimum(a, b)[apart])
        while not np.array_equal(grand := labels[labels], labels):
            labels = grand
