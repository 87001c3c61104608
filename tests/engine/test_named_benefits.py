"""An ask naming a public benefit is covered only by those who name it (matcher.benefits)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from matcher import benefits
from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.evidence import Programmes, clauses
from matcher.need_reading import listed_help, unread_help
from matcher.settings import Settings

PORTLAND = (45.52, -122.68)


def _org(
    i: str, name: str, sector: str, desc: str, offers: list[str], **kw: object
) -> Organisation:
    return Organisation.model_validate(
        {
            "id": i,
            "name": name,
            "sector": sector,
            "description": desc,
            "offers": offers,
            "country": "US",
            **kw,
        }
    )


pytestmark = pytest.mark.slow


@pytest.fixture()
def engine(tmp_path: Path, real_embedder: object) -> Iterator[Engine]:
    """Five profiles on the real model (which reads the asks, as a request does)."""
    # no relevance floor: every profile is shown, so each card can be read
    settings = Settings(data_dir=tmp_path / "var", relevance_floor=-1.0)
    eng = Engine.open(settings, embedder=real_embedder, load=False)  # type: ignore[arg-type]
    national = {"service_level": "national"}
    local = {"lat": PORTLAND[0], "lon": PORTLAND[1], "city": "Portland", "region": "OR"}
    eng.store.upsert_organisations(
        [
            _org(
                "fema",
                "Administration for Families",
                "government",
                "Helps hungry families in need get food assistance and public benefits.",
                ["public programme funding", "housing and shelter programmes"],
                **national,
            ),
            _org(
                "fns",
                "Food and Nutrition Service",
                "government",
                "Administers the food assistance programs for families in need.",
                ["public programme funding", "food supply programmes"],
                **national,
            ),
            _org(
                "outreach",
                "Portland Benefits Outreach",
                "nonprofit",
                "We help hungry families apply for SNAP and other benefits.",
                ["benefits enrolment help"],
                **local,
            ),
            _org(
                "cms",
                "Centers for Medicare & Medicaid Services",
                "government",
                "Runs health coverage programs for older people and low-income families.",
                ["public programme funding", "health care programmes"],
                **national,
            ),
            _org(
                "snapon",
                "Snap-on Tools Foundation",
                "business",
                "Snap-on funds public programs that teach trades to young people.",
                ["public program grants"],
                **national,
            ),
        ]
    )
    eng.store.upsert_needs(
        [
            Need(
                id="snap-programme",
                kind="programme",
                requester_id="fns",
                title="Supplemental Nutrition Assistance Program",
                text="Supplemental Nutrition Assistance Program: food benefits for families",
            ),
            Need(
                id="wic-programme",
                kind="programme",
                requester_id="fns",
                title="WIC Special Supplemental Nutrition Program",
                text="WIC Special Supplemental Nutrition Program: food for mothers and infants",
            ),
        ]
    )
    eng.build()
    yield eng
    eng.close()


def _covering(engine: Engine, text: str) -> dict[str, bool]:
    rec = engine.recommend(Need(text=text, city="Portland", region="OR"), limit=10)
    assert benefits.CAPABILITY in rec.required_capabilities
    seen = {m.id: m for ms in rec.by_sector.values() for m in ms}
    seen.update({m.id: m for m in rec.results})
    covered = {i: benefits.CAPABILITY in m.covers for i, m in seen.items()}
    # the coalition counts what its members' cards say
    for cap_key, ids in rec.coalition.covered.items():
        if cap_key == benefits.CAPABILITY:
            assert all(covered.get(i) for i in ids), (ids, covered)
    return covered


def test_only_those_naming_the_benefit_cover_help_to_reach_it(engine: Engine) -> None:
    """Real data walk (Albuquerque): every federal agency "covered" help enrolling people in
    SNAP with its offer 'public programme funding' (FEMA, the Community Living Administration).
    The agency running SNAP covers it (its programme names it), a group helping families apply
    for SNAP covers it; the disaster agency and Snap-on do not."""
    covered = _covering(engine, "Families go hungry; we need help enrolling people in SNAP.")
    assert covered.get("fns") is True
    assert covered.get("outreach") is True
    assert covered.get("fema") is False
    assert covered.get("snapon") is not True
    # an ask naming no benefit is covered by any offer of public programmes
    plain = _covering(engine, "Families go hungry; we need help applying for public programs.")
    assert plain.get("fema") is True


def test_each_benefit_named_is_help_of_its_own_in_the_coalition(engine: Engine) -> None:
    """Real data walk (Albuquerque): "help enrolling families in SNAP and Medicaid" was covered
    100% by the Food and Nutrition Service alone, and the Centers for Medicare & Medicaid
    Services was "an alternative" to it (tests/engine/test_coalition.py), its card saying it
    covered the ask "with its offer 'public programme funding'". Each benefit named is now
    help of its own: the agency for Medicaid says it names Medicaid, and a benefit no member
    names is said as uncovered, the ask only partly covered."""
    need = Need(
        text="Our pantry needs help enrolling families in SNAP and Medicaid.",
        city="Portland",
        region="OR",
    )
    rec = engine.recommend(need, limit=10)
    co = rec.coalition
    covering = set(co.covered[benefits.CAPABILITY])
    assert "cms" in covering and covering & {"fns", "outreach"}  # Medicaid, and SNAP
    assert co.benefits_asked == ["SNAP", "Medicaid"]  # each counted apart
    assert co.uncovered_benefits == []
    assert co.coverage == 1.0
    cms = next(m for m in co.members if m.id == "cms")
    assert any("with its offer 'Medicaid'" in r for r in cms.reasons), cms.reasons
    # a benefit nobody names: the ask is half covered, and the benefit is named as uncovered
    heat = engine.recommend(
        Need(
            text="We need help enrolling families in SNAP and LIHEAP.", city="Portland", region="OR"
        ),
        limit=10,
    )
    assert heat.coalition.uncovered_benefits == ["LIHEAP"]
    assert heat.coalition.covered[benefits.CAPABILITY]
    share = 1 / len(heat.required_capabilities)
    assert heat.coalition.coverage is not None and heat.coalition.coverage < 1.0
    assert heat.coalition.coverage <= 1.0 - share / 2 + 1e-9
    assert heat.coalition.benefits_elsewhere == {}  # nobody names LIHEAP
    # a coalition of one: the benefit it does not cover is named with who does
    one = engine.recommend(need, limit=10, coalition_size=(1, 1)).coalition
    [member] = one.members
    [missing] = one.uncovered_benefits
    offerer = one.benefits_elsewhere[missing]
    assert offerer.id != member.id
    assert offerer.id in ({"cms"} if missing == "Medicaid" else {"fns", "outreach"})


def test_a_card_names_each_benefit_s_programme(engine: Engine) -> None:
    """Real data walk (Albuquerque, "SNAP, WIC and LIHEAP"): the Food and Nutrition Service
    covered SNAP and WIC, yet its card named only "with its offer 'Supplemental Nutrition
    Assistance Program'", so WIC read as neither covered nor missing. The card names the
    programme of each benefit asked that it runs."""
    need = Need(
        text="We need help enrolling families in SNAP and WIC.", city="Portland", region="OR"
    )
    rec = engine.recommend(need, limit=10)
    seen = {m.id: m for ms in rec.by_sector.values() for m in ms}
    fns = seen["fns"]
    assert benefits.CAPABILITY in fns.covers
    assert fns.benefits == ["SNAP", "WIC"]  # said on its card's "Covers" line
    assert all(not m.benefits for m in seen.values() if benefits.CAPABILITY not in m.covers)
    assert any(
        "with its offers 'Supplemental Nutrition Assistance Program' and 'WIC Special "
        "Supplemental Nutrition Program'." in r
        for r in fns.reasons
    ), fns.reasons


def test_benefits_named_in_profiles_and_asks() -> None:
    snap = benefits.BITS["snap"]
    assert benefits.named_in("We accept SNAP and EBT cards") == snap
    assert benefits.named_in("Snap-on Tools Foundation") == 0
    assert benefits.named_in("Supplemental Nutrition Assistance Program") == snap
    assert benefits.named_in("food stamps and Medicaid sign-up") == snap | benefits.BITS["medicaid"]
    assert benefits.asked_in({"public_programmes": "help enrolling people in snap"}) == snap
    assert benefits.asked_in({"public_programmes": "help with public programmes"}) == 0
    assert benefits.asked_in({"funding": "money for SNAP outreach"}) == 0


def test_the_benefits_asked_are_read_in_the_sentence_the_ask_is_from() -> None:
    """ "Families need help enrolling in SNAP and Medicaid" was quoted as "... help enrolling
    in SNAP" (the clause before "and"), so only SNAP was asked and the agency running Medicaid
    did not cover it (real data walk)."""
    snap, medicaid = benefits.BITS["snap"], benefits.BITS["medicaid"]
    required = {"public_programmes": "... need help enrolling in SNAP"}
    text = "Families in Albuquerque need help enrolling in SNAP and Medicaid, and a food pantry."
    assert benefits.asked_in(required) == snap
    assert benefits.asked_in(required, text) == snap | medicaid
    # another sentence's benefit is not asked
    other = "Many of our clients lost WIC last year. Families need help enrolling in SNAP."
    assert benefits.asked_in(required, other) == snap
    assert benefits.asked_in({}, text) == 0


def test_needs_an_agency_could_help_with_apply_the_same_rule(engine: Engine) -> None:
    """`needs_for` (the needs an organisation could help with) scored by the one-candidate
    reference, which did not apply the rule: the disaster agency "covered" a group's ask for
    help enrolling families in SNAP with its 'public programme funding'; the agency running
    SNAP (its programme names it) still covers it."""
    engine.create_need(
        Need(
            id="pantry-snap",
            text="Families go hungry; we need help enrolling people in SNAP.",
            required_capabilities=["help enrolling people in SNAP"],
            city="Portland",
            region="OR",
        )
    )

    def coverage(org_id: str) -> float:
        found = [m for m in engine.needs_for(org_id, limit=50) if m.id == "pantry-snap"]
        assert found, org_id
        return found[0].components["coverage"]

    assert coverage("fema") == 0.0
    assert coverage("fns") == 1.0


def test_listed_help_naming_a_benefit_is_read_as_an_ask_for_it() -> None:
    """Listed help was read with a profile's words only: "help enrolling people in SNAP"
    named no capability, was said back as unread, and the stored need asked only what its text
    did (food supply)."""
    need = Need(
        text="Families go hungry.",
        required_capabilities=["help enrolling people in SNAP", "a bed for the night"],
    )
    snap, bed = need.required_capabilities  # as the need keeps them
    assert listed_help(need) == {"public_programmes": snap, "housing": bed}
    assert unread_help(need) == []
    odd = Need(text="Families go hungry.", required_capabilities=["a miracle"])
    assert unread_help(odd) == ["a miracle"]


def test_any_programme_of_the_agency_naming_the_benefit_counts(engine: Engine) -> None:
    """Real data walk (Albuquerque): a pantry listing "help enrolling people in SNAP" beside
    a text about school nutrition found no one covering it: the Food and Nutrition Service's
    programme closest to the text was "Team Nutrition Grants", and only that one was read."""
    engine.create_need(
        Need(
            id="team-nutrition",
            kind="programme",
            requester_id="fns",
            title="Team Nutrition Grants",
            text="Team Nutrition Grants: nutrition education for school children and cooks",
        )
    )
    need = Need(
        text="Our school children need nutrition education and healthier school meals.",
        required_capabilities=["help enrolling people in SNAP"],
        city="Portland",
        region="OR",
    )
    rec = engine.recommend(need, limit=10)
    fns = next(m for ms in rec.by_sector.values() for m in ms if m.id == "fns")
    assert any("Team Nutrition" in r for r in fns.reasons)  # the closest programme
    assert benefits.CAPABILITY in fns.covers
    # said as the programme that names it, not "public programme funding"
    assert any("Supplemental Nutrition Assistance Program'" in r for r in fns.reasons)
    assert benefits.CAPABILITY not in rec.coalition.gaps


def test_the_programme_named_is_the_one_that_is_most_nearly_the_benefit() -> None:
    """Real data: the Food and Nutrition Service runs fourteen programmes naming SNAP; the card
    named "SNAP-Ed Toolkit" (the first) and then "ARRA - Emergency Contingency Fund for
    Temporary Assistance ..." for a TANF ask (the closest to the need)."""
    titles = [
        "SNAP-Ed Toolkit",
        "Supplemental Nutrition Assistance Program",
        "Team Nutrition Grants",
        "ARRA - Emergency Contingency Fund for Temporary Assistance for Needy Families (TANF)",
        "Temporary Assistance for Needy Families",
    ]
    owners = ["fns", "fns", "fns", "acf", "acf"]
    vectors = np.eye(5, dtype=np.float32)
    progs = Programmes(owners, [f"p{i}" for i in range(5)], titles, vectors)
    # the need sits nearest the toolkit and the fund
    query = np.asarray([1.0, 0.1, 0.9, 1.0, 0.1], dtype=np.float32)
    snap, tanf = benefits.BITS["snap"], benefits.BITS["tanf"]
    assert progs.naming(snap, query) == {"fns": "Supplemental Nutrition Assistance Program"}
    assert progs.naming(tanf, query) == {"acf": "Temporary Assistance for Needy Families"}
    assert progs.naming(snap | tanf, None) == {
        "fns": "Supplemental Nutrition Assistance Program",
        "acf": "Temporary Assistance for Needy Families",
    }
    assert progs.naming(benefits.BITS["wic"], query) == {}


def test_a_list_of_benefits_is_one_part_of_the_need() -> None:
    """ "help signing up for SNAP and WIC" was read as two parts, the second "WIC" alone, and
    a food charity "joined for 'WIC'" (real data walk)."""
    assert clauses("Young mothers need help signing up for SNAP and WIC, and diapers.") == [
        "Young mothers need help signing up for SNAP and WIC",
        "diapers",
    ]
    assert clauses("Help applying for food stamps or Medicaid, plus rides to the clinic") == [
        "Help applying for food stamps or Medicaid",
        "rides to the clinic",
    ]
    assert clauses("We need volunteers and funding, and a van.") == [
        "We need volunteers",
        "funding",
        "a van",
    ]


def test_food_stamps_are_a_benefit_not_food() -> None:
    """Every food pantry "covered" an ask for "food stamps sign-up" with its food supply (real
    data walk): food stamps are a benefit to reach."""
    from matcher import capabilities

    assert "food_supply" not in capabilities.capabilities_in("food stamps sign-up")
    assert capabilities.surely_asked("help with food stamp enrollment") >= {"public_programmes"}
    assert "food_supply" in capabilities.capabilities_in("food stamp enrollment and a food pantry")
