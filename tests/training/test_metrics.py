import math

import pandas as pd
import pytest

from training.metrics import (
    hit_at_k,
    hit_at_k_per_query,
    mrr,
    mrr_per_query,
    ndcg_at_k,
    ndcg_at_k_per_query,
    precision_at_k,
    precision_at_k_per_query,
    results_frame,
)


def rel(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["query_id", "item_id", "gain"])


RESULTS = results_frame({"q1": ["a", "b", "c", "d"], "q2": ["x", "y"]})
RELEVANCE = rel([("q1", "b", 1.0), ("q1", "d", 0.25), ("q1", "z", 1.0), ("q2", "x", 1.0)])


def test_precision_counts_relevant_over_k() -> None:
    per = precision_at_k_per_query(RESULTS, RELEVANCE, k=4)
    assert per["q1"] == pytest.approx(2 / 4)  # b and d
    assert per["q2"] == pytest.approx(1 / 4)  # denominator is k even with fewer results
    assert precision_at_k(RESULTS, RELEVANCE, k=4) == pytest.approx((0.5 + 0.25) / 2)


def test_precision_min_gain_ignores_partial_gains() -> None:
    per = precision_at_k_per_query(RESULTS, RELEVANCE, k=4, min_gain=1.0)
    assert per["q1"] == pytest.approx(1 / 4)


def test_hit_and_mrr() -> None:
    assert hit_at_k_per_query(RESULTS, RELEVANCE, k=1).to_dict() == {"q1": 0.0, "q2": 1.0}
    assert hit_at_k(RESULTS, RELEVANCE, k=2) == 1.0
    per = mrr_per_query(RESULTS, RELEVANCE)
    assert per.to_dict() == {"q1": 0.5, "q2": 1.0}
    assert mrr(RESULTS, RELEVANCE) == pytest.approx(0.75)
    # first relevant at position 2 lies outside a cut-off of 1
    assert mrr_per_query(RESULTS, RELEVANCE, k=1)["q1"] == 0.0


def test_ndcg_graded_hand_computed() -> None:
    # q1 top 4: a(0) b(1) c(0) d(0.25); ideal gains 1, 1, 0.25
    dcg = 1 / math.log2(3) + 0.25 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 0.25 / math.log2(4)
    per = ndcg_at_k_per_query(RESULTS, RELEVANCE, k=4)
    assert per["q1"] == pytest.approx(dcg / idcg)
    assert per["q2"] == pytest.approx(1.0)
    assert ndcg_at_k(RESULTS, RELEVANCE, k=4) == pytest.approx((dcg / idcg + 1) / 2)


def test_ndcg_uses_given_ideal_gains() -> None:
    ideal = {"q1": [1.0, 1.0, 1.0, 1.0], "q2": [1.0]}
    per = ndcg_at_k_per_query(RESULTS, RELEVANCE, k=2, ideal=ideal)
    assert per["q1"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    frame = pd.DataFrame({"query_id": ["q1"] * 4 + ["q2"], "gain": [1.0] * 5})
    assert ndcg_at_k(RESULTS, RELEVANCE, k=2, ideal=frame) == pytest.approx(per.mean())


def test_perfect_ranking_scores_one() -> None:
    results = results_frame({"q": ["a", "b", "c"]})
    relevance = rel([("q", "a", 1.0), ("q", "b", 1.0), ("q", "c", 0.25)])
    assert ndcg_at_k(results, relevance, k=3) == pytest.approx(1.0)
    assert precision_at_k(results, relevance, k=3) == pytest.approx(1.0)


def test_ties_keep_order_of_appearance_and_duplicates_count_once() -> None:
    results = pd.DataFrame(
        {"query_id": ["q"] * 4, "item_id": ["n", "r", "r", "m"], "rank": [1, 1, 2, 3]}
    )
    relevance = rel([("q", "r", 1.0)])
    # n and r tie at rank 1: n first (appearance), r second; the repeated r is dropped
    assert mrr_per_query(results, relevance)["q"] == pytest.approx(0.5)
    assert precision_at_k_per_query(results, relevance, k=3)["q"] == pytest.approx(1 / 3)
    assert hit_at_k_per_query(results, relevance, k=1)["q"] == 0.0


def test_rank_order_not_row_order() -> None:
    results = pd.DataFrame({"query_id": ["q", "q"], "item_id": ["a", "b"], "rank": [2, 1]})
    relevance = rel([("q", "b", 1.0)])
    assert mrr(results, relevance) == 1.0


def test_empty_results_score_zero() -> None:
    empty = pd.DataFrame({"query_id": [], "item_id": [], "rank": []})
    relevance = rel([("q1", "a", 1.0), ("q2", "b", 1.0)])
    for fn in (precision_at_k, hit_at_k, ndcg_at_k):
        assert fn(empty, relevance, k=10) == 0.0
    assert mrr(empty, relevance) == 0.0
    assert len(precision_at_k_per_query(empty, relevance)) == 2


def test_explicit_queries_include_queries_without_results() -> None:
    results = results_frame({"q1": ["a"]})
    relevance = rel([("q1", "a", 1.0)])
    per = hit_at_k_per_query(results, relevance, k=1, queries=["q1", "q9"])
    assert per.to_dict() == {"q1": 1.0, "q9": 0.0}
    assert ndcg_at_k(results, relevance, k=1, queries=["q1", "q9"]) == pytest.approx(0.5)


def test_query_without_relevant_items_has_zero_ndcg() -> None:
    results = results_frame({"q": ["a", "b"]})
    assert ndcg_at_k(results, rel([]), k=2) == 0.0
