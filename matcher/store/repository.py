"""Repository functions over the tables: organisations, needs, embeddings, index state."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import String, case, cast, delete, func, or_, select, union, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.causes import Cause
from matcher.domain import EDITED_SOURCE, Need, Organisation, Sector, ServiceLevel, SizeBand, utcnow
from matcher.errors import ConflictError, NotFoundError, ValidationError
from matcher.names import as_acronym
from matcher.places import normalise_country, region_keys
from matcher.places.locate import locate
from matcher.store import changes, name_index
from matcher.store.db import Database
from matcher.store.db import aware as _aware
from matcher.store.derived import name_initials
from matcher.store.models import (
    CauseRow,
    EmbeddingRow,
    IndexStateRow,
    NeedRow,
    OrganisationRow,
)

logger = logging.getLogger(__name__)

_ORG_FIELDS = tuple(f for f in Organisation.model_fields)
_NEED_FIELDS = tuple(f for f in Need.model_fields)
_CHUNK = 500
# names read as initials ("FEMA") at most, the shortest first: a key list a query can hold
INITIALS_MAX = 500
# (initials are the letters typed, government body) -> the rank of a name found by them:
# after a short name that is the letters typed (0); the names holding them as a word (2) after
# a government body's initials and before others' ("CMS": the Centers for Medicare & Medicaid
# Services, CMS Energy Corporation, then the Clan Maitland Society); the names only holding
# the letters last
_INITIALS_GROUPS = {(True, True): 1, (True, False): 3, (False, True): 4, (False, False): 5}
_RANK_WORD, _RANK_HOLDS = 2, 6
_BEFORE_WORD = (" ", "(")
_AFTER_WORD = (" ", ")", ",", ".")


def _starts_a_word(letters: str) -> Any:
    """A name that holds `letters` (lower case, letters only) at the start of a word."""
    low = func.lower(OrganisationRow.name)
    return or_(low.like(f"{letters}%"), *(low.like(f"%{b}{letters}%") for b in _BEFORE_WORD))


def _a_word(letters: str) -> Any:
    """A name that holds `letters` (lower case, letters only) as a whole word."""
    low = func.lower(OrganisationRow.name)
    ends = [low == letters, *(low.like(f"%{b}{letters}") for b in _BEFORE_WORD)]
    starts = [low.like(f"{letters}{a}%") for a in _AFTER_WORD]
    inside = [low.like(f"%{b}{letters}{a}%") for b in _BEFORE_WORD for a in _AFTER_WORD]
    return or_(*ends, *starts, *inside)


def _rank(typed: str, short: Any, acronym: str | None, ranked: list[tuple[int, int]]) -> Any:
    """The order of the names found (`list_organisations`), best first: `short` the short
    name is what was typed, `ranked` (key, group) found by initials; of the other names
    holding what was typed, the ones it starts, then the ones holding it at the start of a
    word, then the rest ("food bank" listed "Fish Food Bank" first, the shortest)."""
    low = func.lower(OrganisationRow.name)
    holders = [
        (low.startswith(typed, autoescape=True), _RANK_HOLDS),
        (low.contains(f" {typed}", autoescape=True), _RANK_HOLDS + 1),
    ]
    whens: list[Any] = [(short, 0)]
    groups: dict[int, list[int]] = {}
    for pk, group in ranked:
        groups.setdefault(group, []).append(pk)
    whens += [(OrganisationRow.pk.in_(pks), g) for g, pks in sorted(groups.items()) if g < 2]
    if acronym:
        whens.append((_a_word(acronym.lower()), _RANK_WORD))
    whens += [(OrganisationRow.pk.in_(pks), g) for g, pks in sorted(groups.items()) if g > 2]
    return case(*whens, *holders, else_=_RANK_HOLDS + 2)


def org_values(org: Organisation) -> dict[str, Any]:
    values = org.model_dump(mode="python")
    values["sector"] = org.sector.value
    values["size"] = org.size.value if org.size else None
    values["service_level"] = org.service_level.value if org.service_level else None
    values["text_hash"] = org.text_hash()
    values["name_initials"] = name_initials(org.name)
    return values


def row_to_org(row: OrganisationRow, *, trusted: bool = False) -> Organisation:
    """A stored row as an Organisation. `trusted` skips re-validation (rows were validated when
    written) for bulk reads such as index builds; only types are restored."""
    data = {f: getattr(row, f) for f in _ORG_FIELDS}
    data["updated_at"] = _aware(row.updated_at)
    # rows written before these columns existed
    data["active"] = True if data["active"] is None else bool(data["active"])
    data["sources"] = list(data["sources"] or [])
    data["service_regions"] = list(data["service_regions"] or [])
    if not trusted:
        return Organisation.model_validate(data)
    data["sector"] = Sector(data["sector"])
    data["size"] = SizeBand(data["size"]) if data["size"] else None
    level = data["service_level"]
    data["service_level"] = ServiceLevel(level) if level else None
    for key in ("focus_areas", "offers", "needs"):
        data[key] = list(data[key] or [])
    return Organisation.model_construct(**data)


def row_key(org_id: str, version: int, updated_at: str | None, text_hash: str) -> bytes:
    """20 bytes that change whenever a stored organisation row is written (a rewrite bumps the
    version; a deleted and re-created id gets a new updated_at, given as stored)."""
    return hashlib.sha1(f"{org_id}\x1f{version}\x1f{updated_at}\x1f{text_hash}".encode()).digest()


def need_values(need: Need) -> dict[str, Any]:
    values = need.model_dump(mode="python")
    values["wanted_sectors"] = [s.value for s in need.wanted_sectors]
    values["text_hash"] = need.text_hash()
    return values


def log_changes(s: Any, rows: Iterable[tuple[int, str, int]]) -> None:
    """Append (pk, id, version) of organisations written in session `s` to the change log."""
    changes.record_many(s, changes.ORGANISATION, rows)


def row_to_need(row: NeedRow) -> Need:
    data = {f: getattr(row, f) for f in _NEED_FIELDS}
    data["created_at"] = _aware(row.created_at)
    data["kind"] = data["kind"] or "need"  # rows stored before needs had a kind
    return Need.model_validate(data)


_CAS_RETRIES = 32


def _stale(kind: str, key: str, version: int, expected: int) -> ConflictError:
    return ConflictError(f"{kind} '{key}' is at version {version}, not {expected}")


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", -1))


def _flush_new(s: Any, model: type[OrganisationRow] | type[NeedRow], key: str, kind: str) -> None:
    """Flush an insert; if it failed because the id exists (a concurrent writer may have
    inserted it a moment ago), that is a ConflictError."""
    try:
        s.flush()
    except IntegrityError:
        s.rollback()
        if s.scalar(select(model.pk).where(model.id == key)) is not None:
            raise ConflictError(f"{kind} '{key}' already exists") from None
        raise


@dataclass
class Stored:
    """A stored record with its integer key (the vector id) and its version (the ETag)."""

    pk: int
    version: int
    record: Any


@dataclass
class UpsertReport:
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    owned: list[str] = field(default_factory=list)  # existing owned rows the input touched

    @property
    def changed(self) -> int:
        return len(self.inserted) + len(self.updated)


class Store:
    """All reads and writes of the engine go through here; every method is one transaction."""

    def __init__(self, db: Database):
        self.db = db

    # organisations -----------------------------------------------------------------------
    def upsert_organisations(
        self, orgs: Sequence[Organisation], *, keep_ownership: bool = True
    ) -> UpsertReport:
        """Insert new ids, update changed ones, leave identical ones alone. All or nothing.

        Ownership is not data: unless `keep_ownership` is False (an admin asking for it), an
        existing organisation keeps its `owner` and `contact` whatever the input says; the
        owned ones the input touched are listed in `report.owned`."""
        report = UpsertReport()
        with self.db.session() as s:
            for start in range(0, len(orgs), _CHUNK):
                chunk = orgs[start : start + _CHUNK]
                ids = [o.id for o in chunk]
                existing = {
                    r.id: r
                    for r in s.scalars(select(OrganisationRow).where(OrganisationRow.id.in_(ids)))
                }
                written: dict[str, OrganisationRow] = {}
                for org in chunk:
                    values = org_values(locate(org).org)
                    row = existing.get(org.id)
                    if row is None:
                        row = OrganisationRow(**values, version=1)
                        s.add(row)
                        existing[org.id] = written[org.id] = row
                        report.inserted.append(org.id)
                        continue
                    if row.owner and org.id not in report.owned:
                        report.owned.append(org.id)
                    if keep_ownership:
                        values["owner"], values["contact"] = row.owner, row.contact
                    diff = {
                        k: v
                        for k, v in values.items()
                        if k != "updated_at" and getattr(row, k) != v
                    }
                    if not diff:
                        report.unchanged.append(org.id)
                        continue
                    for k, v in values.items():
                        setattr(row, k, v)
                    row.version += 1
                    written[org.id] = row
                    report.updated.append(org.id)
                s.flush()
                log_changes(s, ((r.pk, r.id, r.version) for r in written.values()))
        return report

    def create_organisation(
        self, org: Organisation, *, with_rows: Callable[[Session], None] | None = None
    ) -> Stored:
        """Insert a new id; an id that exists (even one inserted a moment ago by a concurrent
        writer) is a ConflictError, never an overwrite. `with_rows` writes rows that belong
        with it (its first member) in the same transaction, before the organisation: its
        locks and checks come first, and whatever it raises leaves nothing written."""
        with self.db.session() as s:
            if with_rows is not None:
                with_rows(s)
            row = OrganisationRow(**org_values(locate(org).org), version=1)
            s.add(row)
            _flush_new(s, OrganisationRow, org.id, "organisation")
            log_changes(s, [(row.pk, row.id, row.version)])
            return Stored(row.pk, row.version, row_to_org(row))

    def update_organisation(
        self,
        org_id: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None = None,
        with_rows: Callable[[Session], None] | None = None,
    ) -> Stored:
        """Apply a partial update, validated as a whole; refuse a stale expected_version.

        The write is a compare-and-set in the database (`UPDATE ... WHERE id = :id AND
        version = :v`, one row affected): of concurrent writers holding one version, exactly
        one wins. Without expected_version a lost race is retried on the fresh row, so a
        concurrent change of another field is never overwritten. `with_rows` runs first in
        the write's transaction (each attempt's): its locks and checks hold until the write
        commits, and whatever it raises leaves nothing written."""
        for _attempt in range(_CAS_RETRIES):
            with self.db.session() as s:
                if with_rows is not None:
                    with_rows(s)
                row = self._org_row(s, org_id)
                if expected_version is not None and row.version != expected_version:
                    raise _stale("organisation", org_id, row.version, expected_version)
                base = row.version
                current = row_to_org(row).model_dump()
                current.update(changes)
                # changed here by people: a registry's re-import keeps it as they left it
                current["sources"] = list(dict.fromkeys([*current["sources"], EDITED_SOURCE]))
                current["id"] = org_id
                current["updated_at"] = utcnow()
                org = locate(Organisation.model_validate(current)).org
                pk = row.pk
                s.expunge(row)
                done = s.execute(
                    update(OrganisationRow)
                    .where(OrganisationRow.id == org_id, OrganisationRow.version == base)
                    .values(**org_values(org), version=base + 1)
                    .execution_options(synchronize_session=False)
                )
                if _rowcount(done) == 1:
                    log_changes(s, [(pk, org_id, base + 1)])
                    return Stored(pk, base + 1, org)
            if expected_version is not None:
                raise ConflictError(
                    f"organisation '{org_id}' changed concurrently; it is no longer at "
                    f"version {expected_version}"
                )
        raise ConflictError(f"organisation '{org_id}' keeps changing; retry")

    def delete_organisation(self, org_id: str, *, expected_version: int | None = None) -> int:
        """Delete and return the vector id (pk) it had (compare-and-set on the version too)."""
        with self.db.session() as s:
            row = self._org_row(s, org_id)
            if expected_version is not None and row.version != expected_version:
                raise _stale("organisation", org_id, row.version, expected_version)
            pk, base = row.pk, row.version
            s.expunge(row)
            done = s.execute(
                delete(OrganisationRow)
                .where(OrganisationRow.pk == pk, OrganisationRow.version == base)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(done) != 1:
                raise ConflictError(f"organisation '{org_id}' changed concurrently; re-read it")
            changes.record(
                s, changes.ORGANISATION, org_id, pk=pk, version=base + 1, op=changes.DELETE
            )
            return pk

    def get_organisation(self, org_id: str) -> Stored:
        with self.db.session() as s:
            row = self._org_row(s, org_id)
            return Stored(row.pk, row.version, row_to_org(row))

    def list_organisations(
        self,
        *,
        sector: str | None = None,
        country: str | None = None,
        region: str | None = None,
        owner: str | None = None,
        published_only: bool = False,
        offset: int = 0,
        limit: int = 50,
        name: str | None = None,
    ) -> tuple[list[Stored], int]:
        """`name`: only organisations whose name holds these words, in this order, whatever
        the case (the names they start first, then the ones holding them at the start of a
        word, then the rest, each the shortest first: the closest to what was typed). A short name
        equal to what was typed, whatever the case ("usda": the Agriculture Department),
        comes first. Initials typed in capitals ("FEMA", "HUD"), or letters no name holds
        ("fema"), find the names whose initials start with them too, next: the ones whose
        initials are the letters typed before the ones they only start, government bodies
        first in each ("CDC": the Centers for Disease Control and Prevention before a
        community development corporation; `_by_initials`)."""
        with self.db.session() as s:
            q = select(OrganisationRow)
            q = self._filtered(q, sector, country, region, owner, published_only)
            order: list[Any] = [OrganisationRow.pk]
            if name and name.split():
                typed = " ".join(name.split()).lower()
                short = func.lower(OrganisationRow.short_name) == typed
                called = select(OrganisationRow.pk).where(short)
                holds = OrganisationRow.pk.in_(union(self._holding(typed), called))
                order = [func.length(OrganisationRow.name), OrganisationRow.pk]
                # initials typed in capitals, or what no name holds ("fema")
                acronym = as_acronym(typed)
                capitals = bool(acronym) and name.strip().isupper()
                if acronym and not capitals:
                    held = s.scalar(select(func.count()).select_from(q.where(holds).subquery()))
                    acronym = None if held else acronym
                if acronym and capitals:
                    # letters typed in capitals are a word, not a part of one: "EPA" held
                    # "Department of Joy" and "Sathi Nepal" (176 found, real data walk)
                    holding = self._holding(acronym.lower(), word_start=True)
                    holds = OrganisationRow.pk.in_(union(holding, called))
                ranked = self._by_initials(s, q, acronym) if acronym else []
                if ranked:  # "EPA": the Environmental Protection Agency before "DEPAVE"
                    q = q.where(holds | OrganisationRow.pk.in_([pk for pk, _ in ranked]))
                else:
                    q = q.where(holds)
                order.insert(0, _rank(typed, short, acronym, ranked))
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = s.scalars(q.order_by(*order).offset(offset).limit(limit)).all()
            return [Stored(r.pk, r.version, row_to_org(r)) for r in rows], int(total)

    def _holding(self, letters: str, *, word_start: bool = False) -> Any:
        """The keys of the names holding `letters` (lower case), whatever the case; with
        `word_start`, at the start of a word. Read from the names' trigrams where the
        database keeps them (`store.name_index`), checked against the name as before."""
        low = func.lower(OrganisationRow.name)
        holds = _starts_a_word(letters) if word_start else low.contains(letters, autoescape=True)
        keys = select(OrganisationRow.pk).where(holds)
        indexed = name_index.holding(letters) if self.db.name_trigrams else None
        return keys if indexed is None else keys.where(OrganisationRow.pk.in_(indexed))

    @staticmethod
    def _by_initials(s: Session, q: Any, acronym: str) -> list[tuple[int, int]]:
        """(key, group) of the rows of `q` whose name's initials start with `acronym` (the
        indexed `name_initials`, kept at every write), best first:
        the names whose initials are `acronym` before the ones they only start, government
        bodies first in each (`_INITIALS_GROUPS`), then the shortest. "NOAA" found "NW Oregon
        Animal Alliance" first and "CDC" the Centers for Disease Control and Prevention
        twelfth (real data walk): an acronym typed is most often an agency's."""
        # the initials starting with `acronym`: one range of the column's index (upper case
        # letters, so the next string after all of them ends in the letter after its last)
        after = acronym[:-1] + chr(ord(acronym[-1]) + 1)
        letters = OrganisationRow.name_initials
        names = q.with_only_columns(
            OrganisationRow.pk,
            letters == acronym,
            OrganisationRow.sector == "government",
            func.length(OrganisationRow.name),
        ).where(letters >= acronym, letters < after)
        found = []
        for pk, exact, government, length in s.execute(names).tuples():
            group = _INITIALS_GROUPS[(bool(exact), bool(government))]
            found.append((group, length, pk))
        return [(pk, group) for group, _, pk in sorted(found)[:INITIALS_MAX]]

    @staticmethod
    def _filtered(
        q: Any,
        sector: str | None,
        country: str | None,
        region: str | None,
        owner: str | None,
        published_only: bool,
    ) -> Any:
        """`q` with the filters of `list_organisations` other than the name."""
        if sector:
            q = q.where(OrganisationRow.sector == sector)
        if country:
            try:
                code = normalise_country(country) or country
            except ValueError as exc:
                raise ValidationError(str(exc), field="country") from None
            q = q.where(OrganisationRow.country == code.upper())
        if region:  # a US state by name or code matches either spelling
            q = q.where(func.lower(OrganisationRow.region).in_(region_keys(region)))
        if owner:
            q = q.where(OrganisationRow.owner == owner)
        if published_only:
            q = q.where(OrganisationRow.published.is_(True))
        return q

    def organisations(self) -> list[tuple[int, Organisation]]:
        """Every organisation with its vector id, in key order (for index builds)."""
        with self.db.session() as s:
            rows = s.scalars(select(OrganisationRow).order_by(OrganisationRow.pk)).all()
            return [(r.pk, row_to_org(r, trusted=True)) for r in rows]

    def stored_by_pk(self, pks: Sequence[int]) -> dict[int, Stored]:
        """The stored organisations (with versions) of these vector ids; unknown ones absent."""
        out: dict[int, Stored] = {}
        wanted = [int(pk) for pk in pks]
        with self.db.session() as s:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                q = select(OrganisationRow).where(OrganisationRow.pk.in_(chunk))
                out.update((r.pk, Stored(r.pk, r.version, row_to_org(r))) for r in s.scalars(q))
        return out

    def needs_by_id(self, ids: Sequence[str]) -> dict[str, Stored]:
        """The stored needs of these ids; unknown (deleted) ones absent."""
        out: dict[str, Stored] = {}
        wanted = list(dict.fromkeys(ids))
        with self.db.session() as s:
            for start in range(0, len(wanted), _CHUNK):
                q = select(NeedRow).where(NeedRow.id.in_(wanted[start : start + _CHUNK]))
                out.update((r.id, Stored(r.pk, r.version, row_to_need(r))) for r in s.scalars(q))
        return out

    def descriptions_of(self, ids: Sequence[str]) -> dict[str, str]:
        """The stored descriptions of these organisation ids; unknown ones absent."""
        out: dict[str, str] = {}
        wanted = list(dict.fromkeys(ids))
        with self.db.session() as s:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                q = select(OrganisationRow.id, OrganisationRow.description).where(
                    OrganisationRow.id.in_(chunk)
                )
                out.update((i, d) for i, d in s.execute(q).tuples())
        return out

    def organisations_by_pk(self, pks: Sequence[int]) -> dict[int, Organisation]:
        """The organisations of these vector ids (unknown ones absent), trusted as stored."""
        out: dict[int, Organisation] = {}
        wanted = [int(pk) for pk in pks]
        with self.db.session() as s:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                q = select(OrganisationRow).where(OrganisationRow.pk.in_(chunk))
                out.update((r.pk, row_to_org(r, trusted=True)) for r in s.scalars(q))
        return out

    def organisation_keys(self) -> list[tuple[int, bytes, str]]:
        """(vector id, row key, text hash) of every organisation in key order, read without
        building any profile. The row key changes with every write to the row."""
        q = select(
            OrganisationRow.pk,
            OrganisationRow.id,
            OrganisationRow.version,
            cast(OrganisationRow.updated_at, String),  # as stored: no datetime parsing
            OrganisationRow.text_hash,
        ).order_by(OrganisationRow.pk)
        with self.db.session() as s:
            return [
                (pk, row_key(oid, version, stamp, th), th)
                for pk, oid, version, stamp, th in s.execute(q)
            ]

    def organisation_hashes(self) -> dict[int, str]:
        with self.db.session() as s:
            return {
                pk: h for pk, h in s.execute(select(OrganisationRow.pk, OrganisationRow.text_hash))
            }

    def count_organisations(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count(OrganisationRow.pk))) or 0)

    @staticmethod
    def _org_row(s: Any, org_id: str) -> OrganisationRow:
        row = s.scalar(select(OrganisationRow).where(OrganisationRow.id == org_id))
        if row is None:
            raise NotFoundError(f"organisation '{org_id}' not found")
        return row  # type: ignore[no-any-return]

    # needs ------------------------------------------------------------------------------
    def upsert_needs(self, needs: Sequence[Need]) -> UpsertReport:
        report = UpsertReport()
        with self.db.session() as s:
            for start in range(0, len(needs), _CHUNK):
                chunk = needs[start : start + _CHUNK]
                existing = {
                    r.id: r
                    for r in s.scalars(select(NeedRow).where(NeedRow.id.in_([n.id for n in chunk])))
                }
                written: dict[str, NeedRow] = {}
                for need in chunk:
                    values = need_values(need)
                    row = existing.get(need.id)
                    if row is None:
                        row = NeedRow(**values, version=1)
                        s.add(row)
                        existing[need.id] = written[need.id] = row
                        report.inserted.append(need.id)
                        continue
                    if all(getattr(row, k) == v for k, v in values.items() if k != "created_at"):
                        report.unchanged.append(need.id)
                        continue
                    for k, v in values.items():
                        if k != "created_at":
                            setattr(row, k, v)
                    row.version += 1
                    written[need.id] = row
                    report.updated.append(need.id)
                s.flush()
                changes.record_many(
                    s, changes.NEED, ((r.pk, r.id, r.version) for r in written.values())
                )
        return report

    def create_need(self, need: Need) -> Stored:
        """Insert a new need; an existing id is a ConflictError, never an overwrite."""
        with self.db.session() as s:
            row = NeedRow(**need_values(need), version=1)
            s.add(row)
            _flush_new(s, NeedRow, need.id, "need")
            changes.record(s, changes.NEED, need.id, pk=row.pk, version=row.version)
            return Stored(row.pk, row.version, row_to_need(row))

    def get_need(self, need_id: str) -> Stored:
        with self.db.session() as s:
            row = s.scalar(select(NeedRow).where(NeedRow.id == need_id))
            if row is None:
                raise NotFoundError(f"need '{need_id}' not found")
            return Stored(row.pk, row.version, row_to_need(row))

    def delete_need(self, need_id: str) -> int:
        with self.db.session() as s:
            row = s.scalar(select(NeedRow).where(NeedRow.id == need_id))
            if row is None:
                raise NotFoundError(f"need '{need_id}' not found")
            pk = row.pk
            changes.record(
                s, changes.NEED, need_id, pk=pk, version=row.version + 1, op=changes.DELETE
            )
            s.delete(row)
            return pk

    def list_needs(
        self,
        *,
        status: str | None = None,
        owner: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[Stored], int]:
        with self.db.session() as s:
            q = select(NeedRow)
            if status:
                q = q.where(NeedRow.status == status)
            if owner:
                q = q.where(NeedRow.owner == owner)
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = s.scalars(q.order_by(NeedRow.pk).offset(offset).limit(limit)).all()
            return [Stored(r.pk, r.version, row_to_need(r)) for r in rows], int(total)

    def needs(self) -> list[tuple[int, Need]]:
        with self.db.session() as s:
            rows = s.scalars(select(NeedRow).order_by(NeedRow.pk)).all()
            return [(r.pk, row_to_need(r)) for r in rows]

    # cause taxonomy ---------------------------------------------------------------------
    def causes(self) -> list[Cause]:
        with self.db.session() as s:
            rows = s.scalars(select(CauseRow).order_by(CauseRow.position)).all()
            return [
                Cause(code=r.code, title=r.title, definition=r.definition, keywords=r.keywords)
                for r in rows
            ]

    def causes_describe(self) -> list[str] | None:
        """The sectors the stored taxonomy describes (`replace_causes`); None: every sector."""
        with self.db.session() as s:
            said = s.scalar(select(CauseRow.describes).order_by(CauseRow.position).limit(1))
        return said.split(",") if said else None

    def replace_causes(
        self, causes: Sequence[Cause], describes: Sequence[str] | None = None
    ) -> None:
        """Replace the whole taxonomy in one transaction (an empty list removes it);
        `describes`: the sectors whose organisations it describes (None: every sector)."""
        said = ",".join(describes) if describes else None
        with self.db.session() as s:
            s.execute(delete(CauseRow))
            s.add_all(
                CauseRow(
                    code=c.code,
                    position=i,
                    title=c.title,
                    definition=c.definition,
                    keywords=c.keywords,
                    describes=said,
                )
                for i, c in enumerate(causes)
            )
            changes.record(s, changes.CAUSES, "*", version=len(causes))

    def log_change(self, kind: str, entity_id: str, *, op: str = changes.UPSERT) -> None:
        """A change made outside these tables (a model published in the registry's files),
        in the log so that every serving process follows it."""
        with self.db.session() as s:
            changes.record(s, kind, entity_id, op=op)

    # index state ------------------------------------------------------------------------
    def index_state(self, name: str) -> dict[str, Any] | None:
        with self.db.session() as s:
            row = s.get(IndexStateRow, name)
            if row is None:
                return None
            return {
                "name": row.name,
                "generation": row.generation,
                "model": row.model,
                "count": row.count,
                "built_at": _aware(row.built_at),
                "info": dict(row.info or {}),
            }

    def set_index_state(
        self, name: str, *, generation: int, model: str, count: int, info: dict[str, Any]
    ) -> None:
        with self.db.session() as s:
            row = s.get(IndexStateRow, name)
            if row is None:
                row = IndexStateRow(name=name)
                s.add(row)
            row.generation = generation
            row.model = model
            row.count = count
            row.built_at = utcnow()
            row.info = info


class SqlEmbeddingCache:
    """EmbeddingCache backed by the `embeddings` table (float32 bytes, no pickle)."""

    def __init__(self, db: Database):
        self.db = db

    def get_many(self, model: str, text_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(text_hashes))
        with self.db.session() as s:
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start : start + _CHUNK]
                q = select(EmbeddingRow.text_hash, EmbeddingRow.vector).where(
                    EmbeddingRow.model == model, EmbeddingRow.text_hash.in_(chunk)
                )
                for h, blob in s.execute(q):
                    out[h] = np.frombuffer(blob, dtype=np.float32).copy()
        return out

    def put_many(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        """Insert or replace. An upsert, not delete-then-insert: two processes embedding the
        same new text at once (a writer and a replica following it) both succeed."""
        items = list(vectors.items())
        insert = pg_insert if not self.db.is_sqlite else sqlite_insert
        with self.db.session() as s:
            for start in range(0, len(items), _CHUNK):
                chunk = items[start : start + _CHUNK]
                rows = [
                    {
                        "model": model,
                        "text_hash": h,
                        "dimension": int(v.shape[-1]),
                        "vector": np.ascontiguousarray(v, dtype=np.float32).tobytes(),
                    }
                    for h, v in chunk
                ]
                stmt = insert(EmbeddingRow).values(rows)
                s.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[EmbeddingRow.model, EmbeddingRow.text_hash],
                        set_={"dimension": stmt.excluded.dimension, "vector": stmt.excluded.vector},
                    )
                )

    def present(self, model: str, text_hashes: Sequence[str]) -> set[str]:
        """Which of these text hashes have a cached vector (no vector is read)."""
        found: set[str] = set()
        unique = list(dict.fromkeys(text_hashes))
        with self.db.session() as s:
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start : start + _CHUNK]
                q = select(EmbeddingRow.text_hash).where(
                    EmbeddingRow.model == model, EmbeddingRow.text_hash.in_(chunk)
                )
                found.update(s.scalars(q))
        return found

    def count(self, model: str | None = None) -> int:
        with self.db.session() as s:
            q = select(func.count()).select_from(EmbeddingRow)
            if model:
                q = q.where(EmbeddingRow.model == model)
            return int(s.scalar(q) or 0)


def ids_of(items: Iterable[Stored]) -> list[str]:
    return [i.record.id for i in items]
