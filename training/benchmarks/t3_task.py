"""Benchmark T3 (mission-to-peers), exactly as ../shared/benchmarks/README.md defines it.

The corpus is T1's. A query is one organisation's own mission, restricted to its state; the
relevant results are the *other* organisations of that state with the same NTEE code3 (gain 1;
0.25 for the same first letter, as T1). Rankers ask for 11 and drop the query organisation
before the top 10 are scored; the ideal ranking excludes it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from training.benchmarks.tasks import (
    MIN_CODE_NUMBER,
    MIN_PER_STATE,
    NONPROFITS_FILE,
    T1Task,
    _read,
    build_t1_from_frames,
)

T3_QUERIES = 400
T3_SEED = 1
MIN_MISSION = 100
ASK = 11
K = 10


@dataclass(frozen=True)
class T3Task(T1Task):
    """T1's profiles and key; `queries` also holds `self_id`, the query organisation's id."""

    def relevance(self) -> pd.DataFrame:
        rel = super().relevance()
        own = dict(zip(self.queries["query_id"], self.queries["self_id"], strict=True))
        return rel[rel["item_id"] != rel["query_id"].map(own)].reset_index(drop=True)


def select_t3_queries(
    profiles: pd.DataFrame, key: pd.DataFrame, n_queries: int = T3_QUERIES, seed: int = T3_SEED
) -> pd.DataFrame:
    """Groups (state, code3) with >= 10 members and code number >= 20; their members with a
    mission of >= 100 characters are candidates; shuffle (seed), keep the first per group,
    then draw n_queries (seed)."""
    sizes = key.groupby(["region", "code3"])["id"].transform("size")
    number = pd.to_numeric(key["code3"].str[1:3], errors="coerce").fillna(-1)
    eligible = (
        (sizes >= MIN_PER_STATE).to_numpy()
        & (number >= MIN_CODE_NUMBER).to_numpy()
        & (profiles["description"].str.len() >= MIN_MISSION).to_numpy()
    )
    cands = pd.DataFrame(
        {
            "self_id": profiles["id"],
            "region": key["region"],
            "code3": key["code3"],
            "text": profiles["description"],
        }
    )[eligible]
    firsts = cands.sample(frac=1.0, random_state=seed).drop_duplicates(["region", "code3"])
    picked = firsts.sample(n_queries, random_state=seed) if len(firsts) > n_queries else firsts
    return pd.DataFrame(
        {
            "query_id": "t3-" + picked["self_id"],
            "self_id": picked["self_id"].to_numpy(),
            "region": picked["region"].to_numpy(),
            "code3": picked["code3"].to_numpy(),
            "major": picked["code3"].str[0].to_numpy(),
            "text": picked["text"].to_numpy(),
        }
    ).reset_index(drop=True)


def build_t3_from_frames(
    orgs: pd.DataFrame, n_queries: int = T3_QUERIES, seed: int = T3_SEED
) -> T3Task:
    t1 = build_t1_from_frames(orgs, pd.DataFrame({"code": [], "title": [], "definition": []}), 0)
    queries = select_t3_queries(t1.profiles, t1.key, n_queries=n_queries, seed=seed)
    return T3Task(profiles=t1.profiles, key=t1.key, queries=queries)


def build_t3(shared_data: Path, n_queries: int = T3_QUERIES, seed: int = T3_SEED) -> T3Task:
    return build_t3_from_frames(_read(Path(shared_data) / NONPROFITS_FILE), n_queries, seed)


def drop_self(task: T3Task, results: pd.DataFrame, k: int = K) -> pd.DataFrame:
    """Remove each query's own organisation from its results, re-rank, keep the top k."""
    own = dict(zip(task.queries["query_id"], task.queries["self_id"], strict=True))
    kept = results[results["item_id"] != results["query_id"].map(own)]
    kept = kept.sort_values(["query_id", "rank"], kind="stable").copy()
    kept["rank"] = kept.groupby("query_id").cumcount() + 1
    return kept[kept["rank"] <= k].reset_index(drop=True)
