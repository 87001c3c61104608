"""py-spy flame graph of the API server under `make bench-api`'s load, and its top functions.

    python scripts/profile_api.py --data-dir var                  # sample corpus
    python scripts/profile_api.py --data-dir /tmp/speed-100000 --seconds 60

Starts uvicorn on 127.0.0.1 (as `scripts/bench_api.py` does), sends its warm-up requests, then
records the server with `py-spy record` (attached to the running process, --nonblocking) while
the same load generator drives POST /v1/recommendations (16 clients, unique need texts). When
attaching is not permitted (ptrace), the server is started as py-spy's child instead, and the
profile then includes its start-up. Writes `<out-dir>/server-<time>.svg` (the flame graph, open
it in a browser) and `.txt` (the summary) and prints the functions with the most samples of
their own (the frame on top of the stack: where the CPU went, not what called it).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import ROOT, load_needs, run_load, start_server  # noqa: E402

sys.path.insert(0, str(ROOT))

FRAME = re.compile(
    r'<g><title>(?P<title>[^<]*)</title><rect [^>]*?y="(?P<y>[\d.]+)"[^>]*?'
    r'fg:x="(?P<x>\d+)" fg:w="(?P<w>\d+)"'
)
SAMPLES = re.compile(r" \([\d,]+ samples?, [\d.]+%\)$")
LINE = re.compile(r":\d+\)$")
# frames that wait (py-spy --nonblocking cannot always tell an idle thread): marked in the list
WAITING = ("select (", "Condition.wait (", "Event.wait (", "_write_to_self (", "Condition.notify (")


def own_samples(svg: str) -> tuple[Counter[str], int]:
    """Samples per function (file, no line) in which it was the innermost frame, read from
    py-spy's flame graph: a frame's width less its children's (the frames one level deeper
    within its span). Returns (own samples by function, all samples)."""
    levels: dict[float, list[tuple[int, int, str]]] = {}
    for m in FRAME.finditer(svg):
        name = SAMPLES.sub("", html.unescape(m["title"]))
        levels.setdefault(float(m["y"]), []).append((int(m["x"]), int(m["w"]), name))
    if not levels:
        return Counter(), 0
    ys = sorted(levels)

    def width(y: float) -> int:
        return sum(w for _, w, _ in levels[y])

    bottom = levels[ys[-1]]
    if any(name == "all" for _, _, name in bottom) or width(ys[-1]) > width(ys[0]):
        ys.reverse()  # the root drawn at the bottom: deeper frames are higher up
    total = sum(w for _, w, _ in levels[ys[0]])
    own: Counter[str] = Counter()
    for depth, y in enumerate(ys):
        children = sorted(levels[ys[depth + 1]]) if depth + 1 < len(ys) else []
        starts = [x for x, _, _ in children]
        for x, w, name in levels[y]:
            inside = 0
            i = _first_at_or_after(starts, x)
            while i < len(children) and children[i][0] < x + w:
                inside += children[i][1]
                i += 1
            if w > inside:
                own[LINE.sub(")", name)] += w - inside
    own.pop("all", None)
    return own, total


def _first_at_or_after(starts: list[int], x: int) -> int:
    lo, hi = 0, len(starts)
    while lo < hi:
        mid = (lo + hi) // 2
        if starts[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: pip install py-spy (a dev dependency)")
    return found


def server_children(pid: int) -> list[int]:
    try:
        return [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("MATCHER_DATA_DIR", "var")))
    p.add_argument("--out-dir", type=Path, default=Path("var/profile"))
    p.add_argument("--seconds", type=float, default=30.0, help="how long to record under load")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--needs", type=Path, default=ROOT / "data" / "needs.jsonl")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--ready-timeout", type=float, default=1800.0)
    p.add_argument(
        "--gil",
        action="store_true",
        help="sample only the thread holding the GIL (py-spy --gil): the samples over rate x "
        "seconds are the share of the time the GIL was held, the functions what held it",
    )
    args = p.parse_args(argv)
    spy = py_spy()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    svg_path = args.out_dir / f"server-{stamp}.svg"
    record = [spy, "record", "--format", "flamegraph", "--rate", str(args.rate)]
    record += ["--nonblocking", "-o", str(svg_path)] + (["--gil"] if args.gil else [])

    from api.keys import create_api_key
    from matcher.settings import Settings

    key = create_api_key(Settings(data_dir=args.data_dir), "profile_api", "reader")
    server, url = start_server(args.data_dir, None, args.ready_timeout)
    mode = "attached to the running server"
    recorder: subprocess.Popen[bytes] | None = None
    try:
        ready = httpx.get(url + "/readyz", timeout=30).json()
        asyncio.run(_load(url, key, args, warmup_only=True))
        recorder = subprocess.Popen(
            [*record, "--duration", str(int(args.seconds) + 1), "--pid", str(server.pid)],
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)
        if recorder.poll() is not None:  # attaching refused: run the server under py-spy
            err = recorder.stderr.read().decode(errors="replace") if recorder.stderr else ""
            print(f"py-spy could not attach ({err.strip()[:200]}); starting it as py-spy's child")
            server.terminate()
            server.wait(timeout=30)
            mode = "server started as py-spy's child (start-up included)"
            server, url = start_server(args.data_dir, None, args.ready_timeout, wrap=record)
            recorder = None
        load0 = os.getloadavg()
        result = asyncio.run(_load(url, key, args, warmup_only=False))
        load1 = os.getloadavg()
    finally:
        if recorder is not None:
            recorder.wait(timeout=args.seconds + 60)
        else:  # py-spy is the parent: SIGINT makes it write the graph; then stop the server
            kids = server_children(server.pid)
            server.send_signal(signal.SIGINT)
            time.sleep(3)
            for kid in kids:
                os.kill(kid, signal.SIGTERM)
        server.terminate()
        server.wait(timeout=60)
    if not svg_path.is_file():
        raise SystemExit(f"py-spy wrote no flame graph at {svg_path}")
    own, total = own_samples(svg_path.read_text(encoding="utf-8"))
    lines = [
        f"py-spy flame graph: {svg_path} ({mode}, {args.rate} samples/s, {total} samples)",
        f"corpus: {ready.get('organisations')} organisations in {args.data_dir}, model "
        f"{ready.get('model_version')}",
        f"load: {result['requests']} POST /v1/recommendations in {result['seconds']} s, "
        f"{args.concurrency} clients, unique need texts: {result['requests_per_second']} req/s, "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, errors {result['errors']}; "
        f"load average {load0[0]:.1f} -> {load1[0]:.1f} on {os.cpu_count()} CPUs",
        f"top {args.top} functions by own samples (% of all samples of the server's threads):",
    ]
    if args.gil:  # one sample per tick at most: the thread holding the GIL, if one does
        held = total / max(args.rate * args.seconds, 1)
        lines.insert(
            -1,
            f"GIL held in about {100 * held:.0f}% of the ticks ({total} samples "
            f"of {int(args.rate * args.seconds)}; only its holder's frames below)",
        )
    for name, n in own.most_common(args.top):
        waits = "  (waiting / waking threads)" if any(w in name for w in WAITING) else ""
        lines.append(f"  {100 * n / max(total, 1):5.1f}%  {n:6d}  {name}{waits}")
    text = "\n".join(lines)
    svg_path.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


async def _load(url: str, key: str, args: argparse.Namespace, *, warmup_only: bool) -> Any:
    needs = load_needs(args.needs)
    return await run_load(
        url,
        key,
        needs,
        concurrency=args.concurrency,
        total=0 if warmup_only else 1_000_000,
        max_seconds=0.0 if warmup_only else args.seconds,
        unique=True,
        limit=10,
        warmup=args.warmup if warmup_only else 0,
    )


if __name__ == "__main__":
    raise SystemExit(main())
