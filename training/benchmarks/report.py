"""Figures of a ranking against a task, and the printed table (plain text, and rich if present)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from rich.console import Console
from rich.table import Table

from training import metrics

COLUMNS = ("P@10", "nDCG@10", "Hit@1", "Hit@5", "MRR")
Figures = dict[str, float]


def figures(
    results: pd.DataFrame,
    relevance: pd.DataFrame,
    queries: list[str],
    *,
    ideal: Mapping[str, list[float]] | None = None,
    min_gain: float = 1.0,
) -> Figures:
    """All five figures; P@10, Hit and MRR count an item relevant when gain >= min_gain."""
    q = queries
    return {
        "P@10": metrics.precision_at_k(results, relevance, 10, min_gain=min_gain, queries=q),
        "nDCG@10": metrics.ndcg_at_k(results, relevance, 10, ideal=ideal, queries=q),
        "Hit@1": metrics.hit_at_k(results, relevance, 1, min_gain=min_gain, queries=q),
        "Hit@5": metrics.hit_at_k(results, relevance, 5, min_gain=min_gain, queries=q),
        "MRR": metrics.mrr(results, relevance, min_gain=min_gain, queries=q),
    }


def plain_table(
    rows: Mapping[str, Mapping[str, Figures | str]], columns: Sequence[str] = COLUMNS
) -> str:
    """rows: task -> method -> figures (or a string saying why there are none)."""
    widths = [max(9, len(c) + 1) for c in columns]
    head = f"{'task':<4} {'method':<40}" + "".join(
        f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)
    )
    lines = [head, "-" * len(head)]
    for task, methods in rows.items():
        for method, figs in methods.items():
            if isinstance(figs, str):
                lines.append(f"{task:<4} {method:<40} {figs}")
                continue
            cells = "".join(
                f"{figs[c]:>{w}.3f}" if c in figs else f"{'':>{w}}"
                for c, w in zip(columns, widths, strict=True)
            )
            lines.append(f"{task:<4} {method:<40}{cells}")
    return "\n".join(lines)


def print_tables(
    rows: Mapping[str, Mapping[str, Figures | str]],
    columns: Sequence[str] = COLUMNS,
    title: str = "Benchmark quality (measured in this run)",
) -> None:
    """A rich table on stderr, then the plain-text table on stdout."""
    table = Table(title=title)
    table.add_column("task")
    table.add_column("method")
    for c in columns:
        table.add_column(c, justify="right")
    for task, methods in rows.items():
        for method, figs in methods.items():
            if isinstance(figs, str):
                table.add_row(task, method, figs)
            else:
                table.add_row(
                    task, method, *[f"{figs[c]:.3f}" if c in figs else "" for c in columns]
                )
    Console(stderr=True).print(table)
    print(plain_table(rows, columns), flush=True)
