"""A first ranking before a process serves: what its first request would otherwise pay for.

The first `recommend` of a process builds the US and world gazetteers (place words, about
2.7 s together), opens the query model's one-thread session and touches the index and
scoring columns' pages: about 2 s at 100k profiles, against 30 ms for the next request.
`warm_up` does that work once, before the process says it is ready.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from matcher.domain import Need
from matcher.places.gazetteer import us_gazetteer, world_gazetteer

if TYPE_CHECKING:
    from matcher.engine import Engine

logger = logging.getLogger(__name__)

WARM_UP_TEXT = (
    "Families in Portland, Oregon skip meals at the end of the month; we need volunteers for "
    "Saturday distributions and refrigerated trucks for deliveries."
)


def warm_up(engine: Engine) -> float:
    """Load the gazetteers and rank one need (nothing is stored); the seconds it took. A
    failure is logged, never raised: the process serves anyway, only its first request is
    slower."""
    t0 = time.perf_counter()
    try:
        us_gazetteer()
        world_gazetteer()
        engine.recommend(Need(id="warm-up", text=WARM_UP_TEXT, city="Portland", region="OR"))
    except Exception:
        logger.warning("warming up failed: the first request will be slower", exc_info=True)
    seconds = time.perf_counter() - t0
    logger.info("warmed up in %.2f s", seconds)
    return seconds
