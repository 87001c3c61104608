"""Short quotes for reasons: a need's clause, a partner's offer, a programme's title.

A quote is either whole (a listed offer, a clause, a sentence short enough) or cut at a word
boundary and marked with an ellipsis, so a cut never reads as a complete statement ("Our mission
is to meet the nutritional" was a mission cut at its "and"). An offer read from a mission is
quoted from the sentence that names it, its opening boilerplate ("Our mission is to", "The
organization is dedicated to") left out when the rest still names the offer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from matcher.capabilities import capabilities_in, surely_named

MAX_QUOTE_WORDS = 8
ELLIPSIS = "..."
_ELLIPSES = frozenset({"...", "\u2026"})
# words a cut quote does not end on: "needs of ..." reads worse than "needs ..."
_FUNCTION_WORDS = frozenset(
    {
        *("a", "an", "the", "of", "to", "in", "into", "for", "and", "or", "nor", "but"),
        *("with", "by", "on", "at", "from", "as", "its", "their", "our", "his", "her"),
        *("is", "are", "was", "were", "be", "that", "which", "who", "whose", "this"),
        *("these", "those", "such"),
    }
)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_CLAUSE_END = (",", ";", ":")
# The opening of a mission statement that says nothing of what it does: the rest is quoted.
_SUBJECT = r"(?:[^.;:]{0,60}?\s)?"
_BOILERPLATE = re.compile(
    r"^(?:" + _SUBJECT + r"(?:mission|purpose|vision|goal|aim|objective)s?(?:\s+statement)?"
    r"(?:\s+(?:of|for)\s[^.;:]{0,80}?)?\s+(?:is|are|shall\s+be|will\s+be)\s+(?:to\s+)?"
    r"|" + _SUBJECT + r"(?:is|are)\s+(?:dedicated|committed|devoted)\s+to\s+"
    r"|" + _SUBJECT + r"exists\s+(?:to|for)\s+"
    r"|" + _SUBJECT + r"(?:was|is)\s+(?:founded|formed|established|organi[sz]ed|created)\s+"
    r"(?:exclusively\s+)?(?:to|for\s+the\s+purposes?\s+of)\s+"
    r"|(?:mission|purpose)\s*[:\-]\s*"
    r")",
    re.IGNORECASE,
)


def _unshouted(text: str) -> str:
    """All-capitals text in sentence case; other text as it is."""
    letters = sum(map(str.isalpha, text))
    if letters and sum(map(str.isupper, text)) > 0.6 * letters:
        text = text.lower()
        text = text[:1].upper() + text[1:]
    return text


def _trimmed_tail(words: list[str], keep: int = 1) -> list[str]:
    """`words` without the function words and clause punctuation a cut leaves at their end
    (at least `keep` words stay)."""
    out = list(words)
    while len(out) > keep and (_is_function_word(out[-1]) or not out[-1].strip(",;:-")):
        out.pop()
    if out:
        out[-1] = out[-1].rstrip(",;:-")
    return out


# the same names, clauses and missions are quoted request after request (46 quotes a
# recommendation at 100k): each is shortened once
@lru_cache(maxsize=32_768)
def short_phrase(text: str, max_words: int = MAX_QUOTE_WORDS) -> str:
    """A short, readable quote: the text when it has at most `max_words` words (an ellipsis it
    already has is not a word), else its first words, not ending on a function word, and " ...";
    not shouted (all-capitals text is put in sentence case)."""
    words = text.split()
    if sum(w not in _ELLIPSES for w in words) <= max_words:
        return _unshouted(" ".join(words))
    kept: list[str] = []
    count = 0
    for w in words:
        if count == max_words:
            break
        kept.append(w)
        count += w not in _ELLIPSES
    return _unshouted(" ".join(_trimmed_tail(kept)) + " " + ELLIPSIS)


def without_boilerplate(sentence: str, key: str | None = None) -> str:
    """The sentence without a mission statement's opening ("Our mission is to meet ..." ->
    "meet ..."), when two words or more are left and they still name capability `key`."""
    m = _BOILERPLATE.match(sentence)
    if not m:
        return sentence
    rest = sentence[m.end() :].strip()
    if len(rest.split()) < 2 or (key is not None and key not in capabilities_in(rest)):
        return sentence
    return rest


def _mention_at(
    words: list[str], key: str, names: Callable[[str], set[str]] = capabilities_in
) -> int:
    """The index of the first word that `names` capability `key`, else of the first two words
    that do ("heat pump"); 0 when none does."""
    for i, word in enumerate(words):
        if key in names(word):
            return i
    for i in range(len(words) - 1):
        if key in names(" ".join(words[i : i + 2])):
            return i
    return 0


def _is_function_word(word: str) -> bool:
    return word.strip(",;:-").lower() in _FUNCTION_WORDS


def _around(
    sentence: str, key: str, max_words: int, names: Callable[[str], set[str]] = capabilities_in
) -> str:
    """At most `max_words` words of one sentence around its mention of `key`: from the
    sentence's (or a clause's) start when the mention is near it, with an ellipsis wherever
    the quote stops inside the sentence; a cut end stops before a function word close to it
    ("raise funds for town services ...", not "... services for young ...")."""
    body = without_boilerplate(sentence.strip().rstrip(".!?;:, "), key)
    words = body.split()
    if len(words) <= max_words:
        return _unshouted(body)
    at = _mention_at(words, key, names)
    start = 0
    if at > max_words - 3:  # not near the start: two words before it, or its clause's start
        start = at - 2
        for j in range(at - 1, max(0, at - 5) - 1, -1):
            if j > 0 and words[j - 1].endswith(_CLAUSE_END):
                start = j
                break
    end = min(len(words), start + max_words)
    if end == len(words):
        start = min(start, max(0, end - max_words))
    while start < at and start > 0 and _is_function_word(words[start]):
        start += 1  # "... families find shelter", not "... and families find shelter"
    quoted = words[start:end]
    mention = at - start
    cut_tail = end < len(words)
    if cut_tail:
        for j in range(len(quoted) - 1, max(mention, len(quoted) - 4), -1):
            if _is_function_word(quoted[j]):
                quoted = quoted[:j]
                break
        quoted = _trimmed_tail(quoted, keep=mention + 1)
    cut_head = start > 0 and not words[start - 1].endswith(_CLAUSE_END)
    text = " ".join(quoted)
    return _unshouted(
        (ELLIPSIS + " " if cut_head else "") + text + (" " + ELLIPSIS if cut_tail else "")
    )


# the verb of an ask: a long clause read by meaning is quoted from it ("... need air purifiers
# and a cooling center"), not cut before it ("During heat waves our seniors in Phoenix need
# ...", real data walk)
_ASK_VERB = re.compile(
    r"^(?:needs?|needed|wants?|seeks?|seeking|requires?|lacks?|looking|asks?|asking)$",
    re.IGNORECASE,
)


# words after which "need" or "want" is a noun, not the verb of an ask
_BEFORE_A_NOUN = frozenset(
    {"in", "the", "a", "an", "our", "their", "its", "his", "her", "of", "greatest", "special"}
)


def ask_quote(clause: str, max_words: int = MAX_QUOTE_WORDS) -> str:
    """A quote of a clause that asks for something by its meaning, not by a word: the whole
    clause when short, else from its verb of asking when the words before it would fill most of
    the quote, else its start (`short_phrase`)."""
    body = clause.strip().rstrip(".!?;:, ")
    words = body.split()
    if len(words) <= max_words:
        return short_phrase(body, max_words)
    verb = next(
        (
            i
            for i, w in enumerate(words)
            if _ASK_VERB.match(w.strip(",;:"))
            and not (i and words[i - 1].lower() in _BEFORE_A_NOUN)  # "neighbours in need"
        ),
        None,
    )
    if verb is None or verb < max_words // 2:
        return short_phrase(body, max_words)
    start = min(verb, len(words) - max_words)  # a short ask keeps the words before it
    while start < verb and _is_function_word(words[start]):
        start += 1
    return short_phrase(ELLIPSIS + " " + " ".join(words[start:]), max_words)


def mention_quote(text: str, key: str, max_words: int = MAX_QUOTE_WORDS) -> str:
    """A quote of `text` (a mission, a description) for capability `key`: the words around its
    first mention, from the sentence that makes it (see `_around`); the text shortened when no
    sentence names it. A sentence naming it by a sure word (`capabilities.surely_named`) comes
    first: a bank's "Covers funding with its offer" quoted its name, "Citizens Financial Group,
    Inc", and a payroll firm's "human capital management solutions", not their "business
    loans" (real data walk)."""
    sentences = _SENTENCE.split(text)
    for sentence in sentences:
        if key in surely_named(sentence):
            return _around(sentence, key, max_words, surely_named)
    for sentence in sentences:
        if key in capabilities_in(sentence):
            return _around(sentence, key, max_words)
    return short_phrase(without_boilerplate(text.strip()), max_words)
