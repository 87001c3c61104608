"""What `matcher train fit` and `train evaluate` tell the person waiting for them: the stage,
how far it has got and the time since the start, on stderr (stdout keeps the result, and
`--json` clean JSON).

The lines are those of matcher's other long commands, written by `matcher.cli_common.notice`:
a line when a stage starts, `<command>: <stage> [<seconds since the start> s]`, as `matcher
build` prints them (`matcher.build_progress.stage_printer`), and within a long stage its
count, rate and time left at most every 5 seconds, as `matcher embed` does
(`matcher.embed_job.Progress`). Both of those name their own command in every line ("index:",
"embed:"), so their form is followed here rather than the functions called. A terminal and a
log get the same lines (`train fit` once said nothing for minutes when its output was
captured: the count was for terminals only).
"""

from __future__ import annotations

import time
from collections.abc import Callable

EVERY = 5.0  # seconds between two count lines of one stage, as `matcher embed`

# What run_fit's and compare_models' stage names mean, and what they count.
STAGES: dict[str, tuple[str, str]] = {
    "features": ("candidate features of the training queries", "queries"),
    "history texts": ("history model: embedding the partnerships' texts", "texts"),
    "history model": ("history model: fitting P(organisation | need)", ""),
    "candidate": ("held-out evaluation of the candidate weights", "queries"),
    "published": ("held-out evaluation of the published weights", "queries"),
    "default": ("held-out evaluation of the default weights", "queries"),
}


def _notice(message: str) -> None:
    from matcher.cli_common import notice

    notice(message)


class StageProgress:
    """A `progress(stage, done, total)` callback (training.fit.Progress) that prints. A stage
    of one step (total 1) prints its start only: the next line's time says when it ended."""

    def __init__(
        self,
        command: str,
        *,
        enabled: bool = True,
        every: float = EVERY,
        clock: Callable[[], float] = time.perf_counter,
        say: Callable[[str], None] = _notice,
    ):
        self.command, self.enabled, self.every = command, enabled, every
        self.clock, self.say = clock, say
        self.start = clock()
        self.stage: str | None = None
        self.stage_start = self.last = self.start
        self.last_done = 0
        self.finished = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        what, unit = STAGES.get(stage, (stage, ""))
        count = f"{done:,}/{total:,}" + (f" {unit}" if unit else "")
        if stage != self.stage:
            self.stage, self.stage_start, self.last = stage, now, now
            self.last_done, self.finished = done, total > 1 and done >= total
            self._line(what if total <= 1 else f"{what}: {count}", now)
            return
        if total <= 1 or self.finished:
            return
        if done >= total:
            self.finished = True
            self._line(f"{what}: {count}, done in {now - self.stage_start:.1f} s", now)
        elif now - self.last >= self.every:
            # the rate since the last line: a slow first query (an index opening) fades out
            rate = (done - self.last_done) / max(now - self.last, 1e-9)
            self.last, self.last_done = now, done
            left = f", about {(total - done) / rate:.0f} s left" if rate > 0 else ""
            self._line(f"{what}: {count} ({rate:.1f}/s{left})", now)

    def _line(self, text: str, now: float) -> None:
        self.say(f"{self.command}: {text} [{now - self.start:.1f} s]")
