"""What a candidate partner offers: the capabilities behind its coverage and its card.

Listed offers count as written, except bare capability labels an importer read from a
description (they count when the profile is about them by meaning too, or when the mission
opens with them, `opens_with`; those its people wrote count as written). Without a list, the
capabilities its mission names by keyword count when the profile is about them by meaning, when
the mission opens with them, or when it names them by a sure word ("low-interest loans",
"credit union": funding; each quoted from the sentence that names it, matcher.quotes). Every
profile adds what its focus areas offer (an industry, a cause) and what the profile as a whole
is about by meaning ("": nothing to quote).
"""

from __future__ import annotations

import re

import numpy as np

from matcher import capabilities
from matcher.catalog import Catalog, Profile
from matcher.domain import PEOPLE_SOURCES, Organisation
from matcher.meaning import OFFER_CONFIRM_THRESHOLD, OFFER_THRESHOLD, CapabilityMeaning
from matcher.quotes import mention_quote


def focus_offers_by_code(
    meaning: CapabilityMeaning | None, phrases: list[str], vectors: np.ndarray
) -> list[dict[str, str]]:
    """Per focus code (phrases[code], vectors[code]; code 0 is none), what it offers."""
    if meaning is None:
        return [{} for _ in phrases]
    return [
        meaning.focus_offers([p], vectors[i : i + 1]) if i else {} for i, p in enumerate(phrases)
    ]


def by_people(org: Organisation) -> bool:
    """Its offers were written by its people (added or edited here, or owned by a key or a
    person), not read from a description by an importer: a bare label ("volunteers") counts
    as written. A food pantry whose admin listed "volunteers" was told it "does not cover:
    volunteers" (real data walk)."""
    return org.owner is not None or bool(PEOPLE_SOURCES & set(org.sources))


# a mission's first words are what it does ("To educate ...", "Training and education of
# ..."), after these, which say only that it does something ("To provide housing ...")
_LEADING = {"to", "provide", "provides", "providing", "offer", "offers", "offering"}
# first words whose capability is seldom what the organisation is for: "To promote healthy
# development" is no campaign
_NOT_WHAT_IT_DOES = ("promot",)
# an item that raises or seeks what it names offers none of it: "We raise money through
# grants for local arts"
_SEEKING = {"raise", "raises", "raising", "seek", "seeks", "seeking", "need", "needs"}
# where the opening's list of what it does ends: "... OF APPRENTICE SHEET METAL WORKERS"
_OPENING_END = re.compile(r"[.;:(]|\s(?:to|for|in|of|with|through|at|by|from|who|that)\s", re.I)
_ITEMS = re.compile(r",|\band\b|\bor\b|&", re.I)
# "programs" names no public programme of its own: "To provide educational programs"
_TOO_GENERAL = {"public_programmes"}
OPENING_WORDS = 12


def _after_name(description: str, name: str) -> list[str]:
    """The description's words after the organisation's name, when it opens with it (as a
    company's does: "United Rentals, Inc., through its subsidiaries, ..." is no rental of
    housing)."""
    words = description.split()
    own = [w for w in (_word(x) for x in name.split()) if w]
    said = [_word(w) for w in words[: len(own)]]
    return words[len(own) :] if own and said == own else words


def _word(w: str) -> str:
    return "".join(c for c in w.lower() if c.isalnum())


def opens_with(description: str, name: str = "") -> set[str]:
    """The capabilities a mission's opening names (after "to" or "provide"): what the
    organisation is for. Its first word, and the head word of each item of the list it opens
    with, read in their item ("refresher courses": training; "child care" names no health
    care). "TRAINING AND EDUCATION OF APPRENTICE SHEET METAL WORKERS", "To educate and empower
    youth ... in the bicycle mechanic ... industries" and "To provide employment referral,
    refresher courses, and certifications" were told they do not cover training: their
    profiles as a whole sit nearer jobs, or bicycles and coffee, than training by meaning (real
    data walk, Gallup; T4)."""
    words = _after_name(description, name)[:OPENING_WORDS]
    while words and words[0].lower() in _LEADING:
        words = words[1:]
    if not words or words[0].lower().startswith(_NOT_WHAT_IT_DOES):
        return set()
    found = capabilities.capabilities_in(words[0])
    opening = _OPENING_END.split(" " + " ".join(words) + " ", maxsplit=1)[0]
    for item in _ITEMS.split(opening):
        said = item.lower().split()
        if not said or said[-1].startswith(_NOT_WHAT_IT_DOES) or set(said) & _SEEKING:
            continue
        found |= capabilities.capabilities_in(item) & capabilities.capabilities_in(said[-1])
    return found - _TOO_GENERAL


def _quoted(prof: Profile) -> dict[str, str]:
    """Its offers: as listed, or (read from its mission) each quoted from the sentence that
    names it (matcher.quotes.mention_quote: never a clause cut where it reads as whole)."""
    if not prof.offers_inferred:
        return dict(prof.offers)
    return {k: mention_quote(prof.org.description, k) for k in prof.offers}


def partner_offers(
    catalog: Catalog,
    meaning: CapabilityMeaning | None,
    focus_offers: list[dict[str, str]],
    positions: np.ndarray,
) -> list[dict[str, str]]:
    """Capability -> phrase, for each catalog position (keywords only without `meaning`)."""
    if meaning is None or positions.size == 0:
        return [_quoted(catalog.profile(p)) for p in positions.tolist()]
    sims = meaning.similarity(catalog.vectors[positions])
    keys = meaning.keys_
    out = []
    for row, pos in zip(sims, positions.tolist(), strict=True):
        prof = catalog.profile(pos)

        def about(key: str, row: np.ndarray = row) -> bool:
            return key in keys and row[keys.index(key)] >= OFFER_CONFIRM_THRESHOLD

        opening = opens_with(prof.org.description, prof.org.name)
        if prof.org.offers:
            written = by_people(prof.org)
            offers = {
                k: phrase
                for k, phrase in prof.offers.items()
                if written or phrase.lower() != capabilities.label(k) or about(k) or k in opening
            }
            for cap in opening & offers.keys():
                bare = offers[cap].lower() == capabilities.label(cap)
                if bare and not written and not about(cap):
                    # counted for the words the mission opens with: quoted from them
                    offers[cap] = mention_quote(prof.org.description, cap)
            if all(p.lower() == capabilities.label(k) for k, p in prof.offers.items()):
                # only bare labels, an importer's reading: they do not hide what its own words
                # surely name (JPMorgan's "lending products" are funding; its listed "data and
                # research" was all it offered, and was not counted: real data walk)
                text = prof.org.description
                for key in capabilities.surely_named(text):
                    offers.setdefault(key, mention_quote(text, key))
        else:
            text = prof.org.description
            sure = capabilities.surely_named(text)  # "makes low-interest loans": funding
            offers = {
                k: mention_quote(text, k)
                for k in prof.offers
                if about(k) or k in sure or k in opening
            }
        for code in catalog.focus_codes_[pos].tolist():
            if code and code < len(focus_offers):
                for k, phrase in focus_offers[code].items():
                    offers.setdefault(k, phrase)
        for k in np.flatnonzero(row >= OFFER_THRESHOLD).tolist():
            offers.setdefault(keys[k], "")
        out.append(offers)
    return out
