"""T3 and T4 task builders, metrics, baselines and the T4 engine loop on tiny synthetic data."""

import json
from pathlib import Path

import pandas as pd
import pytest

from matcher.domain import Sector
from matcher.embedding.hashing import HashingEmbedder
from training.benchmarks.t3_task import build_t3_from_frames, drop_self, select_t3_queries
from training.benchmarks.t4_baselines import t4_tfidf
from training.benchmarks.t4_engine import (
    NeedRun,
    coalition_filters,
    is_built,
    open_t4_engine,
    run_engine_t4,
    sector_filters,
)
from training.benchmarks.t4_metrics import Item, card_counts, need_rows, t4_figures
from training.benchmarks.t4_task import (
    build_t4,
    read_needs,
    t4_organisations,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
LONG = (
    "We run programmes for the people of our community every single week of the year, "
    "all year round."
)


def _np_rows(state: str, code: str, n: int, start: int, mission: str = LONG) -> list[dict]:
    return [
        {
            "ein": f"{start + i:09d}",
            "name": f"Org {state} {start + i}",
            "city": "TOWN",
            "state": state,
            "zip": "00001",
            "ntee_code": code,
            "revenue": "1",
            "mission": f"{mission} (number {start + i})",
        }
        for i in range(n)
    ]


# T3 ---------------------------------------------------------------------------------------
def _t3_orgs() -> pd.DataFrame:
    rows = (
        _np_rows("AA", "B20", 12, 0)  # eligible group
        + _np_rows("AA", "B21", 10, 100, mission="Short.")  # eligible group, missions too short
        + _np_rows("AA", "B11", 15, 200)  # code number < 20
        + _np_rows("AA", "C30", 9, 300)  # fewer than 10
        + _np_rows("BB", "C30", 11, 400)  # eligible in BB
        + _np_rows("BB", "C31", 3, 500)  # same major, another code
    )
    return pd.DataFrame(rows)


def test_t3_query_selection_rule_and_seed() -> None:
    task = build_t3_from_frames(_t3_orgs())
    assert sorted(task.queries["region"] + "-" + task.queries["code3"]) == ["AA-B20", "BB-C30"]
    assert all(len(t) >= 100 for t in task.queries["text"])
    assert (task.queries["query_id"] == "t3-" + task.queries["self_id"]).all()
    # the rule spelled out: shuffle with seed 1, first per group, then sample with seed 1
    p, k = task.profiles, task.key
    sizes = k.groupby(["region", "code3"])["id"].transform("size")
    ok = (
        (sizes >= 10)
        & (k["code3"].str[1:3].astype(int) >= 20)
        & (p["description"].str.len() >= 100)
    )
    cands = pd.DataFrame({"id": p["id"], "region": k["region"], "code3": k["code3"]})[ok]
    firsts = cands.sample(frac=1.0, random_state=1).drop_duplicates(["region", "code3"])
    assert task.queries["self_id"].tolist() == firsts.sample(2, random_state=1)["id"].tolist()
    one = select_t3_queries(p, k, n_queries=1)
    assert len(one) == 1


def test_t3_relevance_excludes_the_query_organisation() -> None:
    task = build_t3_from_frames(_t3_orgs())
    rel = task.relevance()
    q = task.queries.set_index("region").loc["BB"]
    mine = rel[rel["query_id"] == q["query_id"]].set_index("item_id")["gain"]
    assert q["self_id"] not in mine.index
    assert (mine == 1.0).sum() == 10  # the other 10 of BB C30
    assert (mine == 0.25).sum() == 3  # BB C31: same major group


def test_t3_drop_self_reranks_and_cuts() -> None:
    task = build_t3_from_frames(_t3_orgs())
    qid, self_id = task.queries.iloc[0][["query_id", "self_id"]]
    results = pd.DataFrame(
        {"query_id": [qid] * 11, "item_id": [self_id] + [f"x{i}" for i in range(10)]}
    ).assign(rank=range(1, 12))
    out = drop_self(task, results)
    assert out["item_id"].tolist() == [f"x{i}" for i in range(10)]
    assert out["rank"].tolist() == list(range(1, 11))


# T4 ---------------------------------------------------------------------------------------
NEEDS = [
    {
        "id": "n1",
        "text": "Our food pantry needs groceries and volunteers.",
        "city": "Town",
        "state": "AA",
        "sectors": ["business", "government", "nonprofit"],
        "relevant": {"nonprofit": ["K31"], "business": ["Grocery Stores"], "government": ["9"]},
        "topic": "food pantry",
    },
    {
        "id": "n2",
        "text": "We need housing repairs for seniors.",
        "city": "Village",
        "state": "BB",
        "sectors": ["business", "nonprofit"],
        "relevant": {"nonprofit": ["L20"], "business": ["Residential Construction"]},
        "topic": "home repair",
    },
]


@pytest.fixture()
def shared(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    food = "We provide food and groceries to families at our food pantry."
    homes = "We repair homes for seniors and low income families."
    rows = (
        _np_rows("AA", "K31", 3, 0, mission=food)
        + _np_rows("AA", "L20", 2, 10, mission=homes)
        + _np_rows("BB", "K31", 2, 20, mission=food)  # other state: never relevant for n1
        + _np_rows("BB", "L20", 3, 30, mission=homes)
        + _np_rows("BB", "", 1, 40, mission=homes)  # no code: never relevant
    )
    pd.DataFrame(rows).to_csv(data / "us_nonprofits_dev.csv.gz", index=False)
    pd.DataFrame(
        {
            "symbol": ["GRO", "BLD", "SFT"],
            "name": ["Grocer Inc", "Builder Co", "Soft Corp"],
            "sector": ["Consumer", "Industrials", "Technology"],
            "industry": ["Grocery Stores", "Residential Construction", "Software"],
            "city": ["A", "B", "C"],
            "state": ["AA", "BB", "CC"],
            "country": ["United States"] * 3,
            "employees": ["100", "200", "300"],
            "summary": [
                "Grocer Inc sells groceries and food in supermarkets.",
                "Builder Co builds and repairs homes.",
                "Soft Corp makes software.",
            ],
        }
    ).to_csv(data / "sp500_companies.csv", index=False)
    pd.DataFrame(
        {
            "id": ["9", "10"],
            "name": ["Food and Nutrition Service", "Patent Office"],
            "short_name": ["FNS", "PTO"],
            "parent_name": ["", ""],
            "agency_url": ["", ""],
            "description": ["Runs food programmes for families in need.", ""],
        }
    ).to_csv(data / "us_federal_agencies.csv", index=False)
    bench = tmp_path / "benchmarks"
    bench.mkdir()
    (bench / "t4_needs_dev.jsonl").write_text("\n".join(json.dumps(n) for n in NEEDS) + "\n")
    return data


def test_read_needs_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "needs.jsonl"
    path.write_text(json.dumps(NEEDS[0]) + "\n" + json.dumps({**NEEDS[1], "sectors": ["x"]}))
    with pytest.raises(ValueError, match="line 2: unknown sector"):
        read_needs(path)


def test_t4_corpora_hide_the_answer_key(shared: Path) -> None:
    orgs = t4_organisations(shared)
    by_id = {o.id: o for o in orgs}
    assert len(orgs) == 11 + 3 + 2
    np_org = by_id["ein-000000000"]
    assert np_org.sector == Sector.nonprofit and np_org.region == "AA"
    assert np_org.focus_areas == []  # the IRS importer reads focus areas from ntee_code
    assert "K31" not in np_org.profile_text()
    assert by_id["ticker-GRO"].sector == Sector.business
    gov = by_id["fedreg-10"]
    assert gov.sector == Sector.government and gov.description == "Patent Office"  # no description
    assert gov.country == "US"


def test_t4_relevance_follows_the_third_party_labels(shared: Path) -> None:
    task = build_t4(shared, with_organisations=False)
    n1, n2 = task.needs
    assert task.relevant(n1, "nonprofit", "ein-000000000")
    assert not task.relevant(n1, "nonprofit", "ein-000000020")  # K31, but in BB
    assert not task.relevant(n2, "nonprofit", "ein-000000040")  # no code
    assert task.relevant(n1, "business", "ticker-GRO")
    assert not task.relevant(n1, "business", "ticker-BLD")
    assert task.relevant(n1, "government", "fedreg-9")
    assert not task.relevant(n1, "government", "fedreg-10")
    assert task.n_relevant(n1, "nonprofit") == 3
    assert task.n_relevant(n2, "nonprofit") == 3
    assert task.n_relevant(n1, "government") == 1


def test_t4_filters() -> None:
    need = read_needs_from(NEEDS)[0]
    f = sector_filters(need, "nonprofit")
    assert f.region == "AA" and f.sectors == [Sector.nonprofit] and f.country == "US"
    assert sector_filters(need, "business").region is None
    assert coalition_filters(need).sectors == [Sector.business, Sector.government, Sector.nonprofit]


def read_needs_from(raw: list[dict], tmp: Path | None = None) -> list:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "n.jsonl"
        path.write_text("\n".join(json.dumps(n) for n in raw))
        return read_needs(path)


def test_t4_figures_by_hand(shared: Path) -> None:
    task = build_t4(shared, with_organisations=False)
    n1, n2 = task.needs

    def item(i: str, sector: str, region: str | None = None) -> Item:
        return Item(id=i, name=i, sector=sector, region=region)

    r1 = NeedRun(
        need=n1,
        lists={
            "nonprofit": [
                item("ein-000000000", "nonprofit", "AA"),
                item("ein-000000010", "nonprofit", "AA"),
            ],
            "business": [item("ticker-GRO", "business")],
            "government": [item("fedreg-10", "government")],
        },
        coalition=[item("ein-000000020", "nonprofit", "BB"), item("ticker-GRO", "business")],
    )
    r2 = NeedRun(
        need=n2,
        lists={"nonprofit": [], "business": [item("ticker-SFT", "business")]},
        coalition=[item("ticker-BLD", "business")],
    )
    figs = t4_figures(task, [r1, r2])
    assert figs["P@5 np"] == pytest.approx((1 / 5 + 0) / 2)
    assert figs["cP@5 np"] == pytest.approx((1 / 3 + 0) / 2)  # R = 3 for both needs
    assert figs["P@5 bus"] == pytest.approx((1 / 5 + 0) / 2)
    assert figs["cP@5 bus"] == pytest.approx((1 / 1 + 0) / 2)
    assert figs["P@5 gov"] == 0.0  # only n1 asks for government
    assert figs["coverage"] == pytest.approx((1 / 3 + 1 / 2) / 2)  # BB nonprofit is not relevant
    assert figs["2+ sectors"] == 0.5
    assert figs["loc viol"] == 1.0 and figs["needs viol"] == 0.5
    rows = need_rows(task, [r1, r2])
    assert rows[0]["hits"]["nonprofit"] == "1/5 (R=3)"
    assert rows[0]["coalition"][0] == {
        "id": "ein-000000020",
        "name": "ein-000000020",
        "sector": "nonprofit",
        "region": "BB",
        "relevant": False,
        "ntee3": "K31",
    }
    assert card_counts([r1, r2])["cards"] == 0  # baseline items have no cards


def test_t4_tfidf_baseline_respects_filters(shared: Path) -> None:
    task = build_t4(shared, with_organisations=False)
    runs = t4_tfidf(task)
    n1 = runs[0]
    assert {m.region for m in n1.lists["nonprofit"]} == {"AA"}
    assert n1.lists["business"][0].id == "ticker-GRO"
    assert [m.sector for m in n1.coalition] == ["business", "government", "nonprofit"]
    assert n1.coalition == [n1.lists[s][0] for s in ("business", "government", "nonprofit")]
    assert set(runs[1].lists) == {"business", "nonprofit"}


def test_t4_engine_loop_builds_once_then_reuses(shared: Path, tmp_path: Path) -> None:
    task = build_t4(shared, with_organisations=False)
    engine_dir = tmp_path / "engine"
    calls: list[int] = []

    def load() -> list:
        calls.append(1)
        return t4_organisations(shared)

    assert not is_built(engine_dir)
    engine = open_t4_engine(engine_dir, HashingEmbedder(), load, progress=False)
    try:
        runs = run_engine_t4(engine, task)
    finally:
        engine.close()
    assert is_built(engine_dir) and calls == [1]
    n1 = runs[0]
    assert set(n1.lists) == {"business", "government", "nonprofit"}
    assert all(m.region == "AA" for m in n1.lists["nonprofit"])
    assert all(m.sector == "business" for m in n1.lists["business"])
    assert n1.coalition and n1.asked is not None and n1.asked.region == "AA"
    engine = open_t4_engine(engine_dir, HashingEmbedder(), load, progress=False)
    engine.close()
    assert calls == [1]  # reused, not imported again
    counts = card_counts(runs)
    assert counts["cards"] == sum(len(lst) for r in runs for lst in r.lists.values()) + sum(
        len(r.coalition) for r in runs
    )


@pytest.mark.slow
@pytest.mark.skipif(
    not (SHARED / "sp500_companies.csv").is_file()
    or not (SHARED.parent / "benchmarks" / "t4_needs_dev.jsonl").is_file(),
    reason="shared data not present",
)
def test_real_t4_task_sizes() -> None:
    task = build_t4(SHARED, with_organisations=False)
    assert len(task.needs) == 24
    assert len(task.corpus) == 54_398 + 503 + 457
    for need in task.needs:
        assert task.n_relevant(need, "nonprofit") >= 5
        for s in need.sectors:
            assert task.n_relevant(need, s) >= 1
