"""Money given and money lent (matcher.funding_kinds): a lender does not cover an ask for money
to be given, and still covers an ask for a loan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.funding_kinds import LENDS_ONLY, asks_gift, covers_ask, lends_only
from matcher.settings import Settings

PORTLAND = (45.52, -122.68)


@pytest.mark.parametrize(
    "phrase",
    [
        # offers read from real descriptions (S&P 500, IRS, federal registry), as quoted
        "... fitness programs, and a small-business loan resource center",
        "residential mortgages and home equity loans",
        "Its loan products include credit card loans",
        "State of oregon chartered credit union",
        "Provide micro-loans to emerging winemakers ...",
        "collateralized loan obligations, hedge funds, collective funds ...",
        "(loan guarantees)",
    ],
)
def test_offers_that_only_lend_or_invest(phrase: str) -> None:
    assert lends_only(phrase)


@pytest.mark.parametrize(
    "phrase",
    [
        "public programme funding",
        "philanthropy, voluntarism and grantmaking",
        "Clothes Helping Kids awards grants between $1,000 ...",
        "Provide financial support to taos historic museums",
        "Investing in women to foster healthier communities",  # not money lent
        "... type of investigation, and participate ...",  # no investing at all
        "scholarships and student loans",  # gives too
        "low-income housing tax credits",  # a subsidy
        "",  # read by meaning alone: nothing to tell
    ],
)
def test_offers_that_give(phrase: str) -> None:
    assert not lends_only(phrase)


@pytest.mark.parametrize(
    ("quote", "gift"),
    [
        ("funding for stipends", True),
        ("funding", True),
        ("a grant for a tenant union", True),
        ("help paying heating bills", True),
        ("donations", True),
        ("a low-interest loan to buy a van", False),
        ("microloans for vendors", False),
        ("access to capital for small farms", False),
        ("working capital", False),
        ("financing for a building", False),
        (None, False),  # no funding asked
    ],
)
def test_asks_for_money_given(quote: str | None, gift: bool) -> None:
    assert asks_gift(quote) is gift
    assert covers_ask("residential mortgages and home equity loans", quote) is not gift
    assert covers_ask("public programme funding", quote)


def _org(i: str, name: str, sector: str, desc: str, offers: list[str]) -> Organisation:
    return Organisation.model_validate(
        {
            "id": i,
            "name": name,
            "sector": sector,
            "description": desc,
            "offers": offers,
            "country": "US",
            "lat": PORTLAND[0],
            "lon": PORTLAND[1],
            "city": "Portland",
            "region": "OR",
        }
    )


@pytest.fixture()
def engine(tmp_path: Path, real_embedder: object) -> Iterator[Engine]:
    """A lender, a grant maker and an employer on the real model (which reads the asks)."""
    settings = Settings(data_dir=tmp_path / "var", relevance_floor=-1.0)  # every card shown
    eng = Engine.open(settings, embedder=real_embedder, load=False)  # type: ignore[arg-type]
    eng.store.upsert_organisations(
        [
            _org(
                "lender",
                "Cascade Community Bank",
                "business",
                "A community bank for Oregon families and firms.",
                ["small-business loans and mortgages"],
            ),
            _org(
                "funder",
                "Rose City Youth Foundation",
                "nonprofit",
                "A foundation for young people in Portland.",
                ["grants for youth programmes"],
            ),
            _org(
                "employer",
                "Portland Staffing Co",
                "business",
                "Finds local jobs for young people.",
                ["jobs and paid internships"],
            ),
        ]
    )
    eng.build()
    yield eng
    eng.close()


def _covers(engine: Engine, text: str) -> tuple[dict[str, bool], dict[str, list[str]]]:
    rec = engine.recommend(Need(text=text, city="Portland", region="OR"), limit=10)
    assert "funding" in rec.required_capabilities
    seen = {m.id: m for ms in rec.by_sector.values() for m in ms}
    seen.update({m.id: m for m in rec.results})
    return {i: "funding" in m.covers for i, m in seen.items()}, rec.coalition.covered


def test_a_lender_does_not_cover_money_to_be_given(engine: Engine) -> None:
    """Real data walk (Portland): "funding for stipends" was covered by Paychex "with its offer
    '... a small-business loan resource center'"."""
    covers, covered = _covers(
        engine, "Our youth job programme needs employers to host interns and funding for stipends"
    )
    assert covers["lender"] is False  # covered on the code before
    assert covers["funder"] is True
    assert "lender" not in covered.get("funding", [])
    assert engine._score_columns().caps.get(LENDS_ONLY) is not None  # noqa: SLF001


def test_a_lender_covers_an_ask_for_a_loan(engine: Engine) -> None:
    covers, _ = _covers(engine, "Our youth job programme needs a low-interest loan to buy a van")
    assert covers["lender"] is True
    # a loan named beside "funding": the funding ask may be quoted as "funding" alone
    covers, _ = _covers(engine, "Our programme needs funding, and a low-interest loan for a van")
    assert covers["lender"] is True


def test_a_loan_named_anywhere_in_the_need_is_no_gift() -> None:
    assert asks_gift("funding")
    assert not asks_gift("funding", "We need funding and a low-interest loan for a van")
    assert not covers_ask("mortgages", "funding", "We need funding for stipends")
