"""Benchmark T4 (coalition for a need), built as ../shared/benchmarks/T4.md defines it.

Three corpora read from the shared data: every nonprofit of `us_nonprofits_dev.csv.gz` (through
the IRS importer, with the `ntee_code` column blanked first: it is the answer key), the S&P 500
companies (companies importer) and the federal agency registry (ids `fedreg-<id>`). The answer
keys (a nonprofit's state and NTEE code3, a company's industry) stay in `T4Task`, outside the
engine; `T4Task.relevant` decides relevance from them exactly as T4.md says.
"""

from __future__ import annotations

import importlib
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from matcher.domain import Organisation
from training.benchmarks.tasks import NONPROFITS_FILE

NEEDS_FILE = "t4_needs_dev.jsonl"
COMPANIES_FILE = "sp500_companies.csv"
AGENCIES_FILE = "us_federal_agencies.csv"
T4_SECTORS = ("nonprofit", "business", "government")
AGENCY_PREFIX = "fedreg-"
ANSWER_KEY_COLUMN = "ntee_code"


@dataclass(frozen=True)
class T4Need:
    id: str
    text: str
    city: str
    state: str
    sectors: tuple[str, ...]
    relevant: Mapping[str, frozenset[str]]  # sector -> NTEE code3s / industries / agency ids
    topic: str


@dataclass(frozen=True)
class T4Task:
    """The needs, what the engine may see (`organisations`, `corpus`) and the answer keys."""

    needs: list[T4Need]
    organisations: list[Organisation]
    corpus: pd.DataFrame  # id, sector, name, region, text (profile text for the baselines)
    np_key: Mapping[str, tuple[str, str]]  # nonprofit id -> (state, code3); "" without a code
    industry: Mapping[str, str]  # business id -> industry

    def relevant(self, need: T4Need, sector: str, item_id: str) -> bool:
        labels = need.relevant.get(sector, frozenset())
        if sector == "nonprofit":
            state, code3 = self.np_key.get(item_id, ("", ""))
            return bool(code3) and state == need.state and code3 in labels
        if sector == "business":
            return self.industry.get(item_id, "") in labels
        if sector == "government":
            return item_id.startswith(AGENCY_PREFIX) and item_id[len(AGENCY_PREFIX) :] in labels
        return False

    def n_relevant(self, need: T4Need, sector: str) -> int:
        """R: the relevant members available for this need and sector."""
        labels = need.relevant.get(sector, frozenset())
        if sector == "nonprofit":
            return sum(bool(c) and s == need.state and c in labels for s, c in self.np_key.values())
        if sector == "business":
            return sum(i in labels for i in self.industry.values())
        ids = set(self.corpus.loc[self.corpus["sector"] == sector, "id"])
        return sum(f"{AGENCY_PREFIX}{x}" in ids for x in labels)


def read_needs(path: Path) -> list[T4Need]:
    needs: list[T4Need] = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            sectors = tuple(str(s) for s in raw["sectors"])
            unknown = [s for s in sectors if s not in T4_SECTORS]
            if unknown:
                raise ValueError(f"unknown sector(s) {unknown}")
            needs.append(
                T4Need(
                    id=str(raw["id"]),
                    text=str(raw["text"]),
                    city=str(raw.get("city") or ""),
                    state=str(raw["state"]).upper(),
                    sectors=sectors,
                    relevant={
                        s: frozenset(str(x) for x in raw.get("relevant", {}).get(s, []))
                        for s in T4_SECTORS
                    },
                    topic=str(raw.get("topic") or ""),
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}: line {n}: {exc}") from exc
    return needs


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)


def nonprofit_organisations(orgs: pd.DataFrame) -> list[Organisation]:
    """Every row through the IRS importer, the answer-key column blanked before it reads them
    (blank, not dropped: the importer refuses a file without the column)."""
    from training.importers.irs import read_irs

    visible = orgs.assign(**{ANSWER_KEY_COLUMN: ""})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nonprofits.csv"
        visible.to_csv(path, index=False)
        batch = read_irs(path)
    if batch.rejected:
        first = batch.rejected[0]
        print(f"T4: {batch.rejected_rows} nonprofit rows rejected (first: {first})")
    return batch.organisations


def nonprofit_key(orgs: pd.DataFrame) -> dict[str, tuple[str, str]]:
    from training.importers.irs import normalise_ein

    code = orgs[ANSWER_KEY_COLUMN].fillna("").astype(str).str.strip()
    code3 = code.where(code.str.match(r"^[A-Z]\d\d"), "").str[:3]
    return {
        f"ein-{normalise_ein(e)}": (s.upper(), c)
        for e, s, c in zip(orgs["ein"], orgs["state"], code3, strict=True)
    }


def company_id(symbol: str) -> str:
    from training.importers.base import slug

    return f"ticker-{slug(symbol).upper()}"


def company_organisations(path: Path) -> list[Organisation]:
    from training.importers.companies import read_companies

    return read_companies(path).organisations


def agency_organisation(row: Mapping[Any, Any]) -> Organisation:
    """One registry row as a `government` organisation (the fallback converter)."""
    name = " ".join(str(row["name"]).split())
    description = " ".join(str(row.get("description") or "").split()) or name
    return Organisation(
        id=f"{AGENCY_PREFIX}{str(row['id']).strip()}",
        name=name[:300],
        sector="government",  # type: ignore[arg-type]
        description=description[:20_000],
        country="US",
        website=str(row.get("agency_url") or "") or None,
    )


def _agency_reader() -> Callable[..., Any] | None:
    """The registry importer another engineer is writing, when it exists (name may vary)."""
    try:
        module = importlib.import_module("training.importers.federal_agencies")
    except ImportError:
        return None
    for name in ("read_federal_agencies", "read_agencies", "read"):
        fn = getattr(module, name, None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
    return None


def agency_organisations(path: Path) -> tuple[list[Organisation], str]:
    """(organisations, how they were made): the importer if present and it keeps the id scheme,
    else the rows converted here."""
    rows = _read(path)
    reader = _agency_reader()
    if reader is not None:
        batch = reader(path)
        orgs = list(getattr(batch, "organisations", batch))
        expected = {f"{AGENCY_PREFIX}{i}" for i in rows["id"]}
        if orgs and {o.id for o in orgs} <= expected:
            return orgs, "training.importers.federal_agencies"
        print("T4: the federal agency importer uses other ids; converting the rows here")
    return [agency_organisation(r) for r in rows.to_dict("records")], "converted in the runner"


def corpus_frame(
    nonprofits: pd.DataFrame, companies: pd.DataFrame, agencies: pd.DataFrame
) -> pd.DataFrame:
    """The baselines' view: profile text = name + description (mission / summary)."""
    from training.importers.irs import normalise_ein

    parts = [
        pd.DataFrame(
            {
                "id": [f"ein-{normalise_ein(e)}" for e in nonprofits["ein"]],
                "sector": "nonprofit",
                "name": nonprofits["name"],
                "region": nonprofits["state"].str.upper(),
                "text": nonprofits["name"] + ". " + nonprofits["mission"],
            }
        ),
        pd.DataFrame(
            {
                "id": [company_id(s) for s in companies["symbol"]],
                "sector": "business",
                "name": companies["name"],
                "region": companies["state"],
                "text": companies["name"] + ". " + companies["summary"],
            }
        ),
        pd.DataFrame(
            {
                "id": AGENCY_PREFIX + agencies["id"].str.strip(),
                "sector": "government",
                "name": agencies["name"],
                "region": "",
                "text": agencies["name"]
                + ". "
                + agencies["description"].where(agencies["description"] != "", agencies["name"]),
            }
        ),
    ]
    return pd.concat(parts, ignore_index=True)


def build_t4_from_frames(
    needs: Sequence[T4Need],
    nonprofits: pd.DataFrame,
    companies: pd.DataFrame,
    agencies: pd.DataFrame,
    organisations: list[Organisation],
) -> T4Task:
    industry = {
        company_id(s): i for s, i in zip(companies["symbol"], companies["industry"], strict=True)
    }
    return T4Task(
        needs=list(needs),
        organisations=organisations,
        corpus=corpus_frame(nonprofits, companies, agencies),
        np_key=nonprofit_key(nonprofits),
        industry=industry,
    )


def default_needs_path(shared_data: Path) -> Path:
    return Path(shared_data).resolve().parent / "benchmarks" / NEEDS_FILE


PROGRAMMES_FILE = "us_federal_programs.csv"


def t4_organisations(shared_data: Path) -> list[Organisation]:
    """What the engine is given: nonprofits (answer key removed), companies, agencies."""
    shared = Path(shared_data)
    gov, how = agency_organisations(shared / AGENCIES_FILE)
    print(f"T4: federal agencies {how}")
    return (
        nonprofit_organisations(_read(shared / NONPROFITS_FILE))
        + company_organisations(shared / COMPANIES_FILE)
        + gov
    )


def store_programmes(shared_data: Path, store: Any) -> int:
    """The federal programmes (GSA inventory) as the agencies' programmes: read with the
    programme importer, its agencies linked to the stored registry rows (record linkage, as
    `matcher train import` does), and only programmes of a registry agency kept, so the
    candidate corpus stays the 457 registry rows. Programmes stored by an earlier run that the
    importer no longer yields (e.g. tax expenditures) are removed, so a rebuilt engine dir
    measures what a fresh one would. Returns the number of programmes stored."""
    from training.importers import read, store_batch
    from training.linkage_store import link_batch

    batch = read("federal-programs", Path(shared_data) / PROGRAMMES_FILE)
    linked = link_batch(store, batch).retired
    # a sub-agency with no registry row of its own (HUD's "Assistant Secretary for Housing")
    # runs its programmes for its department: they count for the department's registry row
    batch.needs = [
        n.model_copy(update={"requester_id": linked[top]})
        if (top := (n.requester_id or "").split("--")[0]) in linked
        and not (n.requester_id or "").startswith(AGENCY_PREFIX)
        else n
        for n in batch.needs
    ]
    batch.organisations = [o for o in batch.organisations if o.id.startswith(AGENCY_PREFIX)]
    batch.needs = [n for n in batch.needs if (n.requester_id or "").startswith(AGENCY_PREFIX)]
    store_batch(store, batch)
    kept = {n.id for n in batch.needs}
    for _, old in store.needs():
        if old.kind == "programme" and old.id not in kept:
            store.delete_need(old.id)
    return len(batch.needs)


def build_t4(
    shared_data: Path, needs_path: Path | None = None, *, with_organisations: bool = True
) -> T4Task:
    """The task from the shared data; `with_organisations=False` skips the importers, for runs
    that reuse an engine already built from them (`t4_organisations` makes them later)."""
    shared = Path(shared_data)
    needs = read_needs(needs_path or default_needs_path(shared))
    nonprofits = _read(shared / NONPROFITS_FILE)
    companies = _read(shared / COMPANIES_FILE)
    agencies = _read(shared / AGENCIES_FILE)
    orgs = t4_organisations(shared) if with_organisations else []
    return build_t4_from_frames(needs, nonprofits, companies, agencies, orgs)
