"""A fit whose training queries come from a small part of where the service is asked (or, before
it has been asked, of its catalog) is marked narrow, says so, and publishing it needs --force: a
model fitted on UK grants alone passed the publish gate of a service asked about Rhode Island,
because the gate compares on held-out queries of the same source."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ranker_history import add_history, sample_engine

from matcher.cli import main
from matcher.store.models import RecommendationRow
from training.fit_reach import MIN_ASKS, asked_countries, reach_of
from training.registry import PublishRefused, Registry


def test_queries_from_a_small_part_of_the_catalog_are_narrow() -> None:
    catalog = {"US": 940, "GB": 50, "": 10}
    narrow = reach_of(["GB"] * 30 + [None] * 3, catalog)
    assert narrow["narrow"] and narrow["basis"] == "catalog"
    assert narrow["share"] == pytest.approx(50 / 990, abs=1e-4)
    assert narrow["queries_by_country"] == {"GB": 30, "unknown": 3}
    assert "GB (30)" in narrow["note"] and "The two overlap 5% only" in narrow["note"]
    assert "US 95%" in narrow["note"] and "--force" in narrow["note"]
    wide = reach_of(["us"] * 5 + ["GB"], catalog)
    # the overlap of 5/6 US, 1/6 GB with 95% US, 5% GB
    assert not wide["narrow"] and wide["note"] is None
    assert wide["share"] == pytest.approx(5 / 6 + 50 / 990, abs=1e-4)
    # a country the catalog does not hold counts for nothing
    assert reach_of(["FR"] * 9, catalog)["share"] == 0.0
    # nothing to compare: no query of a known country, or no located organisation
    assert not reach_of([None, ""], catalog)["narrow"]
    assert not reach_of(["GB"], {"": 5})["narrow"]


def test_where_the_service_is_asked_decides_once_it_has_been_asked_enough() -> None:
    # a catalog mostly British (the UK grants imported beside a state's nonprofits), a service
    # asked about the US: GB queries are narrow
    catalog = {"GB": 7_900, "US": 6_500}
    asked = reach_of(["GB"] * 40, catalog, {"US": MIN_ASKS + 6, "GB": 1})
    assert asked["narrow"] and asked["basis"] == "asks"
    assert "asked about are in US 94%, GB 6%. The two overlap 6% only" in asked["note"], asked[
        "note"
    ]
    # too few asks: the catalog decides (55% GB: not narrow)
    few = reach_of(["GB"] * 40, catalog, {"US": MIN_ASKS - 1})
    assert few["basis"] == "catalog" and not few["narrow"]


def _ask(engine: object, n: int, country: str) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.store.db.session() as s:  # type: ignore[attr-defined]
        s.add_all(
            RecommendationRow(
                id=f"rec-{country}-{i}",
                created_at=start + timedelta(minutes=i),
                need={"text": "food for seniors", "country": country},
                result_ids=[],
                model_version="default",
                index_generation=1,
            )
            for i in range(n)
        )


def test_a_narrow_fit_says_so_and_publishing_it_needs_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "var"
    engine = sample_engine(data)  # the sample: 719 organisations in the US, 541 in GB
    add_history(engine, n_sources=30, country="GB")
    asked = asked_countries(engine.store.db)  # the sample's open needs: more in the US
    assert asked["US"] > asked["GB"] > 0 and sum(asked.values()) >= MIN_ASKS
    engine.close()
    base = ["--data-dir", str(data), "--model", "hashing-v1"]
    assert main([*base, "train", "fit", "--json", "--max-test", "6"]) == 0
    fit = json.loads(capsys.readouterr().out)
    reach = Registry(data).manifest(fit["version"])["pairs"]["reach"]
    assert reach["narrow"] and reach["queries_by_country"] == {"GB": 30}
    share = asked["GB"] / (asked["US"] + asked["GB"])
    assert reach["basis"] == "asks" and reach["share"] == pytest.approx(share, abs=1e-3)
    said = f"the needs this service was asked about are in US {1 - share:.0%}, GB {share:.0%}"
    assert any(said in n for n in fit["notes"]), fit["notes"]
    assert any(f"The two overlap {share:.0%} only" in n for n in fit["notes"]), fit["notes"]
    assert "--force" in fit["verdict"]
    with pytest.raises(PublishRefused, match="the training queries come from GB"):
        Registry(data).publish(fit["version"])
    assert main([*base, "train", "evaluate", fit["version"]]) == 0
    assert "Publishing it needs --force" in capsys.readouterr().out
    # models list says so before publish does (helper-82's walk: only publish said it)
    assert main([*base, "models", "list"]) == 0
    assert "(narrow: trained on queries from elsewhere" in capsys.readouterr().out
    assert main([*base, "models", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["versions"][-1]["narrow"] is True
    assert main([*base, "models", "publish", fit["version"]]) == 1
    assert "GB (30)" in capsys.readouterr().err
    assert Registry(data).current() is None
    assert main([*base, "models", "publish", fit["version"], "--force"]) == 0
    assert Registry(data).current() == fit["version"] and Registry(data).pointer()["forced"]


def test_a_fit_on_the_countries_asked_about_is_not_narrow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "var"
    engine = sample_engine(data)
    add_history(engine, n_sources=30, country="GB")
    before = asked_countries(engine.store.db)
    _ask(engine, before["US"], "GB")  # now asked about Britain more than about the US
    _ask(engine, 3, "US")
    asked = asked_countries(engine.store.db)
    assert asked == {"GB": before["GB"] + before["US"], "US": before["US"] + 3}
    engine.close()
    base = ["--data-dir", str(data), "--model", "hashing-v1"]
    assert main([*base, "train", "fit", "--json", "--max-test", "6"]) == 0
    fit = json.loads(capsys.readouterr().out)
    reach = Registry(data).manifest(fit["version"])["pairs"]["reach"]
    share = asked["GB"] / (asked["US"] + asked["GB"])
    assert reach["basis"] == "asks" and not reach["narrow"]
    assert reach["share"] == pytest.approx(share, abs=1e-3) and share > 0.5
    assert not any("training queries come from" in n for n in fit["notes"])


def test_a_few_queries_from_where_the_service_is_asked_do_not_make_a_fit_wide() -> None:
    """helper-76's walk (2026-12-06): 7,424 British queries and 152 American ones made a share
    of 1.0 (not narrow, publishable without --force) for a service asked about the US only;
    its coverage weight was 0."""
    catalog = {"US": 940, "GB": 50}
    asked = {"US": MIN_ASKS * 10}
    mostly_british = reach_of(["GB"] * 7424 + ["US"] * 152, catalog, asked)
    assert mostly_british["narrow"] and mostly_british["share"] == pytest.approx(0.02, abs=0.001)
    half = reach_of(["GB"] * 50 + ["US"] * 50, catalog, asked)
    assert half["share"] == pytest.approx(0.5) and not half["narrow"]  # at NARROW_SHARE
