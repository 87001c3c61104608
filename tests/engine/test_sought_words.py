"""The partners a need seeks are no topic (matcher.sought_words). Real data walk (2026-12-06):
"As Lowe's community relations manager I want to find nonprofits for a home repair volunteer
program" put 501(C)PA, an accountancy for nonprofits, first at 0.97; "... find partners ..."
put organisations named "Partnership" first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.need_reading import topic_text
from matcher.settings import Settings
from matcher.sought_words import without_sought_words


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        (
            "We want to find nonprofits for a home repair program",
            "We want to find for a home repair program",
        ),
        (
            "We want to support youth sports nonprofits in Portland",
            "We want to support youth sports in Portland",
        ),
        ("Our nonprofit food pantry needs partners to deliver", "Our food pantry needs to deliver"),
        ("We are looking for local nonprofit groups, charities and NGOs.", "We are looking for."),
        (
            "We want to partner with local nonprofits and new partners",
            "We want to partner with and",
        ),
        # whom the help is for: an organisation serving nonprofits is the answer
        ("We need bookkeeping for nonprofits", "We need bookkeeping for nonprofits"),
        ("training to help small nonprofits", "training to help small nonprofits"),
        ("We are looking for nonprofits", "We are looking for"),
        # names and other words stay
        ("PartnersHealth runs clinics", "PartnersHealth runs clinics"),
        ("nonprofits", "nonprofits"),  # nothing else to read
    ],
)
def test_the_partners_sought_are_cut_from_the_topic(text: str, topic: str) -> None:
    assert without_sought_words(text) == topic


def test_the_need_s_topic_leaves_out_the_partners_sought() -> None:
    need = Need(text="We want to find nonprofits for a home repair program")
    assert "nonprofits" not in topic_text(need)
    assert need.text.endswith("home repair program")  # the need as written is kept


@pytest.fixture()
def engine(tmp_path: Path, hashing_embedder: object) -> Iterator[Engine]:
    settings = Settings(data_dir=tmp_path / "var", relevance_floor=-1.0)
    eng = Engine.open(settings, embedder=hashing_embedder, load=False)  # type: ignore[arg-type]

    def org(i: str, name: str, description: str) -> Organisation:
        return Organisation(
            id=i,
            name=name,
            sector="nonprofit",
            description=description,
            country="US",
            service_level="national",
        )

    eng.store.upsert_organisations(
        [
            org("cpa", "Ledger Help", "Accounting and bookkeeping for nonprofits and charities."),
            org("repair", "Safe Homes Crew", "Volunteers make home repairs for older homeowners."),
            org("other", "Reading Friends", "Tutoring and reading programs for children."),
        ]
    )
    eng.build()
    yield eng
    eng.close()


def test_an_accountancy_for_nonprofits_gains_nothing_from_the_word(engine: Engine) -> None:
    """The word naming the partners sought moves no partner's score: every partner (the
    accountancy for nonprofits too) scores as if the need had not said "nonprofits"."""
    text = "We want to find nonprofits that make home repairs with volunteers"
    said = {m.id: m.score for m in engine.top(Need(text=text), limit=3)}
    unsaid = {
        m.id: m.score for m in engine.top(Need(text=text.replace("nonprofits ", "")), limit=3)
    }
    assert said == pytest.approx(unsaid), (said, unsaid)
    assert max(said, key=said.__getitem__) == "repair"
    # asked for what it does, it is first
    books = [m.id for m in engine.top(Need(text="We need bookkeeping for nonprofits"), limit=3)]
    assert books[0] == "cpa", books


def test_nonprofits_serving_someone_are_sought_not_served() -> None:
    """helper-74's walk: "we seek veteran-serving nonprofits" kept "nonprofits" (read as whom
    the help is for), and 501(C)PA was first at 0.97."""
    cut = without_sought_words("We seek veteran-serving nonprofits in Albuquerque")
    assert cut == "We seek veteran-serving in Albuquerque"


def test_an_organisation_s_name_keeps_its_words() -> None:
    """ "Catholic Charities" and "Oregon Nonprofit Partners" are names, not the partners
    sought: a need naming them keeps them."""
    assert (
        without_sought_words("We work with Catholic Charities") == "We work with Catholic Charities"
    )
    assert without_sought_words("Oregon Nonprofit Partners helps us") == (
        "Oregon Nonprofit Partners helps us"
    )
    assert (
        without_sought_words("Catholic Charities and other charities") == "Catholic Charities and"
    )
