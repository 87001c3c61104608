"""Quotes on cards: whole, or cut at a word boundary with an ellipsis; a mission's offer quoted
from the sentence that names it, without its "Our mission is to" opening."""

from __future__ import annotations

from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.quotes import ask_quote, mention_quote, short_phrase, without_boilerplate

# Invented missions, shaped like registry ones.
MEALS = (
    "Our mission is to meet the nutritional and social needs of homebound elders across the "
    "county so that they can keep living at home. Since 1975 we have delivered hot meals."
)
LOBBY = (
    "CONDUCTING PUBLIC EDUCATION, LEGISLATIVE AND LOBBYING ACTIVITIES PERTAINING TO AFFORDABLE "
    "WORKFORCE HOUSING AND SHELTER."
)


def test_a_mission_offer_is_never_a_clause_cut_where_it_reads_whole() -> None:
    """The offer was the mission's first phrase up to its "and": 'Our mission is to meet the
    nutritional' (on a Providence food need's card)."""
    quote = mention_quote(MEALS, "food_supply")
    assert quote == "meet the nutritional and social needs ..."
    assert not quote.lower().startswith("our mission")


def test_a_quote_starts_at_its_clause_or_says_it_was_cut() -> None:
    assert mention_quote(LOBBY, "housing") == (
        "... activities pertaining to affordable workforce housing and shelter"
    )
    assert mention_quote("Families find shelter.", "housing") == "Families find shelter"
    # a cut end stops before a nearby function word, and never on one
    got = mention_quote(
        "To raise funds for in town services for young people and youth groups.", "funding"
    )
    assert got == "To raise funds for in town services ..."
    long = mention_quote(
        "We help low income and homeless women and families find shelter and secure housing "
        "in the county.",
        "housing",
    )
    assert long.startswith("... ") and long.endswith(" ...")
    assert long.split()[1] not in {"and", "the", "of"} and long.split()[-2] not in {"in", "of"}


def test_boilerplate_openings_are_left_out_only_when_the_rest_names_the_offer() -> None:
    text = "The mission of Acme Pantry is to serve neighbours in need"
    assert without_boilerplate(text, "food_supply") == text  # the rest names no food: kept whole
    # "hunger" names food (a food bank "TO FEED THE HUNGRY" offered none, real data)
    assert without_boilerplate("The mission of Acme Pantry is to end hunger", "food_supply") == (
        "end hunger"
    )
    assert without_boilerplate("The mission of Acme Pantry is to feed families in need") == (
        "feed families in need"
    )
    assert without_boilerplate("We are dedicated to providing free legal advice") == (
        "providing free legal advice"
    )
    assert without_boilerplate("Our mission is to help") == "Our mission is to help"


def test_short_phrase_cuts_at_a_word_not_on_a_function_word() -> None:
    assert short_phrase("We need regular donations of groceries and protein for the town") == (
        "We need regular donations of groceries and protein ..."
    )
    assert short_phrase("meet the needs of all the elders of the county", 8) == (
        "meet the needs of all the elders ..."
    )
    # an ellipsis already there is not a word: a mention quote is not cut again
    assert short_phrase("... a b c d e f g h ...") == "... a b c d e f g h ..."
    assert short_phrase("EMERGENCY HOUSING REPAIRS") == "Emergency housing repairs"


def test_a_card_quotes_a_missions_offer_whole_or_marked_as_cut(engine: Engine) -> None:
    engine.create_organisation(
        Organisation(
            id="meals",
            name="Valley Meals",
            sector="nonprofit",
            description=MEALS,
            lat=45.52,
            lon=-122.68,
            city="Portland",
            region="Oregon",
            country="US",
        )
    )
    need = Need(text="Homebound elders need hot meals and nutritional food delivered")
    rec = engine.recommend(need, limit=10)
    card = next(m for m in [*rec.results, *rec.by_sector.get("nonprofit", [])] if m.id == "meals")
    offers = [r for r in card.reasons if "with its offer" in r]
    assert offers, card.reasons
    assert all("'Our mission is to meet the nutritional'" not in r for r in offers)
    assert any("with its offer 'meet the nutritional and social needs ...'" in r for r in offers)


def test_an_ask_read_by_meaning_is_quoted_from_its_verb_not_cut_before_it() -> None:
    """ "(asked: 'During heat waves our seniors in Phoenix need ...')" stopped where the ask
    began (real data walk)."""
    long = "During heat waves our seniors in Phoenix need air purifiers and a cooling center."
    assert ask_quote(long) == "... Phoenix need air purifiers and a cooling center"
    short_ask = "Every summer during the long heat waves our seniors in Phoenix need help"
    assert ask_quote(short_ask) == "... heat waves our seniors in Phoenix need help"
    # an ask near the start, or a short clause: from the start, without its full stop
    assert ask_quote("We need volunteers to help with grant writing every weekend this spring") == (
        "We need volunteers to help with grant writing ..."
    )
    # "in need" is no verb of asking
    assert ask_quote("people who would give an evening each week to our neighbours in need") == (
        "people who would give an evening each week ..."
    )
    assert ask_quote("Our families need water filters after the flood.") == (
        "Our families need water filters after the flood"
    )


def test_an_offer_named_by_a_sure_word_is_quoted_where_that_word_is() -> None:
    """Real data walk: a bank's card said "Covers funding ... with its offer 'Citizens
    Financial Group, Inc'" (its name, which names finance) and a payroll firm's "provides
    integrated human capital management solutions (HCM) ...". The sentence with the sure word
    ("business loans", "loan resource center") is what bears the offer out."""
    bank = (
        "Citizens Financial Group, Inc. operates as the bank holding company. The Consumer "
        "Banking segment offers deposit products, credit cards, business loans and wealth "
        "management."
    )
    assert "business loans" in mention_quote(bank, "funding")
    assert "Citizens" not in mention_quote(bank, "funding")
    payroll = (
        "Paychex provides integrated human capital management solutions for payroll and "
        "insurance services. It also offers payment processing services, financial fitness "
        "programs, and a small-business loan resource center."
    )
    assert "loan resource center" in mention_quote(payroll, "funding")
    # no sure word: the first sentence naming it, as before
    assert mention_quote("We provide financial help to families.", "funding") == (
        "We provide financial help to families"
    )
