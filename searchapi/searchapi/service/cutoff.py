"""The relevance cutoff: which hits of a search are matches, and the ranked list a page slices.

Rule: a hit is a match when its score closes at least ``ratio`` of the way from the query's
*background* score to the best hit's score::

    match  <=>  score >= background + ratio * (best - background)

The background is the median score of the query against a random sample of the library
(``searchapi.service.background``): what an unrelated picture scores for this query with this
model. So the line moves with the model (the tiny model's matches score about 0.9, CLIP's about
0.3) and with the query (some queries score high against everything), and it does not depend on
how large the library is. Until a sample holds a picture, the best ``pool`` hits stand in.

Measured with the tiny model on the generated shapes (24 class queries, 10 pictures per class plus
60 distractor shapes; libraries from two seeds, distractors in other or in the classes' colours),
mean precision / recall of ``match``:

- robust z-score against the median/MAD of the pool's lower half (z >= 3): 0.46 / 0.94 -- the
  library's other pictures of the same colour or shape are outliers too;
- the largest gap among the top hits: 0.86 / 0.98 -- the widest gap is often the one *after*
  those near misses;
- this rule with the pool's own median as background: 0.93 / 0.96 with a pool of 256 out of 300
  pictures, but 0.96 / 0.85 with a pool of 128: the pool's median rises as the library outgrows
  it;
- this rule against a library sample (ratio 0.92): 0.95 / 0.94, whatever the pool size; 0.92 /
  0.97 through the whole stack (tests/test_search_cutoff_integration.py prints the table).

Cost: the line needs only the best hit, so a search reads one page of hits as before; only when
the matches run past the page does it read the scores alone of up to ``pool`` hits to count them.

Limits: the best hit is always a match (the tiny model scores "a photo of a dog" 0.78 against
shapes: nothing in the scores says "no match"), and at most ``pool`` matches are counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from shared.domain import Hit


@dataclass(frozen=True)
class Page:
    """What the caller asked for: the slice of the ranked list and what to leave out of it."""

    limit: int
    offset: int = 0
    min_score: float | None = None  # hits below are dropped, matches or not
    only_matches: bool = False  # no weaker hits after the matches


@dataclass(frozen=True)
class Ranked:
    hit: Hit
    match: bool


@dataclass(frozen=True)
class Ranking:
    matches: int  # matches in the whole ranked list, not only on this page
    hits: list[Ranked]  # this page


def threshold(best: float, background: np.ndarray, ratio: float) -> float:
    """The lowest score that is a match, given the best hit's score and background scores.

    Never above ``best``: when half the library scores as high as the best hit (a library of
    red pictures asked for "red"), the hits tied with it are matches.
    """
    middle = float(np.median(background))
    return min(best, middle + ratio * (best - middle))


def count_matches(scores: Iterable[float], line: float, min_score: float | None) -> int:
    """Matches among ``scores``: at or above the line, and not under the ``min_score`` floor."""
    bar = line if min_score is None else max(line, min_score)
    return sum(1 for score in scores if score >= bar)


def rank(hits: Sequence[Hit], matches: int, page: Page) -> Ranking:
    """The ranked list (every match, then at most ``page.limit`` weaker hits) sliced to the page.

    ``hits`` are the best hits, best first, at least as far as the page reaches; ``matches``
    counts the matches of the whole ranking (they are its head), possibly more than ``hits``.
    """
    kept = [h for h in hits if page.min_score is None or h.score >= page.min_score]
    end = matches if page.only_matches else matches + page.limit
    start = page.offset
    window = kept[start : min(start + page.limit, end)]
    return Ranking(matches, [Ranked(h, start + i < matches) for i, h in enumerate(window)])
