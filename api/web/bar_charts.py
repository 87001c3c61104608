"""Inline SVG bar charts for the analytics page (no script, no external asset): a rate per group
as a horizontal bar, and counts per group as a stacked horizontal bar. Each chart's <title> and
aria-label say it in words, each bar has its own <title>, and the page shows a table of the same
figures beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, LABEL_W, BAR_H, GAP, TOP = 560, 190, 18, 8, 8
VALUE_W = 70
PLOT_W = WIDTH - LABEL_W - VALUE_W
NO_DATA = "#d1d5db"
RATE_COLOUR = "#1f6feb"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # a share in [0, 1]; None: no evidence (drawn as a grey stub)
    note: str = ""  # e.g. "3 of 4"


@dataclass(frozen=True)
class Stack:
    label: str
    counts: Sequence[int]  # one per series, in the order of the series


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _svg_open(words: str, height: int, css: str) -> list[str]:
    w = escape(words)
    return [
        f'<svg class="{css}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label="{w}">',
        f"<title>{w}</title>",
    ]


def _label(y: float, text: str) -> str:
    short = text if len(text) <= 30 else text[:29] + "…"
    return (
        f'<text x="{LABEL_W - 6}" y="{y + BAR_H - 5}" font-size="11" text-anchor="end">'
        f"{escape(short)}</text>"
    )


def rate_chart(title: str, bars: Sequence[Bar]) -> str:
    """One horizontal bar per group, its length the rate (0-100%)."""
    said = "; ".join(
        f"{b.label}: {_pct(b.value) if b.value is not None else 'no data'}"
        + (f" ({b.note})" if b.note else "")
        for b in bars
    )
    height = TOP * 2 + max(1, len(bars)) * (BAR_H + GAP)
    parts = _svg_open(f"{title}. {said}" if bars else f"{title}: no data", height, "rate-chart")
    parts.append(
        f'<line x1="{LABEL_W}" x2="{LABEL_W}" y1="{TOP - 4}" y2="{height - TOP + 4}" '
        'stroke="#6b7280"/>'
    )
    for i, b in enumerate(bars):
        y = TOP + i * (BAR_H + GAP)
        parts.append(_label(y, b.label))
        text = _pct(b.value) if b.value is not None else "no data"
        width = round(max(0.0, min(1.0, b.value)) * PLOT_W, 1) if b.value is not None else 3
        colour = RATE_COLOUR if b.value is not None else NO_DATA
        tip = f"{b.label}: {text}" + (f" ({b.note})" if b.note else "")
        parts.append(
            f'<rect x="{LABEL_W}" y="{y}" width="{width}" height="{BAR_H}" fill="{colour}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        parts.append(
            f'<text x="{LABEL_W + width + 4}" y="{y + BAR_H - 5}" font-size="11">'
            f"{escape(text)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_chart(title: str, series: Sequence[tuple[str, str]], stacks: Sequence[Stack]) -> str:
    """One horizontal bar per group, split into its series' counts (`series`: (name, colour)),
    on a common scale (the largest group fills the width), with a legend."""
    largest = max((sum(s.counts) for s in stacks), default=0) or 1
    said = "; ".join(
        f"{s.label}: "
        + ", ".join(f"{n} {name}" for (name, _), n in zip(series, s.counts, strict=True))
        for s in stacks
    )
    legend_h = 20
    height = TOP * 2 + legend_h + max(1, len(stacks)) * (BAR_H + GAP)
    parts = _svg_open(f"{title}. {said}" if stacks else f"{title}: no data", height, "stack-chart")
    x = LABEL_W
    for name, colour in series:
        parts.append(
            f'<rect x="{x}" y="{TOP}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{TOP + 9}" font-size="11">{escape(name)}</text>'
        )
        x += 14 + 7 * len(name) + 16
    for i, s in enumerate(stacks):
        y = TOP + legend_h + i * (BAR_H + GAP)
        parts.append(_label(y, s.label))
        x0 = float(LABEL_W)
        for (name, colour), n in zip(series, s.counts, strict=True):
            if n <= 0:
                continue
            w = round(n / largest * PLOT_W, 1)
            parts.append(
                f'<rect x="{x0}" y="{y}" width="{w}" height="{BAR_H}" fill="{colour}">'
                f"<title>{escape(f'{s.label}: {n} {name}')}</title></rect>"
            )
            x0 += w
        parts.append(
            f'<text x="{x0 + 4}" y="{y + BAR_H - 5}" font-size="11">{sum(s.counts)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
