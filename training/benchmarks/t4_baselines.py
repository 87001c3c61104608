"""T4 baselines (../shared/benchmarks/README.md): TF-IDF and dense MiniLM cosine over the same
three corpora, the same filters (nonprofits in the need's state; businesses and agencies
national), and the naive coalition: the top result of each wanted sector."""

from __future__ import annotations

import numpy as np

from training.benchmarks import baselines
from training.benchmarks.t4_engine import LIST_SIZE, NeedRun, engine_need
from training.benchmarks.t4_metrics import Item
from training.benchmarks.t4_task import T4Need, T4Task


def candidates(task: T4Task, need: T4Need, sector: str) -> np.ndarray:
    """Corpus positions that pass the sector's filters."""
    corpus = task.corpus
    mask = (corpus["sector"] == sector).to_numpy().copy()
    if sector == "nonprofit":
        mask &= (corpus["region"].str.upper() == need.state).to_numpy()
    return np.flatnonzero(mask)


def rank_t4(task: T4Task, scores: np.ndarray, k: int = LIST_SIZE) -> list[NeedRun]:
    """Per-sector top k by `scores` (needs x corpus rows); the naive coalition is the top 1 of
    each wanted sector."""
    corpus = task.corpus
    ids, names = corpus["id"].tolist(), corpus["name"].tolist()
    regions = corpus["region"].tolist()
    runs: list[NeedRun] = []
    for i, need in enumerate(task.needs):
        run = NeedRun(need=need, asked=engine_need(need))
        for sector in need.sectors:
            pos = candidates(task, need, sector)
            if not len(pos):
                run.lists[sector] = []
                continue
            best = pos[baselines.top_k(scores[i, pos][None, :], k)[0]]
            run.lists[sector] = [
                Item(id=ids[j], name=names[j], sector=sector, region=regions[j] or None)
                for j in best.tolist()
            ]
        run.coalition = [lst[0] for lst in run.lists.values() if lst]
        runs.append(run)
    return runs


def t4_tfidf(task: T4Task, k: int = LIST_SIZE, per_state: bool = False) -> list[NeedRun]:
    """TF-IDF as T1's (sublinear tf, uni- and bigrams, English stop words), the vocabulary
    fitted on each sector's corpus (with `per_state`, nonprofits on each state's)."""
    needs = [n.text for n in task.needs]
    corpus = task.corpus
    scores = np.zeros((len(needs), len(corpus)))
    groups = corpus["sector"] + ("/" + corpus["region"].str.upper() if per_state else "")
    if per_state:
        groups = groups.where(corpus["sector"] == "nonprofit", corpus["sector"])
    for _, pos in groups.groupby(groups).indices.items():
        docs, queries = baselines.tfidf_matrices(
            corpus["text"].iloc[pos].tolist(), needs, stop_words="english"
        )
        scores[:, pos] = (queries @ docs.T).toarray()
    return rank_t4(task, scores, k)


def t4_dense(
    task: T4Task, doc_vectors: np.ndarray, need_vectors: np.ndarray, k: int = LIST_SIZE
) -> list[NeedRun]:
    """Cosine of L2-normalised embeddings (all-MiniLM-L6-v2) of need and profile texts."""
    return rank_t4(task, need_vectors @ doc_vectors.T, k)
