"""The evaluation report's table of figures is readable whole: every metric and every model's
figure is in it, and on a desktop window none of it lies outside its box (it showed 11 of 14
columns, the rest cut off, on an 820 px page)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from training.evaluate import score_histogram
from training.report import render_html

CHROMIUM = Path("/usr/bin/chromium")

# the figures `compare_models` gives for each model, in its order (training.evaluate)
METRICS = (
    "p@1",
    "ndcg@1",
    "hit@1",
    "p@5",
    "ndcg@5",
    "hit@5",
    "p@10",
    "ndcg@10",
    "hit@10",
    "mrr",
    "capability_coverage",
    "sector_balance",
)
MODELS = ("candidate", "published", "default")


def _figure(m: int, k: int) -> float:
    return round(0.1 + 0.05 * k + 0.01 * m + 0.0001 * (k + 1) * (m + 1), 4)


def _report() -> dict[str, object]:
    models: dict[str, dict[str, object]] = {}
    for m, name in enumerate(MODELS):
        figures: dict[str, object] = {"primary": "ndcg@10"}
        figures.update({k: _figure(m, i) for i, k in enumerate(METRICS)})
        figures["queries"] = 500
        models[name] = figures
    hist = score_histogram(pd.DataFrame({"score": [0.2, 0.7, 0.9], "relevant": [0, 0, 1]}))
    weights = {"fit": 0.4, "coverage": 0.2, "reciprocity": 0.1, "proximity": 0.2, "freshness": 0.1}
    return {
        "version": "v0003",
        "created_at": "2026-12-06T19:00:00Z",
        "embedding_model": "hashing-v1",
        "split": {"by": "time", "test_share": 0.2, "max_test": 500, "seed": 0},
        "verdict": "v0003 is at least as good as v0002 on ndcg@10",
        "comparison": {
            "primary": "ndcg@10",
            "queries": 500,
            "positives": 1480,
            "models": models,
            "weights": {n: weights for n in MODELS},
            "histograms": {n: hist for n in MODELS},
            "best": "candidate",
        },
        # a fit's notes are long lines: a reach note made a real report 2,179 px wide on a
        # 1,280 px screen (helper-82's walk, 2026-12-06)
        "training": {
            "reach": {
                "note": "the training queries come from GB (7,424), US (152); the needs this "
                "service was asked about are in US 100%. The two overlap 2% only, so its "
                "held-out figures measure matches mostly elsewhere. " * 3,
                "source": "https://example.org/" + "a-very-long-path-segment-" * 20,
            }
        },
    }


class _Tables(HTMLParser):
    """Each table's rows of cell texts, and the attributes of the element around it."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, object]] = []
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            parent = self.stack[-1][1] if self.stack else {}
            self.tables.append({"rows": [], "wrapper": parent, "attrs": dict(attrs)})
        elif tag == "tr" and self.tables:
            rows = self.tables[-1]["rows"]
            assert isinstance(rows, list)
            rows.append([])
        elif tag in ("td", "th"):
            self.cell = []
        if tag not in ("wbr", "br", "meta", "rect", "line"):
            self.stack.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.tables:
            rows = self.tables[-1]["rows"]
            assert isinstance(rows, list)
            rows[-1].append("".join(self.cell).strip())
            self.cell = None
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def test_every_figure_of_every_model_is_in_the_table_in_a_box_of_its_own() -> None:
    report = _report()
    parser = _Tables()
    parser.feed(render_html(report))
    table = parser.tables[0]
    rows = table["rows"]
    assert isinstance(rows, list)
    # a column per model, a row per metric: 13 columns of metrics did not fit the page
    assert rows[0] == ["metric", *MODELS]
    by_metric = {row[0]: row[1:] for row in rows[1:]}
    assert list(by_metric) == [*METRICS, "queries"]
    for i, metric in enumerate(METRICS):
        assert by_metric[metric] == [f"{_figure(m, i):.4f}" for m in range(len(MODELS))]
    assert by_metric["queries"] == ["500"] * len(MODELS)
    wrapper = table["wrapper"]
    assert isinstance(wrapper, dict)
    assert wrapper.get("class") == "scroll" and wrapper.get("tabindex") == "0"
    assert wrapper.get("role") == "region" and wrapper.get("aria-label")
    page = render_html(report)
    assert re.search(r"\.scroll\{overflow-x:auto", page)
    assert "<tr class='primary'><th scope='row'>ndcg@10</th>" in page


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs the Debian 'chromium' package at /usr/bin/chromium (installed by make setup)",
)
def test_the_table_is_seen_whole_in_a_browser(tmp_path: Path) -> None:
    """In Chromium the figures table was 1,056 px wide in an 820 px box: sector_balance and
    queries were out of sight, with no scroll bar to say so."""
    sync_api = pytest.importorskip("playwright.sync_api")
    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(_report()), encoding="utf-8")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        try:
            for width in (1280, 390):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(page_file.as_uri())
                boxes = page.evaluate(
                    """() => [...document.querySelectorAll('table')].map(t => {
                        const box = t.parentElement, style = getComputedStyle(box);
                        return {inner: box.scrollWidth, shown: box.clientWidth,
                                scrolls: style.overflowX};
                    })"""
                )
                page_width = page.evaluate("() => document.documentElement.scrollWidth")
                assert page_width <= width  # the page itself never scrolls sideways
                assert boxes and all(b["scrolls"] == "auto" for b in boxes), boxes
                if width == 1280:  # a desktop window: every table seen whole
                    assert all(b["inner"] <= b["shown"] for b in boxes), boxes
                page.close()
        finally:
            browser.close()
