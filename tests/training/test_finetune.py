"""`matcher train embed`'s trainer on the real MiniLM: triplets from cause codes (held-out
states never used), a model directory with its manifest that loads and embeds, and a resumed
run that ends with the weights of an uninterrupted one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matcher.domain import Organisation
from matcher.settings import Settings
from training.finetune.pairs import build_triplets
from training.finetune.train import MANIFEST, FinetuneOptions, finetune

pytestmark = pytest.mark.slow

CAUSES = {
    "K31": "runs a food pantry that hands out groceries and hot meals to hungry families",
    "B60": "teaches adults to read and write and prepares them for the high school diploma",
    "D20": "shelters stray dogs and cats, vaccinates them and finds them new homes",
    "L41": "repairs roofs and insulates the homes of older people on low incomes",
}


def _orgs() -> list[Organisation]:
    out = []
    for i in range(6):
        for code, text in CAUSES.items():
            state = ("OR", "WA", "HI")[i % 3]
            out.append(
                Organisation(
                    id=f"{code}-{i}",
                    name=f"{code} group {i}",
                    sector="nonprofit",
                    description=f"Our volunteers in town {i} {text}.",
                    region=state,
                    cause_code=code + "0",
                )
            )
    return out


def test_triplets_pair_same_cause_and_never_use_held_out_states() -> None:
    triplets, counts = build_triplets(_orgs(), max_pairs=100, hold_out_states=["HI"])
    assert counts["held_out"] == 8 and counts["causes"] == 4
    assert triplets and all("HI" not in t.anchor for t in triplets)
    held_names = {f"{c} group {i}" for c in CAUSES for i in (2, 5)}  # i % 3 == 2: HI
    for t in triplets:
        assert not any(n in t.anchor or n in t.positive or n in t.negative for n in held_names)
        code = t.anchor.split(" ")[0]
        assert t.positive.startswith(code) and not t.negative.startswith(code)
    assert len(build_triplets(_orgs(), max_pairs=3)[0]) == 3


def test_fine_tune_writes_a_model_and_resumes_to_the_same_weights(tmp_path: Path) -> None:
    base = Settings().resolved_model_path()
    triplets, _ = build_triplets(_orgs(), max_pairs=12)
    options = FinetuneOptions(batch_size=4, checkpoint_every=2, threads=1, max_seq_length=48)
    whole = finetune(base, triplets, tmp_path / "whole", tmp_path / "runs-a", options)
    manifest = json.loads((whole.model_dir / MANIFEST).read_text())
    assert manifest["pairs"] == 12 and manifest["steps"] == 3 and len(manifest["base_digest"]) == 64
    assert manifest["resumed_from_step"] == 0

    class Stop(Exception):
        pass

    def stop_at_3(step: int, total: int, loss: float) -> None:
        if step == 3:
            raise Stop

    with pytest.raises(Stop):
        finetune(
            base, triplets, tmp_path / "resumed", tmp_path / "runs-b", options, progress=stop_at_3
        )
    assert not (tmp_path / "resumed").exists()
    resumed = finetune(base, triplets, tmp_path / "resumed", tmp_path / "runs-b", options)
    assert resumed.resumed_from == 2  # the checkpoint of step 2

    from sentence_transformers import SentenceTransformer

    texts = ["food pantry for hungry families", "adult literacy classes"]
    a = SentenceTransformer(str(whole.model_dir), device="cpu").encode(texts)
    b = SentenceTransformer(str(resumed.model_dir), device="cpu").encode(texts)
    base_vecs = SentenceTransformer(str(base), device="cpu").encode(texts)
    assert np.allclose(a, b, atol=1e-5)
    assert not np.allclose(a, base_vecs, atol=1e-4)  # it did learn something


def test_train_embed_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from matcher.cli import main
    from matcher.store import Database, Store

    data = tmp_path / "var"
    db = Database(f"sqlite:///{data / 'matcher.db'}")
    db.create_all()
    Store(db).upsert_organisations(_orgs())
    db.dispose()
    base = ["--data-dir", str(data)]
    args = ["train", "embed", "--out", "ft1", "--max-pairs", "8", "--batch-size", "4"]
    assert main([*base, *args]) == 2  # 8 pairs are under the default minimum of 1,000
    assert "only 8 training pairs (--min-pairs 1000)" in capsys.readouterr().err
    args += ["--min-pairs", "8"]
    assert main([*base, *args, "--hold-out-states", "HI", "--threads", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pairs"] == 8 and out["hold_out_states"] == ["HI"] and out["steps"] == 2
    assert (data / "models" / "embed" / "ft1" / MANIFEST).is_file()
    # registered as a version of the registry, exported to int8 ONNX in the engine's cache
    assert out["version"] == "v0001" and out["model_name"].startswith("all-MiniLM-L6-v2-ft-ft1-")
    from training.registry import Registry

    man = Registry(data).manifest("v0001")
    assert man["kind"] == "embedding" and man["finetune"]["pairs"] == 8
    assert (data / man["onnx_int8"]["file"]).is_file()
    assert main([*base, *args]) == 2  # the name is taken
    assert "exists" in capsys.readouterr().err
    assert main([*base, "train", "embed", "--out", "../x"]) == 2


def test_a_model_saved_by_sentence_transformers_6_is_read(tmp_path: Path) -> None:
    """sentence-transformers 6 saves the pooling width as `embedding_dimension` (the packaged
    MiniLM says `word_embedding_dimension`): the engine read only the old key and refused a
    fine-tuned model ("unreadable model configuration")."""
    from matcher.embedding.sentence_transformer import read_model_dimension

    for key in ("embedding_dimension", "word_embedding_dimension"):
        folder = tmp_path / key
        (folder / "1_Pooling").mkdir(parents=True)
        (folder / "1_Pooling" / "config.json").write_text(json.dumps({key: 384}))
        assert read_model_dimension(folder) == 384
