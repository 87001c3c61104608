"""Offering evidence: a company is matched by the clause of its description that supplies what
the need asks, not only by its description read as one text (synthetic companies)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from matcher.domain import Filters, Need, Organisation, Sector
from matcher.engine import Engine
from matcher.settings import Settings


def _unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_offering_clauses_leave_out_what_the_company_says_about_itself() -> None:
    from matcher.offerings import offering_clauses

    text = (
        "Acme Freight operates trucks and provides rides to medical appointments. "
        "It was formerly known as Acme Carriers. "
        "The company was founded in 1950 and is headquartered in Boise, Idaho."
    )
    parts = offering_clauses(text)
    assert "provides rides to medical appointments" in parts
    assert not any("Boise" in p or "Carriers" in p for p in parts)


def test_clauses_of_names_only_are_no_offerings() -> None:
    """Real data walk (2026-12-04): Las Vegas Sands joined a coalition for "sandbags ... near
    the harbour" by its clause 'Marina Bay Sands in Singapore'. A clause of names says where or
    under which brand, not what is offered; the clauses after them are read instead (each
    description gives at most MAX_CLAUSES)."""
    from matcher.evidence import MAX_CLAUSES
    from matcher.offerings import names_only, offering_clauses

    for name in (
        "Marina Bay Sands in Singapore",
        "Kate Spade",
        "W Hotels",
        "NAA Cruise Operations",
    ):
        assert names_only(name), name
    for offer in (
        "micro handbags",
        "It operates its properties under the JW Marriott",
        "WE PROVIDE FOOD AND VOLUNTEER DRIVERS",  # an IRS mission, all in capitals
        "Microsoft 365 consumer subscriptions",
    ):
        assert not names_only(offer), offer
    brands = ", ".join(f"Brand{i} Resort" for i in range(MAX_CLAUSES))
    parts = offering_clauses(f"Acme operates {brands}, convention centres and sandbag depots.")
    assert any("convention centres" in p for p in parts)
    assert any("sandbag depots" in p for p in parts)
    assert not any(p.startswith("Brand") for p in parts)


def test_a_lists_one_word_items_are_read_with_their_neighbours() -> None:
    """Real data walk (2026-12-06): Sherwin-Williams was a business partner for "winter coats"
    by its clause "coatings", cut from "architectural paints, coatings, protective and marine
    products"; Nucor for blankets by "cold-rolled". A one-word item is read with the item after
    it (the last with the one before), so it keeps its list's meaning."""
    from matcher.offerings import offering_clauses, with_list_neighbours

    parts = offering_clauses(
        "The Paint Stores Group segment offers architectural paints, coatings, protective and "
        "marine products. The Steel Mills segment produces hot-rolled, cold-rolled and "
        "galvanized sheet steel products. It sells seeds, fertiliser and tools."
    )
    assert "coatings, protective, marine products" in parts
    assert "cold-rolled, galvanized sheet steel products" in parts
    # items of one word at a sentence's end are one part
    assert "fertiliser, tools" in parts and "It sells seeds" in parts
    assert not [p for p in parts if len(p.split()) == 1]
    # a last item alone is left out; an activity stands alone
    assert with_list_neighbours(["casualty insurance in Ohio", "internationally"]) == [
        "casualty insurance in Ohio"
    ]
    assert with_list_neighbours(["managing", "franchising", "leasing hotels", "resorts"]) == [
        "managing",
        "franchising",
        "leasing hotels",
    ]
    # parts of more than one word stay apart; names are left out before joining
    assert with_list_neighbours(["sells paints", "sand control services"]) == [
        "sells paints",
        "sand control services",
    ]
    assert with_list_neighbours(["Kate Spade", "handbags", "leather goods"]) == [
        "handbags, leather goods"
    ]
    assert with_list_neighbours(["payroll"]) == ["payroll"]


def test_saved_offerings_cut_by_another_recipe_are_read_again(tmp_path: Path) -> None:
    """Offerings saved before the clauses were cut this way are not used: the engine reads
    them again from the profiles, so a data directory's companies get the new clauses."""
    from matcher.offerings import FILENAME, Offerings

    off = Offerings.empty(2).replaced({"a": ["trucks and vans"]}, lambda ts: np.ones((len(ts), 2)))
    off.save(tmp_path)
    loaded = Offerings.load(tmp_path, 2)
    assert loaded is not None and loaded.phrases_ == ["trucks and vans"]
    with np.load(tmp_path / FILENAME) as data:  # as saved before the recipe was recorded
        old = {k: data[k] for k in data.files if k != "recipe"}
    np.savez(tmp_path / FILENAME, **old)
    assert Offerings.load(tmp_path, 2) is None


def test_each_owner_scores_its_best_clause_and_replacing_embeds_only_new_clauses() -> None:
    from matcher.offerings import Offerings, known_vectors

    vectors = {"dialysis": _unit(1, 0), "rides": _unit(0, 1), "trucks": _unit(1, 1)}
    seen: list[str] = []

    def encode(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return np.stack([vectors[t] for t in texts])

    off = Offerings.empty(2).replaced({"a": ["dialysis"], "b": ["trucks", "rides"]}, encode)
    best = off.best(_unit(0, 1), np.zeros((0, 2), np.float32))
    assert best["b"][0] > best["a"][0]
    assert best["b"] == (float(np.float32(1.0)), "rides")  # its best clause, not a mean
    # a clause of the need that asks exactly for dialysis lifts the dialysis company
    lifted = off.best(_unit(0, 1), _unit(1, 0)[None, :])
    assert lifted["a"][0] > best["a"][0]
    seen.clear()
    again = off.replaced({"a": [], "c": ["rides"]}, encode)
    assert seen == ["rides"] and sorted(again.best(_unit(0, 1), np.zeros((0, 2))).keys()) == [
        "b",
        "c",
    ]
    assert len(off) == 3  # unchanged: replaced returns a new set
    pre = known_vectors(["rides", "rides", "trucks"], encode)
    assert np.allclose(pre(["trucks"]), vectors["trucks"][None, :])


FREIGHT = (
    "{name} operates truckload freight carriers and intermodal container shipping. It offers "
    "warehouse storage, pallet brokerage, customs brokerage, cross-docking and fleet "
    "maintenance for manufacturers, wholesalers and retailers. Its linehaul trailers, "
    "tractors and service centers move parcels, produce and industrial goods."
)
# short profiles that share many of the need's words (older people, medical, appointments,
# valley), each clause a few of them, without supplying what it asks (rides): read as one text,
# each looks closer to the need than the carrier above
CARE = (
    "{name} runs clinics. Older residents see doctors. Valley nurses help people. "
    "Medical staff keep appointments."
)


def _companies() -> list[Organisation]:
    def co(i: str, name: str, desc: str) -> Organisation:
        return Organisation(
            id=i, name=name, sector="business", description=desc, country="US", region="ID"
        )

    rides = (
        FREIGHT.format(name="Valley Transit Lines")
        + " It also provides door-to-door rides to medical appointments for older people."
    )
    return [
        co("co-rides", "Valley Transit Lines", rides),
        *(
            co(f"co-freight-{i}", f"Freight {i}", FREIGHT.format(name=f"Freight {i}"))
            for i in "abcd"
        ),
        *(co(f"co-care-{i}", f"Care {i}", CARE.format(name=f"Care {i}")) for i in "ab"),
    ]


@contextmanager
def _companies_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine over `_companies()`, built (the hashing model: no weights to load)."""
    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    engine = Engine.open(settings, load=False)
    try:
        engine.ingest(_companies())
        engine.build()
        yield engine
    finally:
        engine.close()


def test_a_company_is_found_by_the_clause_that_supplies_the_need(tmp_path: Path) -> None:
    need = Need(
        text="Older people in our valley miss medical appointments. We need rides to medical "
        "appointments for older people."
    )
    with _companies_engine(tmp_path) as engine:
        first = engine.recommend(need, filters=Filters(sectors=[Sector.business]), limit=3)
        # read as whole texts the clinics come first (offering_weight 0: co-care-a, co-care-b)
        assert first.results[0].id == "co-rides"
        # its card quotes the line of its description that matched, not a capability's label
        assert (
            "Its description's line closest to the need: 'It also provides door-to-door rides "
            "to medical appointments for older people'." in first.results[0].reasons
        )
        # a company that is no longer a business has no offering clauses any more
        moved = _companies()[0].model_copy(update={"sector": Sector.nonprofit})
        engine.ingest([moved])
        assert "co-rides" not in engine.offerings.best(
            engine.embed_query(need.text), np.zeros((0, engine.embedder.dimension))
        )


def test_a_reopened_engine_takes_the_saved_clauses_and_reads_changed_rows_only(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    engine = Engine.open(settings, load=False)
    try:
        engine.ingest(_companies())
        engine.build()
        before = sorted(zip(engine.offerings.owners_, engine.offerings.phrases_, strict=True))
        # written after the build (its snapshot): no rides any more
        plain = _companies()[0].model_copy(update={"description": FREIGHT.format(name="Valley")})
        engine.ingest([plain])
    finally:
        engine.close()
    reopened = Engine.open(settings, load=True)
    try:
        got = sorted(zip(reopened.offerings.owners_, reopened.offerings.phrases_, strict=True))
        assert [x for x in got if x[0] != "co-rides"] == [x for x in before if x[0] != "co-rides"]
        rides = [p for o, p in got if o == "co-rides"]
        assert rides and not any("rides" in p for p in rides)
        # only the row written since the snapshot was read to make them
        read = {
            reopened.catalog.ids_by_position()[i]
            for i, p in enumerate(reopened.catalog._profiles)
            if p is not None
        }
        assert read == {"co-rides"}
    finally:
        reopened.close()


def test_reading_some_owners_gives_their_scores_of_reading_all() -> None:
    from matcher.offerings import Offerings

    rng = np.random.default_rng(3)
    owners = [f"o{i % 7}" for i in range(40)]  # clauses of one owner scattered
    vectors = rng.standard_normal((40, 8)).astype(np.float32)
    off = Offerings(owners, [f"clause {i}" for i in range(40)], vectors)
    q = _unit(*rng.standard_normal(8))
    clauses = rng.standard_normal((3, 8)).astype(np.float32)
    every = off.best(q, clauses)
    some = off.best(q, clauses, np.array([1, 4, 6]))
    assert sorted(some) == ["o1", "o4", "o6"] and len(some) == 3 and "o0" not in some
    for owner in some:
        assert some[owner] == every[owner]
    assert np.isnan(some.best[[0, 2, 3, 5]]).all()
    # by hand: an owner's best clause and its score
    for owner in every:
        rows = [i for i, o in enumerate(owners) if o == owner]
        per = [0.5 * max(c @ vectors[i] for c in clauses) + 0.5 * (vectors[i] @ q) for i in rows]
        assert every[owner][0] == pytest.approx(max(per), abs=1e-5)
        assert every[owner][1] == f"clause {rows[int(np.argmax(per))]}"


def test_a_request_reads_the_clauses_of_at_most_offering_candidates_companies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every company's clauses at every request cost 40 ms at 100k profiles (18k companies):
    a request reads the clauses of the `offering_candidates` companies closest to the need by
    their profile, among those its hard filters allow (fails on reading every company)."""
    from matcher.offerings import Offerings

    need = Need(text="We need rides to medical appointments for older people.")
    with _companies_engine(tmp_path) as engine:
        everyone = engine.recommend(need, filters=Filters(sectors=[Sector.business]), limit=3)
        read: list[list[str]] = []
        best = Offerings.best

        def recording(self: Offerings, q: np.ndarray, c: np.ndarray, owners=None):  # type: ignore[no-untyped-def]
            read.append([self.owner_names_[i] for i in owners.tolist()])
            return best(self, q, c, owners)

        monkeypatch.setattr(Offerings, "best", recording)
        monkeypatch.setattr(engine.settings, "offering_candidates", 7)  # all seven companies
        assert engine.recommend(need, filters=Filters(sectors=[Sector.business]), limit=3) == (
            everyone
        )
        assert len(read[-1]) == 7
        monkeypatch.setattr(engine.settings, "offering_candidates", 2)
        engine.recommend(need, filters=Filters(sectors=[Sector.business]), limit=3)
        q = engine.embed_query(need.text)
        ids = engine.catalog.ids_by_position()
        closest = sorted(
            (float(engine.catalog.vectors[p] @ q), ids[p])
            for p in range(len(ids))
            if ids[p] in engine.offerings.owner_names_
        )[-2:]
        assert sorted(read[-1]) == sorted(i for _, i in closest)
        far = Need(text=need.text, lat=0.0, lon=0.0, radius_km=10)  # no company near
        engine.recommend(far, limit=3)
        assert read[-1] == []
