"""Focus and programme evidence: clauses, per-row focus scores, best programme per owner."""

from __future__ import annotations

import numpy as np

from matcher.evidence import FocusVectors, Programmes, clauses
from matcher.places.words import states_named


def _unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_clauses_split_a_need_into_its_asks() -> None:
    text = (
        "Our pantry runs out of canned goods by Wednesday. We need regular donations of "
        "groceries and protein, plus volunteers for Saturday distributions."
    )
    parts = clauses(text)
    assert "regular donations of groceries" in " | ".join(parts)
    assert any(p.startswith("volunteers for Saturday") for p in parts)
    assert "protein" not in parts  # short and names no capability
    assert clauses("etc") == [] and clauses("and so on") == []


def test_a_lists_short_items_that_name_a_capability_are_clauses() -> None:
    """A list's short items were dropped for their length (under 8 characters), so "funding" in
    "upgrades, funding and volunteers" was never read as an ask."""
    assert clauses(
        "Families live in drafty old houses. We need energy efficiency upgrades, funding and "
        "volunteers."
    )[-2:] == ["funding", "volunteers"]
    assert clauses("We need funding, volunteers and a van") == [
        "We need funding",
        "volunteers",
        "a van",
    ]
    assert clauses("We are looking for grants and mentors") == [
        "We are looking for grants",
        "mentors",
    ]
    assert clauses("Meals, rides and more") == ["Meals", "rides"]
    # a company's description is read without them (its saved offering clauses stay valid)
    assert clauses("We need funding, volunteers and a van", keep_named=False) == [
        "We need funding",
        "volunteers",
    ]


def test_focus_scores_take_each_rows_best_phrase_and_leave_rows_without_focus_nan() -> None:
    focus = FocusVectors(2)
    phrases = ["", "grocery stores", "banks"]
    vectors = {"grocery stores": _unit(1, 0), "banks": _unit(0, 1)}
    focus.update(phrases, lambda texts: np.stack([vectors[t] for t in texts]))
    codes = np.asarray([[1, 0], [2, 0], [0, 0], [2, 1]], dtype=np.int32)
    query = _unit(1, 0.1)
    scores = focus.scores(codes, query, np.zeros((0, 2), np.float32))
    assert scores[0] > scores[1]
    assert np.isnan(scores[2])
    assert scores[3] == scores[0]  # its best phrase counts
    # a clause that asks exactly for banking raises the bank's score
    with_clause = focus.scores(codes, query, _unit(0, 1)[None, :])
    assert with_clause[1] > scores[1]


def test_focus_scores_equal_a_nan_aware_max_over_each_rows_slots() -> None:
    """Slot by slot (fmax) gives each row the best of its phrases, in any slot and with gaps,
    exactly as a max over the row's non-empty slots; NaN only for a row with none."""
    rng = np.random.default_rng(7)
    focus = FocusVectors(8)
    phrases = [""] + [f"p{i}" for i in range(30)]
    focus.update(phrases, lambda texts: rng.normal(size=(len(texts), 8)).astype(np.float32))
    codes = rng.integers(0, 31, size=(500, 4)).astype(np.int32)
    codes[rng.random(codes.shape) < 0.6] = 0  # gaps anywhere, and rows with no phrase
    query = rng.normal(size=8).astype(np.float32)
    clauses_ = rng.normal(size=(3, 8)).astype(np.float32)
    for cl in (np.zeros((0, 8), np.float32), clauses_):
        scores = focus.scores(codes, query, cl)
        whole = focus.vectors_ @ query
        per = (0.5 * (cl @ focus.vectors_.T).max(axis=0) + 0.5 * whole) if cl.size else whole
        per = per.astype(np.float32)
        expected = [max((per[c] for c in row if c), default=np.nan) for row in codes.tolist()]
        assert scores.dtype == np.float32 and scores.shape == (500,)
        np.testing.assert_array_equal(scores, np.asarray(expected, np.float32))
    assert np.isnan(scores[~codes.any(axis=1)]).all()


def test_focus_vectors_embed_only_new_phrases() -> None:
    focus = FocusVectors(2)
    seen: list[str] = []

    def encode(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return np.ones((len(texts), 2), np.float32)

    focus.update(["", "a"], encode)
    focus.update(["", "a", "b"], encode)
    assert seen == ["a", "b"]
    assert focus.vectors_.shape == (3, 2)


def test_programmes_name_each_owners_closest_programme() -> None:
    progs = Programmes(
        ["fns", "fns", "hud"],
        ["p1", "p2", "p3"],
        ["School meals", "Food pantries", "Housing vouchers"],
        np.stack([_unit(1, 1), _unit(1, 0), _unit(0, 1)]),
    )
    best = progs.best(_unit(1, 0.05))
    assert best["fns"].title == "Food pantries"
    assert best["hud"].need_id == "p3"
    assert best["fns"].similarity > best["hud"].similarity
    assert Programmes([], [], [], np.zeros((0, 2))).best(_unit(1, 0)) == {}


def test_a_programme_for_other_states_is_never_a_needs_related_programme() -> None:
    """Real data walk: for a need in Albuquerque the Food and Nutrition Service "runs a
    related programme: 'Nutrition Assistance For Puerto Rico'", its closest by meaning. With
    the need's state, a programme named for others is passed over; one for that state, or for
    no state, is not; an owner with only others' has none."""
    progs = Programmes(
        ["fns", "fns", "fns", "ak"],
        ["pr", "snap", "nm", "akp"],
        [
            "Nutrition Assistance For Puerto Rico",
            "Supplemental Nutrition Assistance Program",
            "New Mexico Food Pantry Grants",
            "Alaska Subsistence Management",
        ],
        np.stack([_unit(1, 0), _unit(1, 0.4), _unit(1, 0.2), _unit(1, 0)]),
    )
    query = _unit(1, 0.01)
    assert progs.best(query)["fns"].need_id == "pr"  # no place: the closest
    in_nm = progs.best(query, "NM")
    assert in_nm["fns"].need_id == "nm" and "ak" not in in_nm
    assert progs.best(query, "TX")["fns"].need_id == "snap"
    assert progs.best(query, "PR")["fns"].need_id == "pr"


def test_states_named_as_places_in_programme_titles() -> None:
    assert states_named("Nutrition Assistance For Puerto Rico") == {"PR"}
    assert states_named("CNMI Nutrition Assistance") == {"MP"}
    assert states_named("West Virginia State College") == {"WV"}
    assert states_named("Eastern New Mexico Rural Water System") == {"NM"}
    for nowhere in (
        "Lower Colorado River Multi-Species Conservation",
        "Grants to Native Americans and Alaska Natives",
        "Supporting the Lower Mississippi Delta Initiative",
        "Virginia Graeme Baker Pool and Spa Safety",
        "Supplemental Nutrition Assistance Program",
    ):
        assert states_named(nowhere) == frozenset(), nowhere


def test_a_short_item_named_by_a_word_sure_in_asks_is_a_clause() -> None:
    """ "we need water and fans" lost "fans": no stem names it, only a word sure in asks, so
    the length dropped it and the asks never read it (real data walk)."""
    assert clauses("Volunteers will staff the cooling center; we need water and fans")[-1] == "fans"
    assert clauses("Our shelter needs beds and showers")[-1] == "showers"
