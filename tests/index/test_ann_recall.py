"""Approximate backends must keep recall@10 >= 0.95 against exact search on held-out queries."""

from __future__ import annotations

import time

import numpy as np
import pytest

from matcher.index.factory import create_index

DIM = 384
N = 20_000
N_QUERIES = 300
K = 10


def clustered(rng: np.random.Generator, centres: np.ndarray, n: int) -> np.ndarray:
    """Points around random centres (cosine to their centre about 0.7), L2-normalised."""
    pick = rng.integers(0, centres.shape[0], size=n)
    x = centres[pick] + rng.standard_normal((n, DIM)).astype(np.float32) * 0.05
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def corpus() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    centres = rng.standard_normal((150, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    vectors = clustered(rng, centres, N)
    queries = clustered(rng, centres, N_QUERIES)  # held out: never added
    ids = rng.permutation(N).astype(np.int64) + 1_000
    flat = create_index("flat", DIM)
    flat.add(ids, vectors)
    truth, _ = flat.search(queries, K)
    return ids, vectors, queries, truth


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_recall_at_10_vs_flat(
    kind: str, corpus: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
) -> None:
    ids, vectors, queries, truth = corpus
    index = create_index(kind, DIM)
    start = time.perf_counter()
    index.add(ids, vectors)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    found, scores = index.search(queries, K)
    per_query_ms = (time.perf_counter() - start) * 1000 / N_QUERIES
    recall = recall_at_k(found, truth)
    print(
        f"\n{kind}: recall@{K}={recall:.4f} build={build_s:.2f}s "
        f"search={per_query_ms:.3f}ms/query (batch) params={index.params()}"
    )
    assert recall >= 0.95
    assert (found >= 0).all() and np.isfinite(scores).all()


def test_hnsw_recall_holds_with_tombstones(
    corpus: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """A third of the vectors removed: results never include them and recall stays high."""
    ids, vectors, queries, _ = corpus
    index = create_index("hnsw", DIM)
    index.add(ids[:6_000], vectors[:6_000])
    gone = ids[:2_000]
    index.remove(gone)
    flat = create_index("flat", DIM)
    flat.add(ids[2_000:6_000], vectors[2_000:6_000])
    truth, _ = flat.search(queries, K)
    found, _ = index.search(queries, K)
    recall = recall_at_k(found, truth)
    print(f"\nhnsw with {len(gone)} tombstones: recall@{K}={recall:.4f}")
    assert not np.isin(found, gone).any()
    assert (found >= 0).all()
    assert recall >= 0.95
