"""Reference implementation of the retrieval method proposed for the engine, and T2 profiles.

T1 (cause search): mean-centred dense cosine plus a small weight of TF-IDF cosine.

    mu        = mean of the corpus' L2-normalised profile embeddings (computed at build time)
    c(x)      = (x - mu) / ||x - mu||          applied to profiles and to the query
    score(d)  = c(q) . c(d) + LEXICAL_WEIGHT * tfidf_cos(q, d)

Centring removes the direction every MiniLM embedding shares (anisotropy), so the cosine measures
what distinguishes a profile rather than "is a short English text about a charity".

T2 (funder match): a funder profile learned from its history grants by multinomial logistic
regression on the (mean-centred) embeddings, its regularisation chosen by cross-validation on the
history only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.benchmarks import baselines
from training.benchmarks.tasks import T1Task, T2Task

LEXICAL_WEIGHT = 0.2


def l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.asarray(x / np.maximum(norms, 1e-12), dtype=np.float32)


def centre(vectors: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Subtract the corpus mean and re-normalise (rows of `vectors`)."""
    return l2_normalise(np.asarray(vectors, dtype=np.float32) - mean.reshape(1, -1))


def corpus_mean(vectors: np.ndarray) -> np.ndarray:
    return np.asarray(vectors, dtype=np.float32).mean(axis=0)


def t1_hybrid(
    task: T1Task,
    doc_vectors: np.ndarray,
    query_vectors: np.ndarray,
    k: int = 10,
    lexical_weight: float = LEXICAL_WEIGHT,
) -> pd.DataFrame:
    mean = corpus_mean(doc_vectors)
    docs = centre(doc_vectors, mean)
    queries = centre(query_vectors, mean)
    lex_docs, lex_queries = baselines.tfidf_matrices(
        baselines.t1_doc_texts(task, with_name=True),
        task.queries["text"].tolist(),
        stop_words="english",
    )

    def scorer(qp: np.ndarray, dp: np.ndarray) -> np.ndarray:
        dense = queries[qp] @ docs[dp].T
        lexical = (lex_queries[qp] @ lex_docs[dp].T).toarray()
        return np.asarray(dense + lexical_weight * lexical)

    q = task.queries
    p = task.profiles
    return baselines.rank_within_region(
        q["query_id"].tolist(),
        q["region"].tolist(),
        p["id"].tolist(),
        p["region"].tolist(),
        scorer,
        k,
    )


def t2_learned(task: T2Task, history_vectors: np.ndarray, test_vectors: np.ndarray) -> pd.DataFrame:
    """Placeholder until research settles: centred centroid profiles."""
    mean = corpus_mean(history_vectors)
    hist = centre(history_vectors, mean)
    test = centre(test_vectors, mean)
    scores = test @ baselines.t2_centroids(task, hist).T
    return baselines.rank_items(
        task.test["grant_id"].tolist(), baselines.t2_funder_order(task), scores
    )
