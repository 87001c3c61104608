"""How long a CLI command waits for the engine: imports, Engine.open, the first recommendation,
and then each of the next --next recommendations (other needs of data/needs.jsonl: other
candidates, so the cost of reading their profiles and scoring columns shows).

Each figure is the median of --repeat fresh processes (nothing warm but the OS file cache), wall
and CPU seconds. Give --before DIR (a checkout of an older version, e.g. the main worktree) to
print its figures on the same data directory beside this checkout's:

    python scripts/bench_open.py --data-dir var --before ../main

The data directory must hold a built index (`matcher build`); nothing is built here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NEEDS = ROOT / "data" / "needs.jsonl"

PROBE = r"""
import json, os, sys, time, warnings
c0, t0 = time.process_time(), time.perf_counter()
from matcher.settings import Settings
from matcher.engine import Engine
from matcher.domain import Need
c1, t1 = time.process_time(), time.perf_counter()
overrides = {"data_dir": sys.argv[1]}
if sys.argv[2]:
    overrides["model_name"] = sys.argv[2]
engine = Engine.open(Settings(**overrides))
c2, t2 = time.process_time(), time.perf_counter()
rec = engine.recommend(Need(text=sys.argv[3]), limit=10)
c3, t3 = time.process_time(), time.perf_counter()
more = [json.loads(line)["text"] for line in open(sys.argv[5]) if line.strip()][: int(sys.argv[4])]
for text in more:  # other needs: other candidates, whose scoring columns are needed too
    engine.recommend(Need(text=text), limit=10)
c4, t4 = time.process_time(), time.perf_counter()
n_more = max(len(more), 1)
heavy = [m for m in ("sklearn", "pandas", "torch", "onnxruntime") if m in sys.modules]
print(json.dumps({
    "import": [t1 - t0, c1 - c0], "open": [t2 - t1, c2 - c1], "recommend": [t3 - t2, c3 - c2],
    "next": [(t4 - t3) / n_more, (c4 - c3) / n_more],
    "organisations": engine.stats()["organisations"], "results": len(rec.results),
    "heavy_modules_after_recommend": heavy,
}))
"""


def probe(code: Path, data_dir: Path, model: str, query: str, more: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(data_dir), model, query, str(more), str(NEEDS)],
        capture_output=True,
        text=True,
        env=env,
        cwd=code,
    )
    if out.returncode != 0:
        raise SystemExit(f"probe failed for {code}:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["warnings"] = [ln for ln in out.stderr.splitlines() if "Warning" in ln]
    return result


def summary(code: Path, args: argparse.Namespace) -> dict[str, Any]:
    runs = [
        probe(code, args.data_dir, args.model, args.query, args.next) for _ in range(args.repeat)
    ]
    out: dict[str, Any] = {"code": str(code), "organisations": runs[0]["organisations"]}
    for stage in ("import", "open", "recommend", "next"):
        wall = statistics.median(float(r[stage][0]) for r in runs)
        cpu = statistics.median(float(r[stage][1]) for r in runs)
        out[stage] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
    out["heavy_modules_after_recommend"] = runs[-1]["heavy_modules_after_recommend"]
    out["warning_lines"] = runs[-1]["warnings"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--model", default="", help="model name (default: the settings')")
    parser.add_argument("--before", type=Path, help="an older checkout to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--query", default="food bank needs volunteers and a delivery van")
    parser.add_argument(
        "--next", type=int, default=20, help="recommendations timed after the first (each)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [summary(args.before.resolve(), args)] if args.before else []
    rows.append(summary(ROOT, args))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{rows[-1]['organisations']} organisations in {args.data_dir}; median of "
        f"{args.repeat} fresh processes; load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'code':<28} {'import':>14} {'Engine.open':>14} {'1st recommend':>14} "
        f"{f'next {args.next}, each':>16}  (wall/cpu s)"
    )
    for r in rows:
        cells = [
            f"{r[s]['wall_s']:.2f}/{r[s]['cpu_s']:.2f}" for s in ("import", "open", "recommend")
        ]
        nxt = f"{r['next']['wall_s']:.3f}/{r['next']['cpu_s']:.3f}"
        print(f"{str(r['code'])[-28:]:<28} {cells[0]:>14} {cells[1]:>14} {cells[2]:>14} {nxt:>16}")
        print(
            f"    heavy modules loaded: {r['heavy_modules_after_recommend'] or 'none'}; "
            f"warning lines on stderr: {len(r['warning_lines'])}"
        )


if __name__ == "__main__":
    main()
