"""Build the configured Embedder from Settings."""

from __future__ import annotations

import logging
from pathlib import Path

from matcher.embedding.base import Embedder
from matcher.embedding.hashing import HASHING_MODEL_NAME, HashingEmbedder
from matcher.embedding.published import published_model
from matcher.embedding.sentence_transformer import SentenceTransformerEmbedder
from matcher.settings import Settings

logger = logging.getLogger(__name__)


def model_of(settings: Settings) -> tuple[Path, str]:
    """(folder, name) of the embedding model to serve: MATCHER_MODEL_PATH when set, else the
    published embedding version of the registry (models/EMBEDDING), else the default model."""
    if settings.model_path is None:
        published = published_model(settings.data_dir)
        if published is not None:
            return published.path, published.name
    return settings.resolved_model_path(), settings.model_name


def create_embedder(settings: Settings) -> Embedder:
    """ "hashing-v1" gives the model-free HashingEmbedder; any other name the local
    sentence-transformers model (not loaded until the first encode): the published embedding
    model of the registry when there is one (`model_of`)."""
    if settings.model_name == HASHING_MODEL_NAME:
        logger.info("using the model-free hashing embedder")
        return HashingEmbedder()
    backend = str(getattr(settings, "embed_backend", "torch"))
    model_path, model_name = model_of(settings)
    if backend in ("onnx", "onnx-int8"):
        from matcher.embedding.onnx import OnnxEmbedder

        return OnnxEmbedder(
            cache_dir=settings.data_dir / "models" / "onnx",
            model_path=model_path,
            model_name=model_name,
            quantize=backend == "onnx-int8",
            batch_size=settings.embed_batch_size,
            threads=settings.torch_threads,
            packed=settings.packed_query_pass != "off",
        )
    if backend != "torch":
        raise ValueError(f"unknown embedding backend {backend!r} (torch, onnx, onnx-int8)")
    return SentenceTransformerEmbedder(
        model_path=model_path,
        model_name=model_name,
        batch_size=settings.embed_batch_size,
        threads=settings.torch_threads,
    )
