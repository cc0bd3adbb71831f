"""Near pairs among many hashes (pigeonhole on 16-bit segments) against the plain answer (every
pair compared), and the groups those pairs join."""

from __future__ import annotations

import numpy as np
import pytest

from searchapi.service import hash_pairs
from searchapi.service.hash_pairs import components, near_pairs


def every_pair(hashes: np.ndarray, max_distance: int) -> np.ndarray:
    distances = np.bitwise_count(hashes[:, None] ^ hashes[None, :])
    i, j = np.nonzero(np.triu(distances <= max_distance, k=1))
    return np.stack([i, j], axis=1)


def families(count: int, size: int, flips: int, seed: int) -> np.ndarray:
    """``count`` random hashes, each with ``size - 1`` copies that have up to ``flips`` bits
    flipped (each with even odds): near pairs at every distance, among random pairs about 32
    bits apart."""
    rng = np.random.default_rng(seed)
    bases = rng.integers(0, np.iinfo(np.uint64).max, size=count, dtype=np.uint64, endpoint=True)
    hashes = np.repeat(bases, size)
    copies = np.arange(len(hashes)) % size != 0
    for _ in range(flips):
        bits = rng.integers(0, 64, size=len(hashes)).astype(np.uint64)
        flipped = copies & (rng.random(len(hashes)) < 0.5)
        hashes ^= np.left_shift(np.uint64(1), bits) * flipped.astype(np.uint64)
    return hashes


@pytest.mark.parametrize("max_distance", [0, 1, 3, 4, 7, 8, 10, 12, 16])
def test_near_pairs_are_exactly_the_pairs_within_the_distance(max_distance: int) -> None:
    hashes = families(count=400, size=4, flips=6, seed=max_distance)
    found = near_pairs(hashes, max_distance)
    assert len(found) > 0
    assert np.array_equal(found, every_pair(hashes, max_distance))


def test_no_pairs_among_fewer_than_two_hashes() -> None:
    one = np.array([7], dtype=np.uint64)
    assert near_pairs(one, 10).shape == (0, 2)
    assert near_pairs(one[:0], 10).shape == (0, 2)


def test_a_crowded_bucket_is_split_into_steps_without_losing_a_pair(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many copies of one blank picture share every bucket: their pairs come in small steps."""
    hashes = np.concatenate([np.full(300, 0xABCD, dtype=np.uint64), families(50, 3, 4, seed=1)])
    expected = every_pair(hashes, 10)
    monkeypatch.setattr(hash_pairs, "_PER_STEP", 1000)
    assert np.array_equal(near_pairs(hashes, 10), expected)
    assert len(expected) >= 300 * 299 // 2


def test_components_join_chains_and_are_labelled_by_their_least_position() -> None:
    pairs = np.array([[3, 5], [1, 3], [6, 7], [0, 8]])
    labels = components(9, pairs)
    assert labels.tolist() == [0, 1, 2, 1, 4, 1, 6, 6, 0]


def test_components_of_no_pairs_are_single_positions() -> None:
    assert components(3, np.empty((0, 2), dtype=np.int64)).tolist() == [0, 1, 2]


def test_components_agree_with_a_plain_union_find_on_random_pairs() -> None:
    rng = np.random.default_rng(5)
    count = 2_000
    pairs = np.sort(rng.integers(0, count, size=(1_500, 2)), axis=1)
    parent = list(range(count))

    def root(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in pairs.tolist():
        low, high = sorted((root(a), root(b)))
        parent[high] = low
    assert components(count, pairs).tolist() == [root(x) for x in range(count)]
