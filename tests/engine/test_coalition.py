from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.coalition import Member, _value, coverage_map, gaps, select_coalition


def select_coalition_plain(
    pool: Sequence[Member],
    required: Sequence[str],
    *,
    min_size: int = 3,
    max_size: int = 5,
    role_bonus: float = 0.6,
    min_gain: float = 0.05,
    aspect_weight: float = 0.0,
) -> list[Member]:
    """Plain greedy (every remaining member evaluated each round, first on a tie): the
    reference the lazy `select_coalition` must agree with."""
    chosen: list[Member] = []
    remaining = list(pool)
    current = 0.0
    while remaining and len(chosen) < max_size:
        best, best_gain = None, -1.0
        for m in remaining:
            gain = _value([*chosen, m], required, role_bonus, 0.25, aspect_weight) - current
            if gain > best_gain:
                best, best_gain = m, gain
        if best is None or (len(chosen) >= min_size and best_gain < min_gain):
            break
        chosen.append(best)
        remaining.remove(best)
        current += best_gain
    return chosen


def m(key: str, sector: str, score: float, *offers: str) -> Member:
    return Member(key, sector, score, frozenset(offers))


def test_greedy_prefers_complementary_sectors_over_redundant_high_scores() -> None:
    pool = [
        m("np1", "nonprofit", 0.9, "food_supply", "volunteers"),
        m("np2", "nonprofit", 0.88, "food_supply", "volunteers"),
        m("np3", "nonprofit", 0.87, "food_supply"),
        m("biz", "business", 0.6, "distribution", "funding"),
        m("gov", "government", 0.5, "regulatory"),
    ]
    req = ["food_supply", "volunteers", "distribution", "funding", "regulatory"]
    chosen = select_coalition(pool, req, min_size=3, max_size=3)
    assert {c.key for c in chosen} == {"np1", "biz", "gov"}
    cov = coverage_map(chosen, req)
    assert all(cov[c] for c in req)


def test_gaps_are_capabilities_no_candidate_offers() -> None:
    pool = {"a": frozenset({"funding"}), "b": frozenset({"volunteers"})}
    assert gaps(pool, ["funding", "legal_aid", "volunteers", "housing"]) == ["legal_aid", "housing"]


def test_stops_early_when_nothing_more_to_gain() -> None:
    pool = [
        m("a", "business", 0.9, "funding"),
        m("b", "government", 0.8, "regulatory"),
        m("c", "nonprofit", 0.7, "volunteers"),
        m("d", "nonprofit", 0.01),
    ]
    chosen = select_coalition(pool, ["funding"], min_size=3, max_size=5, min_gain=0.05)
    assert [c.key for c in chosen] == ["a", "b", "c"]


def test_empty_pool() -> None:
    assert select_coalition([], ["funding"]) == []


SECTORS = ["nonprofit", "business", "government", "academic", "philanthropy", "other"]
CAPS = ["funding", "volunteers", "distribution", "regulatory", "food_supply", "data"]


@st.composite
def pools(draw: st.DrawFn) -> tuple[list[Member], list[str]]:
    scores = st.sampled_from([0.0, 0.25, 0.5, 0.5000000000000001, 0.9]) | st.floats(0.0, 1.0)
    members = draw(
        st.lists(
            st.builds(
                Member,
                st.text("abc", min_size=1, max_size=2),
                st.sampled_from(SECTORS),
                scores,
                st.frozensets(st.sampled_from(CAPS), max_size=4),
                st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3).map(tuple) | st.just(()),
            ),
            max_size=45,
        )
    )
    if members and draw(st.booleans()):
        members.append(members[draw(st.integers(0, len(members) - 1))])  # a duplicate
    required = draw(st.lists(st.sampled_from(CAPS), unique=True, max_size=6))
    return members, required


@settings(max_examples=400, deadline=None)
@given(
    pools(),
    st.integers(0, 4),
    st.integers(0, 7),
    st.sampled_from([0.0, 0.6, 1.0]),
    st.sampled_from([0.0, 0.05, 0.3]),
    st.sampled_from([0.0, 2.0]),
)
def test_lazy_greedy_picks_exactly_what_plain_greedy_picks(
    pool: tuple[list[Member], list[str]],
    min_size: int,
    max_size: int,
    role_bonus: float,
    min_gain: float,
    aspect_weight: float,
) -> None:
    members, required = pool
    kw = {
        "min_size": min_size,
        "max_size": max_size,
        "role_bonus": role_bonus,
        "aspect_weight": aspect_weight,
    }
    lazy = select_coalition(members, required, min_gain=min_gain, **kw)
    plain = select_coalition_plain(members, required, min_gain=min_gain, **kw)
    assert [id(m) for m in lazy] == [id(m) for m in plain]


def test_assemble_fills_each_role_first_then_adds_only_coverage() -> None:
    from matcher.coalition import assemble

    pools = {
        "business": [Member("b1", "business", 0.9, frozenset({"funding"}))],
        "government": [],
        "nonprofit": [
            Member("n1", "nonprofit", 0.8, frozenset({"food_supply"})),
            Member("n2", "nonprofit", 0.7, frozenset({"food_supply"})),  # adds nothing
            Member("n3", "community", 0.6, frozenset({"volunteers"})),
        ],
    }
    made = assemble(pools, ["food_supply", "volunteers", "funding"], (3, 5))
    assert [m.key for m in made.members] == ["b1", "n1", "n3"]
    assert made.roles == {"business": "b1", "nonprofit": "n1"}
    assert made.unfilled == ["government"]
    assert made.alternatives == {}


def test_assemble_adds_the_member_that_meets_a_part_no_one_meets() -> None:
    """Parts of the need (clauses): "shelter beds", "case managers", "donated coats". The
    role seeds meet the first two; of two more nonprofits the one meeting "coats" joins, the
    one repeating "beds" does not, though it scores higher."""
    from matcher.coalition import assemble

    def a(key: str, sector: str, score: float, *parts: float) -> Member:
        return Member(key, sector, score, frozenset(), tuple(parts))

    pools = {
        "business": [a("b1", "business", 0.7, 0.1, 0.5, 0.0)],
        "nonprofit": [
            a("n1", "nonprofit", 0.9, 0.6, 0.1, 0.0),
            a("n2", "nonprofit", 0.85, 0.62, 0.1, 0.0),  # beds again
            a("n3", "nonprofit", 0.6, 0.1, 0.1, 0.5),  # coats
        ],
    }
    chosen = assemble(pools, [], (2, 5), aspect_weight=2.0).members
    assert [m.key for m in chosen] == ["n1", "b1", "n3"]
    # without the parts, nothing beyond the role seeds is added (no capability is asked)
    plain = assemble(pools, [], (2, 5), aspect_weight=0.0).members
    assert [m.key for m in plain] == ["n1", "b1"]


def test_a_part_asking_help_is_met_only_by_a_candidate_offering_it() -> None:
    """The third part, "donated coats", asks clothing. A nonprofit close to it by meaning that
    offers no clothing joined for it, and then named no part and covered nothing (Hilo's fifth
    member, real data walk); the one offering clothing, less close, now joins."""
    import numpy as np

    from matcher.coalition import assemble
    from matcher.coalition_stage import _met

    asked = [frozenset(), frozenset(), frozenset({"goods"})]

    def a(key: str, sector: str, score: float, offers: set[str], *parts: float) -> Member:
        met = _met(np.array(parts), frozenset(offers), asked)
        return Member(key, sector, score, frozenset(offers), met)

    assert _met(np.array([0.6, 0.1, 0.5]), frozenset(), asked) == (0.6, 0.1, 0.0)
    assert _met(np.array([0.6, 0.1, 0.5]), frozenset({"goods"}), asked)[2] == 0.5
    pools = {
        "business": [a("b1", "business", 0.7, set(), 0.1, 0.5, 0.0)],
        "nonprofit": [
            a("n1", "nonprofit", 0.9, set(), 0.6, 0.1, 0.0),
            a("n3", "nonprofit", 0.6, set(), 0.1, 0.1, 0.5),  # close to coats, offers none
            a("n4", "nonprofit", 0.5, {"goods"}, 0.1, 0.1, 0.3),  # offers clothing
        ],
    }
    chosen = assemble(pools, [], (2, 5), aspect_weight=2.0).members
    assert [m.key for m in chosen] == ["n1", "b1", "n4"]


def _ladder(sector: str, *scores: float) -> list[Member]:
    return [Member(f"{sector[0]}{i}", sector, s, frozenset()) for i, s in enumerate(scores, 1)]


def test_a_role_too_close_to_call_also_gets_its_runner_up() -> None:
    """Government's first two score 0.910 and 0.905 over a spread of 0.10: a gap of 5% of
    the spread, too close to call, so both are suggested and the runner-up is named as the
    alternative. Business's first stands 50% of its spread clear: one member."""
    from matcher.coalition import assemble, close_calls

    pools = {
        "business": _ladder("business", 0.80, 0.70, 0.60),
        "government": _ladder("government", 0.910, 0.905, 0.85, 0.81),
    }
    assert [(m.key, a) for m, a in close_calls(pools, 0.1)] == [("g2", "g1")]
    made = assemble(pools, [], (2, 5), alternative_margin=0.1)
    assert [m.key for m in made.members] == ["g1", "b1", "g2"]
    assert made.alternatives == {"g2": "g1"}
    assert made.roles == {"government": "g1", "business": "b1"}
    off = assemble(pools, [], (2, 5), alternative_margin=0.0)
    assert [m.key for m in off.members] == ["g1", "b1"] and off.alternatives == {}


def test_a_runner_up_covering_help_its_first_does_not_is_no_alternative() -> None:
    """Real data walk (Albuquerque, "help enrolling families in SNAP and Medicaid"): the
    Centers for Medicare & Medicaid Services scored too close to the Food and Nutrition
    Service to call and was named "an alternative" to it ("either could take this role"),
    though it alone covered Medicaid. A runner-up covering help asked that its role's first
    does not still joins, beside the first, not as its alternative."""
    from matcher.coalition import assemble

    snap, medicaid = "public_programmes:snap", "public_programmes:medicaid"
    gov = [
        Member("fns", "government", 0.910, frozenset({snap})),
        Member("cms", "government", 0.905, frozenset({medicaid})),
        Member("g3", "government", 0.85, frozenset()),
        Member("g4", "government", 0.81, frozenset()),
    ]
    pools = {"business": _ladder("business", 0.80, 0.70, 0.60), "government": gov}
    made = assemble(pools, [snap, medicaid], (2, 5), alternative_margin=0.1)
    assert {"fns", "cms"} <= {m.key for m in made.members}
    assert made.alternatives == {}
    # offering only what the first offers too, it is the alternative it was
    same = [gov[0], Member("cms", "government", 0.905, frozenset({snap})), *gov[2:]]
    made = assemble({**pools, "government": same}, [snap, medicaid], (2, 5), alternative_margin=0.1)
    assert made.alternatives == {"cms": "fns"}


def test_a_runner_up_covering_no_open_benefit_gives_way_to_one_that_does() -> None:
    """Real data walk (Albuquerque, seniors' "Medicare and SNAP" help): two alternatives
    covering nothing filled the coalition while the pool's third government body, the Food and
    Nutrition Service, runs SNAP; the page said "No member runs or names SNAP". A runner-up
    covering none of the benefits asked that the roles' firsts leave open gives way; for other
    help it stays (giving way there cost T4 a relevant member)."""
    from matcher.coalition import assemble

    medicare, snap = "public_programmes:medicare", "public_programmes:snap"
    pools = {
        "business": [
            Member("hum", "business", 0.910, frozenset()),
            Member("cnc", "business", 0.905, frozenset()),  # too close to call
            Member("b3", "business", 0.85, frozenset()),
            Member("b4", "business", 0.81, frozenset()),
        ],
        "government": [
            Member("cla", "government", 0.95, frozenset({medicare})),
            Member("g2", "government", 0.70, frozenset()),
            Member("fns", "government", 0.60, frozenset({snap})),
        ],
        "nonprofit": _ladder("nonprofit", 0.90, 0.60, 0.50),
    }
    made = assemble(pools, [medicare, snap], (3, 4), alternative_margin=0.1)
    assert "fns" in {m.key for m in made.members}
    assert made.alternatives == {}
    # the open help no benefit: the runner-up stays the alternative it was
    made = assemble(pools, [medicare, "volunteers"], (3, 4), alternative_margin=0.1)
    assert made.alternatives == {"cnc": "hum"}


def test_close_calls_fill_the_room_left_closest_first() -> None:
    """Three roles and room for four: only the closest of the two close calls joins."""
    from matcher.coalition import assemble

    pools = {
        "business": _ladder("business", 0.80, 0.79, 0.70),  # gap 10% of its spread
        "government": _ladder("government", 0.90, 0.898, 0.80),  # gap 2%
        "nonprofit": _ladder("nonprofit", 0.95, 0.60, 0.50),
    }
    made = assemble(pools, [], (3, 4), alternative_margin=0.2)
    assert made.alternatives == {"g2": "g1"}
    assert len(made.members) == 4 and "b2" not in {m.key for m in made.members}


def test_no_close_call_in_a_role_of_two() -> None:
    """Two candidates give no spread to judge the gap by: the runner-up is not added."""
    from matcher.coalition import close_calls

    assert close_calls({"government": _ladder("government", 0.9, 0.9)}, 0.5) == []


def test_parts_added_names_the_part_each_added_member_lifts_most() -> None:
    from matcher.coalition import parts_added

    def a(key: str, *parts: float) -> Member:
        return Member(key, "nonprofit", 0.5, frozenset(), tuple(parts))

    chosen = [a("n1", 0.6, 0.1, 0.0), a("b1", 0.1, 0.5, 0.0), a("n3", 0.7, 0.2, 0.5)]
    # n3 lifts part 0 by 0.1 and part 2 by 0.5: it joined for part 2; seeds are not named
    assert parts_added(chosen, {"n3"}) == {"n3": 2}
    assert parts_added([a("n1", 0.6), a("n2", 0.5)], {"n2"}) == {}  # lifts nothing


def test_parts_added_names_no_part_the_member_meets_only_weakly() -> None:
    from matcher.coalition import parts_added

    chosen = [
        Member("n1", "nonprofit", 0.5, frozenset(), (0.6, 0.0)),
        Member("g1", "government", 0.5, frozenset(), (0.1, 0.15)),
    ]
    assert parts_added(chosen, {"g1"}) == {"g1": 1}
    assert parts_added(chosen, {"g1"}, min_match=0.2) == {}


def test_a_part_asking_for_help_is_named_only_for_a_member_offering_it() -> None:
    """On T4's Great Falls need a food pantry joined "for: 'volunteers for Saturday
    distributions'" while its card said "Does not cover: volunteers"; on the page, an insurer
    joined for 'legal help with insurance claims' without covering legal aid. A part that asks
    for help is named only for a member that offers some of it; one that asks none, for any."""
    from matcher.coalition import asked_parts, parts_added

    parts = ["Our church food pantry", "We need donations of groceries", "volunteers for Saturdays"]
    required = {"food_supply": "We need donations of groceries", "volunteers": "volunteers for ..."}
    asked = asked_parts(required, parts)
    assert asked == [frozenset(), frozenset({"food_supply"}), frozenset({"volunteers"})]
    seed = Member("n1", "nonprofit", 0.9, frozenset({"food_supply"}), (0.5, 0.5, 0.1))
    pantry = Member("n2", "nonprofit", 0.8, frozenset({"food_supply"}), (0.55, 0.52, 0.6))
    assert parts_added([seed, pantry], {"n2"}) == {"n2": 2}  # by meaning alone: volunteers
    # not offering volunteers: the part it lifts most that it may be named for
    assert parts_added([seed, pantry], {"n2"}, asked=asked) == {"n2": 0}
    helpers = Member("n3", "nonprofit", 0.8, frozenset({"volunteers"}), (0.55, 0.52, 0.6))
    assert parts_added([seed, helpers], {"n3"}, asked=asked) == {"n3": 2}
    only_asks = Member("n4", "nonprofit", 0.8, frozenset(), (0.1, 0.1, 0.6))
    assert parts_added([seed, only_asks], {"n4"}, asked=asked) == {}  # nothing it may name


def test_a_part_naming_a_capability_by_its_words_asks_it() -> None:
    """The group typed "funding" under Required help: its quote is the capability's name, in no
    part, and Camden Property Trust "joined for: 'money to run a shelter'" above its own "Does
    not cover: funding" (real data walk, Albuquerque)."""
    from matcher.coalition import asked_parts

    parts = ["Homeless veterans sleep outside in winter", "case managers", "money to run a shelter"]
    asked = asked_parts({"funding": "funding", "housing": "housing and shelter"}, parts)
    assert asked == [frozenset(), frozenset(), frozenset({"funding", "housing"})]
    # a capability quoted from a part is asked there alone: the words elsewhere are not read
    placed = asked_parts(
        {"funding": "money to run a shelter"}, ["funding cuts hurt us", "money to run a shelter"]
    )
    assert placed == [frozenset(), frozenset({"funding"})]


def test_a_part_naming_a_benefit_asks_public_programmes() -> None:
    """ "Young mothers need help signing up for SNAP and WIC": the ask was quoted from the
    first part, and Kids Against Hunger "joined for 'WIC'", a part asking nothing, without
    covering it (real data walk)."""
    from matcher.coalition import asked_parts, parts_added

    parts = ["Young mothers need help signing up for SNAP", "WIC", "diapers"]
    required = {"public_programmes": "Young mothers need help signing up for SNAP"}
    asked = asked_parts(required, parts)
    assert asked == [
        frozenset({"public_programmes"}),
        frozenset({"public_programmes"}),
        frozenset(),
    ]
    seed = Member("g1", "government", 0.9, frozenset({"public_programmes"}), (0.6, 0.2, 0.1))
    charity = Member("n1", "nonprofit", 0.8, frozenset({"food_supply"}), (0.3, 0.7, 0.2))
    assert parts_added([seed, charity], {"n1"}, asked=asked) == {"n1": 2}
    # without the benefit asked, "WIC" is read as before
    assert asked_parts({"goods": "diapers"}, parts) == [frozenset(), frozenset(), {"goods"}]


def test_asked_parts_reads_quotes_cut_at_either_end() -> None:
    from matcher.coalition import asked_parts

    parts = ["home-based businesses on the East Side can't get bank loans", "or bookkeeping help"]
    got = asked_parts({"funding": "... East Side can't get bank loans", "x": "", "y": "..."}, parts)
    assert got == [frozenset({"funding"}), frozenset()]


def test_parts_are_quoted_as_written() -> None:
    from matcher.evidence import as_written

    written = ["Hundreds of households in rural McKinley County haul water", "We need well testing"]
    parts = ["Hundreds of households in rural haul water", "We need well testing", "zzz"]
    assert as_written(parts, written) == [written[0], written[1], "zzz"]
