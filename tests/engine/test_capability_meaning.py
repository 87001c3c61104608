"""Capabilities by meaning: a capability with further senses is as close to a text as the
closest of its descriptions (asks, offers and focus offers alike)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matcher.capabilities import CAPABILITIES
from matcher.catalog import Profile
from matcher.domain import Organisation, Sector
from matcher.meaning import (
    ASK_NAMED_THRESHOLD,
    ASK_THRESHOLD,
    OFFER_THRESHOLD,
    CapabilityMeaning,
)
from matcher.offers import partner_offers

DIM = 64


def _texts() -> list[str]:
    return [c.description for c in CAPABILITIES] + [s for c in CAPABILITIES for s in c.senses]


def _encode(texts: Sequence[str]) -> np.ndarray:
    """Each known description its own axis; any other text the zero vector."""
    axes = {t: i for i, t in enumerate(_texts())}
    out = np.zeros((len(texts), DIM), np.float32)
    for row, text in enumerate(texts):
        if text in axes:
            out[row, axes[text]] = 1.0
    return out


def test_transport_for_people_is_a_sense_of_distribution() -> None:
    dist = next(c for c in CAPABILITIES if c.key == "distribution")
    assert any("rides" in s and "drivers" in s for s in dist.senses)
    assert len(_texts()) <= DIM


def test_a_text_close_to_a_sense_is_about_its_capability() -> None:
    meaning = CapabilityMeaning(_encode)
    k = meaning.keys_.index("distribution")
    assert meaning.vectors_.shape == (len(_texts()), DIM)
    (people,) = next(c for c in CAPABILITIES if c.key == "distribution").senses
    goods = CAPABILITIES[k].description
    vecs = _encode([people, goods, "unrelated"])
    sims = meaning.similarity(vecs)
    assert sims.shape == (3, len(CAPABILITIES))
    assert sims[0, k] == 1.0 and sims[1, k] == 1.0 and sims[2, k] == 0.0
    # the sense counts for its own capability only
    assert np.count_nonzero(sims[0]) == 1
    assert meaning.asks(["a wheelchair van"], vecs[:1]) == {"distribution": "a wheelchair van"}
    assert meaning.offers(vecs) == [{"distribution"}, {"distribution"}, set()]
    assert meaning.focus_offers(["passenger transit"], vecs[:1]) == {
        "distribution": "passenger transit"
    }
    assert ASK_THRESHOLD < 1.0 and OFFER_THRESHOLD < 1.0


def test_without_senses_similarity_is_the_plain_product() -> None:
    meaning = CapabilityMeaning(_encode)
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(5, DIM)).astype(np.float32)
    sims = meaning.similarity(vecs)
    plain = vecs @ meaning.vectors_[: len(CAPABILITIES)].T
    for k, cap in enumerate(CAPABILITIES):
        if not cap.senses:
            assert np.array_equal(sims[:, k], plain[:, k]), cap.key
        else:
            assert np.all(sims[:, k] >= plain[:, k])


def test_a_named_capability_is_confirmed_by_the_clause_or_the_whole_need() -> None:
    """A list's short items became clauses of their own ("tutors" in "a shuttle to take kids to
    the program, and tutors"), so the shuttle clause was read alone, a little short of the
    named threshold the whole need, read as one clause before, had reached."""
    meaning = CapabilityMeaning(_encode)
    k = meaning.keys_.index("distribution")
    t = meaning.keys_.index("training")
    clauses = np.zeros((2, DIM), np.float32)
    clauses[0, k] = ASK_NAMED_THRESHOLD - 0.01  # names "shuttle", but only this close
    clauses[1, t] = 0.6
    whole = np.zeros(DIM, np.float32)
    whole[k] = ASK_NAMED_THRESHOLD + 0.01
    parts = ["We need a shuttle to take kids to the program", "tutors"]
    assert set(meaning.asks(parts, clauses)) == {"training"}
    assert set(meaning.asks(parts, clauses, whole=whole)) == {"distribution", "training"}
    # the whole need confirms only what a clause names: an unnamed capability is not asked
    whole[meaning.keys_.index("housing")] = 0.39
    assert "housing" not in meaning.asks(parts, clauses, whole=whole)


def test_a_gift_of_goods_asks_for_the_goods_not_for_funding() -> None:
    """A Providence food need ("We need food donations, drivers and volunteers") asked funding:
    "donation" named funding and the clause, near funding's "money for the work: grants,
    donations, ..." by meaning, confirmed it, so the coalition looked for funders. A gift of a
    named good asks for that good, even where the clause is nearer funding by meaning (the
    model put "donated laptops" at funding 0.30, technology 0.18); a bare gift stays funding."""
    meaning = CapabilityMeaning(_encode)
    f = meaning.keys_.index("funding")
    food = meaning.keys_.index("food_supply")
    parts = ["We need food donations", "donated laptops", "We rely on donations"]
    clauses = np.zeros((3, DIM), np.float32)
    clauses[0, food] = 0.6
    clauses[0, f] = ASK_THRESHOLD + 0.05  # near funding by meaning alone
    clauses[1, f] = 0.30
    clauses[2, f] = ASK_NAMED_THRESHOLD + 0.01
    asks = meaning.asks(parts[:2], clauses[:2])
    assert set(asks) == {"food_supply", "technology"}
    assert asks["technology"] == "donated laptops"
    assert meaning.asks(parts[2:], clauses[2:]) == {"funding": "We rely on donations"}
    # money named beside the goods is still asked
    both = meaning.asks(["donations of food and money"], clauses[:1])
    assert set(both) == {"food_supply", "funding"}


def test_loans_ask_for_funding_however_far_by_meaning_and_loaner_laptops_do_not() -> None:
    """A Medford need ("... donated materials, low-interest loans, and caseworkers") asked no
    funding: its clause was 0.19 from funding by meaning (the whole need not much nearer), under
    the named threshold. A sure word asks without that confirmation; "loaner laptops" names
    no funding, so a clause that near funding by meaning still asks only technology."""
    meaning = CapabilityMeaning(_encode)
    f = meaning.keys_.index("funding")
    tech = meaning.keys_.index("technology")
    parts = ["low-interest loans", "loaner laptops and hotspots"]
    clauses = np.zeros((2, DIM), np.float32)
    clauses[0, f] = 0.19
    clauses[1, f] = ASK_NAMED_THRESHOLD + 0.05
    clauses[1, tech] = 0.5
    whole = np.zeros(DIM, np.float32)
    whole[f] = 0.2
    asks = meaning.asks(parts, clauses, whole=whole)
    assert asks.get("funding") == "low-interest loans"
    assert meaning.asks(parts[1:], clauses[1:], whole=whole) == {
        "technology": "loaner laptops and hotspots"
    }


def test_funding_named_far_from_funding_by_meaning_is_asked() -> None:
    """T4's Gallup need asked nothing: on the real catalog "funding to extend water lines or
    install cisterns" was closer to water than to funding's description, under the named
    threshold, and so was the whole need. "Funding" is a sure word now."""
    meaning = CapabilityMeaning(_encode)
    f = meaning.keys_.index("funding")
    parts = ["We need well testing", "funding to extend water lines or install cisterns"]
    clauses = np.zeros((2, DIM), np.float32)
    clauses[1, f] = ASK_NAMED_THRESHOLD - 0.1
    whole = np.zeros(DIM, np.float32)
    whole[f] = ASK_NAMED_THRESHOLD - 0.1
    assert meaning.asks(parts, clauses, whole=whole) == {
        "funding": "funding to extend water lines or install cisterns"
    }


def test_a_long_asking_clause_is_quoted_around_the_words_that_name_it() -> None:
    """T4's Wilmington card quoted its funding ask as "home-based businesses on Wilmington's
    East Side in Delaware ...", the clause's first eight words, which never say what is
    asked; it is quoted around "bank loans" now. A short clause is quoted whole, a clause
    that names nothing from its start."""
    meaning = CapabilityMeaning(_encode)
    f = meaning.keys_.index("funding")
    v = meaning.keys_.index("volunteers")
    parts = [
        "home-based businesses on Wilmington's East Side in Delaware can't get bank loans",
        "people who would give an evening each week to our neighbours in need",
    ]
    clauses = np.zeros((2, DIM), np.float32)
    clauses[0, f] = 0.5
    clauses[1, v] = 0.5
    asks = meaning.asks(parts, clauses)
    assert asks["funding"] == "... East Side in Delaware can't get bank loans"
    assert asks["volunteers"] == "people who would give an evening each week ..."
    assert meaning.asks(["bank loans"], clauses[:1]) == {"funding": "bank loans"}


class _Catalog:
    """What partner_offers reads of a catalog: profiles, their vectors, no focus codes."""

    def __init__(self, descriptions: list[str], vectors: np.ndarray) -> None:
        self.profiles = [
            Profile(Organisation(name=f"Org {i}", sector=Sector.nonprofit, description=d))
            for i, d in enumerate(descriptions)
        ]
        self.vectors = vectors
        self.focus_codes_ = np.zeros((len(descriptions), 1), np.int64)

    def profile(self, pos: int) -> Profile:
        return self.profiles[pos]


def test_a_lender_offers_funding_however_far_its_profile_is_by_meaning() -> None:
    """A mission-read offer counted only when the profile was near it by meaning (>= 0.25): on
    the T4 catalog 193 nonprofits naming loans or credit unions (a business loan fund, credit
    unions, a student loan fund) and every bank offered no funding. A sure word offers it;
    a library's "inter-library loans" and a loaner-laptop programme do not."""
    meaning = CapabilityMeaning(_encode)
    descriptions = [
        "PBLF makes low interest loans to businesses that were unable to obtain credit.",
        "We provide books, inter-library loans and internet access.",
        "We run loaner laptops for students.",
        "We raise money through grants for local arts.",
    ]
    vectors = np.zeros((4, DIM), np.float32)  # far from funding by meaning, all of them
    cat = _Catalog(descriptions, vectors)
    offers = partner_offers(cat, meaning, [{}], np.arange(4))  # type: ignore[arg-type]
    assert "funding" in offers[0] and "loans" in offers[0]["funding"]
    assert "funding" not in offers[1] and "funding" not in offers[2]
    assert "funding" not in offers[3]  # "grants" is still confirmed by meaning


def test_a_focus_phrase_the_vocabulary_rules_out_offers_nothing_by_meaning() -> None:
    """United Rentals' industry, "Rental & Leasing Services", is close to housing's "rent and
    tenancy" by meaning: its card said it covers a Hartford shelter's beds."""
    meaning = CapabilityMeaning(_encode)
    housing = next(c for c in CAPABILITIES if c.key == "housing")
    vecs = _encode([housing.description, housing.description])  # as close as can be
    phrases = ["Rental & Leasing Services", "residential rentals"]
    assert meaning.focus_offers(phrases[:1], vecs[:1]) == {}
    # another phrase of the same body still offers it
    assert meaning.focus_offers(phrases, vecs) == {"housing": "residential rentals"}


def test_a_focus_phrase_whose_words_mean_something_else_offers_nothing_by_meaning() -> None:
    """ "Child Care Services" is close to health care by meaning, but the vocabulary says
    "child care" is no health care (`not_preceded_by`), as it says rentals of equipment are
    no housing (`not_phrases`): both rule the reading by meaning out."""
    meaning = CapabilityMeaning(_encode)
    health = next(c for c in CAPABILITIES if c.key == "healthcare")
    vecs = _encode([health.description])
    assert meaning.focus_offers(["Child Care Services"], vecs) == {}
    assert meaning.focus_offers(["Home Health Care"], vecs) == {"healthcare": "Home Health Care"}


def test_what_a_class_is_on_is_not_asked_however_close_by_meaning() -> None:
    """T4's Devils Lake need wants "simple classes on telehealth and safe online banking": the
    clause is close to health care by meaning and names it ("telehealth"), but it asks
    teaching; what the classes are on is taught (`telling.taught_words`)."""
    meaning = CapabilityMeaning(_encode)
    health = meaning.keys_.index("healthcare")
    clause = np.zeros((1, DIM), np.float32)
    clause[0, health] = ASK_THRESHOLD + 0.1
    asked = meaning.asks(["simple classes on telehealth"], clause)
    assert "healthcare" not in asked and "training" in asked
    # named before the words of learning, it is asked
    clinic = meaning.asks(["a telehealth clinic and classes on nutrition"], clause)
    assert "healthcare" in clinic
