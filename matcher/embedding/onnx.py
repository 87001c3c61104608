"""The same sentence-transformers model called through onnxruntime: 3-5x faster on CPU.

`export_onnx` turns the model folder into an ONNX graph once (transformer + mean pooling + L2
normalisation, exported by torch, offline), optionally int8 dynamically quantised, into a cache
folder keyed by the model's weights. `OnnxEmbedder` tokenises with the folder's tokenizer.json
(`tokenizers`) and runs onnxruntime; it never needs torch once the export exists.
Needs the `onnxruntime` package at run time and `onnx` for export and quantisation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matcher.atomic import atomic_directory
from matcher.embedding.packed import (
    PACK_LIMIT,
    PACKED_OUTPUT,
    export_packed,
    packed_feed,
    pool_segments,
)
from matcher.embedding.sentence_transformer import (
    DEFAULT_MODEL_NAME,
    default_model_path,
    length_sorted_batches,
    read_model_dimension,
)
from matcher.embedding.spans import TOKENS_OUTPUT, Span, pool_spans, tokens_graph
from matcher.errors import ModelLoadError
from matcher.vectors import l2_normalise

logger = logging.getLogger(__name__)

OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
INT8_SUFFIX = "+onnx-int8"
# Inputs of at most this many texts (a request's query, sentences and clauses; a written
# profile) run on a session with one intra-op thread when no thread count is configured: on a
# serving machine a second thread spinning beside each small product doubles a request's CPU
# (measured: 5.5 against 10.6 ms of CPU for one query at the same wall time), and concurrent
# requests are the parallelism. Larger inputs (builds, embed jobs) use every core.
SMALL_INPUT = 16
# A need read in one packed call (`encode_packed(wide=True)`) by a server's one request in
# flight runs on this many threads: the process's one spare core, as the two passes of an
# unpacked need run side by side (matcher.query_reader.side_by_side)
WIDE_THREADS = 2


def _max_seq_length(model_path: Path) -> int:
    cfg = model_path / "sentence_bert_config.json"
    if cfg.is_file():
        return int(json.loads(cfg.read_text()).get("max_seq_length", 256))
    return 256


def export_key(model_path: Path, quantize: bool) -> str:
    """A folder name that changes whenever the weights, or the export recipe, change."""
    digest = hashlib.sha256(f"opset{OPSET}-meanpool-l2-q{int(quantize)}-perchannel-rr".encode())
    for name in ("model.safetensors", "pytorch_model.bin", "config.json"):
        f = model_path / name
        if f.is_file():
            st = f.stat()
            digest.update(f"{name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return f"{model_path.name}-{'int8' if quantize else 'fp32'}-{digest.hexdigest()[:16]}"


def _torch_export(model_path: Path, out_file: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    base = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.base = base

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.base(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    dummy = tuple(torch.ones(2, 8, dtype=torch.long) for _ in INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about this (static) graph, not errors
        torch.onnx.export(
            Pooled(),
            dummy,
            str(out_file),
            input_names=list(INPUTS),
            output_names=["sentence_embedding"],
            dynamic_axes={**axes, "sentence_embedding": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )


def export_onnx(model_path: Path, cache_dir: Path, *, quantize: bool = True) -> Path:
    """Path of `model.onnx` for this model, exporting it first if the cache lacks it."""
    model_path = Path(model_path)
    read_model_dimension(model_path)  # a clear error for a missing folder
    folder = Path(cache_dir) / export_key(model_path, quantize)
    target = folder / "model.onnx"
    if target.is_file():
        return target
    try:
        # int8 is derived from the (cached) fp32 export, so torch loads the weights only once
        source = export_onnx(model_path, cache_dir, quantize=False) if quantize else None
        with atomic_directory(folder) as tmp:
            if source is None:
                _torch_export(model_path, tmp / "model.onnx")
            else:
                from onnxruntime.quantization import QuantType, quantize_dynamic

                # per-channel, reduced-range int8 weights: cosine to fp32 about 0.993 on our
                # profiles, against 0.958 for per-tensor quantisation
                root = logging.getLogger()
                level = root.level
                root.setLevel(logging.ERROR)  # its "consider pre-processing" advice is noise here
                try:
                    quantize_dynamic(
                        str(source),
                        str(tmp / "model.onnx"),
                        weight_type=QuantType.QInt8,
                        per_channel=True,
                        reduce_range=True,
                    )
                finally:
                    root.setLevel(level)
            info = {"source": str(model_path), "opset": OPSET, "quantized": quantize}
            (tmp / "export.json").write_text(json.dumps(info, indent=2))
    except ImportError as exc:
        raise ModelLoadError(f"ONNX export needs torch, transformers and onnx: {exc}") from exc
    logger.info("exported %s to %s", model_path, target)
    return target


class OnnxEmbedder:
    """Embedder over an exported ONNX graph; exports lazily on first use if needed."""

    def __init__(
        self,
        cache_dir: Path,
        model_path: Path | None = None,
        model_name: str = DEFAULT_MODEL_NAME,
        *,
        quantize: bool = True,
        batch_size: int = 64,
        threads: int | None = None,
        packed: bool = False,
    ) -> None:
        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        # int8 vectors differ slightly from the torch ones: keep them apart in caches/artifacts
        self.model_name = f"{model_name}{INT8_SUFFIX}" if quantize else model_name
        self.dimension = read_model_dimension(self.model_path)
        self.cache_dir = Path(cache_dir)
        self.quantize = quantize
        self.batch_size = batch_size
        self.threads = threads
        self.max_length = _max_seq_length(self.model_path)
        self._session: Any = None
        self._small_session: Any = None
        self._tokenizer: Any = None
        self._pooled: list[str] = []  # the output `encode` fetches
        self._tokens = False  # the sessions also give token states (`encode_spans`)
        self.packed = packed  # read short texts in one packed row (`encode_packed`)
        self._packed_session: Any = None
        self._packed_tried = False  # opened on first use: a build's workers never need it
        self._packed_wide: Any = None  # its two-thread session (`encode_packed(wide=True)`)
        self._lock = threading.Lock()

    def load(self) -> OnnxEmbedder:
        with self._lock:
            if self._session is None:
                self._session, self._tokenizer = self._open(self.threads)
                self._small_session = (
                    self._session if self.threads is not None else self._open(1)[0]
                )
        return self

    def _open_packed(self, threads: int = 1) -> Any:
        """A session of `threads` threads over the packed graph (`matcher.embedding.packed`),
        or None when it cannot be made (then `encode_packed` declines)."""
        import onnxruntime as ort

        name = export_key(self.model_path, self.quantize)
        path = export_packed(
            self.model_path, self.cache_dir, name, quantize=self.quantize, opset=OPSET
        )
        if path is None:
            return None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # one short row: see SMALL_INPUT
        options.inter_op_num_threads = 1
        # never spinning: a spinning thread kept a core busy after each call (through HTTP at
        # 100k one client's requests cost 60 against 35 ms of CPU, and were no faster)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            return ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            logger.warning("onnxruntime could not open %s (%s): not packing", path, exc)
            return None

    @property
    def packs(self) -> bool:
        """Whether `encode_packed` reads texts in one packed row: loads the model and, the
        first time, the packed graph (exported first if missing: a server's warm-up)."""
        self.load()
        if self.packed and not self._packed_tried:
            with self._lock:
                if not self._packed_tried:
                    self._packed_session = self._open_packed()
                    self._packed_tried = True
        return self._packed_session is not None

    def _wide_packed(self) -> Any:
        """The packed graph's session of two threads, opened on first use (None: the one-thread
        session serves)."""
        if self._packed_wide is None:
            with self._lock:
                if self._packed_wide is None:
                    self._packed_wide = self._open_packed(WIDE_THREADS) or self._packed_session
        return self._packed_wide

    def encode_packed(self, texts: Sequence[str], *, wide: bool = False) -> np.ndarray | None:
        """Each text's vector as if embedded on its own (no attention between them), all from
        ONE call into the model: the texts end to end in one row, no padding (a need and its
        clauses). None when there is no packed graph or the row would be longer than
        PACK_LIMIT tokens: the caller embeds them as before. `wide`: on two threads (a
        server's one request in flight: its one call is then read on both cores; the int8
        vectors are the same whatever the threads)."""
        if isinstance(texts, str):
            raise TypeError("encode_packed takes a sequence of texts, not a single string")
        if not texts or not self.packs:
            return None
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = [sum(e.attention_mask) for e in encodings]  # without the batch's padding
        if sum(lengths) > PACK_LIMIT:
            return None
        feed, segments = packed_feed(
            [e.ids[:n] for e, n in zip(encodings, lengths, strict=True)],
            [e.type_ids[:n] for e, n in zip(encodings, lengths, strict=True)],
        )
        session = self._wide_packed() if wide else self._packed_session
        states = session.run([PACKED_OUTPUT], feed)[0][0]
        return pool_segments(states, segments, len(texts))

    def _open(self, threads: int | None) -> tuple[Any, Any]:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelLoadError(
                f"the ONNX backend needs onnxruntime and tokenizers: {exc}"
            ) from exc
        path = export_onnx(self.model_path, self.cache_dir, quantize=self.quantize)
        tokens = tokens_graph(path)  # the same graph, the token states a second output
        path = tokens or path
        tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=self.max_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in each batch
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        if threads == 1:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelLoadError(f"onnxruntime could not open {path}: {exc}") from exc
        logger.info("ONNX embedder ready: %s (%s)", path, "int8" if self.quantize else "fp32")
        self._pooled = [session.get_outputs()[0].name]
        self._tokens = tokens is not None
        return session, tokenizer

    @property
    def pools_spans(self) -> bool:
        """Whether `encode_spans` reads spans from the text's own pass (loads the model)."""
        self.load()
        return self._tokens

    def _feed(self, texts: Sequence[str]) -> tuple[dict[str, np.ndarray], list[Any]]:
        encodings = self._tokenizer.encode_batch(list(texts))
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return feed, encodings

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts, not a single string")
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        session = self._small_session if len(texts) <= SMALL_INPUT else self._session
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        bar: Any = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="text")
        try:
            for idx in length_sorted_batches(texts, self.batch_size):
                feed, _ = self._feed([texts[i] for i in idx])
                out[idx] = session.run(self._pooled, feed)[0]
                if bar is not None:
                    bar.update(len(idx))
        finally:
            if bar is not None:
                bar.close()
        return l2_normalise(out)

    def encode_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[Span]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector (as `encode` gives it) and a vector per character span of it,
        from one pass (`matcher.embedding.spans`); spans no token lies in (cut by the
        model's length limit) are embedded as texts of their own. Needs `pools_spans`."""
        self.load()
        if not self.pools_spans:
            raise ModelLoadError(f"the graph of {self.model_path} gives no token states")
        session = self._small_session if len(texts) <= SMALL_INPUT else self._session
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        parts: list[np.ndarray] = [np.zeros((0, self.dimension), np.float32)] * len(texts)
        for idx in length_sorted_batches(texts, self.batch_size):
            feed, encodings = self._feed([texts[i] for i in idx])
            pooled, states = session.run([self._pooled[0], TOKENS_OUTPUT], feed)
            out[idx] = pooled
            for row, i in enumerate(idx):
                vecs, empty = pool_spans(states[row], encodings[row].offsets, spans[i])
                if empty:
                    text = texts[i]
                    vecs[empty] = self.encode(
                        [text[a:b] or text for a, b in (spans[i][j] for j in empty)]
                    )
                parts[i] = vecs
        return l2_normalise(out), parts
