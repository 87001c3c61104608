"""The embedding model's publish gate on small synthetic data: the stored labelled profiles of
the held-out states as an evaluation set, an analyst's JSONL set (bad lines named), the verdict
with its tolerance, and `matcher models evaluate-embed` writing the report that `publish` then
enforces. Encoders are fakes (a bag of cause words, or noise): no model is loaded. The shared
benchmarks' measures run on the real data only when it is present."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matcher.domain import Organisation
from training.embed_gate import (
    GateInputError,
    compare,
    eval_file_set,
    stored_profiles_set,
    text_report,
)

CAUSES = {
    "K31": "food pantry groceries hungry meals",
    "B60": "adult literacy reading diploma classes",
    "D20": "animal shelter dogs cats adoption",
}
WORDS = sorted({w for text in CAUSES.values() for w in text.split()})


def orgs() -> list[Organisation]:
    out = []
    for state in ("HI", "OR"):
        for code, text in CAUSES.items():
            for i in range(4):
                out.append(
                    Organisation(
                        id=f"{state}-{code}-{i}",
                        name=f"{code} group {i}",
                        sector="nonprofit",
                        description=f"In town {i} our volunteers run {text} for neighbours.",
                        region=state,
                        cause_code=code + "0",
                    )
                )
    return out


class Words:
    """A good encoder: counts of the cause words (the causes are perfectly separable)."""

    model_name = "words"
    dimension = len(WORDS)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        v = np.array([[t.lower().count(w) for w in WORDS] for t in texts], dtype=np.float32)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)


class Noise:
    """A bad encoder: a random vector per text."""

    model_name = "noise"
    dimension = 8

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rng = np.random.default_rng(7)
        v = rng.normal(size=(len(texts), 8)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_stored_set_uses_only_held_out_states_and_never_the_query_itself() -> None:
    s = stored_profiles_set(orgs(), ["hi"])
    assert s is not None and len(s.query_ids) == 12
    assert all(q.startswith("HI-") for q in s.query_ids) and set(s.doc_regions or []) == {"HI"}
    assert not (s.relevance["query_id"] == s.relevance["item_id"]).any()
    figs = s.run(Words().encode)
    assert figs["P@10"] == pytest.approx(0.3)  # 3 peers of its cause in the top 10, no self
    assert figs["MRR"] == pytest.approx(1.0)
    assert "held-out states HI" in s.description
    everything = stored_profiles_set(orgs(), [])
    assert everything is not None and "may have trained on" in everything.description
    assert stored_profiles_set(orgs(), ["NM"]) is None


def test_verdict_refuses_a_worse_candidate_and_passes_within_tolerance() -> None:
    s = stored_profiles_set(orgs(), ["HI"])
    assert s is not None
    good = compare([s], Words().encode, Noise().encode)
    assert good["verdict"] == "pass" and good["measured"][0]["delta"] > 0
    bad = compare([s], Noise().encode, Words().encode, tolerance=0.01)
    assert bad["verdict"] == "refuse" and "stored labelled profiles: P@10" in bad["reason"]
    assert bad["measured"][0]["worse"]
    lenient = compare([s], Noise().encode, Words().encode, tolerance=1.0)
    assert lenient["verdict"] == "pass"
    nothing = compare([], Words().encode, Noise().encode, skipped={"T1-T4": "no data"})
    assert nothing["verdict"] == "refuse" and "nothing could be measured" in nothing["reason"]
    assert "T1-T4: no data" in text_report({**nothing, "candidate": "v1"})


def test_eval_set_file_and_its_errors(tmp_path: Path) -> None:
    good = tmp_path / "eval.jsonl"
    rows = [
        {"query": "a food pantry for hungry families", "relevant": ["HI-K31-0"], "region": "hi"},
        {"query": "dogs and cats to adopt", "relevant": ["OR-D20-1", "OR-D20-2"]},
    ]
    good.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    s = eval_file_set(good, orgs())
    assert s.query_ids == ["q1", "q2"] and s.query_regions == ["HI", ""]
    assert s.run(Words().encode)["MRR"] > 0.5
    cases = {
        "not json": "line 1: not JSON",
        json.dumps({"relevant": ["HI-K31-0"]}): "line 1: 'query' is missing",
        json.dumps({"query": "x", "relevant": []}): "line 1: 'relevant' must be",
        json.dumps({"query": "x", "relevant": ["nobody"]}): "unknown profiles ['nobody']",
    }
    for line, message in cases.items():
        bad = tmp_path / "bad.jsonl"
        bad.write_text(line + "\n")
        with pytest.raises(GateInputError, match=message.replace("[", r"\[")):
            eval_file_set(bad, orgs())
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(GateInputError, match="no queries"):
        eval_file_set(tmp_path / "empty.jsonl", orgs())


def _data_dir(tmp_path: Path) -> Path:
    from matcher.store import Database, Store
    from tests.training.test_embed_registry import fake_model
    from training.embed_registry import register_embedding

    data = tmp_path / "var"
    db = Database(f"sqlite:///{data / 'matcher.db'}")
    db.create_all()
    Store(db).upsert_organisations(orgs())
    db.dispose()
    register_embedding(data, fake_model(tmp_path / "ft"), export=False)
    return data


def test_evaluate_embed_writes_the_report_publish_enforces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from matcher.cli import main
    from training import embed_gate_cli

    data = _data_dir(tmp_path)
    pair: dict[str, Any] = {"candidate": Noise(), "published": Words()}
    monkeypatch.setattr(
        embed_gate_cli, "encoders", lambda s, v: (pair["candidate"], pair["published"], None)
    )
    base = ["--data-dir", str(data), "models"]
    assert main([*base, "evaluate-embed", "v0001", "--json"]) == 1  # worse: refused
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    # the profiles were embedded with both models, with progress (none was shown before)
    assert "gate: embedding with" in captured.err and "text/s" in captured.err
    assert out["verdict"] == "refuse" and out["held_out_states"] == ["HI"]
    assert out["skipped"]["T1-T4"] == "no --shared-data given"
    assert [r["name"] for r in out["measured"]] == ["stored labelled profiles"]
    gate_file = data / "models" / "v0001" / "gate.json"
    assert json.loads(gate_file.read_text())["verdict"] == "refuse"
    assert (data / "models" / "v0001" / "gate.txt").is_file()
    assert main([*base, "publish", "v0001"]) == 1
    assert "did not pass the gate" in capsys.readouterr().err
    pair.update(candidate=Words(), published=Noise())
    eval_set = tmp_path / "eval.jsonl"
    eval_set.write_text(json.dumps({"query": "hungry meals", "relevant": ["OR-K31-3"]}) + "\n")
    assert main([*base, "evaluate-embed", "v0001", "--eval-set", str(eval_set)]) == 0
    text = capsys.readouterr().out
    assert "evaluation set eval.jsonl" in text and "verdict: pass" in text
    assert main([*base, "publish", "v0001"]) == 0
    assert "published embedding model v0001" in capsys.readouterr().out
    assert main([*base, "list"]) == 0
    assert "gate: pass" in capsys.readouterr().out
    assert main([*base, "evaluate-embed", "v0001", "--tolerance", "-1"]) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\n")
    assert main([*base, "evaluate-embed", "v0001", "--eval-set", str(bad)]) == 2
    assert "line 1: 'query' is missing" in capsys.readouterr().err


def test_shared_measures_say_what_is_missing(tmp_path: Path) -> None:
    from training.embed_gate_shared import shared_measures

    measures, skipped = shared_measures(tmp_path / "nowhere", ["HI"])
    assert measures == [] and set(skipped) == {"T1", "T2", "T3", "T4"}
    assert "shared data not found" in skipped["T1"]
    assert "uk_360giving_grants.csv.gz not found" in skipped["T2"]


SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")
def test_shared_measures_run_on_the_real_data() -> None:
    from matcher.embedding.hashing import HashingEmbedder
    from training.embed_gate_shared import shared_measures

    measures, skipped = shared_measures(SHARED, ["HI", "MT"])
    assert [m.name[:2] for m in measures] == ["T1", "T2", "T3", "T4"] and not skipped
    encode = HashingEmbedder().encode
    report = compare(measures, encode, encode)
    assert report["verdict"] == "pass"  # the same encoder: every delta is 0
    assert all(r["delta"] == 0 for r in report["measured"])
    assert all(r["candidate"][r["primary"]] > 0 for r in report["measured"])
