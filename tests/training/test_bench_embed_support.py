"""training/bench_embed.py's corpus padded to N distinct profile texts, and its CPU meter."""

from __future__ import annotations

import subprocess
import sys

from matcher.domain import Organisation, Sector
from training.bench_embed_support import CpuMeter, padded_profiles


def _real(n: int) -> list[Organisation]:
    return [
        Organisation(
            id=f"ein-{i}",
            name=f"Harbor Food Pantry {i % 2}",  # few names: recombinations repeat quickly
            sector=Sector.nonprofit,
            description=f"We feed families in town {i % 3}.",
            city="Providence",
            region="RI",
            country="US",
        )
        for i in range(n)
    ]


def test_padding_gives_n_distinct_profile_texts_after_the_real_ones() -> None:
    real = _real(4)  # 2 distinct names, 3 descriptions: only a handful of recombinations
    out = padded_profiles(real, 40)
    assert len(out) == 40 and out[:4] == real
    texts = [o.profile_text() for o in out]
    assert len(set(texts)) == 40  # none repeats a real text or another padded one
    assert len({o.id for o in out}) == 40
    assert all(o.id.startswith("pad-") for o in out[4:])
    again = [o.profile_text() for o in padded_profiles(real, 40)]
    assert again == texts  # the same corpus every run (seeded)


def test_padding_keeps_the_first_n_real_ones_when_there_are_enough() -> None:
    real = _real(10)
    assert padded_profiles(real, 6) == real[:6]


def test_the_cpu_meter_counts_a_child_process() -> None:
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass"
    with CpuMeter(every=0.05) as meter:
        subprocess.run([sys.executable, "-c", busy], check=True)
    assert meter.seconds >= 0.4
