"""The gate's measures on the shared benchmarks (../shared/benchmarks/README.md), held out.

T1 (a cause definition finds its members), T3 (a mission finds its cause peers) and T4 (a need
finds partners per sector) are scored with the benchmarks' own dense baselines and figures
(`training.benchmarks`), so a gate row equals the "dense baseline" row `make bench-quality`
prints for that model, restricted to the queries (and, every query being filtered to its own
state, the profiles) of the held-out states. T2 (which funder backs a grant) has no state
split: it is scored on its own test grants (the benchmark's md5 split), with the funders'
profiles the centroids of their history grants, as its dense baseline row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from training.embed_gate import Encode, Measure

T4_K = 5


class T1Measure(Measure):
    primary = "P@10"

    def __init__(self, shared: Path, states: Sequence[str]) -> None:
        from training.benchmarks.tasks import build_t1, restrict_t1

        task = build_t1(shared)
        self.task = restrict_t1(task, list(states)) if states else task
        where = "+".join(states) if states else "all dev states"
        self.name = "T1 cause search"
        self.description = (
            f"{len(self.task.queries)} NTEE-definition queries of {where}, "
            f"{len(self.task.profiles)} profiles"
        )

    def run(self, encode: Encode) -> dict[str, float]:
        from training.bench_quality import t1_figures
        from training.benchmarks import baselines

        docs = encode(baselines.t1_doc_texts(self.task, with_name=True))
        queries = encode(self.task.queries["text"].tolist())
        figs = t1_figures(self.task, baselines.t1_dense(self.task, docs, queries))
        return {k: float(figs[k]) for k in ("P@10", "nDCG@10", "MRR")}


class T2Measure(Measure):
    """Which of the 7 funders backs each test grant: the dense centroid baseline's Hit@1. A
    model fine-tuned with the `grants` pairs may have seen these grants (they are history to
    the importer); the other pair sources never include them."""

    primary = "Hit@1"

    def __init__(self, shared: Path) -> None:
        from training.benchmarks.tasks import build_t2

        self.task = build_t2(shared)
        self.name = "T2 funder for a grant"
        self.description = (
            f"{len(self.task.test)} test grants, {len(self.task.funders)} funders profiled "
            f"by {len(self.task.history)} history grants (no state split)"
        )

    def run(self, encode: Encode) -> dict[str, float]:
        from training.bench_quality import t2_figures
        from training.benchmarks import baselines

        hist = encode(self.task.history["text"].tolist())
        test = encode(self.task.test["text"].tolist())
        figs = t2_figures(self.task, baselines.t2_dense(self.task, hist, test))
        return {k: float(figs[k]) for k in ("Hit@1", "Hit@5", "MRR")}


class T3Measure(Measure):
    primary = "P@10"

    def __init__(self, shared: Path, states: Sequence[str]) -> None:
        from training.benchmarks.t3_task import build_t3

        task = build_t3(shared)
        if states:
            keep = set(states)
            task = dataclasses.replace(
                task,
                profiles=task.profiles[task.profiles["region"].isin(keep)].reset_index(drop=True),
                key=task.key[task.key["region"].isin(keep)].reset_index(drop=True),
                queries=task.queries[task.queries["region"].isin(keep)].reset_index(drop=True),
            )
        self.task = task
        where = "+".join(states) if states else "all dev states"
        self.name = "T3 mission to peers"
        self.description = (
            f"{len(task.queries)} missions of {where} as queries, {len(task.profiles)} profiles"
        )

    def run(self, encode: Encode) -> dict[str, float]:
        from training.bench_quality import t3_figures
        from training.benchmarks import baselines
        from training.benchmarks.t3_task import ASK

        docs = encode(baselines.t1_doc_texts(self.task, with_name=True))
        queries = encode(self.task.queries["text"].tolist())
        figs = t3_figures(self.task, baselines.t1_dense(self.task, docs, queries, k=ASK))
        return {k: float(figs[k]) for k in ("P@10", "nDCG@10")}


class T4Measure(Measure):
    """Mean over the sectors of the per-sector P@5 of the dense baseline (the needs of the
    held-out states, or all needs when fewer than `min_needs` are there, as it says)."""

    primary = f"P@{T4_K} mean of sectors"

    def __init__(self, shared: Path, states: Sequence[str], min_needs: int = 10) -> None:
        from training.benchmarks.t4_task import build_t4, default_needs_path

        task = build_t4(shared, default_needs_path(shared), with_organisations=False)
        keep = set(states)
        held = [n for n in task.needs if n.state in keep]
        where = f"the needs of {'+'.join(states)}"
        if len(held) < min_needs:
            where = (
                f"all {len(task.needs)} needs (only {len(held)} in {'+'.join(states) or '-'}: "
                "the others' states may be in the model's training data, where nonprofits "
                "are relevant by the cause codes it learned from)"
            )
            held = list(task.needs)
        self.task = dataclasses.replace(task, needs=held)
        self.name = "T4 partners for a need"
        self.description = f"{where}, {len(task.corpus)} profiles of three sectors"

    def run(self, encode: Encode) -> dict[str, float]:
        from training.benchmarks.t4_baselines import t4_dense
        from training.benchmarks.t4_metrics import SHORT, t4_figures

        docs = encode(self.task.corpus["text"].tolist())
        needs = encode([n.text for n in self.task.needs])
        figs = t4_figures(self.task, t4_dense(self.task, docs, needs))
        out = {f"P@{T4_K} {s}": float(figs[f"P@{T4_K} {s}"]) for s in SHORT.values()}
        present = [v for v in out.values() if v == v]
        out[self.primary] = sum(present) / len(present) if present else 0.0
        out["coverage"] = float(figs["coverage"])
        return out


def shared_measures(shared: Path, states: Sequence[str]) -> tuple[list[Measure], dict[str, str]]:
    """The measures the shared data allows, and why the others were skipped."""
    from training.benchmarks.t4_task import COMPANIES_FILE, default_needs_path
    from training.benchmarks.tasks import GRANTS_FILE, NONPROFITS_FILE, NTEE_FILE

    measures: list[Measure] = []
    skipped: dict[str, str] = {}
    grants: list[Measure] = [T2Measure(shared)] if (shared / GRANTS_FILE).is_file() else []
    if not grants:
        skipped["T2"] = f"{shared / GRANTS_FILE} not found"
    if not (shared / NONPROFITS_FILE).is_file():
        why = f"shared data not found ({shared / NONPROFITS_FILE})"
        return grants, {**skipped, "T1": why, "T3": why, "T4": why}
    if (shared / NTEE_FILE).is_file():
        measures.append(T1Measure(shared, states))
    else:
        skipped["T1"] = f"{shared / NTEE_FILE} not found"
    measures += grants
    measures.append(T3Measure(shared, states))
    if (shared / COMPANIES_FILE).is_file() and default_needs_path(shared).is_file():
        measures.append(T4Measure(shared, states))
    else:
        skipped["T4"] = f"{shared / COMPANIES_FILE} or {default_needs_path(shared)} not found"
    return measures, skipped
