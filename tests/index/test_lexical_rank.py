"""The fast paths of LexicalIndex queries agree with the plain ones they replace."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.index.lexical import SMALL_CANDIDATES, LexicalIndex, rank_desc

positive_f32 = st.floats(
    min_value=2**-100, max_value=1024.0, allow_nan=False, allow_infinity=False, width=32
)


@settings(max_examples=300, deadline=None)
@given(
    scores=st.lists(st.sampled_from([0.5, 0.25, 1.0]) | positive_f32, max_size=60),
    data=st.data(),
)
def test_rank_desc_equals_lexsort(scores: list[float], data: st.DataObject) -> None:
    sc = np.asarray(scores, dtype=np.float32)
    increasing = data.draw(st.booleans())
    if increasing:
        steps = data.draw(st.lists(st.integers(1, 5), min_size=sc.size, max_size=sc.size))
        ids = np.cumsum(np.asarray(steps, dtype=np.int64))
    else:
        ids = np.asarray(
            data.draw(st.lists(st.integers(0, 10**6), min_size=sc.size, max_size=sc.size)),
            dtype=np.int64,
        )
    expected = np.lexsort((ids, -sc))
    got = rank_desc(sc, ids)
    assert np.array_equal(sc[got], sc[expected])
    assert np.array_equal(ids[got], ids[expected])


def test_rank_desc_falls_back_for_other_inputs() -> None:
    sc64 = np.asarray([0.3, 0.9, 0.3])
    ids = np.asarray([3, 1, 2], dtype=np.int64)
    assert rank_desc(sc64, ids).tolist() == [1, 2, 0]
    with_zero = np.asarray([0.0, 0.5], dtype=np.float32)
    assert rank_desc(with_zero, np.asarray([1, 2])).tolist() == [1, 0]


def _corpus(n: int) -> tuple[list[int], list[str]]:
    rng = np.random.default_rng(7)
    words = ["food", "bank", "solar", "energy", "youth", "jobs", "legal", "housing", "meals"]
    ids = rng.permutation(np.arange(1000, 1000 + 3 * n, 3))[:n].tolist()  # not in row order
    texts = [" ".join(rng.choice(words, size=4).tolist()) for _ in range(n)]
    return ids, texts


def _plain_scores(index: LexicalIndex, text: str, cands: object) -> tuple[list[int], list[float]]:
    """The reference: every live row scoring > 0 among the candidates, lexsorted."""
    sc = index._row_scores(text)
    rows = np.flatnonzero((sc > 0) & (index._row_ids >= 0))
    if cands is not None:
        rows = rows[np.isin(index._row_ids[rows], np.asarray(cands, dtype=np.int64))]
    ids = index._row_ids[rows]
    order = np.lexsort((ids, -sc[rows]))
    return ids[order].tolist(), sc[rows][order].tolist()


def test_scores_agree_with_plain_ranking_for_any_candidate_set() -> None:
    ids, texts = _corpus(400)
    index = LexicalIndex().fit(ids, texts)
    index.add([ids[0], 5], ["food bank meals", "solar energy food"])  # a replaced row, a new one
    index.remove([ids[1]])
    rng = np.random.default_rng(3)
    for text in ["food bank", "solar energy jobs", "legal housing youth", "nothing"]:
        small = [*rng.choice(ids, 50).tolist(), ids[1], 5, 5, -7, 10**9]  # dupes, gone, unknown
        large = rng.choice(ids, SMALL_CANDIDATES + 10).tolist()
        for cands in (None, small, large, [], np.asarray(small)):
            got_ids, got_sc = index.scores(text, cands)
            want_ids, want_sc = _plain_scores(index, text, cands)
            assert got_ids.tolist() == want_ids
            assert got_sc.tolist() == want_sc
            k_ids, _ = index.search(text, 7, cands)
            assert k_ids.tolist() == want_ids[:7]


def test_matches_are_the_scored_documents_unsorted() -> None:
    texts = ["food bank", "food pantry and food bank", "theatre", "bank holiday", "meals"]
    index = LexicalIndex().fit(np.arange(10, 15), texts)
    index.remove(np.asarray([13]))
    ids, sc = index.matches("food bank")
    want_ids, want_sc = index.scores("food bank")
    assert sorted(zip(ids.tolist(), sc.tolist(), strict=True)) == sorted(
        zip(want_ids.tolist(), want_sc.tolist(), strict=True)
    )
    assert 13 not in ids.tolist() and 12 not in ids.tolist()
    assert index.matches("unseen words")[0].size == 0
