from pathlib import Path

import numpy as np

from training.benchmarks.embeddings import EmbeddingStore, encode_cached


class CountingEncoder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, texts):  # type: ignore[no-untyped-def]
        self.seen.extend(texts)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_encodes_each_missing_text_once_and_reloads_from_disk(tmp_path: Path) -> None:
    enc = CountingEncoder()
    store = EmbeddingStore(tmp_path, "model/x")
    out = encode_cached(["aa", "b", "aa"], enc, store, chunk=1)
    assert sorted(enc.seen) == ["aa", "b"]
    assert out.shape == (3, 2) and out[0, 0] == 2 and out[1, 0] == 1 and out[2, 0] == 2
    again = EmbeddingStore(tmp_path, "model/x")
    assert len(again) == 2
    enc2 = CountingEncoder()
    out2 = encode_cached(["b", "ccc"], enc2, again)
    assert enc2.seen == ["ccc"]
    assert np.array_equal(out2[0], out[1])
    assert not list(tmp_path.rglob("*.tmp.npy"))
    assert EmbeddingStore(tmp_path, "other-model").get(["x"]) == {}
