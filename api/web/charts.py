"""Small inline SVG charts for the pages (no script, no external asset): a goal's progress
from its baseline towards its target, one point per check-in, coloured by side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT, PAD = 320, 120, 28
SIDE_COLOURS = ("#1f6feb", "#c2410c")  # the proposer's side, the partner's side


@dataclass(frozen=True)
class Point:
    value: float
    side: int  # 0: the proposer's organisation, 1: the partner


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or v == int(v) else f"{v:,.2f}"


def goal_chart(label: str, baseline: float, target: float, points: Sequence[Point]) -> str:
    """An SVG line chart: the dashed baseline and target, each check-in as a dot (in order),
    joined by a line, with the values it reports. Its <title> and aria-label say it in words."""
    values = [baseline, target, *(p.value for p in points)]
    lo, hi = min(values), max(values)
    span = hi - lo or 1.0

    def y(v: float) -> float:
        return round(HEIGHT - PAD - (v - lo) / span * (HEIGHT - 2 * PAD), 1)

    n = max(1, len(points))
    step = (WIDTH - 2 * PAD) / max(1, n - 1) if n > 1 else 0.0

    def x(i: int) -> float:
        return round(PAD + i * step if n > 1 else WIDTH / 2, 1)

    latest = f"latest {_fmt(points[-1].value)}" if points else "no check-in yet"
    words = f"{label}: baseline {_fmt(baseline)}, target {_fmt(target)}, {latest}"
    parts = [
        f'<svg class="goal-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(words)}">',
        f"<title>{escape(words)}</title>",
    ]
    for v, name, colour in ((baseline, "baseline", "#6b7280"), (target, "target", "#15803d")):
        parts.append(
            f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y(v)}" y2="{y(v)}" stroke="{colour}" '
            f'stroke-dasharray="4 3"/><text x="{PAD}" y="{y(v) - 3}" '
            f'font-size="9" fill="{colour}">{name} {escape(_fmt(v))}</text>'
        )
    if len(points) > 1:
        path = " ".join(f"{x(i)},{y(p.value)}" for i, p in enumerate(points))
        parts.append(f'<polyline points="{path}" fill="none" stroke="#9ca3af"/>')
    for i, p in enumerate(points):
        colour = SIDE_COLOURS[p.side % 2]
        parts.append(
            f'<circle cx="{x(i)}" cy="{y(p.value)}" r="4" fill="{colour}">'
            f"<title>{escape(_fmt(p.value))}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
