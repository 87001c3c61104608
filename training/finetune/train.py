"""Fine-tune the sentence-transformers model on triplets with MultipleNegativesRankingLoss
(in-batch negatives plus one hard negative per pair), on the CPU, with progress, checkpoints
and resume.

Checkpoints are written every `checkpoint_every` steps into `<run>/checkpoint/` (atomically: a
kill -9 leaves the previous one): the weights and the optimizer's moments as safetensors (no
pickle), the step, the scheduler position and the losses as JSON. A run started again with the
same data and options resumes from it; the batches come from a seeded permutation, so the
resumed run sees the same batches as an uninterrupted one. The result is a sentence-transformers
model directory with `finetune.json`: base model and its digest, data hash, pairs, loss,
options, the loss at the start and the end, seconds."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matcher.atomic import atomic_directory
from training.finetune.pairs import Triplet, data_hash

MANIFEST = "finetune.json"
LOSS_NAME = (
    "MultipleNegativesRankingLoss (scale 20), in-batch negatives and one hard negative a triplet "
    "(missions: same state, other cause; definitions: a sibling cause; outcomes and grants: "
    "same sector)"
)
Progress = Callable[[int, int, float], None]  # (step, total steps, running loss)


@dataclass(frozen=True)
class FinetuneOptions:
    batch_size: int = 32
    epochs: int = 1
    learning_rate: float = 2e-5
    warmup_share: float = 0.1
    seed: int = 0
    checkpoint_every: int = 50
    max_seq_length: int = 128
    threads: int | None = None

    def key(self, data: str) -> str:
        payload = json.dumps({"data": data, **asdict(self), "threads": None}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass
class FinetuneResult:
    model_dir: Path
    manifest: dict[str, Any]
    resumed_from: int


def base_digest(model_path: Path) -> str:
    """sha256 of the base model's weight files (what the fine-tune started from)."""
    h = hashlib.sha256()
    for f in sorted(model_path.rglob("*.safetensors")) or sorted(model_path.rglob("*.bin")):
        h.update(f.name.encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _batches(n: int, options: FinetuneOptions) -> list[np.ndarray]:
    out = []
    for epoch in range(options.epochs):
        order = np.random.default_rng(options.seed + epoch).permutation(n)
        out += [order[i : i + options.batch_size] for i in range(0, n, options.batch_size)]
    return [b for b in out if len(b) >= 2]  # a batch of one has no in-batch negative


def _save_checkpoint(
    folder: Path, model: Any, optimizer: Any, step: int, scheduler: Any, losses: list[float]
) -> None:
    import torch
    from safetensors.torch import save_file

    with atomic_directory(folder) as tmp:
        save_file(
            {k: v.contiguous() for k, v in model.state_dict().items()}, tmp / "model.safetensors"
        )
        moments = {}
        for i, state in optimizer.state_dict()["state"].items():
            for name, value in state.items():
                moments[f"{i}.{name}"] = value.reshape(-1) if value.ndim == 0 else value
        save_file(moments, tmp / "optimizer.safetensors")
        # dropout draws from torch's generator: the resumed steps must draw the same masks
        save_file({"torch": torch.get_rng_state()}, tmp / "rng.safetensors")
        meta = {
            "step": step,
            "scheduler": scheduler.state_dict(),
            # the learning rate the scheduler set for the next step lives in the param groups
            "param_groups": optimizer.state_dict()["param_groups"],
            "losses": losses,
        }
        (tmp / "state.json").write_text(json.dumps(meta))


def _load_checkpoint(
    folder: Path, model: Any, optimizer: Any, scheduler: Any
) -> tuple[int, list[float]]:
    import torch
    from safetensors.torch import load_file

    meta = json.loads((folder / "state.json").read_text())
    torch.set_rng_state(load_file(folder / "rng.safetensors")["torch"])
    model.load_state_dict(load_file(folder / "model.safetensors"))
    moments = load_file(folder / "optimizer.safetensors")
    state: dict[int, dict[str, Any]] = {}
    for key, value in moments.items():
        i, name = key.split(".", 1)
        state.setdefault(int(i), {})[name] = value.reshape(()) if name == "step" else value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    scheduler.load_state_dict(meta["scheduler"])
    return int(meta["step"]), [float(x) for x in meta["losses"]]


def finetune(
    base_path: Path,
    triplets: Sequence[Triplet],
    out_dir: Path,
    run_dir: Path,
    options: FinetuneOptions,
    *,
    progress: Progress | None = None,
    extra_manifest: dict[str, Any] | None = None,
) -> FinetuneResult:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    if len(triplets) < 2:
        raise ValueError(f"need at least 2 training pairs, got {len(triplets)}")
    t0 = time.perf_counter()
    if options.threads:
        torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    model = SentenceTransformer(str(base_path), device="cpu")
    model.max_seq_length = options.max_seq_length
    loss_fn = MultipleNegativesRankingLoss(model)
    batches = _batches(len(triplets), options)
    total = len(batches)
    optimizer = torch.optim.AdamW(model.parameters(), lr=options.learning_rate)
    warmup = max(1, int(total * options.warmup_share))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    digest = data_hash(triplets)
    checkpoint = run_dir / options.key(digest) / "checkpoint"
    start, losses = 0, list[float]()
    if (checkpoint / "state.json").is_file():
        start, losses = _load_checkpoint(checkpoint, model, optimizer, scheduler)
    resumed_from = start
    # `preprocess` since sentence-transformers 6 (`tokenize` warns there), `tokenize` before
    encode_inputs = getattr(model, "preprocess", None) or model.tokenize
    model.train()
    for step in range(start, total):
        idx = batches[step]
        feats = [
            dict(encode_inputs([getattr(triplets[i], part) for i in idx]))
            for part in ("anchor", "positive", "negative")
        ]
        value = loss_fn(feats, torch.empty(0))
        value.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        losses.append(round(float(value.detach()), 5))
        done = step + 1
        if progress is not None:
            progress(done, total, float(np.mean(losses[-20:])))
        if done % options.checkpoint_every == 0 and done < total:
            _save_checkpoint(checkpoint, model, optimizer, done, scheduler, losses)
    model.eval()
    first = losses[: min(20, len(losses))]
    last = losses[-min(20, len(losses)) :]
    manifest = {
        "kind": "embedding-model",
        "base_model": str(base_path),
        "base_digest": base_digest(base_path),
        "data_hash": digest,
        "pairs": len(triplets),
        "loss": LOSS_NAME,
        "options": asdict(options),
        "steps": total,
        "loss_first_steps": round(float(np.mean(first)), 4),
        "loss_last_steps": round(float(np.mean(last)), 4),
        "resumed_from_step": resumed_from,
        "seconds": round(time.perf_counter() - t0, 1),
        **(extra_manifest or {}),
    }
    with atomic_directory(out_dir) as tmp:
        model.save(str(tmp))
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
    import shutil

    shutil.rmtree(checkpoint.parent, ignore_errors=True)
    return FinetuneResult(out_dir, manifest, resumed_from)
