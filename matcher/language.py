"""Whether a need is written in words the embedding model knows.

The model (all-MiniLM-L6-v2) reads English: "asdf qwer zxcv" got a full coalition at a score
of 0.89, and "banco de alimentos" Fifth Third Bancorp and Wells Fargo, with nothing to say the
answer rests on little (found walking the page on real data). `Vocabulary.mostly_unknown`
gives the words of a text the model's own vocabulary lacks (its WordPiece list of whole words,
with English plural and verb endings taken off) when they are most of its words.

The list is the model's, not a dictionary: some English words are missing from it ("dialysis",
"eviction", "telehealth"), so only a need of which more than half the words are unknown is
flagged, and the answer is still given, with a notice.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

_WORD = re.compile(r"[^\W\d_]+")
_ENDINGS = ("s", "es", "ed", "d", "ing", "ly")
MIN_LETTERS = 3  # shorter words ("de", "la", "of") say little about the language
MIN_WORDS = 2  # one unknown word alone is a name or a term, not a language
UNKNOWN_SHARE = 0.5  # more than this share of the words unknown: flagged
MAX_SHOWN = 12  # tokens of a text without words, at most


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=4)
def _vocabulary(path: Path) -> frozenset[str]:
    words = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(w for w in words if w.isalpha())


class Vocabulary:
    """The whole words of a WordPiece vocabulary file (one token a line)."""

    def __init__(self, path: Path) -> None:
        self.words = _vocabulary(path)

    @classmethod
    def of_model(cls, model_dir: Path) -> Vocabulary | None:
        """The vocabulary beside a model's weights, or None (a model without one: no check)."""
        path = model_dir / "vocab.txt"
        return cls(path) if path.is_file() else None

    def knows(self, word: str) -> bool:
        if word in self.words:
            return True
        return any(word.endswith(e) and word[: -len(e)] in self.words for e in _ENDINGS)

    def mostly_unknown(self, text: str) -> list[str]:
        """The unknown words of `text` when they are more than UNKNOWN_SHARE of its words (at
        least MIN_WORDS words), else []; a text without a word of MIN_LETTERS letters ("!!!",
        "12345": Hershey was suggested for "!!!", real data walk) gives its tokens."""
        words = [w for w in _WORD.findall(_fold(text)) if len(w) >= MIN_LETTERS]
        if not words:  # "!!!", "12345", "a b": nothing the model can read at all
            return list(dict.fromkeys(text.split()))[:MAX_SHOWN]
        if len(words) < MIN_WORDS:
            return []
        unknown = [w for w in words if not self.knows(w)]
        if len(unknown) <= UNKNOWN_SHARE * len(words):
            return []
        return list(dict.fromkeys(unknown))


# a need of fewer words than this (of MIN_LETTERS letters or more) says too little to match on:
# "help" and "asdf" got a coalition at 0.90 (helper-75's walk, 2026-12-06); a page says so
FEW_WORDS = 3


def few_words(text: str) -> bool:
    """Whether a need says too little to match on: fewer than FEW_WORDS words ("help", "food
    bank"), whatever they are."""
    return len([w for w in _WORD.findall(_fold(text)) if len(w) >= MIN_LETTERS]) < FEW_WORDS
