"""Reference implementation of the retrieval method proposed for the engine, and T2 profiles.

T1 (cause search), "centred multi-sentence dense + z-fused TF-IDF":

    mu        = mean of the corpus' L2-normalised profile embeddings (computed at build time)
    c(x)      = (x - mu) / ||x - mu||                   applied to profiles and to the query
    v(need)   = e(text) + mean over sentences s of e(s)  (e = MiniLM embedding, L2-normalised)
    dense(d)  = c(v(need)) . c(d)
    score(d)  = 0.9 * z(dense)(d) + 0.1 * z(tfidf_cos)(d)

z(.) standardises a score over the candidates that pass the hard filters (mean 0, std 1).
Centring removes the direction every MiniLM embedding shares (anisotropy), so the cosine measures
what distinguishes a profile; the sentence mean keeps the first (title) sentence and each aspect
of a long need from being drowned by the rest.

T2 (funder match): funder profiles learned from history grants by multinomial logistic regression
on their embeddings (t2_learned).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from matcher.vectors import centre, l2_normalise
from training.benchmarks import baselines
from training.benchmarks.tasks import T1Task, T2Task

LEXICAL_WEIGHT = 0.1
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def corpus_mean(vectors: np.ndarray) -> np.ndarray:
    return np.asarray(vectors, dtype=np.float32).mean(axis=0)


def sentences(text: str) -> list[str]:
    parts = [s.strip() for s in _SENTENCE_END.split(text)]
    return [s for s in parts if len(s) > 3] or [text]


def multi_sentence_vectors(
    texts: Sequence[str], full: np.ndarray, encode: Callable[[Sequence[str]], np.ndarray]
) -> np.ndarray:
    """normalise(e(text) + mean of e(sentence)) for each text; `full` holds e(text)."""
    split = [sentences(t) for t in texts]
    flat = encode([s for parts in split for s in parts])
    out = np.empty_like(full, dtype=np.float32)
    start = 0
    for i, parts in enumerate(split):
        out[i] = full[i] + flat[start : start + len(parts)].mean(axis=0)
        start += len(parts)
    return l2_normalise(out)


def zscore_rows(scores: np.ndarray) -> np.ndarray:
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return np.asarray((scores - mean) / np.maximum(std, 1e-9))


def t1_hybrid(
    task: T1Task,
    doc_vectors: np.ndarray,
    query_vectors: np.ndarray,
    k: int = 10,
    lexical_weight: float = LEXICAL_WEIGHT,
) -> pd.DataFrame:
    """Rank T1 with the method above; `query_vectors` are the multi-sentence query vectors."""
    mean = corpus_mean(doc_vectors)
    docs = centre(doc_vectors, mean)
    queries = centre(query_vectors, mean)
    lex_docs, lex_queries = baselines.tfidf_matrices(
        baselines.t1_doc_texts(task, with_name=True),
        task.queries["text"].tolist(),
        stop_words="english",
    )

    def scorer(qp: np.ndarray, dp: np.ndarray) -> np.ndarray:
        dense = zscore_rows(queries[qp] @ docs[dp].T)
        lexical = zscore_rows((lex_queries[qp] @ lex_docs[dp].T).toarray())
        return (1.0 - lexical_weight) * dense + lexical_weight * lexical

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


T2_C = (
    10.0  # chosen by 2-fold cross-validation on the history grants only (C=1: 0.950, C=10: 0.962)
)


def t2_learned(
    task: T2Task, history_vectors: np.ndarray, test_vectors: np.ndarray, c: float = T2_C
) -> pd.DataFrame:
    """Funder profiles learned from history: multinomial logistic regression on the history
    grants' embeddings (one weight vector and bias per funder); rank funders by probability."""
    from sklearn.linear_model import LogisticRegression

    funders = baselines.t2_funder_order(task)
    label = {f: i for i, f in enumerate(funders)}
    y = task.history["funder_id"].map(label).to_numpy()
    model = LogisticRegression(C=c, max_iter=1000)
    model.fit(history_vectors, y)
    proba = np.zeros((len(test_vectors), len(funders)))
    proba[:, model.classes_] = model.predict_proba(test_vectors)
    return baselines.rank_items(task.test["grant_id"].tolist(), funders, proba)
