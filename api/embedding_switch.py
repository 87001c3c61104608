"""A serving process follows the published embedding model without a restart.

`matcher models publish` of an embedding version (or `models rollback --embedding`) rewrites the
pointer `models/EMBEDDING`. Each request stats it (`EmbeddingSwitch.check`, as the ranking
weights' CURRENT is followed); when it names another model than the one served, a background
thread opens a second engine on the published model and loads it, while the first keeps
answering. Opening is fast when `matcher embed --switch` has already built that model's index
generation; otherwise the load builds it, embedding every profile in this process (logged with
progress). The two engines are in memory together until the switch.

Nothing written meanwhile is lost. A follower of its own, with no writes counted as this
process's, has its cursor placed on the change log before the new engine loads and applies
every later change to it (the loaded state already holds some of them: applying is
idempotent). After the switch, writes made through the old engine by requests still running
are not the new engine's own, so the process's follower applies them; the catch-up follower
polls once more to cover those read before the switch. The old engine is closed after a grace
period (CLOSE_AFTER_SECONDS), long enough for the requests that were running on it to end; one
still running then would fail.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from matcher.atomic import file_signature
from matcher.embedding.factory import model_of
from matcher.embedding.published import pointer_path
from matcher.errors import MatcherError
from matcher.replica import Follower, apply_to_engine
from matcher.settings import Settings

if TYPE_CHECKING:
    from matcher.engine import Engine
    from matcher.store.db import Database

logger = logging.getLogger(__name__)

CLOSE_AFTER_SECONDS = 60.0  # the old engine is closed this long after the switch


class EmbeddingSwitch:
    """Switches `get_engine()`'s engine to the published embedding model (`set_engine`)."""

    def __init__(
        self,
        settings: Settings,
        get_engine: Callable[[], Engine | None],
        set_engine: Callable[[Engine], None],
        db: Callable[[], Database | None],
        *,
        close_after: float = CLOSE_AFTER_SECONDS,
    ) -> None:
        self.settings = settings
        self._get_engine, self._set_engine, self._db = get_engine, set_engine, db
        self.close_after = close_after
        self.serving: str | None = None  # the model name the engine was opened with
        self.target: str | None = None  # the model being switched to
        self.error: str | None = None
        self.switches = 0
        self._seen: tuple[int, int, int] | None | bool = False  # False: never looked
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def opened(self) -> None:
        """The engine was opened on the settings' model now: remember its name."""
        try:
            self.serving = model_of(self.settings)[1]
        except MatcherError:
            self.serving = None
        self._seen = file_signature(pointer_path(self.settings.data_dir))

    def status(self) -> dict[str, Any]:
        return {
            "serving": self.serving,
            "switching_to": self.target,
            "switches": self.switches,
            "error": self.error,
        }

    def check(self) -> None:
        """Start a switch when the pointer names another model (one stat when unchanged).
        An explicit `MATCHER_MODEL_PATH` always wins over the pointer: nothing to follow."""
        if self.settings.model_path is not None or self.serving is None:
            return
        sig = file_signature(pointer_path(self.settings.data_dir))
        if sig == self._seen:
            return
        with self._lock:
            if sig == self._seen or (self._thread is not None and self._thread.is_alive()):
                return
            self._seen = sig
            try:
                name = model_of(self.settings)[1]
            except MatcherError as exc:
                self.error = f"published embedding model not served: {exc}"
                logger.error("%s", self.error)
                return
            if name == self.serving:
                return
            self.target, self.error = name, None
            self._thread = threading.Thread(
                target=self._switch, args=(name,), name="embedding-switch", daemon=True
            )
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """True once no switch is running (for tests and shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _switch(self, name: str) -> None:
        from matcher.engine import Engine

        started = time.monotonic()
        logger.info("switching to the published embedding model %s (from %s)", name, self.serving)
        db = self._db()
        box: list[Engine] = []
        catch_up = None
        if db is not None:
            catch_up = Follower(
                db,
                lambda batch: apply_to_engine(box[0], batch),
                own=lambda seq: False,
                ready=lambda: bool(box),
                listen=False,
            )
            catch_up.begin()  # before the load: every later write is applied after it
        new: Engine | None = None
        try:
            new = Engine.open(self.settings, load=False)
            new.load()
            box.append(new)
            if catch_up is not None:
                catch_up.poll_once()
            old = self._get_engine()
            self._set_engine(new)
            # said at once: status read between the swap and the poll below named the old
            # model beside the new engine (test_the_api_notices_the_pointer_on_the_next_request
            # failed so under load)
            self.serving, self.switches = name, self.switches + 1
            if catch_up is not None:
                catch_up.poll_once()  # read before the switch by the process's follower
            logger.info(
                "now serving embedding model %s (switch took %.1f s)",
                name,
                time.monotonic() - started,
            )
            if old is not None:
                timer = threading.Timer(self.close_after, old.close)
                timer.daemon = True
                timer.start()
        except Exception as exc:  # the old engine keeps serving; the next change retries
            self.error = f"{type(exc).__name__}: {exc}"
            logger.exception(
                "switching to embedding model %s failed; still serving %s", name, self.serving
            )
            if new is not None and not box:
                new.close()
        finally:
            self.target = None
