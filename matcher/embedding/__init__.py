"""Text embedders: a small protocol, backends, and a cache keyed by model and text hash."""

from matcher.embedding.base import Embedder, EmbeddingCache

__all__ = ["Embedder", "EmbeddingCache"]
