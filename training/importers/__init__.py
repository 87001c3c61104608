"""Importers for public registries: IRS exempt organisations, 360Giving grants, the US Federal
Program Inventory and generic company lists. Each reads a file into an `ImportBatch`;
`store_batch` upserts it (organisations, then needs, then partnerships; each all-or-nothing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from matcher.domain import Organisation
from matcher.store import Store
from matcher.store.repository import UpsertReport
from training.importers.base import ImportBatch
from training.importers.companies import read_companies
from training.importers.federal_agencies import read_federal_agencies
from training.importers.federal_programs import read_federal_programs
from training.importers.giving360 import read_360giving
from training.importers.irs import read_irs

Reader = Callable[..., ImportBatch]
IMPORTERS: dict[str, Reader] = {
    "irs": read_irs,
    "360giving": read_360giving,
    "federal-programs": read_federal_programs,
    "federal-agencies": read_federal_agencies,
    "companies": read_companies,
}


@dataclass
class StoredBatch:
    organisations: UpsertReport
    needs: UpsertReport
    partnerships: UpsertReport
    retired: int = 0  # stored records merged into incoming ones and deleted

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            name: {
                "inserted": len(r.inserted),
                "updated": len(r.updated),
                "unchanged": len(r.unchanged),
            }
            for name, r in (
                ("organisations", self.organisations),
                ("needs", self.needs),
                ("partnerships", self.partnerships),
            )
        }


def read(
    kind: str, path: str | Path, *, limit: int | None = None, progress: bool = False
) -> ImportBatch:
    try:
        reader = IMPORTERS[kind]
    except KeyError:
        raise ValueError(f"unknown importer '{kind}' (expected {', '.join(IMPORTERS)})") from None
    batch = reader(path, limit=limit, progress=progress)
    for i, org in enumerate(batch.organisations):  # provenance: where each record came from
        if not org.sources:
            batch.organisations[i] = org.model_copy(update={"sources": [f"{kind}:{org.id}"]})
    return batch


def store_batch(
    store: Store, batch: ImportBatch, *, retired: dict[str, str] | None = None
) -> StoredBatch:
    """Upsert by id: organisations first (so partnerships and needs refer to stored ones).
    `retired` (from `training.linkage_store.link_batch`): stored ids merged into others, deleted
    once the batch is stored."""
    from training.history import store_partnerships
    from training.linkage_store import retire

    empty = UpsertReport
    incoming = _keeping_stored_descriptions(store, batch)
    orgs = store.upsert_organisations(incoming) if incoming else empty()
    needs = store.upsert_needs(batch.needs) if batch.needs else empty()
    parts = store_partnerships(store, batch.partnerships) if batch.partnerships else empty()
    gone = retire(store, retired) if retired else 0
    return StoredBatch(orgs, needs, parts, gone)


def _keeping_stored_descriptions(store: Store, batch: ImportBatch) -> list[Organisation]:
    """The batch's organisations, each whose description the importer made up (`made_up`)
    with the description stored for it instead, if any: an IRS row with a blank mission
    replaced a stored mission with "... is a US tax-exempt organisation in ME.", and a second
    import of the 360Giving file undid `train enrich` (helper-76's walk, 2026-12-06)."""
    made_up = [o.id for o in batch.organisations if o.id in batch.made_up]
    if not made_up:
        return list(batch.organisations)
    stored = store.descriptions_of(made_up)
    return [
        o.model_copy(update={"description": stored[o.id]})
        if o.id in batch.made_up and stored.get(o.id)
        else o
        for o in batch.organisations
    ]


__all__ = ["IMPORTERS", "ImportBatch", "StoredBatch", "read", "store_batch"]
