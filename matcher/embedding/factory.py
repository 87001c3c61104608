"""Build the configured Embedder from Settings."""

from __future__ import annotations

import logging

from matcher.embedding.base import Embedder
from matcher.embedding.hashing import HASHING_MODEL_NAME, HashingEmbedder
from matcher.embedding.sentence_transformer import SentenceTransformerEmbedder
from matcher.settings import Settings

logger = logging.getLogger(__name__)


def create_embedder(settings: Settings) -> Embedder:
    """ "hashing-v1" gives the model-free HashingEmbedder; any other name the local
    sentence-transformers model (not loaded until the first encode)."""
    if settings.model_name == HASHING_MODEL_NAME:
        logger.info("using the model-free hashing embedder")
        return HashingEmbedder()
    return SentenceTransformerEmbedder(
        model_path=settings.resolved_model_path(),
        model_name=settings.model_name,
        batch_size=settings.embed_batch_size,
        threads=settings.torch_threads,
    )
