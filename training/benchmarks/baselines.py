"""Baselines of ../shared/benchmarks/README.md: random / majority, TF-IDF and dense cosine.

T1 rankings are restricted to the query's state (a hard filter). Every ranker returns a results
frame (query_id, item_id, rank) for training.metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from training.benchmarks.tasks import T1Task, T2Task

# (query positions, doc positions) -> score matrix of shape (len(queries), len(docs))
Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]


def tfidf_vectorizer(stop_words: str | None = None) -> TfidfVectorizer:
    return TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), stop_words=stop_words)


def t1_doc_texts(task: T1Task, with_name: bool = False) -> list[str]:
    p = task.profiles
    if with_name:
        return (p["name"] + ". " + p["description"]).tolist()
    return p["description"].tolist()


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column positions of the k best scores of each row, best first (ties: lower position)."""
    k = min(k, scores.shape[1])
    if k == 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    rows = np.arange(scores.shape[0])[:, None]
    order = np.lexsort((part, -scores[rows, part]), axis=1)
    return np.asarray(np.take_along_axis(part, order, axis=1))


def rank_within_region(
    query_ids: Sequence[str],
    query_regions: Sequence[str],
    item_ids: Sequence[str],
    item_regions: Sequence[str],
    scorer: Scorer,
    k: int = 10,
) -> pd.DataFrame:
    """Rank, for each query, only the items of its region by `scorer`."""
    q_regions = np.asarray(query_regions)
    d_regions = np.asarray(item_regions)
    items = np.asarray(item_ids)
    rows: list[tuple[str, str, int]] = []
    for region in pd.unique(q_regions):
        q_pos = np.flatnonzero(q_regions == region)
        d_pos = np.flatnonzero(d_regions == region)
        if not len(d_pos):
            continue
        best = top_k(np.asarray(scorer(q_pos, d_pos)), k)
        for qi, cols in zip(q_pos, best, strict=True):
            rows.extend(
                (query_ids[int(qi)], str(items[d_pos[c]]), r + 1) for r, c in enumerate(cols)
            )
    return pd.DataFrame(rows, columns=["query_id", "item_id", "rank"])


def _t1_rank(task: T1Task, scorer: Scorer, k: int) -> pd.DataFrame:
    q = task.queries
    p = task.profiles
    return rank_within_region(
        q["query_id"].tolist(),
        q["region"].tolist(),
        p["id"].tolist(),
        p["region"].tolist(),
        scorer,
        k,
    )


def t1_random(task: T1Task, k: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return _t1_rank(task, lambda qp, dp: rng.random((len(qp), len(dp))), k)


def tfidf_matrices(
    docs: Sequence[str], queries: Sequence[str], stop_words: str | None = None
) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    vec = tfidf_vectorizer(stop_words)
    d = vec.fit_transform(docs)
    return sparse.csr_matrix(d), sparse.csr_matrix(vec.transform(queries))


def sparse_scorer(docs: sparse.csr_matrix, queries: sparse.csr_matrix) -> Scorer:
    return lambda qp, dp: (queries[qp] @ docs[dp].T).toarray()


def dense_scorer(docs: np.ndarray, queries: np.ndarray) -> Scorer:
    return lambda qp, dp: queries[qp] @ docs[dp].T


def t1_tfidf(
    task: T1Task, k: int = 10, with_name: bool = True, stop_words: str | None = "english"
) -> pd.DataFrame:
    """TF-IDF cosine over the profile text (name. mission), vocabulary fitted on the corpus."""
    docs, queries = tfidf_matrices(
        t1_doc_texts(task, with_name), task.queries["text"].tolist(), stop_words
    )
    return _t1_rank(task, sparse_scorer(docs, queries), k)


def t1_dense(
    task: T1Task, doc_vectors: np.ndarray, query_vectors: np.ndarray, k: int = 10
) -> pd.DataFrame:
    return _t1_rank(task, dense_scorer(doc_vectors, query_vectors), k)


def rank_items(
    query_ids: Sequence[str], item_ids: Sequence[str], scores: np.ndarray, k: int | None = None
) -> pd.DataFrame:
    """Results frame from a full (n_queries, n_items) score matrix."""
    best = top_k(scores, k or scores.shape[1])
    rows = [
        (query_ids[qi], item_ids[c], r + 1)
        for qi, cols in enumerate(best)
        for r, c in enumerate(cols)
    ]
    return pd.DataFrame(rows, columns=["query_id", "item_id", "rank"])


def t2_majority(task: T2Task) -> pd.DataFrame:
    funders = task.funders.sort_values(["n_history", "funder_id"], ascending=[False, True])
    scores = np.tile(-np.arange(len(funders), dtype=float), (len(task.test), 1))
    return rank_items(task.test["grant_id"].tolist(), funders["funder_id"].tolist(), scores)


def t2_funder_order(task: T2Task) -> list[str]:
    return task.funders["funder_id"].tolist()


def t2_tfidf(task: T2Task) -> pd.DataFrame:
    """Profile = all history grant texts of a funder concatenated; cosine of TF-IDF vectors."""
    funders = t2_funder_order(task)
    grouped = task.history.groupby("funder_id")["text"].apply(" ".join)
    profiles, queries = tfidf_matrices([grouped[f] for f in funders], task.test["text"].tolist())
    scores = (queries @ profiles.T).toarray()
    return rank_items(task.test["grant_id"].tolist(), funders, scores)


def t2_centroids(task: T2Task, history_vectors: np.ndarray) -> np.ndarray:
    """L2-normalised mean of each funder's history embeddings, in t2_funder_order."""
    labels = task.history["funder_id"].to_numpy()
    cents = np.stack([history_vectors[labels == f].mean(axis=0) for f in t2_funder_order(task)])
    return cents / np.linalg.norm(cents, axis=1, keepdims=True)


def t2_dense(task: T2Task, history_vectors: np.ndarray, test_vectors: np.ndarray) -> pd.DataFrame:
    scores = test_vectors @ t2_centroids(task, history_vectors).T
    return rank_items(task.test["grant_id"].tolist(), t2_funder_order(task), scores)
