"""Smoke run of `make bench`'s functions on a few generated rows (hashing embedder, no timing
assertions, no shared data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from matcher.domain import Need, Organisation, Sector
from matcher.embedding.hashing import HashingEmbedder
from training import bench_speed

MISSIONS = [
    "Runs a food bank and weekly grocery distribution for families in need.",
    "Teaches young people to sail and to stay safe on the water.",
    "Represents transit workers in grievances and bargaining.",
    "Offers free legal aid to tenants facing eviction.",
    "Plants trees and restores wetlands with volunteers.",
]


def real_rows() -> list[Organisation]:
    return [
        Organisation(
            id=f"ein-{i}",
            name=f"Org {i} of {['Portland', 'Salem', 'Bend'][i % 3]}",
            sector=Sector.nonprofit,
            description=MISSIONS[i % len(MISSIONS)],
            city=["Portland", "Salem", "Bend"][i % 3],
            region=["OR", "WA"][i % 2],
            country="US",
        )
        for i in range(12)
    ]


def test_padded_keeps_real_rows_and_normalises_vectors(hashing_embedder: HashingEmbedder) -> None:
    real = real_rows()
    vecs = hashing_embedder.encode([o.profile_text() for o in real])
    orgs, out = bench_speed.padded(real, vecs, 40)
    assert len(orgs) == 40 and out.shape == (40, vecs.shape[1])
    assert orgs[:12] == real and np.allclose(out[:12], vecs)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert len({o.id for o in orgs}) == 40
    assert {o.sector for o in orgs[12:]} == set(Sector)
    assert bench_speed.padded(real, vecs, 5)[0] == real[:5]


def test_throughput_reports_every_encoder(hashing_embedder: HashingEmbedder) -> None:
    texts = [o.profile_text() for o in real_rows()]
    out = bench_speed.throughput(
        texts,
        {"a": hashing_embedder.encode, "b": hashing_embedder.encode},
        lambda ts: sum(len(t.split()) for t in ts),
        repeats=1,
    )
    assert set(out) == {"a", "b"}
    assert all(
        r["profiles"] == 12 and r["profiles_s"] > 0 and r["tokens"] > 0 for r in out.values()
    )


def test_run_scale_and_report(tmp_path: Path, hashing_embedder: HashingEmbedder, capsys) -> None:  # type: ignore[no-untyped-def]
    real = real_rows()
    vecs = hashing_embedder.encode([o.profile_text() for o in real])
    needs = [Need(text=m) for m in MISSIONS]
    result = bench_speed.run_scale(
        30,
        real,
        vecs,
        hashing_embedder,
        needs,
        tmp_path,
        rounds=3,
        query_embedders={"hashing": hashing_embedder},
    )
    assert result["n"] == 30 and result["build_s"] > 0 and result["reopen_s"] > 0
    assert "lexical fit" in result["build_stages_s"]
    assert "read rows (SQL -> pydantic)" in result["build_stages_s"]
    # reopening reads the saved catalog and the row keys, not the profiles
    assert {"load catalog snapshot", "read row keys (SQL)"} <= set(result["reopen_stages_s"])
    assert "read rows (SQL -> pydantic)" not in result["reopen_stages_s"]
    cases = result["latency_ms"]["hashing"]
    assert set(cases) == set(bench_speed.FILTER_CASES)
    assert all(c["p50"] <= c["p95"] <= c["p99"] for c in cases.values())
    tp = bench_speed.throughput(
        [o.profile_text() for o in real], {"h": hashing_embedder.encode}, lambda ts: 1, repeats=1
    )
    meta = {"date": "today", "machine": "test", "throughput_load_average": "0", "real_profiles": 12}
    bench_speed.print_report(meta, tp, [result])
    out = capsys.readouterr().out
    assert "30 profiles" in out and "state=OR+nonprofit" in out


class CountingEmbedder(HashingEmbedder):
    """A query embedder that counts the texts it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def encode(self, texts, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.texts += len(texts)
        return super().encode(texts, *args, **kwargs)


def test_each_query_embedder_case_embeds_with_that_embedder(
    tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    """A case named for a query embedder times that embedder: the engine's query reader keeps
    its own reference to the embedder, and swapping only the engine's timed the build's
    embedder (torch) in the onnx-int8 case too."""
    real = real_rows()
    vecs = hashing_embedder.encode([o.profile_text() for o in real])
    other = CountingEmbedder()
    result = bench_speed.run_scale(
        20,
        real,
        vecs,
        hashing_embedder,
        [Need(text=m) for m in MISSIONS],
        tmp_path,
        rounds=2,
        query_embedders={"other": other},
    )
    assert other.texts >= 2 * len(bench_speed.FILTER_CASES)  # every call read its need with it
    assert all(c["read_p50"] > 0 for c in result["latency_ms"]["other"].values())


def test_main_skips_without_shared_data(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert bench_speed.main(["--shared-data", str(tmp_path)]) == 0
    assert "skipped" in capsys.readouterr().out
