"""Evaluation reports: JSON for machines, one self-contained HTML page for people.

The page draws its charts as inline SVG (grouped metric bars, learned weights, score
histograms per model): no JavaScript, no fonts or styles from the network.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matcher.atomic import atomic_write_text

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
RELEVANT, OTHER = "#2ca02c", "#9aa5b1"
SHORT = {"capability_coverage": "capab. cover", "sector_balance": "sector bal."}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.4f}"
    return _e(v)


def bar_chart(
    groups: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    width: int = 760,
    height: int = 260,
    ymax: float | None = None,
) -> str:
    """Grouped vertical bars: one group per label in `groups`, one bar per series."""
    left, right, top, bottom = 44, 10, 28, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for vs in series.values() for v in vs if v is not None]
    top_value = ymax if ymax is not None else max([1e-9, *values])
    n_series = max(1, len(series))
    group_w = plot_w / max(1, len(groups))
    bar_w = max(2.0, group_w * 0.8 / n_series)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
        f'font-size="11"><title>{_e(title)}</title>',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">{_e(title)}</text>',
    ]
    for i in range(5):
        frac = i / 4
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#ddd"/><text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{top_value * frac:.2f}</text>"
        )
    for g, label in enumerate(groups):
        x0 = left + g * group_w + group_w * 0.1
        for s, (name, vs) in enumerate(series.items()):
            v = vs[g] if g < len(vs) else None
            if v is None:
                continue
            h = plot_h * min(1.0, max(0.0, v / top_value))
            x = x0 + s * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{_e(name)} {_e(label)}: {v:.4f}</title></rect>"
            )
        parts.append(
            f'<text x="{left + g * group_w + group_w / 2:.1f}" y="{top + plot_h + 14}" '
            f'text-anchor="middle">{_e(SHORT.get(label, label))}</text>'
        )
    parts.append(_legend(list(series), left, height - 14))
    parts.append("</svg>")
    return "".join(parts)


def _legend(names: Sequence[str], x: float, y: float, colours: Sequence[str] = PALETTE) -> str:
    out = []
    for i, name in enumerate(names):
        cx = x + i * 150
        out.append(
            f'<rect x="{cx}" y="{y - 9}" width="10" height="10" '
            f'fill="{colours[i % len(colours)]}"/>'
            f'<text x="{cx + 14}" y="{y}">{_e(name)}</text>'
        )
    return "".join(out)


def histogram(
    edges: Sequence[float],
    counts: Mapping[str, Sequence[int]],
    *,
    title: str,
    colours: Sequence[str] = (RELEVANT, OTHER),
    width: int = 370,
    height: int = 200,
) -> str:
    """Overlaid histograms over the same bins (each series as a share of its own total)."""
    left, right, top, bottom = 36, 8, 26, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    nb = max(1, len(edges) - 1)
    shares: dict[str, list[float]] = {}
    for name, cs in counts.items():
        total = sum(cs) or 1
        shares[name] = [c / total for c in cs]
    peak = max([1e-9, *(v for vs in shares.values() for v in vs)])
    bw = plot_w / nb
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
        f'font-size="10"><title>{_e(title)}</title>',
        f'<text x="{left}" y="14" font-size="12" font-weight="bold">{_e(title)}</text>',
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
        'stroke="#888"/>',
    ]
    for s, (name, vs) in enumerate(shares.items()):
        raw = counts[name]
        for b, v in enumerate(vs):
            if v <= 0:
                continue
            h = plot_h * v / peak
            parts.append(
                f'<rect x="{left + b * bw:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{max(1.0, bw - 1):.1f}" height="{h:.1f}" '
                f'fill="{colours[s % len(colours)]}" fill-opacity="0.6">'
                f"<title>{_e(name)} {edges[b]:.2f}–{edges[b + 1]:.2f}: {raw[b]}</title></rect>"
            )
    for frac in (0.0, 0.5, 1.0):
        x = left + plot_w * frac
        value = edges[0] + (edges[-1] - edges[0]) * frac
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 12}" text-anchor="middle">{value:.1f}</text>'
        )
    labels = [f"{n} ({sum(counts[n])})" for n in counts]
    parts.append(_legend(labels, left, height - 6, colours))
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Mapping[str, Any]) -> str:
    comparison = report.get("comparison", {})
    models: Mapping[str, Mapping[str, Any]] = comparison.get("models", {})
    primary = comparison.get("primary", "")
    names = list(models)
    metric_names = [
        k
        for k in (next(iter(models.values())) if models else {})
        if k not in ("primary", "queries") and not k.startswith("p@")
    ]
    title = f"Ranking evaluation: {report.get('version') or 'candidate'}"
    body = [
        f"<h1>{_e(title)}</h1>",
        "<p>"
        + " · ".join(
            f"{_e(k)}: <b>{_e(v)}</b>"
            for k, v in (
                ("created", report.get("created_at")),
                ("embedding model", report.get("embedding_model")),
                ("held-out queries", comparison.get("queries")),
                ("positives", comparison.get("positives")),
                ("split", _split_text(report.get("split"))),
                ("primary metric", primary),
                ("best", comparison.get("best")),
            )
            if v is not None
        )
        + "</p>",
    ]
    if report.get("verdict"):
        body.append(f'<p class="verdict">{_e(report["verdict"])}</p>')
    if models:
        body.append(
            bar_chart(
                metric_names,
                {n: [models[n].get(k) for k in metric_names] for n in names},
                title="Metrics on the held-out history (higher is better)",
                ymax=1.0,
            )
        )
        body.append(_comparison_table(models, primary))
    weights = comparison.get("weights", {})
    if weights:
        comps = list(next(iter(weights.values())))
        body.append(
            bar_chart(
                comps,
                {n: [_share(weights[n], c) for c in comps] for n in weights},
                title="Score weights (normalised to sum 1)",
                height=220,
            )
        )
    hists = comparison.get("histograms", {})
    if hists:
        body.append("<h2>Score distributions of the returned partners</h2><div class='row'>")
        for name, h in hists.items():
            body.append(
                histogram(
                    h["edges"],
                    {"held-out partner": h["relevant"], "other": h["other"]},
                    title=name,
                )
            )
        body.append("</div>")
    bench = comparison.get("benchmarks")
    if bench:
        body.extend(_benchmark_section(bench))
    training = report.get("training")
    if training:
        body.append("<h2>Training</h2><pre>" + _e(json.dumps(training, indent=2)) + "</pre>")
    style = (
        "body{font-family:sans-serif;max-width:820px;margin:1.5em auto;padding:0 1em;"
        "color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:3px 7px;text-align:right}th:first-child,td:first-child{text-align:left}"
        ".primary{background:#fff6d5}.verdict{font-weight:bold}.row{display:flex;"
        "flex-wrap:wrap;gap:8px}svg{max-width:100%;height:auto}"
        ".scroll{overflow-x:auto;max-width:100%}table{font-size:90%}th{font-weight:bold}"
        "caption{text-align:left;font-weight:bold;padding:2px 0}"
        "pre{white-space:pre-wrap;overflow-wrap:anywhere}"  # a fit's long notes wrap
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{style}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _share(weights: Mapping[str, float], c: str) -> float:
    total = sum(weights.values()) or 1.0
    return float(weights.get(c, 0.0)) / total


def _scroll(table: str, label: str) -> str:
    """A table in its own box that scrolls sideways when the page is narrower than it (a
    region keyboard users can focus and scroll), never wider than the page."""
    return f"<div class='scroll' role='region' tabindex='0' aria-label='{_e(label)}'>{table}</div>"


def _comparison_table(models: Mapping[str, Mapping[str, Any]], primary: str) -> str:
    """The compared models' figures: a row per metric, a column per model. With a column per
    metric (13 of them, `capability_coverage` among them) the table was 1,056 px wide on an
    820 px page: its box scrolled sideways, but where scroll bars only show while scrolling
    (macOS, phones, headless Chromium) the last columns simply looked cut off. The models are
    few (candidate, published, default) and the metrics many, so this way it fits."""
    names = list(models)
    metrics: list[str] = []
    for vals in models.values():
        metrics += [k for k in vals if k != "primary" and k not in metrics]
    head = "".join(f"<th scope='col'>{_e(n)}</th>" for n in names)
    rows = []
    for m in metrics:
        mark = " class='primary'" if m == primary else ""
        cells = "".join(f"<td>{_fmt(models[n].get(m))}</td>" for n in names)
        name = _e(m).replace("_", "_<wbr>")  # capability_coverage may break on a phone
        rows.append(f"<tr{mark}><th scope='row'>{name}</th>{cells}</tr>")
    table = (
        "<table class='comparison'><caption>Held-out figures by model (the primary metric "
        f"highlighted)</caption><tr><th scope='col'>metric</th>{head}</tr>{''.join(rows)}"
        "</table>"
    )
    return _scroll(table, "Held-out figures by model")


def _metrics_table(models: Mapping[str, Mapping[str, Any]], primary: str) -> str:
    """A row per model, a column per metric: for tables of few metrics (the benchmarks')."""
    cols = [k for k in next(iter(models.values())) if k != "primary"]
    head = "".join(
        f"<th class='primary'>{_e(c)}</th>" if c == primary else f"<th>{_e(c)}</th>" for c in cols
    )
    rows = []
    for name, vals in models.items():
        cells = "".join(
            f"<td class='primary'>{_fmt(vals.get(c))}</td>"
            if c == primary
            else f"<td>{_fmt(vals.get(c))}</td>"
            for c in cols
        )
        rows.append(f"<tr><td>{_e(name)}</td>{cells}</tr>")
    table = f"<table><tr><th>model</th>{head}</tr>{''.join(rows)}</table>"
    return _scroll(table, "Figures by model")


def _split_text(split: Any) -> str | None:
    if not isinstance(split, Mapping):
        return None if split is None else str(split)
    text = f"by {split.get('by')}, {split.get('test_share')} held out"
    if split.get("max_test"):
        text += f" (at most {split['max_test']} queries)"
    return text


REPORTS_DIR = "reports"


def reports_dir(data_dir: Path) -> Path:
    """Where `train fit` and `train evaluate` write their reports, and the service reads them
    (`api/routes/reports.py`): DATA_DIR/reports."""
    return data_dir / REPORTS_DIR


def write_report(report: Mapping[str, Any], directory: Path, stem: str) -> tuple[Path, Path]:
    """Write `<stem>.json` and `<stem>.html` atomically; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / f"{stem}.json"
    html_path = directory / f"{stem}.html"
    atomic_write_text(json_path, json.dumps(report, indent=2, ensure_ascii=False, default=str))
    atomic_write_text(html_path, render_html(report))
    return json_path, html_path


def _benchmark_section(bench: Mapping[str, Any]) -> list[str]:
    """T1/T2 of ../shared/benchmarks per compared model, beside the dense baselines."""
    if bench.get("skipped"):
        return [f"<h2>Benchmarks</h2><p>skipped: {_e(bench['skipped'])}</p>"]
    out = ["<h2>Benchmarks T1 and T2 (../shared/benchmarks, through the engine)</h2>"]
    primary = bench.get("primary", {})
    for task in ("T1", "T2"):
        rows: Mapping[str, Mapping[str, Any]] = bench.get(task) or {}
        if not rows:
            continue
        metrics = list(next(iter(rows.values())))
        out.append(
            bar_chart(
                metrics,
                {name: [figs.get(m) for m in metrics] for name, figs in rows.items()},
                title=f"{task}: each model and the dense baseline",
                ymax=1.0,
                height=220,
            )
        )
        out.append(_metrics_table(rows, str(primary.get(task, ""))))
    violations = bench.get("violations") or {}
    if violations:
        out.append(
            "<p>T1 results outside the query's state: "
            + ", ".join(f"{_e(k)}: {_e(v)}" for k, v in violations.items())
            + "</p>"
        )
    return out
