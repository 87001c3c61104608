"""Model identity (name + digest of the files) as the cache key, and adopting old vectors."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from matcher.embedding.cache import CachedEmbedder, InMemoryEmbeddingCache, text_hash
from matcher.embedding.hashing import HashingEmbedder
from matcher.embedding.identity import LEGACY_SAMPLE, model_identity


class FolderEmbedder:
    """A model read from a folder: the hashing embedder's vectors, optionally rotated (another
    model's vectors under the same name)."""

    def __init__(self, folder: Path, name: str = "acme/minilm", *, rotate: bool = False):
        self.model_name = name
        self.model_path = folder
        self.dimension = 64
        self._inner = HashingEmbedder(dimension=64)
        self._rotate = rotate
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.calls.append(len(texts))
        out = self._inner.encode(texts)
        return np.roll(out, 7, axis=1) if self._rotate else out


def _model_folder(root: Path, weights: bytes = b"weights-1") -> Path:
    folder = root / "model"
    (folder / "1_Pooling").mkdir(parents=True, exist_ok=True)
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "config.json").write_text('{"hidden_size": 64}')
    (folder / "1_Pooling" / "config.json").write_text('{"word_embedding_dimension": 64}')
    return folder


def test_identity_is_name_and_digest_of_the_bytes(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path)
    first = model_identity(FolderEmbedder(folder))
    assert first.startswith("acme/minilm@") and len(first.split("@")[1]) == 16
    os.utime(folder / "model.safetensors", (1, 1))  # a new date, the same bytes
    assert model_identity(FolderEmbedder(folder)) == first
    (folder / "model.safetensors").write_bytes(b"weights-2")  # fine-tuned in place
    assert model_identity(FolderEmbedder(folder)) != first
    assert model_identity(HashingEmbedder()) == "hashing-v1"  # no files: the name


def test_vectors_are_cached_under_the_identity(tmp_path: Path) -> None:
    cache = InMemoryEmbeddingCache()
    embedder = CachedEmbedder(FolderEmbedder(_model_folder(tmp_path)), cache)
    embedder.encode(["food bank volunteers"])
    key = embedder.cache_key
    assert key != "acme/minilm"
    assert set(cache.get_many(key, [text_hash("food bank volunteers")]))
    assert not cache.get_many("acme/minilm", [text_hash("food bank volunteers")])


@pytest.mark.parametrize("same_model", [True, False])
def test_vectors_cached_under_the_bare_name_are_adopted_only_if_they_match(
    tmp_path: Path, same_model: bool
) -> None:
    folder = _model_folder(tmp_path)
    texts = [f"after-school tutoring programme {i}" for i in range(20)]
    cache = InMemoryEmbeddingCache()
    old = FolderEmbedder(folder, rotate=not same_model)  # what an earlier version cached
    cache.put_many("acme/minilm", dict(zip(map(text_hash, texts), old.encode(texts), strict=True)))

    model = FolderEmbedder(folder)
    embedder = CachedEmbedder(model, cache)
    vectors = embedder.encode(texts)
    np.testing.assert_allclose(vectors, model._inner.encode(texts), atol=1e-6)
    if same_model:  # a sample re-embedded to check, the rest adopted
        assert model.calls == [LEGACY_SAMPLE]
        assert embedder.misses == 0
    else:  # another model's vectors: all embedded again, none served
        assert model.calls == [LEGACY_SAMPLE, 20]
        assert embedder.misses == 20
    assert len(cache.get_many(embedder.cache_key, [text_hash(t) for t in texts])) == 20


def test_an_index_built_with_other_model_files_of_the_same_name_is_rebuilt(
    tmp_path: Path,
) -> None:
    from matcher.engine import Engine
    from matcher.settings import Settings
    from tests.embedding.embed_support import corpus

    folder = _model_folder(tmp_path)
    settings = Settings(data_dir=tmp_path / "var", model_name="acme/minilm")
    engine = Engine.open(settings, embedder=FolderEmbedder(folder), load=False)
    engine.store.upsert_organisations(corpus(12))
    engine.load()
    assert engine.index_generation == 1
    engine.close()

    reopened = Engine.open(settings, embedder=FolderEmbedder(folder))
    assert reopened.index_generation == 1  # the same files: the generation is used as is
    reopened.close()

    (folder / "model.safetensors").write_bytes(b"weights-2")  # weights replaced, same name
    model = FolderEmbedder(folder, rotate=True)
    rebuilt = Engine.open(settings, embedder=model)
    assert rebuilt.index_generation == 2
    assert 12 in model.calls  # every profile embedded again with the new weights
    rebuilt.close()


def test_vectors_under_the_bare_name_do_not_count_as_to_embed(tmp_path: Path) -> None:
    from matcher.build_progress import to_embed

    texts = ["river clean-up crews", "legal advice clinic", "meals on wheels"]
    cache = InMemoryEmbeddingCache()
    model = FolderEmbedder(_model_folder(tmp_path))
    cache.put_many("acme/minilm", {text_hash(texts[0]): model.encode(texts[:1])[0]})
    embedder = CachedEmbedder(model, cache)
    assert to_embed(embedder, texts) == 2  # the first is adopted, not embedded


def _jittered(vectors: np.ndarray, cosine: float, seed: int = 0) -> np.ndarray:
    """Each vector moved to about `cosine` of itself, as another batch or model moves it."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=vectors.shape)
    noise -= np.sum(noise * vectors, axis=1, keepdims=True) * vectors  # orthogonal
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    tan = np.sqrt(1.0 / cosine**2 - 1.0)
    moved = vectors + tan * noise
    return (moved / np.linalg.norm(moved, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize(("cosine", "adopted"), [(0.99, True), (0.985, True), (0.93, False)])
def test_the_same_models_vectors_from_other_batches_are_adopted(
    tmp_path: Path, cosine: float, adopted: bool
) -> None:
    """The int8 model's vector of a text moves with its batch (cosine 0.98-0.99 between
    batches): those are adopted; a fine-tuned model's (about 0.93) are not."""
    texts = [f"job training for young adults {i}" for i in range(40)]
    model = FolderEmbedder(_model_folder(tmp_path))
    cache = InMemoryEmbeddingCache()
    earlier = _jittered(model._inner.encode(texts), cosine)
    cache.put_many("acme/minilm", dict(zip(map(text_hash, texts), earlier, strict=True)))
    embedder = CachedEmbedder(model, cache)
    embedder.encode(texts)
    assert embedder.misses == (0 if adopted else 40)


def test_what_stats_counts_to_embed_leaves_out_another_models_vectors(tmp_path: Path) -> None:
    """Vectors under the bare name count as embedded only once a sample shows they are this
    model's, so the count a build announces is the work it does."""
    from matcher.build_progress import to_embed

    texts = [f"meals for homebound seniors {i}" for i in range(30)]
    model = FolderEmbedder(_model_folder(tmp_path))
    cache = InMemoryEmbeddingCache()
    other = FolderEmbedder(_model_folder(tmp_path), rotate=True).encode(texts)
    cache.put_many("acme/minilm", dict(zip(map(text_hash, texts), other, strict=True)))
    embedder = CachedEmbedder(model, cache)
    assert to_embed(embedder, texts) == 30
    embedder.encode(texts)
    assert embedder.misses == 30  # what was announced
