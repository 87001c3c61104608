"""T4 figures (T4.md) from what came back for each need, and the per-need rows for a reader.

Items in the ranked lists and the coalition are anything with `id`, `sector` and `region`
(matcher.domain.Match, or `Item` for the baselines).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from training.benchmarks.card_checks import card_problems, count_by_kind
from training.benchmarks.t4_engine import NeedRun
from training.benchmarks.t4_task import T4_SECTORS, T4Need, T4Task

K = 5
SHORT = {"nonprofit": "np", "business": "bus", "government": "gov"}
# Printed columns: P@5 and capped P@5 (cP@5 = hits / min(5, R)) per sector, coalition sector
# coverage, share of coalitions spanning >= 2 sectors, locality violations (total; share of
# needs with any).
T4_COLUMNS = (
    *(f"P@{K} {SHORT[s]}" for s in T4_SECTORS),
    *(f"cP@{K} {SHORT[s]}" for s in T4_SECTORS),
    "coverage",
    "2+ sectors",
    "loc viol",
    "needs viol",
)


@dataclass(frozen=True)
class Item:
    """A ranked result of a baseline (no score breakdown, no card)."""

    id: str
    name: str
    sector: str
    region: str | None


def _mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0


def hits_at_k(task: T4Task, need: T4Need, sector: str, items: Sequence[Any], k: int = K) -> int:
    return sum(task.relevant(need, sector, str(m.id)) for m in items[:k])


def coalition_coverage(task: T4Task, need: T4Need, members: Sequence[Any]) -> float:
    """Share of the wanted sectors with at least one relevant coalition member."""
    covered = sum(
        any(str(m.sector) == s and task.relevant(need, s, str(m.id)) for m in members)
        for s in need.sectors
    )
    return covered / len(need.sectors) if need.sectors else 0.0


def locality_violations(need: T4Need, run: NeedRun) -> int:
    """Nonprofit results (ranked lists and coalition) outside the need's state."""
    items = [m for sector_list in run.lists.values() for m in sector_list] + list(run.coalition)
    return sum(
        str(m.sector) == "nonprofit" and (m.region or "").upper() != need.state for m in items
    )


def t4_figures(task: T4Task, runs: Sequence[NeedRun], k: int = K) -> dict[str, float]:
    """P@k and capped P@k per sector (mean over the needs asking for it), coalition coverage,
    the share of coalitions spanning two or more sectors, locality violations."""
    p: dict[str, list[float]] = {s: [] for s in T4_SECTORS}
    capped: dict[str, list[float]] = {s: [] for s in T4_SECTORS}
    coverage: list[float] = []
    spans: list[float] = []
    violations: list[int] = []
    for run in runs:
        need = run.need
        for sector in need.sectors:
            hits = hits_at_k(task, need, sector, run.lists.get(sector, []), k)
            r = task.n_relevant(need, sector)
            p[sector].append(hits / k)
            capped[sector].append(hits / min(k, r) if r else 0.0)
        coverage.append(coalition_coverage(task, need, run.coalition))
        spans.append(float(len({str(m.sector) for m in run.coalition}) >= 2))
        violations.append(locality_violations(need, run))
    out: dict[str, float] = {}
    for s in T4_SECTORS:
        out[f"P@{k} {SHORT[s]}"] = _mean(p[s])
    for s in T4_SECTORS:
        out[f"cP@{k} {SHORT[s]}"] = _mean(capped[s])
    out["coverage"] = _mean(coverage)
    out["2+ sectors"] = _mean(spans)
    out["loc viol"] = float(sum(violations))
    out["needs viol"] = _mean([float(v > 0) for v in violations])
    return out


def card_counts(runs: Sequence[NeedRun]) -> dict[str, int]:
    """Cards with problems (card_checks) over every card of the run: ranked lists and coalition."""
    cards = []
    for run in runs:
        for m in [m for lst in run.lists.values() for m in lst] + list(run.coalition):
            if hasattr(m, "reasons"):
                cards.append(card_problems(m, run.asked))
    return count_by_kind(cards)


def _item_row(task: T4Task, run: NeedRun, m: Any, with_card: bool) -> dict[str, Any]:
    need = run.need
    sector = str(m.sector)
    row: dict[str, Any] = {
        "id": str(m.id),
        "name": str(m.name),
        "sector": sector,
        "region": m.region,
        "relevant": task.relevant(need, sector, str(m.id)),
    }
    if sector == "nonprofit":
        row["ntee3"] = task.np_key.get(str(m.id), ("", ""))[1]
    elif sector == "business":
        row["industry"] = task.industry.get(str(m.id), "")
    if with_card and hasattr(m, "reasons"):
        row["reasons"] = list(m.reasons)
        row["problems"] = [f"{p.kind}: {p.detail}" for p in card_problems(m, run.asked)]
    return row


def need_rows(
    task: T4Task, runs: Sequence[NeedRun], k: int = K, with_cards: bool = True
) -> list[dict[str, Any]]:
    """One row a person can read per need: topic, hits per sector, what came back."""
    rows = []
    for run in runs:
        need = run.need
        rows.append(
            {
                "id": need.id,
                "topic": need.topic,
                "state": need.state,
                "city": need.city,
                "text": need.text,
                "hits": {
                    s: f"{hits_at_k(task, need, s, run.lists.get(s, []), k)}/{k}"
                    f" (R={task.n_relevant(need, s)})"
                    for s in need.sectors
                },
                "coalition_coverage": round(coalition_coverage(task, need, run.coalition), 3),
                "lists": {
                    s: [_item_row(task, run, m, with_cards) for m in run.lists.get(s, [])[:k]]
                    for s in need.sectors
                },
                "coalition": [_item_row(task, run, m, with_cards) for m in run.coalition],
            }
        )
    return rows
