"""Which parts of a need ask for something and which only tell the problem."""

from __future__ import annotations

from matcher import capabilities, evidence
from matcher.telling import place_words, telling_clauses

HONOLULU = (
    "Parents in Honolulu wait a year or more for a spot in infant and toddler care, and some "
    "have had to quit their jobs. We want to open a small licensed child care center and need "
    "start-up funding, trained caregivers, and help getting through licensing."
)


def test_the_sentences_that_ask_nothing_only_tell_the_problem() -> None:
    parts = evidence.clauses(HONOLULU)
    told = dict(zip(parts, telling_clauses(HONOLULU, parts), strict=True))
    assert told["some have had to quit their jobs"] is True
    assert told["need start-up funding"] is False
    assert told["help getting through licensing"] is False


def test_every_clause_may_ask_when_no_sentence_or_every_sentence_asks() -> None:
    one = "Hartford shelters turn people away; we need overflow beds and donated coats."
    none_ask = "Our pantry runs out of food by Wednesday. The line grows every month."
    all_ask = "We need volunteers. We also want a van for deliveries."
    for text in (one, none_ask, all_ask):
        parts = evidence.clauses(text)
        assert telling_clauses(text, parts) == [False] * len(parts), text


def test_the_problem_a_need_tells_is_not_asked_for() -> None:
    """T4's Honolulu need asked jobs from "some have had to quit their jobs" (the problem),
    so its cards said "Does not cover: jobs" and its coalition had a gap no one asked about.
    Montpelier's renters who "dread the next storm" asked housing the same way."""
    asked = capabilities.infer_required(HONOLULU)
    assert "jobs" not in asked and {"funding", "regulatory", "child_care"} <= set(asked)
    montpelier = (
        "Last summer's flood left downtown Montpelier, Vermont under several feet of water, "
        "and shop owners and renters dread the next storm. We want to flood-proof the most "
        "exposed buildings, restore eroded riverbanks upstream, and train a neighborhood team "
        "for early warnings and cleanup."
    )
    asked = capabilities.infer_required(montpelier)
    assert "housing" not in asked and "environment" in asked


def test_what_the_group_itself_does_is_not_asked_for() -> None:
    """ "We run a homeless shelter and need volunteers ..." asked housing, "We are a small food
    pantry in Hilo and need volunteers" food (tried on the T4 catalog): the group's own work
    read as what it asks. Running out of something is still an ask."""
    cases = {  # text: (its own work, an ask)
        "We run a homeless shelter and need volunteers for night shifts": ("housing", "volunteers"),
        "We are a small food pantry in Hilo and need volunteers": ("food_supply", "volunteers"),
        "We provide hot meals to seniors, and we need volunteer drivers": (
            "food_supply",
            "volunteers",
        ),
        "Our food pantry serves 300 families a week and needs volunteers": (
            "food_supply",
            "volunteers",
        ),
    }
    for text, (own, ask) in cases.items():
        asked = capabilities.infer_required(text)
        assert own not in asked and ask in asked, (text, asked)
    lack = "We run out of food every week and need volunteers"
    assert {"food_supply", "volunteers"} <= set(capabilities.infer_required(lack))


def test_a_clause_about_the_group_that_asks_may_ask() -> None:
    text = "We run a program that needs mentors, and we want a van"
    parts = evidence.clauses(text)
    assert telling_clauses(text, parts) == [False] * len(parts)
    # a need that only says what the group does: nothing else could ask, so every clause may
    only = "We run a homeless shelter and we provide hot meals"
    parts = evidence.clauses(only)
    assert len(parts) == 2 and telling_clauses(only, parts) == [False, False]


def test_the_words_naming_the_group_are_not_asked_for() -> None:
    """ "Our food bank needs volunteers and a forklift" asked food supply, "Our homeless
    shelter needs volunteers for night shifts" housing (second real data walk)."""
    from matcher.telling import asker_words

    assert asker_words("Our food bank needs volunteers") == ("food bank ", "needs volunteers")
    assert asker_words("We need food") == ("", "We need food")
    for text, own in (
        ("Our food bank needs volunteers and a forklift", "food_supply"),
        ("Our homeless shelter needs volunteers for night shifts", "housing"),
    ):
        asked = capabilities.infer_required(text)
        assert own not in asked and "volunteers" in asked, (text, asked)
    assert "food_supply" in capabilities.infer_required("Our pantry needs food and volunteers")


def test_a_group_that_cannot_do_something_or_is_named_by_its_kind_asks_nothing_by_its_name() -> (
    None
):
    """Real data walk (2026-12-06): "Our rural clinic in Burns, Oregon cannot recruit nurses"
    quoted "Our rural clinic in Burns," as its ask for health care, and "Rural clinics need
    broadband and telehealth equipment" quoted "Rural clinics need broadband". The group
    that cannot do something names itself as one that needs; a clinic, school or shelter
    named without "our" is the group too."""
    from matcher.telling import asker_words

    assert asker_words("Our rural clinic in Burns, Oregon cannot recruit nurses") == (
        "rural clinic in Burns, Oregon ",
        "cannot recruit nurses",
    )
    assert asker_words("Rural clinics need broadband") == ("Rural clinics ", "need broadband")
    assert asker_words("Two food banks can't keep up") == ("Two food banks ", "can't keep up")
    assert asker_words("Families need food") == ("", "Families need food")
    assert asker_words("Flooded homes need repairs") == ("", "Flooded homes need repairs")
    taos = capabilities.infer_required(
        "Rural clinics need broadband and telehealth equipment so patients can see specialists."
    )
    assert "clinics" not in taos.get("healthcare", ""), taos
    assert "broadband" in taos["technology"], taos
    burns = capabilities.infer_required(
        "Our rural clinic in Burns, Oregon cannot recruit nurses; we need housing for staff."
    )
    assert "Burns" not in burns.get("healthcare", ""), burns
    assert "housing" in burns


def test_a_place_and_its_state_stay_in_one_clause_and_the_group_named_there_asks_nothing() -> None:
    """ "Our youth job programme in Portland, Oregon needs local employers ... and funding for
    stipends" was cut at the place's comma: "Our youth job programme in Portland" became a
    clause of its own, read as asking jobs and public programmes, and every federal agency
    "covered" it with its "public programme funding" (real data walk)."""
    from matcher.telling import asker_words

    portland = (
        "Our youth job programme in Portland, Oregon needs local employers to host summer "
        "interns and funding for stipends"
    )
    assert capabilities.phrases(portland, places=True)[0].endswith("to host summer interns")
    assert evidence.clauses(portland)[0] == "needs local employers to host summer interns"
    asked = capabilities.infer_required(portland)
    assert set(asked) == {"jobs", "funding"}, asked
    assert asked["jobs"] == "needs local employers to host summer interns"
    # a state's code, and "OR" for Oregon is no "or" between two asks
    reentry = "Our reentry program in Portland, OR needs employers willing to hire or mentors"
    assert asker_words(reentry)[0] == "reentry program in Portland, OR "
    assert evidence.clauses(reentry) == [
        "needs employers willing to hire",
        "mentors",
    ]
    asked = capabilities.infer_required(reentry)
    assert "jobs" in asked and "public_programmes" not in asked, asked
    # the group named with its place and state is left out of its ask's clause; without a
    # place it stays, as before
    pantry = "The Eastside food pantry in Albuquerque, NM needs volunteers, a refrigerated van"
    assert evidence.clauses(pantry) == ["needs volunteers", "a refrigerated van"]
    assert evidence.clauses("Our recovery group wants to open two recovery homes") == [
        "Our recovery group wants to open two recovery homes"
    ]
    # a list's commas still cut it, the place's kept whole
    assert evidence.clauses("We need coats, blankets, and boots in Dover, Delaware") == [
        "We need coats",
        "blankets",
        "boots in Dover, Delaware",
    ]


def test_place_words_name_where_the_help_goes_up_to_the_word_that_ends_them() -> None:
    assert place_words("We need hygiene supplies for the shelter") == (
        "shelter",
        "We need hygiene supplies for the ",
    )
    assert place_words("We need volunteers to staff the cooling center this summer") == (
        "cooling center",
        "We need volunteers to staff the  this summer",
    )
    where, rest = place_words(
        "We need a van for the food pantry's deliveries and drivers at our bank"
    )
    assert where == "food pantry's deliveries ; bank"
    assert "van" in rest and "drivers" in rest
    # no determiner, or an activity run: nothing is a place
    assert place_words("We need funding for housing") == ("", "We need funding for housing")
    assert place_words("We want to run a food rescue route")[0] == ""


def test_the_people_help_is_for_are_named_without_a_determiner_too() -> None:
    where, rest = place_words("We need legal advice for renters facing eviction")
    assert where == "renters facing eviction" and "legal advice" in rest
    assert place_words("We need rent help for families")[0] == "families"
    assert place_words("We need funding for rent")[0] == ""


def test_what_the_group_lacks_is_asked_and_what_it_has_is_not() -> None:
    """Helper's walk (2026-12-06): "... wants to start evening classes so older folks can
    learn to use email, video calls with the doctor ... We have a room but no laptops and no
    teacher." read the laptops as part of a sentence that only tells, so technology was not
    asked. A sentence saying what the group lacks asks; what it has ("We have a room") is its
    own, and asks nothing."""
    from matcher import evidence
    from matcher.telling import telling_clauses

    text = (
        "Our library wants to start evening classes on email and video calls. "
        "We have a room but no laptops and no teacher."
    )
    parts = evidence.clauses(text)
    told = dict(zip(parts, telling_clauses(text, parts), strict=True))
    assert told["no laptops"] is False and told["We have a room"] is True, told
    asked = capabilities.infer_required(text)
    assert "technology" in asked and "facilities" not in asked, asked
    for lacking, clause in (
        ("We lack a van.", "We lack a van"),
        ("We don't have a kitchen.", "We don't have a kitchen"),
        ("We have no freezer.", "We have no freezer"),
    ):
        need = f"Our pantry needs volunteers. {lacking}"
        parts = evidence.clauses(need)
        assert clause in parts, parts
        assert not telling_clauses(need, parts)[parts.index(clause)], need
    # "we have to" is no possession
    assert not telling_clauses("We have to find a van", ["We have to find a van"])[0]


def test_where_a_pick_up_is_made_is_no_ask() -> None:
    """Helper's walk (2026-12-06): Bend's pantry ("... Need a refrigeration repair or
    replacement and drivers to pick up from grocery stores") asked food supply, and a food
    maker "Covers food supply (asked: 'drivers to pick up from grocery stores')". Where the
    drivers pick up is a place, not an ask; food asked is still asked."""
    bend = capabilities.infer_required(
        "Our pantry needs a refrigeration repair and drivers to pick up from grocery stores."
    )
    assert "food_supply" not in bend and "distribution" in bend, bend
    asked = capabilities.infer_required("We need food donations from grocery stores.")
    assert "food_supply" in asked, asked


def test_what_a_class_would_teach_is_not_asked() -> None:
    """Real data walk (2026-12-06): Española's library wants "evening classes so older folks
    can learn to use email, video calls with the doctor, and avoid online scams", and health
    care was asked from "video calls with the doctor": the Office of Career, Technical and
    Adult Education then "covered health services". The items of what is to be learnt are
    taught, not asked; a list after "plus" or a new subject asks again."""
    from matcher.capabilities import infer_required

    library = (
        "The library wants to start evening classes so older folks can learn to use email, "
        "video calls with the doctor, and avoid online scams. We have a room but no laptops."
    )
    parts = evidence.clauses(library)
    told = dict(zip(parts, telling_clauses(library, parts), strict=True))
    assert told["video calls with the doctor"] and told["avoid online scams"]
    assert "healthcare" not in infer_required(library)
    assert "technology" in infer_required(library)  # "no laptops" is still asked
    trades = "Our youth need training in welding, plumbing and carpentry, plus tools and a van."
    assert {"training", "equipment", "distribution"} <= set(infer_required(trades))
    budgeting = "We run classes on budgeting, and need volunteers and funding."
    assert {"volunteers", "funding"} <= set(infer_required(budgeting))


def test_what_classes_are_on_is_taught_not_asked() -> None:
    """T4's Devils Lake need asks "simple classes on telehealth and safe online banking":
    teaching, not health care or banking; "no teacher" asks teaching too."""
    from matcher.capabilities import surely_asked
    from matcher.telling import taught_words

    assert taught_words("simple classes on telehealth and safe online banking") == (
        "simple classes on",
        " telehealth and safe online banking",
    )
    assert taught_words("we need volunteers and a van") == ("we need volunteers and a van", "")
    assert "training" in surely_asked("simple classes on telehealth")
    assert "training" in surely_asked("no laptops and no teacher")
    assert "training" in surely_asked("Parents want workshops on nutrition")
    assert surely_asked("of course we need help") == set()
