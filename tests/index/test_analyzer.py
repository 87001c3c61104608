"""The lexical analyzer reproduces scikit-learn's CountVectorizer without importing it."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from matcher.index import analyzer
from matcher.index.lexical import LexicalIndex, _analyzer_params

TEXTS = [
    "Community FOOD bank: hot meals, and job-training for the over-50s!",
    "Café résumé naïve coöperative Zürich São Paulo",
    "the and of a",
    "",
    "x y z a1 b2 ___ __init__ 3.14 2024",
    "Ünïcödé ﬁnance ﬂood straße İstanbul",
    "Don't stop-words: can't won't it's",
    "日本語 テキスト と 中文 文本",
]


def _sklearn_analyzer():  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(**_analyzer_params()).build_analyzer()


def test_stop_words_are_sklearns() -> None:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    assert analyzer.STOP_WORDS == ENGLISH_STOP_WORDS


@pytest.mark.parametrize("text", TEXTS)
def test_analyze_matches_count_vectorizer(text: str) -> None:
    assert analyzer.analyze(text) == _sklearn_analyzer()(text)


def test_analyze_matches_on_random_texts() -> None:
    rng = np.random.default_rng(11)
    pieces = ["Food", "bank", "THE", "é", "résumé", "of", "x", "a1", "-", "!", "NGO's", "α"]
    ref = _sklearn_analyzer()
    for _ in range(300):
        text = "".join(rng.choice(pieces) + rng.choice([" ", "", "\n", ","]) for _ in range(8))
        assert analyzer.analyze(text) == ref(text), text


def test_compatibility_capitals_are_lower_cased() -> None:
    """'™' decomposes to 'TM': scikit-learn kept it upper case, then warned on every load
    that such vocabulary entries never match."""
    assert _sklearn_analyzer()("Acme™ grants") == ["acmeTM", "grants", "acmeTM grants"]
    assert analyzer.analyze("Acme™ grants") == ["acmetm", "grants", "acmetm grants"]


def test_index_with_such_text_loads_without_warnings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    index = LexicalIndex().fit([1, 2], ["Acme™ community grants", "food bank"])
    index.save(tmp_path / "lex")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = LexicalIndex.load(tmp_path / "lex")
        assert loaded.search("ACMETM grants", 2)[0].tolist() == [1]


def test_opening_the_engine_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys, matcher.engine, matcher.cli, matcher.cli_commands\n"
        "heavy = [m for m in ('sklearn', 'pandas', 'torch', 'sentence_transformers', "
        "'onnxruntime', 'transformers') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
