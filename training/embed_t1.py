"""A T1 check of a vector space before `matcher embed --switch` serves it (`--t1 DIR`).

T1 (../shared/benchmarks/README.md) restricted to a few states: the real nonprofits of those
states embedded by the new model (name and mission), the T1 queries of those states, ranked by
centred cosine within the query's state (its hard filter); P@10 as the benchmarks count it.
The shared data is read at run time only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matcher.vectors import centre

DEFAULT_STATES = ("RI", "DE", "VT")


def t1_sample(
    shared_data: Path, encode: Callable[[list[str]], np.ndarray], states: Sequence[str]
) -> dict[str, Any]:
    """P@10 (and nDCG@10) of dense centred retrieval on T1 limited to `states`."""
    from training.benchmarks import baselines
    from training.benchmarks.report import figures
    from training.benchmarks.tasks import build_t1, restrict_t1, t1_ideal_gains

    task = restrict_t1(build_t1(Path(shared_data)), list(states))
    if task.queries.empty:
        raise ValueError(f"T1 has no queries in {', '.join(states)}")
    docs = np.asarray(encode(baselines.t1_doc_texts(task, with_name=True)), dtype=np.float32)
    queries = np.asarray(encode(task.queries["text"].tolist()), dtype=np.float32)
    mean = docs.mean(axis=0)
    results = baselines.t1_dense(task, centre(docs, mean), centre(queries, mean))
    figs = figures(
        results,
        task.relevance(),
        task.queries["query_id"].tolist(),
        ideal=t1_ideal_gains(task),
        min_gain=1.0,
    )
    return {
        "states": list(states),
        "profiles": len(task.profiles),
        "queries": len(task.queries),
        "P@10": round(figs["P@10"], 4),
        "nDCG@10": round(figs["nDCG@10"], 4),
    }
