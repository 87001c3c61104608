"""LinearRanker (scikit-learn style, non-negative weights, fallback) and its training data."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from ranker_history import add_history, sample_engine

from matcher.engine import Engine
from training.history import labelled_pairs
from training.ranker import (
    FEATURES,
    LinearRanker,
    build_queries,
    candidate_features,
    data_hash,
    default_weights,
    fit_ranker,
    normalise,
    score_frame,
    split_queries,
)


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.random((n, len(FEATURES))), columns=list(FEATURES))


def test_estimator_conventions() -> None:
    r = LinearRanker(C=0.5, min_pairs=10)
    assert r.get_params()["C"] == 0.5 and r.get_params()["min_pairs"] == 10
    assert not hasattr(r, "weights_")  # __init__ only stores parameters
    with pytest.raises(RuntimeError, match="not fitted"):
        r.predict(_frame(3))
    assert r.set_params(C=2.0) is r and r.C == 2.0
    with pytest.raises(ValueError, match="unknown parameter"):
        r.set_params(alpha=1)
    with pytest.raises(ValueError, match="lacks component"):
        r.fit(_frame(20).drop(columns=["fit"]), np.ones(20))


def test_too_few_pairs_keeps_the_default_weights() -> None:
    X = _frame(30)
    y = (X["proximity"] > 0.5).astype(int)
    r = LinearRanker(min_pairs=50).fit(X, y)
    assert r.weights_ == normalise(default_weights())
    assert r.is_fallback and "30 labelled pairs < min_pairs" in r.fallback_
    assert r.n_pairs_ == 30


def test_one_class_only_keeps_the_default_weights() -> None:
    r = LinearRanker(min_pairs=5).fit(_frame(40), np.ones(40, dtype=int))
    assert r.is_fallback and "one class" in r.fallback_


def test_pointwise_learns_the_component_that_decides() -> None:
    X = _frame(600, seed=1)
    rng = np.random.default_rng(2)
    logit = 8 * (X["proximity"] - 0.5) + 2 * (X["fit"] - 0.5) - 3 * (X["freshness"] - 0.5)
    y = (rng.random(600) < 1 / (1 + np.exp(-logit))).astype(int)
    r = LinearRanker(min_pairs=50).fit(X, y)
    w = r.weights_
    assert not r.is_fallback
    assert set(w) == set(FEATURES) and all(v >= 0 for v in w.values())
    assert sum(w.values()) == pytest.approx(1.0, abs=1e-3)
    assert max(w, key=w.__getitem__) == "proximity"
    assert w["freshness"] == 0.0  # a negative coefficient is clipped, not used upside down
    assert r.coef_[FEATURES.index("freshness")] < 0
    scores = r.predict(X)
    assert np.allclose(scores, score_frame(X, w))


def test_pairwise_uses_order_within_groups_only() -> None:
    # Within each group the positive has the highest coverage; across groups, fit shifts
    # everything (a group-level effect a pointwise model would pick up, a pairwise one not).
    rows, labels, groups = [], [], []
    rng = np.random.default_rng(3)
    for g in range(80):
        shift = rng.random()
        for i in range(6):
            comp = {c: float(rng.random()) for c in FEATURES}
            comp["fit"] = shift
            comp["coverage"] = 0.9 if i == 0 else float(rng.random()) * 0.8
            rows.append(comp)
            labels.append(int(i == 0))
            groups.append(f"g{g}")
    X = pd.DataFrame(rows, columns=list(FEATURES))
    r = LinearRanker(min_pairs=50).fit(X, labels, groups=groups)
    assert r.n_train_pairs_ == 2 * 80 * 5
    assert max(r.weights_, key=r.weights_.__getitem__) == "coverage"
    assert r.weights_["fit"] == pytest.approx(0.0, abs=1e-3)


# ------------------------------------------------------------------------------ engine data


@pytest.fixture(scope="module")
def history_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = sample_engine(tmp_path_factory.mktemp("ranker") / "var")
    add_history(engine, n_sources=40)
    yield engine
    engine.close()


def test_queries_split_and_features(history_engine: Engine) -> None:
    pairs = labelled_pairs(history_engine.store)
    assert len(pairs) == 120 and pairs["label"].eq(1).all()
    queries = build_queries(pairs, history_engine)
    assert len(queries) == 40  # one per source: no text, so the source's own profile
    q = queries[0]
    assert len(q.gains) == 3 and q.need.requester_id == q.source_id
    assert q.need.text.startswith(history_engine.store.get_organisation(q.source_id).record.name)

    train, test = split_queries(queries, by="time", test_share=0.25)
    assert len(test) == 10 and len(train) == 30
    stamps = [str(t.timestamp) for t in train], [str(t.timestamp) for t in test]
    assert max(stamps[0]) < min(stamps[1])  # the newest are held out
    train_id, test_id = split_queries(queries, by="id", test_share=0.25)
    assert split_queries(queries, by="id", test_share=0.25)[1] == test_id  # stable
    assert 0 < len(test_id) < 40 and len(train_id) + len(test_id) == 40
    with pytest.raises(ValueError):
        split_queries(queries, by="random")

    # one clock for both calls: freshness is measured against `now`, and two calls a moment
    # apart can round an age differently (CI saw 0.9511 against 0.951)
    clock = max(t.timestamp for t in train if t.timestamp is not None).to_pydatetime()
    feats = candidate_features(history_engine, train[:5], negatives_per_query=7, seed=1, now=clock)
    assert list(feats.columns[:5]) == ["query_id", "partner_id", "label", "weight", "rank"]
    per_query = feats.groupby("query_id")["label"].agg(["sum", "count"])
    assert (per_query["count"] - per_query["sum"] == 7).all()  # sampled negatives
    assert per_query["sum"].between(1, 3).all()  # the retrieved positives
    assert feats[list(FEATURES)].apply(lambda c: c.between(0, 1).all()).all()
    again = candidate_features(history_engine, train[:5], negatives_per_query=7, seed=1, now=clock)
    pd.testing.assert_frame_equal(feats, again)  # seeded


def test_fit_on_history_recovers_the_hidden_preference(history_engine: Engine) -> None:
    pairs = labelled_pairs(history_engine.store)
    train, _test = split_queries(build_queries(pairs, history_engine), test_share=0.25)
    feats = candidate_features(history_engine, train, negatives_per_query=20)
    r = fit_ranker(feats, LinearRanker(min_pairs=50))
    assert not r.is_fallback and r.n_pairs_ == len(feats)
    w = r.weights_
    assert w["proximity"] > 0.3 > default_weights()["proximity"]
    assert w["proximity"] > w["coverage"] and w["fit"] > w["freshness"]
    assert fit_ranker(feats, LinearRanker(min_pairs=10_000)).is_fallback


def test_data_hash_is_canonical(history_engine: Engine) -> None:
    pairs = labelled_pairs(history_engine.store)
    h = data_hash(pairs)
    assert h.startswith("sha256:") and h == data_hash(pairs.sample(frac=1.0, random_state=1))
    changed = pairs.copy()
    changed.loc[0, "partner_id"] = "someone-else"
    assert data_hash(changed) != h
