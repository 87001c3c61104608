"""A batch job's CPU and I/O priority below the serving processes' on the same machine.

`matcher embed` found where a query waited during the switch-over (training/bench_embed.py,
part `switch`): not on a lock of the serving process (the job is another process; the server
never waits on it) but for a CPU. The job's build stages (reading 100k profiles, the keyword
and IVF indexes, saving the generation, scoring columns) keep every core busy for a minute,
and a served query, itself a CPU-bound numpy/faiss scan, got a fifth to a third of a core for a
second (py-spy on the server: the request thread in `QueryScores._cosines` and `IndexIVF.search`
the whole time, no other thread holding the GIL, no I/O wait). Run at a lower priority (nice
10, I/O best-effort 7), the job takes only what the serving processes leave.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

logger = logging.getLogger(__name__)

BATCH_NICE = 10  # CFS weight 110 against 1024 at nice 0: about a tenth of a contended CPU


@dataclass(frozen=True)
class Priority:
    nice: int
    io: str  # "best-effort 7", or what the platform left


def lower_priority(nice: int = BATCH_NICE) -> Priority:
    """Lower this process (and every process it starts later: a private Ray, worker threads)
    to niceness `nice`, never raising it (a process already nicer stays as it is), and its
    I/O to best-effort 7 where the platform has it. Returns what it runs at."""
    if nice < 0 or nice > 19:
        raise ValueError(f"nice must be 0 to 19, not {nice}")
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if nice > current:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    io = "unchanged"
    if nice > 0:
        try:
            import psutil

            me = psutil.Process()
            me.ionice(psutil.IOPRIO_CLASS_BE, value=7)  # type: ignore[attr-defined]
            io = "best-effort 7"
        except (AttributeError, OSError, ValueError) as exc:  # not Linux, or not allowed
            logger.info("I/O priority left alone: %s", exc)
    return Priority(nice=os.getpriority(os.PRIO_PROCESS, 0), io=io)
