"""How a need is read before ranking: its topic (place words are location, not topic), its
sentences, the capabilities it requires, how much cause agreement weighs for it, and the
`NeedReading` a caller keeps to rank the same need again without embedding it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from matcher import capabilities, glossary, places
from matcher.asker_names import without_asker_names
from matcher.domain import Need
from matcher.group_gives import without_money_given
from matcher.sought_words import without_sought_words

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


# A query whose most likely cause has at least CAUSE_CONFIDENT probability is clearly about it;
# below CAUSE_DIFFUSE its causes are diffuse.
CAUSE_CONFIDENT = 0.6
CAUSE_DIFFUSE = 0.3


def cause_weight(configured: float, query_dist: np.ndarray | None) -> float:
    """The weight of cause-space agreement for one query: full when the query is clearly about
    one cause (a cause's own definition: median top probability 0.91 over NTEE definitions), a
    third when its causes are diffuse (a community group's free-text need: median 0.15 over the
    T4 dev needs). Measured: T4 dev nonprofit P@5 0.375 at the full 0.45, 0.417 at 0.15."""
    if query_dist is None or query_dist.size == 0:
        return configured
    top = float(query_dist.max())
    confidence = (top - CAUSE_DIFFUSE) / (CAUSE_CONFIDENT - CAUSE_DIFFUSE)
    return configured * min(1.0, max(1.0 / 3.0, confidence))


def split_sentences(text: str) -> list[str]:
    """The sentences of a text with more than one; [] for a single sentence."""
    parts = [p.strip() for p in _SENTENCE_END.split(text) if len(p.strip()) > 3]
    return parts if len(parts) > 1 else []


def topic_text(need: Need) -> str:
    """The need's text without the words that name places (its own place, places of its state,
    "Dover, DE"), its writer's own organisation ("I work for Nike": `matcher.asker_names`),
    the partners it seeks ("find nonprofits": `matcher.sought_words`) or the money it gives
    ("we want to fund": `matcher.group_gives`): what is embedded and matched by words, so a
    place is location, and who asks, who is sought and what is given no topic."""
    text = places.topic_text(need.text, places.place_of(need))
    return without_money_given(without_sought_words(without_asker_names(text)))


def query_text(need: Need) -> str:
    """What is embedded and matched by words for a need: its `topic_text`, benefit acronyms
    glossed (`matcher.glossary`: "SNAP (food stamps)")."""
    return glossary.expand(topic_text(need))


def reasons_need(need: Need, topic: str | None = None) -> Need:
    """The need as reasons read it: place words are location, not topic, so "shared terms"
    leave them out (`topic`: its `topic_text` or `query_text`, when the caller has it; a gloss
    the group did not write is never a shared term)."""
    topic = topic_text(need) if topic is None else glossary.unexpand(topic)
    return need if topic == need.text else need.model_copy(update={"text": topic})


def quote_core(quote: str) -> str:
    """A quoted ask as compared with the need's words: lower case, without the "..." of a cut
    and the punctuation at its ends."""
    core = quote.strip().strip(".").strip().lower()
    return core.removeprefix("...").removesuffix("...").strip(" .,;:")


def _asked_in(item: str) -> set[str]:
    """The capabilities one item of listed help names: as in a profile, and by the words sure
    only in asks ("help enrolling people in SNAP" named none, and was said back as unread)."""
    return capabilities.capabilities_in(item) | capabilities.surely_asked(item)


def listed_help(need: Need) -> dict[str, str]:
    """The need's listed required help that names a capability, mapped to its keys."""
    out: dict[str, str] = {}
    for item in need.required_capabilities:
        for key in sorted(_asked_in(item)):
            out.setdefault(key, item if item != key else capabilities.label(key))
    return out


def unread_help(need: Need) -> list[str]:
    """The need's listed required help that names no capability ("asdf", "a miracle"): never
    an ask no one could cover (it made every coalition fall short and read as a gap no
    organisation fills, real data walk), but said back so the group can name it otherwise."""
    return [item for item in need.required_capabilities if not _asked_in(item)]


def required_capabilities(need: Need) -> dict[str, str]:
    """Listed required help (mapped to keys), else, when none of it names a capability, what
    the text asks for."""
    return listed_help(need) or capabilities.infer_required(need.text)


@dataclass(frozen=True)
class NeedReading:
    """What `top` reads from a need's text with the current model and corpus mean: its query
    vector, its clause vectors and the capabilities it requires. A caller that ranks the same
    need again and again (the alert worker) keeps it and hands it back instead of embedding the
    text each time; `key` names the model and mean it was made under (see `reading_key`)."""

    key: str
    query: np.ndarray
    clauses: np.ndarray
    required: dict[str, str]
