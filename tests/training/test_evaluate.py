"""Evaluator: pure metric functions over frames, engine comparisons, the HTML/JSON report."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from ranker_history import add_history, sample_engine

from matcher.engine import Engine
from training.evaluate import (
    capability_coverage,
    capability_coverage_per_query,
    compare_models,
    metrics_from_frames,
    score_histogram,
    sector_balance,
    sector_balance_per_query,
    table,
)
from training.history import labelled_pairs
from training.ranker import (
    LinearRanker,
    build_queries,
    candidate_features,
    default_weights,
    fit_ranker,
    split_queries,
)
from training.report import render_html, write_report


def test_capability_coverage() -> None:
    required = pd.DataFrame(
        [("q1", "funding"), ("q1", "volunteers"), ("q2", "venue"), ("q1", "funding")],
        columns=["query_id", "capability"],
    )
    covered = pd.DataFrame(
        [
            ("q1", "a", "funding"),
            ("q1", "b", "funding"),
            ("q2", "c", "venue"),
            ("q3", "d", "venue"),
        ],
        columns=["query_id", "item_id", "capability"],
    )
    per = capability_coverage_per_query(required, covered)
    assert per.to_dict() == {"q1": 0.5, "q2": 1.0}  # q3 required nothing: left out
    assert capability_coverage(required, covered) == 0.75
    empty = required.iloc[0:0]
    assert math.isnan(capability_coverage(empty, covered))


def test_sector_balance() -> None:
    members = pd.DataFrame(
        [
            ("spread", "a", "business"),
            ("spread", "b", "nonprofit"),
            ("spread", "c", "government"),
            ("one", "d", "nonprofit"),
            ("one", "e", "nonprofit"),
            ("half", "f", "nonprofit"),
            ("half", "g", "nonprofit"),
            ("half", "h", "business"),
            ("half", "i", "business"),
            ("solo", "j", "academic"),
        ],
        columns=["query_id", "item_id", "sector"],
    )
    per = sector_balance_per_query(members)
    assert per["spread"] == pytest.approx(1.0)
    assert per["one"] == 0.0 and per["solo"] == 0.0
    assert per["half"] == pytest.approx(math.log(2) / math.log(4))
    assert sector_balance(members) == pytest.approx(per.mean())


def test_metrics_dict_names_its_primary() -> None:
    results = pd.DataFrame(
        [("q1", "a", 1), ("q1", "b", 2), ("q2", "c", 1), ("q2", "d", 2)],
        columns=["query_id", "item_id", "rank"],
    )
    relevance = pd.DataFrame(
        [("q1", "b", 1.0), ("q2", "c", 1.0)], columns=["query_id", "item_id", "gain"]
    )
    out = metrics_from_frames(results, relevance, queries=["q1", "q2", "q3"])
    assert out["primary"] == "ndcg@10" and out["queries"] == 3
    assert out["hit@1"] == pytest.approx(1 / 3)
    assert out["mrr"] == pytest.approx((0.5 + 1.0) / 3)
    assert out["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1.0) / 3, abs=1e-6)
    assert metrics_from_frames(results, relevance, primary="mrr")["primary"] == "mrr"
    with pytest.raises(ValueError, match="primary"):
        metrics_from_frames(results, relevance, primary="auc")


def test_score_histogram() -> None:
    res = pd.DataFrame({"score": [0.05, 0.5, 0.51, 1.0], "relevant": [True, False, False, True]})
    h = score_histogram(res, bins=10)
    assert len(h["edges"]) == 11 and sum(h["relevant"]) == 2 and sum(h["other"]) == 2
    assert h["relevant"][0] == 1 and h["relevant"][-1] == 1


@pytest.fixture(scope="module")
def history_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = sample_engine(tmp_path_factory.mktemp("evaluate") / "var")
    add_history(engine, n_sources=40)
    yield engine
    engine.close()


def test_learned_weights_beat_the_default_on_held_out_history(history_engine: Engine) -> None:
    queries = build_queries(labelled_pairs(history_engine.store), history_engine)
    train, test = split_queries(queries, by="time", test_share=0.25)
    ranker = fit_ranker(candidate_features(history_engine, train), LinearRanker(min_pairs=50))
    history_engine.use_weights({"fit": 1.0}, "something-else")
    out = compare_models(
        history_engine, test, {"candidate": ranker.weights_, "default": default_weights()}
    )
    # the engine's own weights are put back
    assert history_engine.weights_name == "something-else"
    assert history_engine.weights["fit"] == 1.0 and history_engine.weights["proximity"] == 0
    cand, default = out["models"]["candidate"], out["models"]["default"]
    assert out["primary"] == "ndcg@10" and out["best"] == "candidate"
    assert out["queries"] == 10 and out["positives"] == 30
    assert cand["ndcg@10"] > default["ndcg@10"] + 0.2
    assert cand["hit@1"] >= default["hit@1"]
    for metrics in out["models"].values():
        assert 0 <= metrics["capability_coverage"] <= 1 and 0 <= metrics["sector_balance"] <= 1
    assert (
        sum(out["histograms"]["candidate"]["other"])
        + sum(out["histograms"]["candidate"]["relevant"])
        == 10 * 10
    )
    text = table(out, ["ndcg@10", "hit@1"])
    assert text.splitlines()[0].split() == ["model", "ndcg@10", "hit@1"]
    assert "candidate" in text and "default" in text


def test_report_is_self_contained(tmp_path: Path) -> None:
    comparison = {
        "primary": "ndcg@10",
        "queries": 2,
        "positives": 3,
        "models": {
            "candidate": {
                "primary": "ndcg@10",
                "ndcg@10": 0.8,
                "hit@1": 0.5,
                "sector_balance": None,
            },
            "<b>default</b>": {
                "primary": "ndcg@10",
                "ndcg@10": 0.4,
                "hit@1": 0.0,
                "sector_balance": 0.3,
            },
        },
        "weights": {"candidate": {"fit": 0.5, "proximity": 0.5}, "<b>default</b>": {"fit": 1.0}},
        "histograms": {
            "candidate": score_histogram(
                pd.DataFrame({"score": [0.2, 0.9], "relevant": [False, True]})
            )
        },
        "best": "candidate",
    }
    json_path, html_path = write_report(
        {"version": "v0007", "comparison": comparison, "verdict": "fine"}, tmp_path, "v0007-x"
    )
    assert json.loads(json_path.read_text())["comparison"]["best"] == "candidate"
    page = html_path.read_text()
    assert page.startswith("<!doctype html>") and page.count("<svg") == 3
    assert "<script" not in page.lower() and not re.search(r"(src|href)=", page)
    assert "<b>default</b>" not in page and "&lt;b&gt;default&lt;/b&gt;" in page
    assert "v0007" in page and "ndcg@10" in page
    assert render_html({"comparison": {}}).startswith("<!doctype html>")  # nothing evaluated
