"""What a build or a catch-up tells the person waiting for it: stages and counts, on stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

from matcher.embedding.cache import CachedEmbedder, text_hash
from matcher.embedding.identity import legacy_name


def stage_printer(enabled: bool) -> Callable[[str], None]:
    """`say(message)`: one line `index: message` on stderr when enabled, else nothing."""
    start = time.perf_counter()

    def say(message: str) -> None:
        if enabled:
            elapsed = time.perf_counter() - start
            print(f"index: {message} [{elapsed:.1f} s]", file=sys.stderr, flush=True)

    return say


def cached_hashes(embedder: CachedEmbedder, hashes: Sequence[str]) -> set[str]:
    """Which of these text hashes the embedding cache holds (reading no vector when the cache
    can tell), counting vectors cached under the model's bare name by earlier versions (they
    are adopted, not embedded, once a sample agrees)."""
    present = getattr(embedder.cache, "present", None)
    keys = [embedder.cache_key]
    legacy = legacy_name(embedder.cache_key)
    if legacy is not None and embedder.legacy_usable:
        keys.append(legacy)
    found: set[str] = set()
    for key in keys:
        todo = [h for h in hashes if h not in found]
        if present is not None:
            found.update(present(key, todo))
        else:
            found.update(embedder.cache.get_many(key, todo))
    return found


def to_embed(embedder: CachedEmbedder, texts: Sequence[str]) -> int:
    """How many distinct texts are not in the embedding cache (vectors cached under the bare
    model name count once a sample shows they are this model's)."""
    by_hash = {text_hash(t): t for t in texts}
    embedder.check_legacy(list(by_hash), lambda sample: {h: by_hash[h] for h in sample})
    return len(by_hash) - len(cached_hashes(embedder, list(by_hash)))
