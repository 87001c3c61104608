from __future__ import annotations

from matcher.coalition import Member, coverage_map, gaps, select_coalition


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
