"""The publish gate of an embedding model (issue 13): the candidate against the published one.

Both models embed the same texts and rank by cosine (dense retrieval: what the embedding model
contributes, the rest of the engine unchanged) on every evaluation set available:

- the shared benchmarks T1-T4 on the states the candidate never trained on, when the shared
  data is there (`training.embed_gate_shared`);
- an evaluation set the analyst supplies (`--eval-set`, JSONL: query, relevant ids, region);
- the stored labelled profiles: each coded profile of a held-out state asks for its state's
  profiles, and those with its cause code (3 characters) are relevant (like T3).

Each set has a primary metric; the candidate is refused when it is worse than the published
model on any set by more than `tolerance` (absolute), or when nothing could be measured.
The report (`gate.json` and `gate.txt` in the version's folder) says which sets were measured,
on what, and which were skipped and why.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher.atomic import atomic_write_text
from matcher.domain import Organisation
from training import metrics as m

Encode = Callable[[Sequence[str]], np.ndarray]
DEFAULT_TOLERANCE = 0.01
K = 10
MAX_STORED_QUERIES = 300
MIN_QUERY_TEXT = 40


class GateInputError(ValueError):
    """An evaluation set cannot be read (the message names the line and the field)."""


@dataclass
class RetrievalSet:
    """Queries ranking a corpus; a query with a region sees only that region's documents."""

    name: str
    description: str
    query_ids: list[str]
    queries: list[str]
    doc_ids: list[str]
    docs: list[str]
    relevance: pd.DataFrame  # query_id, item_id, gain
    query_regions: list[str] | None = None
    doc_regions: list[str] | None = None
    self_ids: dict[str, str] = field(default_factory=dict)  # query -> its own document
    k: int = K

    @property
    def primary(self) -> str:
        return f"P@{self.k}"

    def run(self, encode: Encode) -> dict[str, float]:
        d = np.asarray(encode(self.docs), dtype=np.float32)
        q = np.asarray(encode(self.queries), dtype=np.float32)
        scores = q @ d.T
        if self.query_regions is not None and self.doc_regions is not None:
            docs = np.asarray(self.doc_regions, dtype=object)
            for i, region in enumerate(self.query_regions):
                if region:
                    scores[i, docs != region] = -np.inf
        position = {d_id: j for j, d_id in enumerate(self.doc_ids)}
        for i, qid in enumerate(self.query_ids):
            if qid in self.self_ids and self.self_ids[qid] in position:
                scores[i, position[self.self_ids[qid]]] = -np.inf
        rows = []
        k = min(self.k, len(self.doc_ids))
        for i, qid in enumerate(self.query_ids):
            top = np.argsort(-scores[i], kind="stable")[:k]
            rows += [
                (qid, self.doc_ids[j], r + 1)
                for r, j in enumerate(top)
                if np.isfinite(scores[i, j])
            ]
        results = pd.DataFrame(rows, columns=["query_id", "item_id", "rank"])
        qs = self.query_ids
        return {
            f"P@{self.k}": m.precision_at_k(results, self.relevance, self.k, queries=qs),
            f"nDCG@{self.k}": m.ndcg_at_k(results, self.relevance, self.k, queries=qs),
            "MRR": m.mrr(results, self.relevance, queries=qs),
            "queries": float(len(self.query_ids)),
        }


class Measure:
    """Anything with a name, a description, a primary metric and run(encode) -> figures."""

    name: str
    description: str
    primary: str

    def run(self, encode: Encode) -> dict[str, float]:  # pragma: no cover - protocol
        raise NotImplementedError


# ------------------------------------------------------------------------- local sources


def stored_profiles_set(
    orgs: Sequence[Organisation],
    held_states: Sequence[str],
    *,
    max_queries: int = MAX_STORED_QUERIES,
    seed: int = 0,
) -> RetrievalSet | None:
    """T3-like set from the stored coded profiles of `held_states` (all states when empty):
    query = a profile's text, relevant = the other profiles of its state and cause code.
    None when no profile has a partner of its code in its state."""
    from training.finetune.pairs import profile_text

    held = {s.upper() for s in held_states}
    pool = [o for o in orgs if not held or (o.region or "").upper() in held]
    groups: dict[tuple[str, str], list[Organisation]] = defaultdict(list)
    for o in pool:
        if o.cause_code:
            groups[((o.region or "").upper(), o.cause_code[:3].upper())].append(o)
    candidates = [
        o
        for members in groups.values()
        if len(members) >= 2
        for o in members
        if len(o.description) >= MIN_QUERY_TEXT
    ]
    if not candidates:
        return None
    candidates.sort(key=lambda o: o.id)
    chosen = random.Random(seed).sample(candidates, min(max_queries, len(candidates)))
    rel = []
    for o in chosen:
        key = ((o.region or "").upper(), (o.cause_code or "")[:3].upper())
        rel += [(o.id, p.id, 1.0) for p in groups[key] if p.id != o.id]
    where = f"held-out states {'+'.join(sorted(held))}" if held else "all states"
    caveat = (
        ""
        if held
        else " (no held-out states recorded: the model may have trained on these profiles)"
    )
    return RetrievalSet(
        name="stored labelled profiles",
        description=f"{len(chosen)} coded profiles of {where} as queries, their state's "
        f"{len(pool)} profiles as corpus, relevant = same cause code (3 characters){caveat}",
        query_ids=[o.id for o in chosen],
        queries=[profile_text(o) for o in chosen],
        doc_ids=[o.id for o in pool],
        docs=[profile_text(o) for o in pool],
        relevance=pd.DataFrame(rel, columns=["query_id", "item_id", "gain"]),
        query_regions=[(o.region or "").upper() for o in chosen],
        doc_regions=[(o.region or "").upper() for o in pool],
        self_ids={o.id: o.id for o in chosen},
    )


def eval_file_set(path: Path, orgs: Sequence[Organisation]) -> RetrievalSet:
    """An analyst's evaluation set: JSONL, one query a line,
    {"query": "text", "relevant": ["org id", ...], "region": "optional state"}, over the
    stored profiles."""
    from training.finetune.pairs import profile_text

    known = {o.id for o in orgs}
    ids, texts, regions, rel = [], [], [], []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GateInputError(f"{path}: cannot be read: {exc}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise GateInputError(f"{path} line {n}: not JSON ({exc})") from exc
        if not isinstance(row, dict) or not str(row.get("query") or "").strip():
            raise GateInputError(f"{path} line {n}: 'query' is missing or empty")
        relevant = row.get("relevant")
        if not isinstance(relevant, list) or not relevant:
            raise GateInputError(f"{path} line {n}: 'relevant' must be a non-empty list of ids")
        unknown = [str(r) for r in relevant if str(r) not in known]
        if unknown:
            raise GateInputError(
                f"{path} line {n}: 'relevant' names unknown profiles {unknown[:3]}"
            )
        qid = f"q{n}"
        ids.append(qid)
        texts.append(str(row["query"]))
        regions.append(str(row.get("region") or "").upper())
        rel += [(qid, str(r), 1.0) for r in relevant]
    if not ids:
        raise GateInputError(f"{path}: no queries")
    return RetrievalSet(
        name=f"evaluation set {Path(path).name}",
        description=f"{len(ids)} queries from {path} over the {len(orgs)} stored profiles",
        query_ids=ids,
        queries=texts,
        doc_ids=[o.id for o in orgs],
        docs=[profile_text(o) for o in orgs],
        relevance=pd.DataFrame(rel, columns=["query_id", "item_id", "gain"]),
        query_regions=regions,
        doc_regions=[(o.region or "").upper() for o in orgs],
    )


# ------------------------------------------------------------------------- the comparison


def compare(
    measures: Sequence[RetrievalSet | Measure],
    candidate: Encode,
    published: Encode,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    skipped: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Both encoders on every measure; verdict "pass" or "refuse" with the reason."""
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for measure in measures:
        if progress:
            progress(measure.name)
        cand = measure.run(candidate)
        pub = measure.run(published)
        primary = measure.primary
        delta = cand[primary] - pub[primary]
        rows.append(
            {
                "name": measure.name,
                "description": measure.description,
                "primary": primary,
                "candidate": _rounded(cand),
                "published": _rounded(pub),
                "delta": round(delta, 4),
                "worse": bool(delta < -tolerance),
            }
        )
    worse = [r for r in rows if r["worse"]]
    if not rows:
        verdict, reason = (
            "refuse",
            "nothing could be measured: "
            + "; ".join(f"{k}: {v}" for k, v in (skipped or {}).items()),
        )
    elif worse:
        verdict = "refuse"
        reason = "; ".join(
            f"{r['name']}: {r['primary']} {r['candidate'][r['primary']]:.4f} < published "
            f"{r['published'][r['primary']]:.4f} - {tolerance}"
            for r in worse
        )
    else:
        verdict = "pass"
        reason = f"not worse than the published model by more than {tolerance} on " + ", ".join(
            r["name"] for r in rows
        )
    return {
        "method": "dense retrieval (cosine of the two models' vectors, same-state filter where "
        "the set has states), the rest of the engine unchanged",
        "tolerance": tolerance,
        "measured": rows,
        "skipped": dict(skipped or {}),
        "verdict": verdict,
        "reason": reason,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _rounded(figs: dict[str, float]) -> dict[str, float]:
    return {k: (round(float(v), 4) if v == v else float("nan")) for k, v in figs.items()}


def text_report(report: dict[str, Any]) -> str:
    lines = [
        f"gate of {report.get('candidate')} ({report.get('candidate_model')}) against "
        f"{report.get('published') or 'the default model'} ({report.get('published_model')})",
        f"method: {report['method']}; tolerance {report['tolerance']}",
        f"{'set':<44} {'metric':>8} {'candidate':>10} {'published':>10} {'delta':>8}",
    ]
    for r in report["measured"]:
        p = r["primary"]
        lines.append(
            f"{r['name']:<44} {p:>8} {r['candidate'][p]:>10.4f} {r['published'][p]:>10.4f} "
            f"{r['delta']:>+8.4f}{'  WORSE' if r['worse'] else ''}"
        )
        lines.append(f"    {r['description']}")
    for name, why in report["skipped"].items():
        lines.append(f"skipped {name}: {why}")
    lines.append(f"verdict: {report['verdict']} ({report['reason']})")
    return "\n".join(lines) + "\n"


def write_report(version_dir: Path, report: dict[str, Any]) -> tuple[Path, Path]:
    """gate.json (what publish reads) and gate.txt (for people), written atomically."""
    json_path, txt_path = version_dir / "gate.json", version_dir / "gate.txt"
    atomic_write_text(txt_path, text_report(report))
    atomic_write_text(json_path, json.dumps(report, indent=2, default=str))
    return json_path, txt_path
