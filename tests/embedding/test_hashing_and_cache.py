"""HashingEmbedder, the in-memory cache, CachedEmbedder and the factory (no model needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from matcher.embedding.base import Embedder, EmbeddingCache
from matcher.embedding.cache import CachedEmbedder, InMemoryEmbeddingCache, text_hash
from matcher.embedding.factory import create_embedder
from matcher.embedding.hashing import HashingEmbedder
from matcher.embedding.sentence_transformer import SentenceTransformerEmbedder
from matcher.errors import ModelLoadError
from matcher.settings import Settings


def test_hashing_is_deterministic_normalised_and_lexical(hashing_embedder: HashingEmbedder) -> None:
    texts = ["Food bank volunteers", "volunteers for the FOOD BANK", "solar panel grants", ""]
    a = hashing_embedder.encode(texts)
    b = HashingEmbedder(384).encode(list(reversed(texts)))[::-1]
    assert isinstance(hashing_embedder, Embedder) and hashing_embedder.model_name == "hashing-v1"
    assert a.dtype == np.float32 and a.shape == (4, 384)
    np.testing.assert_array_equal(a, b)  # same text, same vector, whatever the batch
    np.testing.assert_allclose(np.linalg.norm(a[:3], axis=1), 1.0, rtol=1e-5)
    assert not a[3].any()  # nothing to hash: the zero vector
    sims = a[:3] @ a[:3].T
    assert sims[0, 1] > 0.5 > abs(sims[0, 2])
    assert hashing_embedder.encode([]).shape == (0, 384)
    assert HashingEmbedder(64).encode(["x y"]).shape == (1, 64)
    with pytest.raises(TypeError):
        hashing_embedder.encode("a single string")  # type: ignore[arg-type]


class CountingEmbedder:
    """Wraps an embedder and records every text it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.dimension = inner.dimension
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.seen.extend(texts)
        return self.inner.encode(texts, progress=progress)


def test_cached_embedder_embeds_only_misses(hashing_embedder: HashingEmbedder) -> None:
    cache = InMemoryEmbeddingCache()
    assert isinstance(cache, EmbeddingCache)
    counting = CountingEmbedder(hashing_embedder)
    cached = CachedEmbedder(counting, cache)
    assert isinstance(cached, Embedder) and cached.dimension == 384

    first = cached.encode(["a food bank", "solar grants", "a food bank"])
    assert counting.seen == ["a food bank", "solar grants"]  # duplicate embedded once
    assert (cached.misses, cached.hits) == (2, 1)
    np.testing.assert_array_equal(first[0], first[2])

    second = cached.encode(["solar grants", "youth coding", "a food bank"])
    assert counting.seen[2:] == ["youth coding"]
    assert (cached.misses, cached.hits) == (3, 3)
    np.testing.assert_array_equal(
        second, hashing_embedder.encode(["solar grants", "youth coding", "a food bank"])
    )
    assert len(cache) == 3
    assert cached.encode([]).shape == (0, 384)


def test_cache_keys_are_per_model(hashing_embedder: HashingEmbedder) -> None:
    cache = InMemoryEmbeddingCache()
    h = text_hash("x")
    assert h == "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    cache.put_many("model-a", {h: np.ones(384, dtype=np.float32)})
    assert cache.get_many("model-b", [h]) == {}
    got = cache.get_many("model-a", [h, "missing"])
    assert list(got) == [h] and got[h].dtype == np.float32


def test_cached_embedder_ignores_wrong_shaped_entries(hashing_embedder: HashingEmbedder) -> None:
    cache = InMemoryEmbeddingCache()
    cache.put_many("hashing-v1", {text_hash("food"): np.ones(10, dtype=np.float32)})
    cached = CachedEmbedder(hashing_embedder, cache)
    out = cached.encode(["food"])
    np.testing.assert_array_equal(out, hashing_embedder.encode(["food"]))
    assert cached.misses == 1


def test_factory_and_missing_model(tmp_path: Path) -> None:
    assert isinstance(create_embedder(Settings(model_name="hashing-v1")), HashingEmbedder)
    st = create_embedder(Settings(embed_backend="torch", embed_batch_size=16, torch_threads=1))
    assert isinstance(st, SentenceTransformerEmbedder)
    assert st.dimension == 384 and st.batch_size == 16 and not st.loaded  # lazy
    default = create_embedder(Settings(data_dir=tmp_path / "var"))
    assert default.model_name.endswith("+onnx-int8") and default.dimension == 384
    with pytest.raises(ModelLoadError, match="not found"):
        SentenceTransformerEmbedder(model_path=tmp_path / "nope")
    with pytest.raises(ModelLoadError):
        SentenceTransformerEmbedder(model_path=tmp_path)  # a folder that is no model


class _BatchMarked(HashingEmbedder):
    """A model whose vectors depend on the batch a text is read in, as the int8 model's do
    (its activation scale is the whole call's): each vector carries its batch's mean length."""

    batch_size = 4

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        from matcher.embedding.sentence_transformer import length_sorted_batches

        plain = super().encode(texts)
        for idx in length_sorted_batches(texts, self.batch_size):
            plain[idx, 0] = float(np.mean([len(texts[i]) for i in idx]))
        return plain


def test_a_cache_saving_chunk_by_chunk_gives_the_vectors_of_one_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cache saves a build's vectors a chunk at a time (a full disk keeps what was done);
    chunks cut across the model's own batches gave some texts other batch-mates, so other
    vectors than the one call before (the int8 model reads a text beside others)."""
    import matcher.embedding.cache as cache_module

    monkeypatch.setattr(cache_module, "SAVE_EVERY", 6)  # not a whole number of batches of 4
    texts = [f"text {'x' * (i * 7 % 23)} {i}" for i in range(41)]
    texts += ["same length a", "same length b", "same length c"]  # ties keep their order
    alone = _BatchMarked(384).encode(texts)
    cached = CachedEmbedder(_BatchMarked(384), InMemoryEmbeddingCache()).encode(texts)
    np.testing.assert_array_equal(cached, alone)
