import hashlib
from pathlib import Path

import pandas as pd
import pytest

from training.benchmarks.tasks import (
    PROFILE_COLUMNS,
    build_t1,
    build_t2,
    is_test_grant,
    t1_ideal_gains,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _orgs(state: str, code: str, n: int, start: int) -> list[dict[str, str]]:
    return [
        {
            "ein": f"{start + i:02d}-{state}{code}",
            "name": f"Org {state} {code} {i}",
            "city": "Town",
            "state": state,
            "zip": "00001",
            "ntee_code": code,
            "revenue": "1",
            "mission": f"We serve people with cause {code} number {i}.",
        }
        for i in range(n)
    ]


@pytest.fixture()
def shared(tmp_path: Path) -> Path:
    rows = (
        _orgs("AA", "B20", 12, 0)  # eligible
        + _orgs("AA", "B21Z", 10, 100)  # eligible: 4-character code, code3 B21
        + _orgs("AA", "B11", 15, 200)  # administrative code number < 20
        + _orgs("AA", "C30", 9, 300)  # too few in the state
        + _orgs("BB", "C30", 11, 400)  # eligible in BB
        + _orgs("BB", "D99", 12, 500)  # not in the code list
        + _orgs("BB", "X", 5, 600)  # not letter + two digits
        + _orgs("BB", "", 3, 700)  # no code
        + _orgs("BB", "1A2", 3, 800)
    )
    pd.DataFrame(rows).to_csv(tmp_path / "us_nonprofits_dev.csv.gz", index=False)
    codes = pd.DataFrame(
        {
            "code": ["B", "B11", "B20", "B21", "C30"],
            "title": ["Education", "Admin", "Schools", "Kindergartens", "Pollution"],
            "definition": ["Edu.", "Admin things.", "Schools teach.", "Small ones.", "Clean air."],
            "keywords": ["", "", "", "", ""],
        }
    )
    codes.to_csv(tmp_path / "ntee_codes.csv", index=False)
    grants = []
    for f, n in (("F1", 30), ("F2", 25), ("F3", 19)):
        for i in range(n):
            grants.append(
                {
                    "grant_id": f"G-{f}-{i}",
                    "funder_id": f,
                    "funder_name": f"Funder {f}",
                    "title": "Project",
                    "description": f"A long enough description of grant {i}",
                    "description_is_placeholder": "False",
                }
            )
    grants += [
        {**grants[0], "grant_id": "G-ph", "description_is_placeholder": "True"},
        {**grants[0], "grant_id": "G-short", "title": "T", "description": "too short"},
    ]
    pd.DataFrame(grants).to_csv(tmp_path / "uk_360giving_grants.csv.gz", index=False)
    return tmp_path


def test_t1_filters_codes_and_hides_answer_key(shared: Path) -> None:
    task = build_t1(shared)
    assert list(task.profiles.columns) == PROFILE_COLUMNS
    assert "ntee_code" not in task.profiles.columns and "code3" not in task.profiles.columns
    # rows with codes X, '', 1A2 are dropped; all others kept (12+10+15+9+11+12)
    assert len(task.profiles) == 69
    assert set(task.key["code3"]) == {"B20", "B21", "B11", "C30", "D99"}
    assert task.key["id"].tolist() == task.profiles["id"].tolist()
    assert task.profiles["id"].iloc[0] == "00-AAB20"  # ein kept as text


def test_t1_query_selection_rule(shared: Path) -> None:
    task = build_t1(shared)
    assert sorted(task.queries["query_id"]) == ["AA-B20", "AA-B21", "BB-C30"]
    q = task.queries.set_index("query_id")
    assert q.at["AA-B21", "text"] == "Kindergartens. Small ones."
    assert q.at["BB-C30", "region"] == "BB"


def test_t1_sampling_is_seeded_in_state_code_order(shared: Path) -> None:
    task = build_t1(shared, n_queries=2)
    eligible = pd.DataFrame({"region": ["AA", "AA", "BB"], "code3": ["B20", "B21", "C30"]})
    expected = eligible.sample(2, random_state=0)
    assert (
        task.queries["query_id"].tolist() == (expected["region"] + "-" + expected["code3"]).tolist()
    )


def test_t1_relevance_gains_and_ideal(shared: Path) -> None:
    task = build_t1(shared)
    rel = task.relevance().set_index(["query_id", "item_id"])["gain"]
    assert rel[("AA-B20", "00-AAB20")] == 1.0
    assert rel[("AA-B20", "100-AAB21Z")] == 0.25  # same major group B, other code
    assert ("AA-B20", "300-AAC30") not in rel.index
    assert ("AA-B20", "400-BBC30") not in rel.index  # other state
    ideal = t1_ideal_gains(task, k=10)
    assert ideal["AA-B20"] == [1.0] * 10
    assert ideal["BB-C30"] == [1.0] * 10


def test_t2_filters_and_md5_split(shared: Path) -> None:
    task = build_t2(shared)
    assert sorted(task.funders["funder_id"]) == ["F1", "F2"]
    all_ids = set(task.history["grant_id"]) | set(task.test["grant_id"])
    assert "G-ph" not in all_ids and "G-short" not in all_ids
    assert len(all_ids) == 55
    for gid in all_ids:
        digest = int(hashlib.md5(gid.encode()).hexdigest(), 16)
        assert (gid in set(task.test["grant_id"])) == (digest % 5 == 0)
        assert is_test_grant(gid) == (digest % 5 == 0)
    assert "funder_id" not in task.test.columns
    assert task.test_key["grant_id"].tolist() == task.test["grant_id"].tolist()
    assert task.history["text"].iloc[0] == "Project. A long enough description of grant 0"


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data folder not present")
def test_real_shared_data_sizes() -> None:
    t1 = build_t1(SHARED)
    assert len(t1.profiles) == 39_224
    assert len(t1.queries) == 400
    assert "ntee_code" not in t1.profiles.columns
    t2 = build_t2(SHARED)
    assert len(t2.funders) == 7
    assert len(t2.history) == 4_735
    assert len(t2.test) == 1_173


def test_bench_quality_skips_without_shared_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from training.bench_quality import main

    assert main(["--shared-data", str(tmp_path / "absent")]) == 0
    assert "skipped" in capsys.readouterr().out
