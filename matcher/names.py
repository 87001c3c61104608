"""Organisation names as a page shows them: a name written all in capitals (as the IRS files
write many: "GREAT FALLS COMMUNITY FOOD BANK INC") in title case, acronyms kept ("YMCA OF
HONOLULU" is "YMCA of Honolulu"); any other name as it is. The stored name is never changed:
the API gives it as it was loaded."""

from __future__ import annotations

import re

# acronyms common in organisation names, kept in capitals (besides words without a vowel)
ACRONYMS = frozenset(
    {
        *("YMCA", "YWCA", "YMHA", "USA", "US", "NAACP", "AARP", "VFW", "AMVETS", "DAV", "PTA"),
        *("PTO", "PTSA", "LLC", "LLP", "PC", "II", "III", "IV", "VI", "AIDS", "HIV", "ESL"),
        *("STEM", "LGBT", "LGBTQ", "USDA", "HUD", "FEMA", "NASA", "EMS", "ARC", "UAW", "AFL"),
        # not CASA, NA or AIDS: "La Casa", Hawaiian "Nā" and "Adaptive Aids" read wrongly
        *("CIO", "BSA", "FFA", "NAMI", "AA", "ALS", "ADA", "UN", "UNICEF", "IBM", "NRA"),
        *("AOAO", "HIV/AIDS", "YWCA", "PBS", "NPR", "SNAP-ED"),
        *("4-H", "AFSCME", "SEIU", "IBEW", "NFL", "NBA", "MLB", "NCAA", "CEO", "RV", "TV"),
    }
)
# short words in lower case inside a name ("Friends of the Library")
MINOR = frozenset(
    {"of", "the", "and", "for", "in", "on", "at", "to", "a", "an", "by", "with", "or", "de"}
)
# abbreviations written with one capital ("St Vincent de Paul", "Mt Hood", "Inc")
TITLE_ABBREVIATIONS = frozenset(
    {"st", "mt", "ft", "dr", "jr", "sr", "ctr", "svcs", "bros", "ltd", "mgmt", "dept"}
)
# "aids" after these is a plural ("Adaptive Aids", "Hearing Aids"), not the disease
AIDS_AS_PLURAL_AFTER = frozenset(
    {"adaptive", "hearing", "teaching", "visual", "mobility", "living", "learning", "walking"}
)
SHOUTED_SHARE = 0.8  # of a name's letters in capitals: it is written in capitals
_VOWELS = frozenset("aeiouy")
_EDGE = re.compile(r"^([^\w]*)(.*?)([^\w]*)$", re.S)


def _word(word: str, first: bool, before: str = "") -> str:
    lead, core, tail = _EDGE.match(word).groups()  # type: ignore[union-attr]
    if not core:
        return word
    if core.lower() == "aids" and before.lower().strip(",.") in AIDS_AS_PLURAL_AFTER:
        return lead + "Aids" + tail
    if any(c.isdigit() for c in core):  # "3M", "4-H", "21ST": as written
        return word
    if core.lower() in TITLE_ABBREVIATIONS:
        return lead + core[:1].upper() + core[1:].lower() + tail
    if core.upper() in ACRONYMS or (
        core.isalpha() and len(core) > 1 and not (_VOWELS & set(core.lower()))
    ):
        return lead + core.upper() + tail
    if not first and core.lower() in MINOR:
        return lead + core.lower() + tail
    parts = re.split(r"([-'’/])", core.lower())
    cased = [p[:1].upper() + p[1:] if p not in "-'’/" else p for p in parts]
    # "o'brien": the part after a one-letter prefix is capitalised, "children's" is not
    for i in range(2, len(cased), 2):
        if parts[i - 1] in "'’" and len(parts[i - 2]) > 1:
            cased[i] = parts[i]
    joined = "".join(cased)
    if len(joined) > 3 and joined.startswith("Mc") and joined[2].isalpha():  # McDonald
        joined = "Mc" + joined[2].upper() + joined[3:]
    return lead + joined + tail


def readable_name(name: str) -> str:
    """`name` in title case when it is written in capitals, else as it is (a one-word name too:
    "NAMI", "AARP" and "ACME" look alike)."""
    letters = [c for c in name if c.isalpha()]
    if not letters or sum(c.isupper() for c in letters) < SHOUTED_SHARE * len(letters):
        return name
    if len(name.split()) == 1:
        return name
    words = name.split()
    return " ".join(_word(w, i == 0, words[i - 1] if i else "") for i, w in enumerate(words))


# words a name's key leaves out: joining words, and "United States" (linkage of federal bodies)
_STOP = frozenset(
    [
        "the",
        "of",
        "for",
        "on",
        "and",
        "a",
        "an",
        "in",
        "to",
        "at",
        "us",
        "u",
        "s",
        "united",
        "states",
    ]
)
# company suffixes: "Olneyville Tenants Union, Inc." is "Olneyville Tenants Union"
_LEGAL = frozenset(["inc", "incorporated", "llc", "ltd", "co", "corp", "plc", "lp", "llp"])


def words(text: str) -> list[str]:
    """The content words of a name, lower-cased ("&" as "and", possessive "'s" dropped)."""
    text = text.lower().replace("&", " and ").replace("\u2019", "'")
    return [w for w in re.findall(r"[a-z0-9]+", text.replace("'s", "")) if w not in _STOP]


def canonical(name: str, *, legal: bool = False) -> str:
    """Lower-case content words in sorted order; with `legal`, company suffixes dropped too."""
    ws = [w for w in words(name) if not (legal and w in _LEGAL)]
    return " ".join(sorted(ws))


# a name typed as its initials ("FEMA", "HUD"): letters only, this long
ACRONYM_LETTERS = (2, 6)


def initials(name: str) -> str:
    """The capital initials of a name's content words ("Federal Emergency Management Agency":
    FEMA; "Housing and Urban Development Department": HUDD)."""
    return "".join(w[0] for w in words(name) if w[0].isalpha()).upper()


def as_acronym(typed: str) -> str | None:
    """`typed` as the initials of a name (upper case), or None when it cannot be one."""
    t = typed.strip().replace(".", "")
    low, high = ACRONYM_LETTERS
    return t.upper() if low <= len(t) <= high and t.isascii() and t.isalpha() else None
