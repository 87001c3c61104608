"""What a gift gives: goods or money, read from the words next to a word of giving.

"food donations", "donated laptops", "in-kind donations of furniture", "donations of school
supplies" give goods; "donations", "monetary donations", "donations to our fund", "donors" give
money. The word before the gift says it ("food donations", "laptops donated by local firms");
else one of the few words after a verb ("donated laptops", "donating surplus produce", "donate
their time") or after a noun's "of" ("donations of gently used clothing"), before a word that
ends what is given ("donated to food banks"). A gift that does not say what it gives
("donations help us feed families") gives money.

Words naming goods in general (items, merchandise, toys, books) are listed here, with some the
vocabulary also reads (clothing, furniture: its "goods"); `matcher.capabilities` reads the
vocabulary's own words (food, laptops, supplies).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# goods, read singular ("laptops" as "laptop")
GOODS_WORDS = frozenset(
    {
        "in-kind",
        "inkind",
        "goods",
        "item",
        "product",
        "merchandise",
        "property",
        "clothing",
        "clothes",
        "coat",
        "shoe",
        "furniture",
        "household",
        "appliance",
        "book",
        "textbook",
        "backpack",
        "toy",
        "diaper",
        "nappies",
        "blanket",
        "toiletries",
        "hygiene",
        "computer",
        "vehicle",
        "car",
        "bike",
        "bicycle",
        "gear",
        "supply",
        "medicine",
        "medication",
        "blood",
        "plasma",
        "organ",
        "marrow",
    }
)
# given in kind, read after a gift only ("volunteers donate their time"; "first time donors")
GIVEN_TIME = frozenset({"time", "hour", "service", "skill"})
MONEY_WORDS = frozenset({"monetary", "cash", "financial", "money", "dollar", "cheque", "check"})
# handled by hand, read before a gift only: "volunteers to sort donations" are goods (a food
# bank's need read as asking funding, real data walk)
HANDLED = frozenset(
    {"sort", "sorting", "unload", "unloading", "shelve", "shelving", "stack", "stacking"}
    | {"haul", "hauling", "carry", "carrying", "lift", "lifting", "box", "boxing", "pack"}
    | {"packing", "bag", "bagging", "store", "storing", "warehouse", "warehousing"}
)
# words after a gift that end what is given ("donated to food banks" gives money)
STOPS = frozenset(
    {"to", "for", "from", "by", "toward", "towards", "and", "or", "at", "through", "via", "on"}
    | {"with", "that", "which", "who", "so", "because", "in", "is", "are", "was", "were"}
)
NOUNS = ("donation", "donor")  # gifts that say what they give after an "of"
READS = 4  # words read after a gift ("donated 2 tonnes of food"; a noun's after its "of")
_WORD_BEFORE = re.compile(r"(?<![a-z'-])([a-z][a-z'-]*)[\s-]+$")
_WORD_END = re.compile(r"[a-z]*")
_TEXT_END = re.compile(r"[,;:!?()\n]|\.(?:\s|$)")


def given(word: str, *, after: bool) -> str | None:
    """ "goods", "money" or None (not said by these lists): what a word next to a gift says it
    gives (`after`: the word follows the gift)."""
    word = word.strip("\"'.")
    if any(c in word for c in "$£€"):
        return "money"
    forms = {word, word.removesuffix("'s"), word.removesuffix("s")}
    if forms & MONEY_WORDS:
        return "money"
    if forms & GOODS_WORDS or (after and forms & GIVEN_TIME) or (not after and word in HANDLED):
        return "goods"
    return None


def said_of(text: str, start: int) -> Iterator[tuple[str, bool]]:
    """The words of `text` (lowercase) that may say what the gift at `start` gives, in the
    order they are read, each with whether it follows the gift: the word before it, then the
    few after (after "of" for a noun; "in kind" is read as "in-kind")."""
    before = _WORD_BEFORE.search(text[max(0, start - 40) : start])
    if before is not None:
        yield before.group(1), False
    gift = _WORD_END.match(text, start)
    end = gift.end() if gift else start
    stop = _TEXT_END.search(text, end)
    words = text[end : stop.start() if stop else len(text)].split()
    if text[start:end].startswith(NOUNS):
        if words[:2] == ["in", "kind"]:
            yield "in-kind", True
            return
        if words[:1] != ["of"]:
            return  # "donations help us feed families": what they give is not said
        words = words[1:]
    for word in words[:READS]:
        if word in STOPS:
            return
        yield word, True
