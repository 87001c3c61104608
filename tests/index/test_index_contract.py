"""One contract, every vector backend: flat, ivf, hnsw, and pgvector (vectors in PostgreSQL;
skipped, saying why, without MATCHER_TEST_POSTGRES_URL or the pgvector extension)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest

from matcher.errors import ArtifactMismatchError, NotFoundError
from matcher.index.base import VectorIndex
from matcher.index.factory import BACKENDS, choose_kind, create_index, load_index
from matcher.index.pgvector import SCORE_TOLERANCE, PgVectorIndex
from tests.index.support_pgvector import pgvector_indexes

DIM = 32
# "pgvector-region": pgvector with its table partitioned by region
KINDS = ["flat", "ivf", "hnsw", "pgvector", "pgvector-region"]
# pgvector stores half-precision vectors: its scores are inner products to about 1e-3
ATOL = {"pgvector": SCORE_TOLERANCE}
NewIndex = Callable[[str], VectorIndex]


def base(kind: str) -> str:
    """The index kind of a contract variant ("pgvector-region" -> "pgvector")."""
    return kind.split("-")[0]


@pytest.fixture
def new_index() -> Iterator[NewIndex]:
    """new_index(kind): an empty index; pgvector ones on a fresh PostgreSQL schema (the test
    skips, saying why, without a server or the extension)."""
    with ExitStack() as stack:
        make_pg: list[Callable[..., VectorIndex]] = []

        def make(kind: str) -> VectorIndex:
            if base(kind) != "pgvector":
                return create_index(kind, DIM)
            if not make_pg:
                make_pg.append(stack.enter_context(pgvector_indexes()))
            return make_pg[0](DIM, partition_by_region=kind == "pgvector-region")

        yield make


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return unit(np.random.default_rng(7).standard_normal((600, DIM)))


def build(new_index: NewIndex, kind: str, data: np.ndarray, n: int = 400) -> VectorIndex:
    index = new_index(kind)
    index.add(np.arange(n, dtype=np.int64) * 3 + 1, data[:n])
    return index


@pytest.mark.parametrize("kind", KINDS)
def test_satisfies_protocol_and_finds_itself(
    new_index: NewIndex, kind: str, data: np.ndarray
) -> None:
    index = build(new_index, kind, data)
    assert isinstance(index, VectorIndex)
    assert index.kind == base(kind) and index.dimension == DIM and len(index) == 400
    ids, scores = index.search(data[:20], 5)
    assert ids.shape == scores.shape == (20, 5)
    assert ids.dtype == np.int64 and scores.dtype == np.float32
    np.testing.assert_array_equal(ids[:, 0], np.arange(20) * 3 + 1)
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=ATOL.get(base(kind), 1e-5))
    assert (np.diff(scores, axis=1) <= 1e-6).all(), "best first"


@pytest.mark.parametrize("kind", KINDS)
def test_scores_are_inner_products(new_index: NewIndex, kind: str, data: np.ndarray) -> None:
    index = build(new_index, kind, data)
    ids, scores = index.search(data[500:503], 3)
    expected = np.einsum("qd,qkd->qk", data[500:503], data[(ids - 1) // 3])
    np.testing.assert_allclose(scores, expected, atol=ATOL.get(base(kind), 1e-5))


@pytest.mark.parametrize("kind", KINDS)
def test_add_replaces_existing_id(new_index: NewIndex, kind: str, data: np.ndarray) -> None:
    index = build(new_index, kind, data)
    index.add(np.array([1]), data[550:551])  # id 1 used to hold data[0]
    assert len(index) == 400
    ids, scores = index.search(data[550:551], 1)
    assert ids[0, 0] == 1 and scores[0, 0] == pytest.approx(1.0, abs=ATOL.get(base(kind), 1e-5))
    ids, _ = index.search(data[0:1], 10)
    assert 1 not in ids[0, :1]
    assert np.unique(index.ids()).size == 400


@pytest.mark.parametrize("kind", KINDS)
def test_duplicate_ids_in_one_batch_keep_the_last(
    new_index: NewIndex, kind: str, data: np.ndarray
) -> None:
    index = new_index(kind)
    index.add(np.array([5, 6, 5]), data[:3])
    assert len(index) == 2
    ids, _ = index.search(data[2:3], 1)
    assert ids[0, 0] == 5


@pytest.mark.parametrize("kind", KINDS)
def test_remove_ignores_unknown_and_hides_removed(
    new_index: NewIndex, kind: str, data: np.ndarray
) -> None:
    index = build(new_index, kind, data)
    index.remove(np.array([1, 4, 99_999]))
    assert len(index) == 398
    ids, _ = index.search(data[:2], 10)
    assert not np.isin(ids, [1, 4]).any()
    assert not np.isin([1, 4], index.ids()).any()
    index.remove(np.array([], dtype=np.int64))
    assert len(index) == 398
    index.add(np.array([1]), data[:1])  # removed ids can come back
    assert index.search(data[:1], 1)[0][0, 0] == 1 and len(index) == 399


@pytest.mark.parametrize("kind", KINDS)
def test_padding_when_fewer_than_k(new_index: NewIndex, kind: str, data: np.ndarray) -> None:
    empty = new_index(kind)
    ids, scores = empty.search(data[:2], 4)
    assert ids.shape == (2, 4) and (ids == -1).all() and np.isneginf(scores).all()
    index = build(new_index, kind, data, n=3)
    ids, scores = index.search(data[:1], 5)
    assert sorted(ids[0, :3].tolist()) == [1, 4, 7]
    assert (ids[0, 3:] == -1).all() and np.isneginf(scores[0, 3:]).all()
    assert np.isfinite(scores[0, :3]).all()
    assert index.search(data[:1], 0)[0].shape == (1, 0)


@pytest.mark.parametrize("kind", KINDS)
def test_rejects_bad_input(new_index: NewIndex, kind: str, data: np.ndarray) -> None:
    index = new_index(kind)
    with pytest.raises(ValueError):
        index.add(np.array([1, 2]), data[:3])
    with pytest.raises(ValueError):
        index.add(np.array([1]), data[:1, :10])
    with pytest.raises(ValueError):
        index.add(np.array([-1]), data[:1])


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_roundtrip(
    new_index: NewIndex, kind: str, data: np.ndarray, tmp_path: Path
) -> None:
    index = build(new_index, kind, data)
    index.remove(np.array([4]))
    index.add(np.array([7]), data[560:561])
    target = tmp_path / "idx"
    index.save(target)
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["kind"] == base(kind) and manifest["dimension"] == DIM
    assert manifest["count"] == 399 and manifest["created_at"]
    if base(kind) == "pgvector":  # the rows stay in the database; the manifest says where
        assert manifest["params"]["table"] and "@" in manifest["params"]["url"]
        assert manifest["params"]["partition_by_region"] is (kind == "pgvector-region")
    else:
        assert manifest["faiss_version"]
    loaded = load_index(target)
    assert type(loaded) is type(index) and len(loaded) == 399
    if isinstance(loaded, PgVectorIndex):  # reopened in the layout it was made in
        assert loaded.store.partition_by_region is (kind == "pgvector-region")
    np.testing.assert_array_equal(loaded.ids(), index.ids())
    before = index.search(data[500:520], 8)
    after = loaded.search(data[500:520], 8)
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_allclose(before[1], after[1], atol=1e-6)
    loaded.add(np.array([10_000]), data[599:600])  # still usable after loading
    assert loaded.search(data[599:600], 1)[0][0, 0] == 10_000
    index.save(target)  # overwrite in place leaves no temp litter
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]


@pytest.mark.parametrize("kind", KINDS)
def test_load_refuses_mismatch(
    new_index: NewIndex, kind: str, data: np.ndarray, tmp_path: Path
) -> None:
    index = build(new_index, kind, data)
    index.save(tmp_path / "idx")
    other = next(k for k in KINDS if base(k) != base(kind))
    with pytest.raises(ArtifactMismatchError):
        BACKENDS[other].load(tmp_path / "idx")
    with pytest.raises(ArtifactMismatchError):
        load_index(tmp_path / "idx", expected_dimension=DIM + 1)
    with pytest.raises(ArtifactMismatchError):
        load_index(tmp_path / "idx", expected_kind=other)
    tampered = [("count", 5), ("dimension", DIM * 2), ("kind", "nope")]
    if base(kind) == "pgvector":  # its table is live: the count moves on with writes after a save
        tampered = tampered[1:]
    for field, value in tampered:
        broken = tmp_path / f"broken-{field}"
        shutil.copytree(tmp_path / "idx", broken)
        manifest = json.loads((broken / "manifest.json").read_text())
        manifest[field] = value
        (broken / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(ArtifactMismatchError):
            load_index(broken)
    with pytest.raises(NotFoundError):
        load_index(tmp_path / "missing")


def test_choose_kind_and_factory() -> None:
    assert choose_kind(100, 20_000, "hnsw") == "flat"
    assert choose_kind(20_000, 20_000, "ivf") == "flat"
    assert choose_kind(20_001, 20_000, "ivf") == "ivf"
    assert choose_kind(50_000, 20_000, "hnsw") == "hnsw"
    with pytest.raises(ValueError):
        choose_kind(1, 0, "flat")
    with pytest.raises(ValueError):
        create_index("annoy", DIM)
    assert create_index("hnsw", DIM, ef_search=128).params()["efSearch"] == 128
