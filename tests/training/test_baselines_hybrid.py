import numpy as np
import pandas as pd

from training.benchmarks import baselines, hybrid
from training.benchmarks.tasks import T1Task, T2Task


def _t1() -> tuple[T1Task, np.ndarray, np.ndarray]:
    profiles = pd.DataFrame(
        {
            "id": ["a1", "a2", "a3", "b1", "b2"],
            "name": [
                "River Food Bank",
                "Hill Theatre",
                "Town Food Pantry",
                "Food Bank B",
                "B Arts",
            ],
            "city": ["x"] * 5,
            "region": ["AA", "AA", "AA", "BB", "BB"],
            "postcode": ["1"] * 5,
            "description": [
                "we feed hungry families",
                "we stage plays",
                "groceries for people in need",
                "we feed hungry families",
                "we stage plays",
            ],
        }
    )
    key = pd.DataFrame(
        {
            "id": profiles["id"],
            "region": profiles["region"],
            "code3": ["K31", "A65", "K31", "K31", "A65"],
            "major": ["K", "A", "K", "K", "A"],
        }
    )
    queries = pd.DataFrame(
        {
            "query_id": ["AA-K31", "BB-A65"],
            "region": ["AA", "BB"],
            "code3": ["K31", "A65"],
            "major": ["K", "A"],
            "text": ["Food Banks. Organizations that feed hungry families", "Theater. plays"],
        }
    )
    docs = np.eye(5, 4, dtype=np.float32)[[0, 1, 0, 0, 1]] + 0.1
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    qv = docs[[0, 1]]
    return T1Task(profiles=profiles, key=key, queries=queries), docs, qv


def test_top_k_orders_best_first_and_breaks_ties_by_position() -> None:
    scores = np.array([[0.1, 0.9, 0.9, 0.5]])
    assert baselines.top_k(scores, 3).tolist() == [[1, 2, 3]]
    assert baselines.top_k(scores, 10).shape == (1, 4)


def test_t1_rankers_respect_the_state_filter() -> None:
    task, docs, qv = _t1()
    for res in (
        baselines.t1_dense(task, docs, qv),
        baselines.t1_tfidf(task),
        baselines.t1_random(task),
        hybrid.t1_hybrid(task, docs, qv),
    ):
        region = res["item_id"].str[0].str.upper() * 2
        assert (region == res["query_id"].str[:2]).all()
        assert set(res.groupby("query_id").size()) <= {3, 2}
    dense = baselines.t1_dense(task, docs, qv)
    assert dense[dense["query_id"] == "AA-K31"]["item_id"].iloc[2] == "a2"


def test_centre_removes_the_shared_direction() -> None:
    rng = np.random.default_rng(0)
    shared = np.ones(8, dtype=np.float32)
    vecs = hybrid.l2_normalise(rng.normal(size=(200, 8)).astype(np.float32) * 0.1 + shared)
    centred = hybrid.centre(vecs, hybrid.corpus_mean(vecs))
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0, atol=1e-5)
    assert abs(float((vecs @ vecs.T).mean())) > 0.9  # anisotropic before
    assert abs(float((centred @ centred.T).mean())) < 0.05  # isotropic after


def test_t2_baselines_rank_every_funder() -> None:
    history = pd.DataFrame(
        {
            "grant_id": ["h1", "h2", "h3"],
            "funder_id": ["F1", "F1", "F2"],
            "funder_name": ["One", "One", "Two"],
            "text": ["youth sport clubs", "football for youth", "museum archives"],
        }
    )
    funders = pd.DataFrame(
        {"funder_id": ["F1", "F2"], "funder_name": ["One", "Two"], "n_history": [2, 1]}
    )
    task = T2Task(
        history=history,
        test=pd.DataFrame({"grant_id": ["t1"], "text": ["museum archives project"]}),
        test_key=pd.DataFrame({"grant_id": ["t1"], "funder_id": ["F2"]}),
        funders=funders,
    )
    assert baselines.t2_majority(task)["item_id"].tolist() == ["F1", "F2"]
    assert baselines.t2_tfidf(task)["item_id"].tolist() == ["F2", "F1"]
    hist = np.array([[1, 0], [1, 0.1], [0, 1]], dtype=np.float32)
    test = np.array([[0.1, 1]], dtype=np.float32)
    assert baselines.t2_dense(task, hist, test)["item_id"].tolist() == ["F2", "F1"]
    learned = hybrid.t2_learned(task, hist, test)
    assert learned["item_id"].tolist() == ["F2", "F1"]
    assert learned["rank"].tolist() == [1, 2]


def test_multi_sentence_vectors_average_sentences_with_the_full_text() -> None:
    table = {"A one.": [1.0, 0.0], "B two.": [0.0, 1.0], "Solo": [1.0, 1.0]}

    def encode(texts):  # type: ignore[no-untyped-def]
        return np.array([table[t] for t in texts], dtype=np.float32)

    full = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    out = hybrid.multi_sentence_vectors(["A one. B two.", "Solo"], full, encode)
    # (1,0) + mean((1,0),(0,1)) = (1.5, 0.5), normalised
    assert np.allclose(out[0], np.array([1.5, 0.5]) / np.hypot(1.5, 0.5))
    assert np.allclose(out[1], np.array([1.0, 2.0]) / np.hypot(1.0, 2.0))


def test_zscore_rows_standardises_each_row() -> None:
    z = hybrid.zscore_rows(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]))
    assert np.allclose(z[0], [-1.2247, 0.0, 1.2247], atol=1e-4)
    assert np.allclose(z[1], 0.0)
