"""Build benchmark tasks T1 and T2 from the shared data, exactly as ../shared/benchmarks/README.md.

The answer keys are returned in frames separate from what the engine may see: T1 profiles carry no
`ntee_code`, T2 test queries carry no `funder_id`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

NONPROFITS_FILE = "us_nonprofits_dev.csv.gz"
NTEE_FILE = "ntee_codes.csv"
GRANTS_FILE = "uk_360giving_grants.csv.gz"

NTEE_PATTERN = r"^[A-Z]\d\d"
MIN_PER_STATE = 10
MIN_CODE_NUMBER = 20
T1_QUERIES = 400
T1_SEED = 0
GAIN_SAME_CODE3 = 1.0
GAIN_SAME_MAJOR = 0.25
T2_MIN_TEXT = 30
T2_MIN_GRANTS = 20
T2_TEST_MOD = 5

PROFILE_COLUMNS = ["id", "name", "city", "region", "postcode", "description"]


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)


@dataclass(frozen=True)
class T1Task:
    """T1 cause search. `profiles` is all the engine may see; `key` holds the answer."""

    profiles: pd.DataFrame  # id, name, city, region, postcode, description
    key: pd.DataFrame  # id, region, code3, major
    queries: pd.DataFrame  # query_id, region, code3, major, text

    def relevance(self) -> pd.DataFrame:
        """Graded gains (query_id, item_id, gain): 1 same code3, 0.25 same first letter only."""
        merged = self.queries[["query_id", "region", "code3", "major"]].merge(
            self.key, on="region", suffixes=("_q", "")
        )
        gain = (merged["code3"] == merged["code3_q"]) * GAIN_SAME_CODE3 + (
            (merged["code3"] != merged["code3_q"]) & (merged["major"] == merged["major_q"])
        ) * GAIN_SAME_MAJOR
        rel = pd.DataFrame({"query_id": merged["query_id"], "item_id": merged["id"], "gain": gain})
        return rel[rel["gain"] > 0].reset_index(drop=True)


@dataclass(frozen=True)
class T2Task:
    """T2 funder match. Profiles may be learned from `history` only; `test_key` is the answer."""

    history: pd.DataFrame  # grant_id, funder_id, funder_name, text
    test: pd.DataFrame  # grant_id, text
    test_key: pd.DataFrame  # grant_id, funder_id
    funders: pd.DataFrame  # funder_id, funder_name, n_history

    def relevance(self) -> pd.DataFrame:
        rel = self.test_key.rename(columns={"grant_id": "query_id", "funder_id": "item_id"})
        return rel.assign(gain=1.0)


def build_t1(shared_data: Path, n_queries: int = T1_QUERIES, seed: int = T1_SEED) -> T1Task:
    orgs = _read(Path(shared_data) / NONPROFITS_FILE)
    codes = _read(Path(shared_data) / NTEE_FILE)
    return build_t1_from_frames(orgs, codes, n_queries=n_queries, seed=seed)


def build_t1_from_frames(
    orgs: pd.DataFrame, codes: pd.DataFrame, n_queries: int = T1_QUERIES, seed: int = T1_SEED
) -> T1Task:
    ntee = orgs["ntee_code"].fillna("").astype(str)
    rows = orgs[ntee.str.match(NTEE_PATTERN)].reset_index(drop=True)
    profiles = pd.DataFrame(
        {
            "id": rows["ein"].astype(str),
            "name": rows["name"].astype(str),
            "city": rows["city"].astype(str),
            "region": rows["state"].astype(str),
            "postcode": rows["zip"].astype(str),
            "description": rows["mission"].astype(str),
        }
    )
    code3 = rows["ntee_code"].str[:3]
    key = pd.DataFrame(
        {"id": profiles["id"], "region": profiles["region"], "code3": code3, "major": code3.str[0]}
    )
    queries = select_t1_queries(key, codes, n_queries=n_queries, seed=seed)
    return T1Task(profiles=profiles, key=key, queries=queries)


def select_t1_queries(
    key: pd.DataFrame, codes: pd.DataFrame, n_queries: int = T1_QUERIES, seed: int = T1_SEED
) -> pd.DataFrame:
    counts = key.groupby(["region", "code3"]).size().reset_index(name="n")
    counts = counts.sort_values(["region", "code3"]).reset_index(drop=True)
    titled = codes.drop_duplicates("code").set_index("code")
    eligible = counts[
        (counts["n"] >= MIN_PER_STATE)
        & (counts["code3"].str[1:3].astype(int) >= MIN_CODE_NUMBER)
        & counts["code3"].isin(titled.index)
    ].reset_index(drop=True)
    picked = (
        eligible.sample(n_queries, random_state=seed) if len(eligible) > n_queries else eligible
    )
    texts = [
        f"{str(titled.at[c, 'title'])}. {str(titled.at[c, 'definition'])}" for c in picked["code3"]
    ]
    return pd.DataFrame(
        {
            "query_id": picked["region"] + "-" + picked["code3"],
            "region": picked["region"].to_numpy(),
            "code3": picked["code3"].to_numpy(),
            "major": picked["code3"].str[0].to_numpy(),
            "text": texts,
        }
    ).reset_index(drop=True)


def t1_ideal_gains(task: T1Task, k: int = 10) -> dict[str, list[float]]:
    """Per query, the k best gains available in its state (for nDCG normalisation)."""
    rel = task.relevance()
    out: dict[str, list[float]] = {}
    for qid, group in rel.groupby("query_id", sort=False):
        out[str(qid)] = sorted(group["gain"].tolist(), reverse=True)[:k]
    for qid in task.queries["query_id"]:
        out.setdefault(str(qid), [])
    return out


def restrict_t1(task: T1Task, regions: list[str]) -> T1Task:
    """The same task limited to some states (its queries and profiles); for quick runs."""
    keep = set(regions)
    return T1Task(
        profiles=task.profiles[task.profiles["region"].isin(keep)].reset_index(drop=True),
        key=task.key[task.key["region"].isin(keep)].reset_index(drop=True),
        queries=task.queries[task.queries["region"].isin(keep)].reset_index(drop=True),
    )


def is_test_grant(grant_id: str, mod: int = T2_TEST_MOD) -> bool:
    return int(hashlib.md5(grant_id.encode("utf-8")).hexdigest(), 16) % mod == 0


def build_t2(shared_data: Path) -> T2Task:
    return build_t2_from_frame(_read(Path(shared_data) / GRANTS_FILE))


def build_t2_from_frame(grants: pd.DataFrame) -> T2Task:
    placeholder = grants["description_is_placeholder"].astype(str).str.strip().str.lower()
    real = grants[placeholder.isin(["false", "0"])].copy()
    real["text"] = real["title"].astype(str) + ". " + real["description"].astype(str)
    real = real[real["text"].str.len() >= T2_MIN_TEXT]
    sizes = real.groupby("funder_id").size()
    keep = sizes[sizes >= T2_MIN_GRANTS].index
    real = real[real["funder_id"].isin(keep)].reset_index(drop=True)
    test_mask = real["grant_id"].map(is_test_grant).astype(bool)
    cols = ["grant_id", "funder_id", "funder_name", "text"]
    history = real.loc[~test_mask, cols].reset_index(drop=True)
    test_rows = real.loc[test_mask].reset_index(drop=True)
    funders = (
        history.groupby(["funder_id"], sort=True)
        .agg(funder_name=("funder_name", "first"), n_history=("grant_id", "size"))
        .reset_index()
    )
    return T2Task(
        history=history,
        test=test_rows[["grant_id", "text"]].copy(),
        test_key=test_rows[["grant_id", "funder_id"]].copy(),
        funders=funders,
    )
