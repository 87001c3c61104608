"""Helpers of training/bench_embed.py: the corpus padded to N distinct profile texts, and the
CPU seconds a job spent in this process and every process it started (Ray's included)."""

from __future__ import annotations

import os
import random
import threading
from types import TracebackType

import psutil

from matcher.domain import Organisation, Sector
from training.bench_speed import recombined


def padded_profiles(real: list[Organisation], n: int, seed: int = 0) -> list[Organisation]:
    """The real organisations first, then recombined ones up to `n`, as training/bench_speed.py
    `padded` makes them (the name's first word from one real organisation, the rest of the name
    and the description from another, the place of the first), every profile text distinct
    from every other one of the result (a recombination that repeats a text is drawn again, and
    the rare one that cannot be made distinct gets a number): no padded text is served from a
    cache of the real ones or of another padded one. Real texts that repeat stay as they are."""
    if n <= len(real):
        return real[:n]
    if not real:
        raise ValueError("padding needs at least one real organisation")
    rng = random.Random(seed)
    sectors = list(Sector)
    seen = {o.profile_text() for o in real}
    extra: list[Organisation] = []
    while len(real) + len(extra) < n:
        i = len(extra)
        for attempt in range(20):
            src, place = real[rng.randrange(len(real))], real[rng.randrange(len(real))]
            suffix = f" {i}" if attempt == 19 else ""
            org = recombined(i, src, place, sectors[i % len(sectors)], suffix)
            text = org.profile_text()
            if text not in seen:
                seen.add(text)
                extra.append(org)
                break
    return real + extra


class CpuMeter:
    """CPU seconds (user + system) of this process and all its descendants while in the `with`
    block: descendants are sampled every `every` seconds (a process that ends between two
    samples loses at most its last interval), this process is read exactly at the end."""

    def __init__(self, every: float = 0.5) -> None:
        self.every = every
        self.seconds = 0.0
        self._me = psutil.Process(os.getpid())
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._started = False
        self._self0 = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    @staticmethod
    def _cpu(p: psutil.Process) -> float:
        t = p.cpu_times()
        return float(t.user + t.system)

    def _sample(self) -> None:
        try:
            children = self._me.children(recursive=True)
        except psutil.Error:
            return
        for p in children:
            try:
                cpu = self._cpu(p)
            except psutil.Error:
                continue
            # running before the block: counted from its start; started within: all of it
            self._first.setdefault(p.pid, 0.0 if self._started else cpu)
            self._last[p.pid] = cpu

    def _poll(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def __enter__(self) -> CpuMeter:
        self._sample()  # processes already running count from now
        self._started = True
        self._self0 = self._cpu(self._me)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        own = self._cpu(self._me) - self._self0
        others = sum(self._last[pid] - self._first[pid] for pid in self._last)
        self.seconds = own + others
