"""Clean data in: the federal agency importer, historical-body rules, record linkage (synthetic)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from matcher.domain import Need, Organisation
from matcher.store import Database, Store
from matcher.store.models import OrganisationRow
from training.importers import read, store_batch
from training.importers.historical import historical_reason
from training.linkage import link
from training.linkage_store import dedupe_store, link_batch

COLUMNS = ["id", "name", "short_name", "parent_name", "agency_url", "description"]


def _csv(path: Path, rows: list[list[str]], columns: list[str] = COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows(rows)
    return path


@pytest.fixture
def store(tmp_path: Path) -> Store:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    db.create_all()
    return Store(db)


# ------------------------------------------------------------------ importer


def test_agency_importer_ids_level_flags_and_errors(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "agencies.csv",
        [
            [
                "7",
                "Widget Safety Bureau",
                "WSB",
                "Commerce Department",
                "https://wsb.gov/",
                "The Widget Safety Bureau inspects widgets.",
            ],
            ["8", "Gadget Review Commission", "", "", "", ""],
            ["9", "", "", "", "", "no name"],
            ["7", "Again Bureau", "", "", "", "dup"],
            ["10", "Bad Link Office", "", "", "not a url", "x"],
        ],
    )
    batch = read("federal-agencies", path)
    ids = [o.id for o in batch.organisations]
    assert ids == ["fedreg-7", "fedreg-8"]
    wsb = batch.organisations[0]
    assert wsb.sector == "government" and wsb.service_level is not None
    assert wsb.service_level.value == "national" and wsb.country == "US"
    assert wsb.website == "https://wsb.gov/" and wsb.sources == ["fedreg:7"]
    assert "Commerce Department" in wsb.description and wsb.active
    assert batch.organisations[1].description == "Gadget Review Commission"
    assert any(f.record_id == "fedreg-8" and "no description" in f.note for f in batch.flagged)
    errors = {(e.row, e.column) for e in batch.rejected}
    assert errors == {(3, "name"), (4, "id"), (5, "agency_url")}


def test_agency_named_as_predecessor_by_another_row_is_inactive(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "a.csv",
        [
            ["1", "Parcel Rate Commission", "", "", "", "The Parcel Rate Commission sets rates."],
            [
                "2",
                "Parcel Regulatory Commission",
                "",
                "",
                "",
                "The Parcel Regulatory Commission "
                "is the successor agency to the Parcel Rate Commission, which was created in 1970.",
            ],
        ],
    )
    batch = read("federal-agencies", path)
    active = {o.id: o.active for o in batch.organisations}
    assert active == {"fedreg-1": False, "fedreg-2": True}


# ------------------------------------------------------------------ historical rules


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Widget Study Commission", "The Commission was terminated on May 31, 2007."),
        ("Gadget Bureau", "The Gadget Bureau (GB) was set up in 1950. GB was abolished in 1996."),
        ("VOLUNTEER", "VOLUNTEER's functions were transferred to the Small Business Office."),
        ("Rural Lending Service", "RLS was renamed Farm Lending Service as of January 1996."),
        (
            "Thing Board",
            "In 2008 an Act combined the Thing Board and the Stuff Office to form "
            "the new Things Agency.",
        ),
        ("Sprocket Bank", "The directors approved resolutions to liquidate and dissolve the Bank."),
        ("Reform Commission", "The Commission failed to agree and went out of business."),
    ],
)
def test_historical_bodies_are_found(name: str, text: str) -> None:
    assert historical_reason(name, text) is not None


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # a current body that names an abolished predecessor
        (
            "Food Research Institute",
            "The Institute was established in 1994, replacing the Food "
            "Study Service, which was abolished.",
        ),
        (
            "Food Research Institute",
            "The Food Study Service was abolished in 1994 and its "
            "functions were transferred to the Food Research Institute.",
        ),
        ("Defense Widget Agency", "The DCA was renamed Defense Widget Agency in 1991."),
        ("Drafting Service", "The authority to induct registrants expired July 1, 1973."),
        (
            "Conference Office",
            "The Office ceased operations from 1995 to 2010, when Congress reauthorized it.",
        ),
        ("Accounting Office", "It was renamed the Accounting Office in 2004."),
        ("Coast Watch", "The Coast Watch was transferred to the Department of Homeland Security."),
    ],
)
def test_current_bodies_are_not_flagged(name: str, text: str) -> None:
    assert historical_reason(name, text) is None


def test_closed_programmes_and_their_agency(tmp_path: Path) -> None:
    cols = ["program_id", "name", "top_agency", "sub_agency", "objective"]
    path = _csv(
        tmp_path / "p.csv",
        [
            [
                "1.1",
                "Old Grants",
                "Department of Things",
                "Old Office",
                "Program is inactive and pending archival.",
            ],
            ["1.2", "New Grants", "Department of Things", "New Office", "To fund new things."],
        ],
        cols,
    )
    batch = read("federal-programs", path)
    status = {n.id: n.status for n in batch.needs}
    assert status == {"fpi-1.1": "closed", "fpi-1.2": "open"}
    active = {o.id: o.active for o in batch.organisations}
    assert active["agency-department-of-things--old-office"] is False
    assert active["agency-department-of-things--new-office"] is True
    assert active["agency-department-of-things"] is True


# ------------------------------------------------------------------ linkage


def _org(oid: str, name: str, source: str, **kw: object) -> Organisation:
    sector = kw.pop("sector", "government")
    return Organisation(
        id=oid, name=name, sector=sector, description=f"{name}.", sources=[source], **kw
    )


def test_agency_name_variants_link_and_keep_sources() -> None:
    fed = _org("fedreg-1", "Veterans Affairs Department", "fedreg:1", website="https://va.gov")
    fpi = _org(
        "agency-department-of-veterans-affairs",
        "Department of Veterans Affairs",
        "fpi:x",
        focus_areas=["housing"],
    )
    sub = _org(
        "agency-department-of-agriculture--forest-service",
        "Forest Service (Department of Agriculture)",
        "fpi:y",
    )
    fed_sub = _org(
        "fedreg-2", "Forest Service", "fedreg:2", focus_areas=["part of Agriculture Department"]
    )
    result = link([fpi, sub, fed, fed_sub])
    merged = {c.kept.id: sorted(o.id for o in c.merged) for c in result.clusters}
    assert merged == {
        "fedreg-1": ["agency-department-of-veterans-affairs"],
        "fedreg-2": ["agency-department-of-agriculture--forest-service"],
    }
    va = next(c.kept for c in result.clusters if c.kept.id == "fedreg-1")
    assert va.sources == ["fedreg:1", "fpi:x"] and "housing" in va.focus_areas


def test_same_named_offices_of_different_departments_do_not_link() -> None:
    a = _org("fedreg-1", "Inspector General Office, Agriculture Department", "fedreg:1")
    b = _org(
        "agency-department-of-labor--office-of-inspector-general",
        "Office of Inspector General (Department of Labor)",
        "fpi:1",
    )
    c = _org(
        "agency-department-of-agriculture--office-of-inspector-general",
        "Office of Inspector General (Department of Agriculture)",
        "fpi:2",
    )
    result = link([a, b, c])
    assert [(cl.kept.id, [o.id for o in cl.merged]) for cl in result.clusters] == [
        ("fedreg-1", ["agency-department-of-agriculture--office-of-inspector-general"])
    ]


def test_ein_name_place_and_website_links() -> None:
    irs = _org(
        "ein-012345678",
        "HELPING HANDS INC",
        "irs:ein-012345678",
        sector="nonprofit",
        city="Providence",
        region="RI",
    )
    other = _org(
        "np-helping",
        "Helping Hands",
        "mapping:np-helping",
        sector="nonprofit",
        city="Providence",
        region="RI",
        website="https://hands.org",
        postcode="02903",
    )
    elsewhere = _org(
        "np-helping-2", "Helping Hands", "other:2", sector="nonprofit", city="Newport", region="RI"
    )
    two_eins = _org(
        "ein-099999999",
        "Helping Hands Inc",
        "mapping:ein-099999999",
        sector="nonprofit",
        city="Providence",
        region="RI",
    )
    by_ein = _org(
        "grant-1", "Helping Hands of Providence", "360giving:ein-012345678", sector="nonprofit"
    )
    by_site = _org(
        "co-x", "Acme Widgets", "companies:x", sector="business", website="http://www.acme.com/"
    )
    by_site2 = _org(
        "ticker-ACM", "ACME Widgets Inc", "sp500:ACM", sector="business", website="https://acme.com"
    )
    result = link([irs, other, elsewhere, two_eins, by_ein, by_site, by_site2])
    groups = {c.kept.id: sorted(o.id for o in c.merged) for c in result.clusters}
    assert groups == {
        "ein-012345678": ["grant-1", "np-helping"],
        "co-x": ["ticker-ACM"],
    }
    kept = next(c.kept for c in result.clusters if c.kept.id == "ein-012345678")
    assert kept.website == "https://hands.org" and kept.postcode == "02903"  # filled in
    assert set(kept.sources) == {
        "irs:ein-012345678",
        "mapping:np-helping",
        "360giving:ein-012345678",
    }


def test_import_links_against_store_and_moves_needs(store: Store, tmp_path: Path) -> None:
    programmes = _csv(
        tmp_path / "p.csv",
        [["1.1", "Vet Grants", "Department of Veterans Affairs", "", "To help veterans."]],
        ["program_id", "name", "top_agency", "sub_agency", "objective"],
    )
    batch = read("federal-programs", programmes)
    store_batch(store, batch, retired=link_batch(store, batch).retired)
    agencies = _csv(
        tmp_path / "a.csv",
        [["520", "Veterans Affairs Department", "VA", "", "", "The VA serves veterans."]],
    )
    batch = read("federal-agencies", agencies)
    result = link_batch(store, batch)
    assert result.retired == {"agency-department-of-veterans-affairs": "fedreg-520"}
    stored = store_batch(store, batch, retired=result.retired)
    assert stored.retired == 1
    orgs = {o.id: o for _, o in store.organisations()}
    assert set(orgs) == {"fedreg-520"}
    assert orgs["fedreg-520"].sources == [
        "fedreg:520",
        "federal-programs:agency-department-of-veterans-affairs",
    ] or orgs["fedreg-520"].sources == ["fedreg:520", "fpi:agency-department-of-veterans-affairs"]
    need: Need = store.needs()[0][1]
    assert need.requester_id == "fedreg-520"
    assert any("merged with" in f.note for f in batch.flagged)


def test_dedupe_over_store_dry_run_then_apply(store: Store) -> None:
    store.upsert_organisations(
        [
            _org("fedreg-1", "Labor Department", "fedreg:1"),
            _org("agency-department-of-labor", "Department of Labor", "fpi:1"),
            _org("fedreg-2", "Food and Consumer Service", "fedreg:2"),
            _org("fedreg-3", "Food and Nutrition Service", "fedreg:3"),
        ]
    )
    dry = dedupe_store(store, dry_run=True)
    assert dry.retired == {"agency-department-of-labor": "fedreg-1"}
    assert len(store.organisations()) == 4
    dedupe_store(store)
    assert sorted(o.id for _, o in store.organisations()) == ["fedreg-1", "fedreg-2", "fedreg-3"]
    assert dedupe_store(store).clusters == []  # idempotent


def test_importing_the_same_file_again_links_to_the_merged_record(
    store: Store, tmp_path: Path
) -> None:
    """An analyst re-runs an import: records merged last time are recognised by their source,
    so no duplicate appears and the programmes stay with the kept agency."""
    programmes = _csv(
        tmp_path / "p.csv",
        [["1.1", "Vet Grants", "Department of Veterans Affairs", "", "To help veterans."]],
        ["program_id", "name", "top_agency", "sub_agency", "objective"],
    )
    agencies = _csv(
        tmp_path / "a.csv",
        [["520", "Veterans Affairs Department", "VA", "", "", "The VA serves veterans."]],
    )
    for kind, path in (("federal-agencies", agencies), ("federal-programs", programmes)):
        batch = read(kind, path)
        store_batch(store, batch, retired=link_batch(store, batch).retired)
    again = read("federal-programs", programmes)
    store_batch(store, again, retired=link_batch(store, again).retired)
    orgs = {o.id for _, o in store.organisations()}
    assert orgs == {"fedreg-520"}
    assert [n.requester_id for _, n in store.needs()] == ["fedreg-520"]


def test_a_regional_federal_body_is_a_partner_only_in_the_states_it_serves(
    tmp_path: Path,
) -> None:
    """Before: every federal body was national, so the Gulf Coast Ecosystem Restoration Council
    was a government partner for marine debris in Hawaii. Its states now come with it (through
    the store and the index snapshot) and a need in Hawaii does not get it."""
    from matcher.domain import Filters, Need, Sector
    from matcher.engine import Engine
    from matcher.settings import Settings
    from training.importers import store_batch

    text = "restores coastal ecosystems, wetlands and fisheries damaged by oil spills"
    path = _csv(
        tmp_path / "agencies.csv",
        [
            ["583", "Gulf Coast  Ecosystem Restoration Council", "", "", "", f"It {text}."],
            ["60", "Coastal Programs Office", "", "", "", f"The office {text} nationwide."],
        ],
    )
    batch = read("federal-agencies", path)
    council = {o.id: o for o in batch.organisations}["fedreg-583"]
    assert council.service_regions == ["AL", "FL", "LA", "MS", "TX"]
    assert {o.id: o for o in batch.organisations}["fedreg-60"].service_regions == []
    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    engine = Engine.open(settings, load=False)
    store_batch(engine.store, batch)
    engine.build()
    engine.close()
    engine = Engine.open(settings)  # from the saved catalog snapshot

    def government(state: str) -> set[str]:
        need = Need(text=f"oil spill damaged our coastal wetlands in {state}")
        f = Filters(sectors=[Sector.government], region=state, country="US")
        return {m.id for m in engine.recommend(need, filters=f).results}

    try:
        assert government("Hawaii") == {"fedreg-60"}
        assert government("Louisiana") == {"fedreg-60", "fedreg-583"}
        assert government("MS") == {"fedreg-60", "fedreg-583"}
    finally:
        engine.close()


def test_a_new_edition_of_the_registry_keeps_what_the_programmes_brought(
    store: Store, tmp_path: Path
) -> None:
    """Real data (2026-12-04): importing the agency registry again wiped the offers, focus
    areas and provenance the programmes import had merged into 123 agencies, so they covered
    no ask until the programmes were imported once more. A record's own fields still follow
    the new edition."""
    agencies = _csv(
        tmp_path / "a.csv",
        [["520", "Veterans Affairs Department", "VA", "", "", "The VA serves veterans."]],
    )
    programmes = _csv(
        tmp_path / "p.csv",
        [["1.1", "Vet Grants", "Department of Veterans Affairs", "", "To help veterans."]],
        ["program_id", "name", "top_agency", "sub_agency", "objective"],
    )
    for kind, path in (("federal-agencies", agencies), ("federal-programs", programmes)):
        batch = read(kind, path)
        store_batch(store, batch, retired=link_batch(store, batch).retired)
    before = store.get_organisation("fedreg-520").record
    assert len(before.sources) == 2 and before.offers  # the programmes' offers came with them
    edition = _csv(
        tmp_path / "a2.csv",
        [["520", "Veterans Affairs Department", "VA", "", "", "The VA serves all veterans."]],
    )
    again = read("federal-agencies", edition)
    store_batch(store, again, retired=link_batch(store, again).retired)
    after = store.get_organisation("fedreg-520").record
    assert after.description == "The VA serves all veterans."
    assert after.sources == before.sources
    assert set(before.offers) <= set(after.offers)
    assert set(before.focus_areas) <= set(after.focus_areas)
    same = read("federal-agencies", edition)
    report = store_batch(store, same, retired=link_batch(store, same).retired).as_dict()
    assert report["organisations"] == {"inserted": 0, "updated": 0, "unchanged": 1}


def _irs(path: Path, mission: str, city: str = "Pawtucket") -> Path:
    columns = ["ein", "name", "city", "state", "zip", "ntee_code", "mission"]
    row = ["050460226", "Blackstone Valley Food Center", city, "RI", "02860", "K31", mission]
    return _csv(path, [row], columns)


def test_a_reimport_keeps_what_people_entered_and_clears_nothing(
    store: Store, tmp_path: Path
) -> None:
    """Real data walk (2026-12-04, night): an admin set the website, size and offers of an IRS
    nonprofit through the API; importing the same IRS file again put the importer's offers back
    and cleared the website and size (the file has neither). A profile people edited here now
    stays as they left it, and a value a file does not give never clears a stored one."""
    first = read("irs", _irs(tmp_path / "a.csv", "Feeds families in need."))
    store_batch(store, first, retired=link_batch(store, first).retired)
    org_id = first.organisations[0].id
    edited = store.update_organisation(
        org_id,
        {"website": "https://bvefc.example", "size": "small", "offers": ["weekly food boxes"]},
    ).record
    assert "edited" in edited.sources
    again = read("irs", _irs(tmp_path / "b.csv", "Feeds families in need."))
    report = store_batch(store, again, retired=link_batch(store, again).retired).as_dict()
    assert report["organisations"] == {"inserted": 0, "updated": 0, "unchanged": 1}
    after = store.get_organisation(org_id).record
    assert (after.website, after.size, after.offers) == (
        "https://bvefc.example",
        "small",
        ["weekly food boxes"],
    )
    # a new edition still decides what the file decides: whether it is active, its cause code
    gone = read("irs", _irs(tmp_path / "c.csv", "A new mission."))
    gone.organisations[0] = gone.organisations[0].model_copy(
        update={"active": False, "cause_code": "K30"}
    )
    store_batch(store, gone, retired=link_batch(store, gone).retired)
    final = store.get_organisation(org_id).record
    assert (final.active, final.cause_code) == (False, "K30")
    assert final.description == "Feeds families in need." and final.website == after.website


def test_a_reimport_of_an_unedited_record_follows_the_file_but_clears_nothing(
    store: Store, tmp_path: Path
) -> None:
    first = read("irs", _irs(tmp_path / "a.csv", "Feeds families in need."))
    store_batch(store, first, retired=link_batch(store, first).retired)
    org_id = first.organisations[0].id
    with store.db.session() as s:  # a value another file brought (no "edited" mark)
        row = s.query(OrganisationRow).filter_by(id=org_id).one()
        row.website, row.size = "https://bvefc.example", "small"
    mission = "Feeds and clothes families."
    moved = read("irs", _irs(tmp_path / "b.csv", mission, city="Central Falls"))
    store_batch(store, moved, retired=link_batch(store, moved).retired)
    after = store.get_organisation(org_id).record
    assert after.description == "Feeds and clothes families." and after.city == "Central Falls"
    assert (after.website, after.size) == ("https://bvefc.example", "small")
    assert "edited" not in after.sources


def test_groups_people_keep_are_never_linked_by_their_marks() -> None:
    """Two groups both "registered" (or both "edited") are two groups: the marks say who keeps
    a profile, not where it came from ("merged before" linked any two records sharing one)."""
    groups = [
        Organisation(
            id=f"org_{n}",
            name=name,
            sector="community",
            description="Neighbours helping neighbours.",
            city="Providence",
            region="RI",
            sources=["registered", "edited"],
        )
        for n, name in enumerate(["Olneyville Tenants Union", "Central Falls Mutual Aid"])
    ]
    assert link(groups).clusters == []
