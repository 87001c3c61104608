"""A fit whose training queries come from a small part of the catalog is marked narrow, says so,
and publishing it needs --force: a model fitted on UK grants alone passed the publish gate of a
catalog almost all in the US, because the gate compares on held-out queries of the same source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ranker_history import add_history, sample_engine

from matcher.cli import main
from training.fit_reach import NARROW_SHARE, reach_of
from training.registry import PublishRefused, Registry


def test_queries_from_a_small_part_of_the_catalog_are_narrow() -> None:
    catalog = {"US": 940, "GB": 50, "": 10}
    narrow = reach_of(["GB"] * 30 + [None] * 3, catalog)
    assert narrow["narrow"] and narrow["catalog_share"] == pytest.approx(50 / 990, abs=1e-4)
    assert narrow["queries_by_country"] == {"GB": 30, "unknown": 3}
    assert "GB (30)" in narrow["note"] and "5% of the catalog" in narrow["note"]
    assert "US 95%" in narrow["note"] and "--force" in narrow["note"]
    wide = reach_of(["us"] * 5 + ["GB"], catalog)
    assert not wide["narrow"] and wide["note"] is None and wide["catalog_share"] == 1.0
    # a country the catalog does not hold counts for nothing
    assert reach_of(["FR"] * 9, catalog)["catalog_share"] == 0.0
    # nothing to compare: no query of a known country, or no located organisation
    assert not reach_of([None, ""], catalog)["narrow"]
    assert not reach_of(["GB"], {"": 5})["narrow"]
    assert reach_of(["US"], {"US": 49, "GB": 51})["narrow"] is (NARROW_SHARE > 0.49)


def test_a_narrow_fit_says_so_and_publishing_it_needs_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "var"
    engine = sample_engine(data)  # the sample: 719 organisations in the US, 541 in GB
    add_history(engine, n_sources=30, country="GB")
    held = engine.catalog.countries_held()
    engine.close()
    assert held["US"] > held["GB"] > 0
    base = ["--data-dir", str(data), "--model", "hashing-v1"]
    assert main([*base, "train", "fit", "--json", "--max-test", "6"]) == 0
    fit = json.loads(capsys.readouterr().out)
    reach = Registry(data).manifest(fit["version"])["pairs"]["reach"]
    assert reach["narrow"] and reach["queries_by_country"] == {"GB": 30}
    assert reach["catalog_share"] == pytest.approx(held["GB"] / (held["US"] + held["GB"]), 1e-3)
    assert any("where 43% of the catalog" in n for n in fit["notes"]), fit["notes"]
    assert "--force" in fit["verdict"]
    with pytest.raises(PublishRefused, match="the training queries come from GB"):
        Registry(data).publish(fit["version"])
    assert main([*base, "models", "publish", fit["version"]]) == 1
    assert "GB (30)" in capsys.readouterr().err
    assert Registry(data).current() is None
    assert main([*base, "models", "publish", fit["version"], "--force"]) == 0
    assert Registry(data).current() == fit["version"] and Registry(data).pointer()["forced"]
