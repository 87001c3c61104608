"""The word analyzer of the lexical index, without scikit-learn at run time.

It reproduces `CountVectorizer(lowercase=True, strip_accents="unicode", stop_words="english",
ngram_range=(1, 2))` (scikit-learn's default token pattern), which the index used to call,
with one deliberate difference: text is lower-cased again after accents are stripped, because
Unicode compatibility decomposition can produce capitals ("™" -> "TM"), which scikit-learn then
stored as vocabulary entries it warns can never match. Importing scikit-learn costs seconds
(it pulls in scipy.stats and pandas); every CLI command and API start paid it for this.
tests/index/test_analyzer.py checks the output against scikit-learn's.
"""

from __future__ import annotations

import re
import unicodedata

TOKEN = re.compile(r"(?u)\b\w\w+\b")

# scikit-learn's ENGLISH_STOP_WORDS (the Glasgow Information Retrieval Group list), 318 words
_STOP_WORDS = """
a about above across after afterwards again against all almost alone along already also
although always am among amongst amoungst amount an and another any anyhow anyone anything
anyway anywhere are around as at back be became because become becomes becoming been before
beforehand behind being below beside besides between beyond bill both bottom but by call can
cannot cant co con could couldnt cry de describe detail do done down due during each eg eight
either eleven else elsewhere empty enough etc even ever every everyone everything everywhere
except few fifteen fifty fill find fire first five for former formerly forty found four from
front full further get give go had has hasnt have he hence her here hereafter hereby herein
hereupon hers herself him himself his how however hundred i ie if in inc indeed interest into
is it its itself keep last latter latterly least less ltd made many may me meanwhile might mill
mine more moreover most mostly move much must my myself name namely neither never nevertheless
next nine no nobody none noone nor not nothing now nowhere of off often on once one only onto
or other others otherwise our ours ourselves out over own part per perhaps please put rather re
same see seem seemed seeming seems serious several she should show side since sincere six sixty
so some somehow someone something sometime sometimes somewhere still such system take ten than
that the their them themselves then thence there thereafter thereby therefore therein thereupon
these they thick thin third this those though three through throughout thru thus to together
too top toward towards twelve twenty two un under until up upon us very via was we well were
what whatever when whence whenever where whereafter whereas whereby wherein whereupon wherever
whether which while whither who whoever whole whom whose why will with within without would yet
you your yours yourself yourselves
"""
STOP_WORDS: frozenset[str] = frozenset(_STOP_WORDS.split())


def strip_accents(text: str) -> str:
    """Accents removed by NFKD decomposition (as scikit-learn's strip_accents_unicode)."""
    if text.isascii():
        return text
    normalized = unicodedata.normalize("NFKD", text)
    return "".join(c for c in normalized if not unicodedata.combining(c))


def preprocess(text: str) -> str:
    """Lower-case, strip accents, lower-case again (see the module docstring)."""
    return strip_accents(text.lower()).lower()


def words(text: str) -> list[str]:
    """The tokens of `text` (two or more word characters), stop words removed."""
    return [w for w in TOKEN.findall(preprocess(text)) if w not in STOP_WORDS]


def analyze(text: str) -> list[str]:
    """Unigrams then adjacent bigrams ("a b") of `words(text)`, as CountVectorizer's analyzer."""
    tokens = words(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
