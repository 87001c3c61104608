"""Which parts of a need ask for something and which only tell the problem.

A need often opens with the problem ("Parents in Honolulu wait a year for a spot in infant
care, and some have had to quit their jobs.") and then asks ("We want to open a child care
center and need start-up funding ..."). Words of the problem name capabilities too ("jobs"),
and read as asks they gave the need asks no one made: a card said "Does not cover: jobs" and
the coalition a gap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# words that say a sentence asks for something ("we need", "we're looking for", "wants to
# open", "help with"); a sentence without any only tells the problem
_ASKING = re.compile(
    r"\b(?:needs?|needed|want|wants|wanted|like|looking|seek|seeks|seeking|ask|asks|asking|"
    r"request|requests|hope|hopes|plan|plans|starting|recruit|help|calls? for|require|requires|"
    r"would|could use)\b"
    # what the group lacks ("We have a room but no laptops and no teacher" asked nothing:
    # helper's walk, 2026-12-06)
    r"|\bwe\s+(?:have\s+no|lack|don't\s+have|do\s+not\s+have|have\s+(?:\S+\s+){1,3}?but\s+no)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# a clause that says what the group itself is or does ("We run a homeless shelter", "Our
# pantry serves 300 families", "We are a small food pantry"): its work, not what it asks.
# Not "we run out of / short of / low on" (a lack: an ask).
_ITSELF = re.compile(
    r"^(?:we|our\s+(?:[a-z'-]+\s+){0,2}?[a-z'-]+)\s+(?:already\s+|currently\s+|also\s+|now\s+)?"
    r"(?:(?:runs?|ran)\b(?!\s+(?:out|short|low)\b)|have\b(?!\s+(?:no|nothing|none|to)\b)|"
    r"(?:operates?|manages?|provides?|offers?|"
    r"serves?|hosts?|coordinates?|organi[sz]es?|delivers?|distributes?)\b|"
    r"(?:are|is)\s+(?:an?|the)\b)",
    re.IGNORECASE,
)


# the group naming itself as the subject of its ask ("Our food bank needs volunteers"): the
# words between "our" and the verb that asks
# and where it is ("Our youth job programme in Portland, Oregon needs employers" asked
# jobs and public programmes from its own name: real data walk); capitalised names only
_ASKER_PLACE = r"(?:(?:in|at|from)\s+(?-i:(?:[A-Z][\w.'’-]*,?\s+){1,4}))?"
# the verb that asks, or that says what the group cannot do without help ("Our rural clinic
# in Burns, Oregon cannot recruit nurses" asked health care from "Our rural clinic": real
# data walk, 2026-12-06)
_ASKER_VERB = (
    r"(?:needs?|wants?|seeks?|requires?|lacks?|(?:is|are)\s+looking|could\s+use|would\s+like|"
    r"cannot|can't|can\s+not|(?:is|are)\s+struggling\s+to|struggles?\s+to)\b"
)
# a group named without "our" by what it is ("Rural clinics need broadband and telehealth
# equipment" quoted "Rural clinics need broadband" as its ask for health care: real data walk)
_KIND_OF_GROUP = (
    r"(?:clinics?|schools?|shelters?|pantry|pantries|food\s+banks?|libraries|library|"
    r"hospitals?|churches|church|(?:community|senior|youth)\s+cent(?:er|re)s?)"
)
_ASKER = re.compile(
    r"^(?:(?:our|my|the)\s+((?:[a-z'-]+\s+){0,4}?" + _ASKER_PLACE + r")"
    r"|((?:[a-z'-]+\s+){0,2}?" + _KIND_OF_GROUP + r"\s+" + _ASKER_PLACE + r"))" + _ASKER_VERB,
    re.IGNORECASE,
)


def asker_words(part: str) -> tuple[str, str]:
    """(the words by which a clause names the group asking, the rest of the clause): ("food
    bank ", "needs volunteers") for "Our food bank needs volunteers"; ("", the clause) when it
    names none. The first say what the group is, not what it asks: "Our food bank needs
    volunteers and a forklift" asked food supply, "Our homeless shelter needs volunteers"
    housing (real data walk)."""
    text = part.strip()
    found = _ASKER.match(text)
    if found is None:
        return "", text
    group = 1 if found.group(1) is not None else 2
    return found.group(group), text[found.end(group) :]


# where or for whom the help is asked ("for the shelter", "at our food bank", "staff the
# cooling center"): a place or group named after one of these and a determiner. Not after
# "run" or "operate": "We want to run a food rescue route" asks food (T4's Portland need)
_WHERE = re.compile(
    r"(?<![a-z])(?:(?:for|at|in|inside|staff|staffing)\s+"
    r"(?:a|an|the|our|my|this|that|their|its)\s+"
    # or the people it is for, named without a determiner ("legal advice for renters facing
    # eviction" asked housing, and an apartment company joined for it: real data walk)
    r"|for\s+(?=(?:renters|tenants|homeowners|landlords|families|seniors|veterans|students|"
    r"immigrants|refugees|residents|patients|survivors|workers|farmers|neighbors|neighbours)\b)"
    # or where a pick-up is made ("drivers to pick up from grocery stores" asked food supply
    # of Bend's pantry, whose freezer had died: helper's walk, 2026-12-06)
    r"|(?:pick\s+up|picks\s+up|picking\s+up|pickups?)\s+from\s+(?:(?:a|an|the|our|local)\s+)?)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9'\u2019&/-]+", re.IGNORECASE)
# words that end the name of such a place or group
_NAME_ENDS = frozenset(
    {
        *("and", "or", "but", "to", "with", "so", "that", "which", "who", "because", "during"),
        *("this", "on", "at", "for", "in", "of", "after", "before", "where", "when", "while"),
        *("by", "from", "need", "needs", "is", "are", "was", "were", "will", "can", "could"),
        *("has", "have", "lacks", "wants", "every", "each", "next", "last"),
    }
)


def place_words(part: str) -> tuple[str, str]:
    """(the names of the places or groups a clause asks for, the rest of the clause):
    ("shelter", "We need hygiene supplies for the ") for "We need hygiene supplies for the
    shelter"; several names are joined by " ; ". A
    place or group the help is for, or where it works ("Volunteers will staff the cooling
    center"), is not itself asked: those clauses asked housing and space (real data walk). At
    most four words a name, up to a word that ends it ("and", "to", "during", ...)."""
    names: list[str] = []
    rest: list[str] = []
    at = 0
    for found in _WHERE.finditer(part):
        if found.start() < at:
            continue
        rest.append(part[at : found.end()])
        at = found.end()
        for taken, word in enumerate(_WORD.finditer(part, at)):
            gap = part[at : word.start()]
            if taken == 4 or word.group().lower() in _NAME_ENDS or gap.strip():
                break
            at = word.end()
        names.append(part[found.end() : at])
    rest.append(part[at:])
    return " ; ".join(n for n in names if n.strip()), "".join(rest)


def describes_itself(part: str) -> bool:
    """Whether a clause says what the group is or does, asking nothing ("We run a homeless
    shelter" asks no housing; "We run a program that needs mentors" asks)."""
    return bool(_ITSELF.match(part.strip())) and not _ASKING.search(part)


def telling_clauses(text: str, parts: Sequence[str]) -> list[bool]:
    """For each clause of `text` (`parts`, as `clauses` cut them), whether it only tells:
    - the problem: it is in a sentence that asks for nothing, while another sentence of the
      need does ("Parents ... wait a year for a spot, and some have had to quit their jobs. We
      want to open a child care center and need ..." asks no jobs);
    - or the group's own work (`describes_itself`: "We run a homeless shelter and need
      volunteers" asked housing), while another clause may ask;
    - or what a class it wants would teach (`_taught`: "classes so older folks can learn to
      use email, video calls with the doctor, and avoid online scams" asked health care).
    All False when no clause is left to ask: then any clause may be an ask."""
    told = _in_telling_sentences(text, parts)
    taught = _taught(text, parts)
    both = [t or describes_itself(p) or k for t, p, k in zip(told, parts, taught, strict=True)]
    return told if all(both) else both


# a clause saying what people would learn: the list after it is what is taught
_LEARNING = re.compile(
    r"\b(?:learn(?:s|ing)?\s+(?:how\s+)?to|(?:classes|lessons|workshops?|courses?|training)"
    r"\s+(?:on|in|about)|teach(?:es|ing)?\s+(?:\S+\s+){0,3}?(?:how\s+to|to|about))\b",
    re.IGNORECASE,
)
_LIST_ENDS = re.compile(
    r"[.!?;:]\s|(?:\band\s+)?\b(?:plus|also|as well as|besides)\b", re.IGNORECASE
)
_NEW_SUBJECT = re.compile(r"^(?:and\s+|but\s+)?(?:we|our|they|their|us|i)\b", re.IGNORECASE)


def taught_words(part: str) -> tuple[str, str]:
    """(the clause up to the words saying what people would learn, what they would learn):
    ("simple classes on", "telehealth and safe online banking"); (part, "") when it says
    none. What is taught is not asked: classes on telehealth ask teaching, not health care."""
    found = _LEARNING.search(part)
    if found is None:
        return part, ""
    return part[: found.end()], part[found.end() :]


def _taught(text: str, parts: Sequence[str]) -> list[bool]:
    """Per clause, whether it is an item of a list of what is to be learnt: it follows, in
    the same sentence, a clause that says what people would learn ("... learn to use email"),
    with no word of asking and no subject of its own between ("video calls with the doctor",
    "and avoid online scams"; not "and need volunteers", not "we also need a van")."""
    out = [False] * len(parts)
    learning = False
    at = 0
    for i, part in enumerate(parts):
        found = text.find(part, at)
        if found < 0:
            learning = False
            continue
        if learning and (_LIST_ENDS.search(text[at:found]) or _LIST_ENDS.match(part)):
            learning = False  # a new sentence, or another list ("..., plus tools and a van")
        at = found + len(part)
        if learning and not _ASKING.search(part) and not _NEW_SUBJECT.search(part):
            out[i] = True
            continue
        learning = bool(_LEARNING.search(part))
    return out


def _in_telling_sentences(text: str, parts: Sequence[str]) -> list[bool]:
    """The sentence rule of `telling_clauses`: all False when no sentence, or every sentence,
    asks."""
    sentences = [x for x in _SENTENCE.split(text) if x.strip()]
    asking = [bool(_ASKING.search(x)) for x in sentences]
    if len(sentences) < 2 or all(asking) or not any(asking):
        return [False] * len(parts)
    out = []
    for part in parts:
        at = next((i for i, x in enumerate(sentences) if part in x), None)
        out.append(at is not None and not asking[at])
    return out
