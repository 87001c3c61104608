"""Record linkage where it runs: on an incoming batch (against the store and the rest of the
batch) and over everything stored (`matcher train dedupe`).

A merged-away record is deleted; needs (requester_id) and partnerships (source_id, partner_id)
that named it are moved to the record kept, so nothing points at a missing organisation.
"""

from __future__ import annotations

from sqlalchemy import update

from matcher.accounts.groups import EDITABLE
from matcher.domain import PEOPLE_SOURCES, Organisation
from matcher.store import Store
from matcher.store.models import NeedRow, PartnershipRow
from training.importers.base import ImportBatch
from training.linkage import FILL_FIELDS, LinkResult, link, merge

# what an organisation's own people keep (what its admins edit, and who owns it and whether it
# is published); a registry's file still decides whether it is active and its cause code
_KEPT_BY_PEOPLE = EDITABLE | {"owner", "published", "updated_at"}
_PLACE = ("city", "region", "country", "postcode")


def reimported(new: Organisation, old: Organisation) -> Organisation:
    """What storing `new` over the stored `old` of the same id should store (`new` itself when
    nothing of `old` needs keeping).

    - A profile its people keep (added by its members, edited through the API or the page, or
      owned by a key or a person) stays as they left it: a re-import of the IRS file had put
      back the importer's offers and cleared the website and size an owner had entered (real
      data walk); the file still decides `active` and the cause code.
    - Otherwise the file's record, but a value the file does not give never clears a stored one
      (a website another file brought; coordinates only while the place is the same), and what
      other sources merged into it stays (the agency registry's new edition had wiped the
      programme offers of 123 agencies)."""
    sources = list(dict.fromkeys([*old.sources, *new.sources]))
    if old.owner is not None or PEOPLE_SOURCES & set(old.sources):
        kept = {k: getattr(old, k) for k in _KEPT_BY_PEOPLE}
        changes = {**kept, "sources": sources, "active": new.active}
        if new.cause_code:
            changes["cause_code"] = new.cause_code
        return new.model_copy(update=changes)
    if not set(old.sources) <= set(new.sources):
        return merge([new, old])[0]
    same_place = all(getattr(new, k) == getattr(old, k) for k in _PLACE)
    filled = {
        k: getattr(old, k)
        for k in FILL_FIELDS
        if getattr(new, k) is None
        and getattr(old, k) is not None
        and (same_place or k not in ("lat", "lon"))
    }
    return new.model_copy(update=filled) if filled else new


def link_batch(store: Store | None, batch: ImportBatch) -> LinkResult:
    """Fold the batch's duplicates (of each other or of stored records) into one record each.

    The batch is changed in place: a merged record replaces the kept one (or is added to the
    batch to update a stored one); merged-away batch records are removed and references to them
    in the batch's needs and partnerships point at the kept id. Stored records that were merged
    away are listed in `result.retired` for `retire` to delete after the batch is stored.
    """
    incoming = {o.id for o in batch.organisations}
    stored = [o for _, o in store.organisations()] if store is not None else []
    # a re-import replaces its own records, but keeps what other sources merged into them: a
    # new edition of the agency registry wiped the offers, focus areas and provenance that the
    # programmes import had brought to 123 agencies (real data)
    merged_in = {o.id: o for o in stored if o.id in incoming}
    for org in list(batch.organisations):
        old = merged_in.get(org.id)
        if old is not None:
            again = reimported(org, old)
            if again is not org:
                batch.replace_organisation(again)
    stored = [o for o in stored if o.id not in incoming]
    result = link([*stored, *batch.organisations], stored=len(stored), only_new=True)
    for c in result.clusters:
        for other in c.merged:
            if batch.has_organisation(other.id):
                batch.remove_organisation(other.id)
        if batch.has_organisation(c.kept.id):
            batch.replace_organisation(c.kept)
        else:
            batch.add_organisation(c.kept)
        names = "; ".join(f"{o.id} '{o.name}'" for o in c.merged)
        rules = ", ".join(sorted({p.rule for p in c.pairs}))
        batch.flag(c.kept.id, None, f"merged with {names} ({rules})")
    retired = result.retired
    if retired:
        batch.needs = [
            n.model_copy(update={"requester_id": retired[n.requester_id]})
            if n.requester_id in retired
            else n
            for n in batch.needs
        ]
        batch.partnerships = [
            p.model_copy(
                update={
                    "source_id": retired.get(p.source_id, p.source_id),
                    "partner_id": retired.get(p.partner_id, p.partner_id),
                }
            )
            for p in batch.partnerships
        ]
    return result


def retire(store: Store, retired: dict[str, str]) -> int:
    """Delete merged-away stored records and move references to the kept ones; returns how
    many stored records were deleted."""
    if not retired:
        return 0
    with store.db.session() as s:
        for old, new in retired.items():
            s.execute(update(NeedRow).where(NeedRow.requester_id == old).values(requester_id=new))
            s.execute(
                update(PartnershipRow).where(PartnershipRow.source_id == old).values(source_id=new)
            )
            s.execute(
                update(PartnershipRow)
                .where(PartnershipRow.partner_id == old)
                .values(partner_id=new)
            )
    deleted = 0
    existing = {o.id for _, o in store.organisations()}
    for old in retired:
        if old in existing:
            store.delete_organisation(old)
            deleted += 1
    return deleted


def dedupe_store(store: Store, *, dry_run: bool = False) -> LinkResult:
    """Link everything stored; unless `dry_run`, store the merged records and retire the rest."""
    orgs = [o for _, o in store.organisations()]
    result = link(orgs, stored=len(orgs), only_new=False)
    if not dry_run and result.clusters:
        store.upsert_organisations([c.kept for c in result.clusters])
        retire(store, result.retired)
    return result
