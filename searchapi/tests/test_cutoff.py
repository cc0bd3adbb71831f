"""The relevance cutoff alone: where the line falls for a query, and the ranked list a page
slices."""

import numpy as np
import pytest

from searchapi.service.cutoff import Page, Ranking, count_matches, rank, threshold
from shared.domain import Hit, ImageRecord

RATIO = 0.9


def hits(*scores: float) -> list[Hit]:
    return [
        Hit(ImageRecord(f"{i:064x}", 1, 1, 1, "PNG", f"{i}.png", 0), score)
        for i, score in enumerate(scores)
    ]


def flags(ranking: Ranking) -> list[tuple[float, bool]]:
    return [(ranked.hit.score, ranked.match) for ranked in ranking.hits]


def test_the_line_follows_each_models_scale() -> None:
    # A model whose matches score 0.95 over a 0.1 background, and one (CLIP-like) whose matches
    # score 0.32 over 0.15: one ratio puts the line just under each model's matches.
    assert threshold(0.95, np.array([0.0, 0.1, 0.2]), RATIO) == pytest.approx(0.865)
    assert threshold(0.32, np.array([0.14, 0.15, 0.16]), RATIO) == pytest.approx(0.303)


def test_a_query_that_scores_high_on_everything_gets_a_higher_line() -> None:
    plain = threshold(0.9, np.array([0.0, 0.1, 0.2]), RATIO)
    everywhere = threshold(0.9, np.array([0.5, 0.6, 0.7]), RATIO)
    assert everywhere > plain


def test_the_background_is_its_median_so_a_few_look_alikes_do_not_move_it() -> None:
    background = np.array([0.1] * 9 + [0.9])
    assert threshold(0.95, background, RATIO) == threshold(0.95, np.full(10, 0.1), RATIO)


def test_when_half_the_library_ties_with_the_best_hit_the_ties_match() -> None:
    line = threshold(1.0, np.array([1.0, 1.0, 0.0]), RATIO)
    assert line == 1.0
    assert count_matches([1.0, 1.0, 0.0], line, None) == 2


def test_min_score_is_a_floor_under_the_matches_too() -> None:
    assert count_matches([0.9, 0.8, 0.7, 0.3], 0.75, None) == 2
    assert count_matches([0.9, 0.8, 0.7, 0.3], 0.75, 0.85) == 1
    assert count_matches([0.9, 0.8, 0.7, 0.3], 0.75, 0.5) == 2


SIX = hits(0.9, 0.8, 0.7, 0.3, 0.2, 0.1)


def test_matches_come_first_then_at_most_a_page_of_weaker_hits() -> None:
    assert flags(rank(SIX, 2, Page(limit=2))) == [(0.9, True), (0.8, True)]
    assert flags(rank(SIX, 2, Page(limit=2, offset=2))) == [(0.7, False), (0.3, False)]
    beyond = rank(SIX, 2, Page(limit=2, offset=4))
    assert (beyond.matches, beyond.hits) == (2, [])


def test_a_page_across_the_line_marks_each_hit() -> None:
    assert flags(rank(SIX, 2, Page(limit=2, offset=1))) == [(0.8, True), (0.7, False)]


def test_a_page_inside_many_matches_reports_them_all() -> None:
    ranking = rank(SIX[:2], 40, Page(limit=2))
    assert (ranking.matches, flags(ranking)) == (40, [(0.9, True), (0.8, True)])


def test_only_matches_leaves_out_the_weaker_hits() -> None:
    assert flags(rank(SIX, 2, Page(limit=10, only_matches=True))) == [(0.9, True), (0.8, True)]


def test_min_score_drops_weaker_hits_under_the_floor() -> None:
    ranking = rank(SIX, 2, Page(limit=10, min_score=0.5))
    assert flags(ranking) == [(0.9, True), (0.8, True), (0.7, False)]
