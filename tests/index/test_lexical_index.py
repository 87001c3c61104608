"""LexicalIndex: rare terms, updates, candidate restriction, persistence without pickle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matcher.errors import ArtifactMismatchError, IndexNotReadyError, NotFoundError
from matcher.index.lexical import LexicalIndex

DOCS = {
    10: "Community food bank distributing groceries and hot meals to families",
    11: "Food pantry and soup kitchen run by volunteers",
    12: "Solar panel installer offering renewable energy audits for schools",
    13: "City housing authority funding affordable housing and shelters",
    14: "Youth coding bootcamp teaching STEM skills to teenagers",
    15: "Regional FEMA liaison coordinating disaster relief logistics",
    16: "Hospital network providing free health screenings",
    17: "Café owner donating pastries; résumé workshops for job seekers",
}


@pytest.fixture()
def index() -> LexicalIndex:
    return LexicalIndex().fit(list(DOCS), list(DOCS.values()))


def test_rare_acronym_is_found(index: LexicalIndex) -> None:
    ids, scores = index.search("fema", 3)
    assert ids.tolist() == [15] and scores[0] > 0
    ids, _ = index.search("STEM mentoring for teens", 3)
    assert ids[0] == 14


def test_ranking_accents_and_stop_words(index: LexicalIndex) -> None:
    ids, scores = index.search("food bank", 5)
    assert ids[0] == 10 and 11 in ids.tolist()
    assert (np.diff(scores) <= 0).all() and scores[0] <= 1.0 + 1e-6
    assert index.search("cafe resume", 2)[0][0] == 17  # accents stripped
    assert index.search("the and of", 5)[0].size == 0  # only stop words
    assert index.search("zzzunknownzzz", 5)[0].size == 0


def test_scores_lists_all_positive_and_respects_candidates(index: LexicalIndex) -> None:
    ids, scores = index.scores("food volunteers")
    assert set(ids.tolist()) == {10, 11} and (scores > 0).all()
    ids, _ = index.scores("food volunteers", candidate_ids=[11, 12, 999])
    assert ids.tolist() == [11]
    ids, _ = index.search("food", 10, candidate_ids=np.array([12, 13]))
    assert ids.size == 0


def test_add_replace_and_remove(index: LexicalIndex) -> None:
    assert len(index) == 8
    index.add([20], ["Solar energy cooperative for rural schools"])
    assert len(index) == 9 and 20 in index.search("solar schools", 5)[0].tolist()
    index.add([15], ["Hospital volunteers"])  # replaces the FEMA text
    assert len(index) == 9
    assert index.search("fema", 5)[0].size == 0
    assert 15 in index.search("hospital", 5)[0].tolist()
    index.remove([10, 12345])
    assert len(index) == 8 and 10 not in index.scores("food bank")[0].tolist()
    index.add([10], ["Food bank"])
    assert index.search("food bank", 1)[0].tolist() == [10]
    assert sorted(index.ids().tolist()) == sorted([*DOCS, 20])


def test_words_unseen_at_fit_are_ignored_until_refit(index: LexicalIndex) -> None:
    index.add([30], ["Quokka sanctuary"])
    assert index.search("quokka", 3)[0].size == 0
    index.fit([*DOCS, 30], [*DOCS.values(), "Quokka sanctuary"])
    assert index.search("quokka", 3)[0].tolist() == [30]


def test_many_adds_compact_and_stay_consistent() -> None:
    rng = np.random.default_rng(3)
    words = [f"term{i}" for i in range(300)]
    base = [" ".join(rng.choice(words, 8)) for _ in range(200)]
    index = LexicalIndex().fit(list(range(200)), base)
    extra = [" ".join(rng.choice(words, 8)) for _ in range(1500)]
    index.add(list(range(200, 1700)), extra)  # forces a fold into the term-major matrix
    index.remove(list(range(0, 1700, 2)))
    reference = LexicalIndex().fit(list(range(200)), base)
    reference.add(list(range(200, 1700)), extra)
    reference.remove(list(range(0, 1700, 2)))
    for q in ["term1 term2", "term77", "term250 term3 term4"]:
        a, sa = index.scores(q)
        b, sb = reference.scores(q)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(sa, sb, rtol=1e-5)
        assert not np.isin(a, np.arange(0, 1700, 2)).any()


def test_save_load_equality(index: LexicalIndex, tmp_path: Path) -> None:
    index.add([40], ["Food bank warehouse"])
    index.remove([13])
    index.save(tmp_path / "lex")
    files = sorted(p.name for p in (tmp_path / "lex").iterdir())
    assert files == ["idf.npy", "ids.npy", "manifest.json", "matrix.npz", "vocabulary.json"]
    manifest = json.loads((tmp_path / "lex" / "manifest.json").read_text())
    assert manifest["kind"] == "lexical-tfidf" and manifest["count"] == 8
    assert manifest["params"]["sublinear_tf"] is True
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert len(loaded) == len(index)
    np.testing.assert_array_equal(loaded.ids(), index.ids())
    for q in ["food bank", "fema", "solar schools", "housing", "résumé"]:
        a, sa = index.scores(q)
        b, sb = loaded.scores(q)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(sa, sb, rtol=1e-6)
    loaded.add([41], ["FEMA grants"])
    assert 41 in loaded.search("fema", 3)[0].tolist()


def test_load_refuses_mismatch(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "lex")
    path = tmp_path / "lex" / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "kind": "flat"}))
    with pytest.raises(ArtifactMismatchError):
        LexicalIndex.load(tmp_path / "lex")
    path.write_text(json.dumps({**manifest, "dimension": manifest["dimension"] + 1}))
    with pytest.raises(ArtifactMismatchError):
        LexicalIndex.load(tmp_path / "lex")
    with pytest.raises(NotFoundError):
        LexicalIndex.load(tmp_path / "nothing")


def test_unfitted_index_refuses_queries() -> None:
    index = LexicalIndex()
    assert len(index) == 0
    with pytest.raises(IndexNotReadyError):
        index.search("food", 3)


@pytest.mark.parametrize("bigram_min_df", [1, 2])
def test_count_terms_matches_sklearn(bigram_min_df: int) -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    from matcher.index.lexical import _analyzer_params, count_terms

    rng = np.random.default_rng(5)
    words = ["food", "bank", "the", "Café", "résumé", "FEMA", "youth", "of", "stem", "x", "a1"]
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 9))) for _ in range(60)]
    texts += list(DOCS.values()) + ["", "the and of"]
    terms, counts = count_terms(texts, bigram_min_df)
    ref = CountVectorizer(**_analyzer_params())
    ref_counts = ref.fit_transform(texts).tocsc()
    ref_terms = ref.get_feature_names_out().tolist()
    df = np.diff(ref_counts.indptr)
    keep = [i for i, t in enumerate(ref_terms) if " " not in t or df[i] >= bigram_min_df]
    assert sorted(terms) == sorted(ref_terms[i] for i in keep)
    assert len(set(terms)) == len(terms)
    col = {t: j for j, t in enumerate(terms)}
    order = [col[ref_terms[i]] for i in keep]
    assert (counts[:, order].toarray() == ref_counts[:, keep].toarray()).all()


def test_large_corpus_prunes_rare_bigrams_but_keeps_rare_unigrams() -> None:
    from matcher.index.lexical import BIGRAM_PRUNE_FROM_DOCS

    n = BIGRAM_PRUNE_FROM_DOCS
    texts = [f"community food bank number{i % 50} volunteers" for i in range(n)]
    texts[123] = "Zyxwv acronym coalition for quokka habitat"
    index = LexicalIndex().fit(list(range(n)), texts)
    assert index.bigram_min_df == 2
    vocab = index._vocabulary or {}
    assert "food bank" in vocab and "quokka habitat" not in vocab
    assert index.search("zyxwv", 3)[0].tolist() == [123]
    assert index.search("quokka habitat", 3)[0].tolist() == [123]


def test_repeated_query_sees_every_write(index: LexicalIndex) -> None:
    assert 40 not in index.scores("solar schools")[0].tolist()
    index.add([40], ["Solar schools network"])
    assert index.scores("solar schools")[0][0] == 40
    index.remove([40])
    assert 40 not in index.scores("solar schools")[0].tolist()
    index.remove(list(DOCS))
    index._drop_dead_rows()  # row numbers change
    assert index.scores("solar schools")[0].size == 0
    index.add([41], ["Solar panels"])
    assert index.scores("solar schools")[0].tolist() == [41]
