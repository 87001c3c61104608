"""The model registry in `<data_dir>/models/`: versions, the published pointer, rollback.

Layout::

    models/
      v0001/manifest.json   version, created_at, data_hash, settings, weights, metrics, ...
      v0002/manifest.json
      CURRENT               {"version": "v0002", "history": [null, "v0001"], ...}
      .lock                 serialises writers (flock); readers never take it

With a database (training.registry_db) every write is also announced by a MODEL change; on
PostgreSQL the registry is shared through it (matcher.registry_sync): each machine keeps this
layout as its copy.

A version folder is written under a `.tmp-` name and renamed into place complete
(`atomic_directory`), so a folder named like a version always holds its manifest. CURRENT is
replaced atomically (`atomic_write_text`): a kill -9 at any point leaves it naming a complete
version (or none: the default weights), never a torn file. `history` keeps the versions
published before, most recent last (`null` = default weights), for `rollback`.

`load_published(engine, data_dir)` applies the published weights to a running engine; it stats
CURRENT and does nothing more while it is unchanged, so it can run per request.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import json
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matcher.atomic import atomic_directory, atomic_write_text, clean_stale_temps, file_signature
from matcher.errors import MatcherError
from matcher.history_model import PartnerHistoryModel
from matcher.pointer_file import PointerUnreadable, read_pointer
from training.registry_db import AUTO, registry_writes

logger = logging.getLogger(__name__)

MODELS_DIR = "models"
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
HISTORY_DIR = "history"  # a version's partnership-history model, when it has one
VERSION_RE = re.compile(r"^v(\d{4,})$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
PAUSE_ENV = "MATCHER_REGISTRY_PAUSE"  # "<point>[:seconds]", for crash tests only
HISTORY_KEPT = 20


class RegistryError(MatcherError):
    """The registry is missing a version, or a request on it makes no sense."""


class PublishRefused(RegistryError):
    """The candidate is worse than the published model on the primary metric."""


def _pause(point: str) -> None:
    """Test hook: sleep at a named point so a test can kill -9 the process there."""
    want = os.environ.get(PAUSE_ENV, "")
    name, _, seconds = want.partition(":")
    if name == point:
        print(f"paused at {point}", flush=True)
        time.sleep(float(seconds or 60))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Registry:
    """`db`: where writes are shared or announced (training.registry_db): by default
    MATCHER_DATABASE_URL (PostgreSQL: the registry is shared through it), else the data
    directory's SQLite database; None: the files alone."""

    def __init__(self, data_dir: Path | str, *, db: Any = AUTO):
        self.root = Path(data_dir) / MODELS_DIR
        self.db = db

    # ------------------------------------------------------------------------ reading
    @property
    def current_path(self) -> Path:
        return self.root / CURRENT

    def versions(self) -> list[str]:
        """Complete versions, oldest first (numbered ones by number, then named ones)."""
        if not self.root.is_dir():
            return []
        names = [
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and NAME_RE.match(p.name) and (p / MANIFEST).is_file()
        ]

        def key(n: str) -> tuple[int, int, str]:
            m = VERSION_RE.match(n)
            return (0, int(m.group(1)), n) if m else (1, 0, n)

        return sorted(names, key=key)

    def manifest(self, version: str) -> dict[str, Any]:
        path = self.root / version / MANIFEST
        if not NAME_RE.match(version) or not path.is_file():
            raise RegistryError(f"no model version '{version}' in {self.root}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RegistryError(f"unreadable manifest of '{version}': {exc}") from exc
        if not isinstance(data, dict) or (
            "weights" not in data and data.get("kind") != "embedding"
        ):
            raise RegistryError(f"manifest of '{version}' has no weights")
        return data

    def pointer(self) -> dict[str, Any]:
        """CURRENT's content: version (None = default weights) and history."""
        try:
            data = read_pointer(self.current_path)
        except PointerUnreadable as exc:
            raise RegistryError(str(exc)) from exc
        if data is None:
            return {"version": None, "history": []}
        return {
            "version": data.get("version"),
            "history": list(data.get("history") or []),
            "published_at": data.get("published_at"),
            "forced": bool(data.get("forced", False)),
        }

    def current(self) -> str | None:
        return self.pointer()["version"]

    def list(self) -> list[dict[str, Any]]:
        """One summary per version: version, created_at, primary metric, weights, published;
        a weights version also the split and data hash its metric was measured on."""
        pointer = self.pointer()
        out = []
        for v in self.versions():
            man = self.manifest(v)
            if man.get("kind") == "embedding":
                from training.embed_registry import summary

                out.append(summary(self, man))
                continue
            metrics = man.get("metrics") or {}
            primary = metrics.get("primary")
            out.append(
                {
                    "version": v,
                    "created_at": man.get("created_at"),
                    "primary": primary,
                    "value": metrics.get(primary) if primary else None,
                    "weights": man.get("weights"),
                    "fallback": (man.get("ranker") or {}).get("fallback"),
                    "pairs": (man.get("ranker") or {}).get("n_pairs"),
                    "kind": "weights",
                    # the held-out queries `value` was measured on: this split of this history
                    "split": man.get("split"),
                    "data_hash": man.get("data_hash"),
                    # its training queries come from a small part of where the service is
                    # asked (training.fit_reach): publishing it needs force
                    "narrow": bool(((man.get("pairs") or {}).get("reach") or {}).get("narrow")),
                    "published": v == pointer["version"],
                    "previous": bool(pointer["history"]) and v == pointer["history"][-1],
                }
            )
        return out

    # ------------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def _locked(self) -> Iterator[Any]:
        """The registry's write lock (and, on PostgreSQL, the writers' lock across machines);
        yields the database the write is shared or announced through (None: files alone)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                with registry_writes(self.root, self.db) as db:
                    yield db
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _next_version(self) -> str:
        numbers = [int(m.group(1)) for n in self.versions() if (m := VERSION_RE.match(n))]
        return f"v{(max(numbers) + 1) if numbers else 1:04d}"

    def create(
        self,
        manifest: Mapping[str, Any],
        version: str | None = None,
        *,
        history_model: PartnerHistoryModel | None = None,
    ) -> str:
        """Write a new version folder (atomically) holding `manifest` plus version and
        created_at, and the partnership-history model if given (in `history/`); returns the
        version. Existing versions are never overwritten."""
        from training.ranker import normalise

        weights = normalise(manifest.get("weights") or {})
        with self._locked():
            clean_stale_temps(self.root)
            name = version or self._next_version()
            if not NAME_RE.match(name) or name == CURRENT:
                raise RegistryError(f"invalid version name '{name}'")
            if (self.root / name).exists():
                raise RegistryError(f"model version '{name}' already exists")
            data = {
                **manifest,
                "version": name,
                "created_at": manifest.get("created_at") or _now(),
                "weights": weights,
            }
            if history_model is not None:
                info = history_model.manifest()
                data["history_model"] = {
                    k: info[k] for k in ("model", "dimension", "counts", "c", "min_items")
                }
            with atomic_directory(self.root / name) as tmp:
                if history_model is not None:
                    history_model.save(tmp / HISTORY_DIR)
                atomic_write_text(
                    tmp / MANIFEST, json.dumps(data, indent=2, ensure_ascii=False, default=str)
                )
                _pause("version-dir")
        logger.info("registered model version %s", name)
        return name

    def _write_pointer(
        self, version: str | None, history: builtins.list[str | None], *, forced: bool = False
    ) -> None:
        _pause("before-current")
        payload = {
            "version": version,
            "history": history[-HISTORY_KEPT:],
            "published_at": _now(),
            "forced": forced,
        }
        atomic_write_text(self.current_path, json.dumps(payload, indent=2) + "\n")

    def check(self, version: str) -> dict[str, Any]:
        """How `version` compares with the published model on the primary metric:
        {primary, candidate, baseline, baseline_of, worse}. The candidate's own evaluation
        of the published model (same held-out queries) is preferred when it evaluated the
        version now published; otherwise the published manifest's metric is used; with
        nothing published, the default weights' metric from the candidate's evaluation."""
        man = self.manifest(version)
        metrics = man.get("metrics") or {}
        primary = metrics.get("primary")
        value = metrics.get(primary) if primary else None
        current = self.current()
        comparison = man.get("comparison") or {}
        models = comparison.get("models") or {}
        baseline: float | None = None
        baseline_of = None
        if current is not None and current != version:
            if comparison.get("published_version") == current and "published" in models:
                baseline = (models["published"] or {}).get(primary)
                baseline_of = f"{current} (same held-out queries)"
            else:
                published = self.manifest(current)
                cur = published.get("metrics") or {}
                if cur.get("primary") == primary:
                    baseline = cur.get(primary)
                    baseline_of = f"{current} (its own evaluation{_other_queries(published, man)})"
        elif current is None and "default" in models:
            baseline = (models["default"] or {}).get(primary)
            baseline_of = "default weights (same held-out queries)"
        worse = (
            value is None
            or (baseline is not None and float(value) < float(baseline) - 1e-9)
            or (current is not None and current != version and baseline is None)
        )
        # a fit on one country's partnerships, for a catalog mostly elsewhere (training.fit_reach)
        reach = (man.get("pairs") or {}).get("reach") or {}
        return {
            "primary": primary,
            "candidate": value,
            "baseline": baseline,
            "baseline_of": baseline_of,
            "worse": bool(worse),
            "narrow": reach.get("note") if reach.get("narrow") else None,
        }

    def publish(self, version: str, *, force: bool = False) -> dict[str, Any]:
        """Point CURRENT at `version`; the version published before is kept for rollback.
        Refuses (PublishRefused) a candidate worse on the primary metric unless `force`.
        An embedding-model version goes through its own pointer and gate (embed_registry)."""
        if self.manifest(version).get("kind") == "embedding":
            from training.embed_registry import publish_embedding

            return publish_embedding(self, version, force=force)
        with self._locked():
            self.manifest(version)  # must exist and be complete
            pointer = self.pointer()
            if pointer["version"] == version:
                return {"published": version, "changed": False, "previous": pointer["history"]}
            verdict = self.check(version)
            if verdict["worse"] and not force:
                raise PublishRefused(
                    f"'{version}' is worse than {verdict['baseline_of'] or 'the published model'}"
                    f" on {verdict['primary']}: {verdict['candidate']} < {verdict['baseline']}"
                    " (use --force to publish anyway)"
                    if verdict["baseline"] is not None and verdict["candidate"] is not None
                    else f"'{version}' cannot be compared with the published model on "
                    f"{verdict['primary']} (use --force to publish anyway)"
                )
            if verdict["narrow"] and not force:
                raise PublishRefused(f"'{version}': {verdict['narrow']}")
            history = [*pointer["history"], pointer["version"]]
            self._write_pointer(
                version, history, forced=force and bool(verdict["worse"] or verdict["narrow"])
            )
        logger.info("published model version %s", version)
        return {"published": version, "changed": True, "previous": pointer["version"], **verdict}

    def rollback(self) -> dict[str, Any]:
        """Go back to the version published before the current one (None = default weights)."""
        with self._locked():
            pointer = self.pointer()
            if not pointer["history"]:
                raise RegistryError("nothing to roll back to: no earlier published version")
            history = list(pointer["history"])
            target = history.pop()
            if target is not None:
                self.manifest(target)
            self._write_pointer(target, history)
        logger.info("rolled back from %s to %s", pointer["version"], target)
        return {"from": pointer["version"], "to": target}


# ------------------------------------------------------------------------ serving side

_seen: weakref.WeakKeyDictionary[Any, tuple[str, Any]] = weakref.WeakKeyDictionary()
_load_lock = threading.Lock()


def load_published(engine: Any, data_dir: Path | str, *, strict: bool = False) -> str:
    """Make `engine` use the published weights (default weights when none is published);
    returns the engine's model_version. Cheap when nothing changed: one stat of CURRENT.

    A bad registry (unreadable CURRENT, missing manifest, weights the engine refuses) leaves
    the engine on its current weights and logs an error, unless `strict`, which raises."""
    registry = Registry(data_dir)
    key = (str(registry.root.resolve()), file_signature(registry.current_path))
    if _seen.get(engine) == key:
        return str(engine.model_version)
    with _load_lock:
        if _seen.get(engine) == key:
            return str(engine.model_version)
        try:
            version = registry.current()
            if version is None:
                if engine.weights_name != "default-weights":
                    engine.use_default_weights()
                engine.use_history_model(None)
            else:
                man = registry.manifest(version)
                model = (man.get("settings") or {}).get("embedding_model")
                if model and model != engine.embedder.model_name:
                    logger.warning(
                        "model %s was trained with embedding model %s; serving %s",
                        version,
                        model,
                        engine.embedder.model_name,
                    )
                folder = registry.root / version / HISTORY_DIR
                history = (
                    PartnerHistoryModel.load(
                        folder,
                        model=engine.embedder.model_name,
                        dimension=engine.embedder.dimension,
                    )
                    if folder.is_dir()
                    else None
                )
                engine.use_weights(man["weights"], version)
                engine.use_history_model(history)
        except MatcherError as exc:
            if strict:
                raise
            logger.error("keeping %s: published model not loaded: %s", engine.model_version, exc)
        _seen[engine] = key
    return str(engine.model_version)


# ------------------------------------------------------------------------ comparing listed figures


def _other_queries(published: Mapping[str, Any], candidate: Mapping[str, Any]) -> str:
    """ ", on other held-out queries (...)" when the two versions' figures come from another
    split or another history ("worse than v0003 (its own evaluation)" compared 0.67 held out by
    id with 0.99 held out by time without a word); "" when they come from the same."""
    theirs, ours = split_text(published.get("split")), split_text(candidate.get("split"))
    if theirs != ours:
        return f", on other held-out queries: {theirs}, not {ours}"
    if published.get("data_hash") != candidate.get("data_hash"):
        return ", on other held-out queries: the history changed"
    return ""


def split_text(split: Any) -> str:
    """A split as `models list` shows it: "time 20% max 500" (seed when not 0)."""
    if not isinstance(split, Mapping):
        return "split not recorded"
    share = split.get("test_share")
    text = f"{split.get('by')} " + (
        f"{share:.0%}" if isinstance(share, int | float) else str(share)
    )
    if split.get("max_test"):
        text += f" max {split['max_test']}"
    if split.get("seed"):
        text += f" seed {split['seed']}"
    return text


def figures_note(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """None when the listed weights versions' figures were measured on the same held-out
    queries (the same split of the same history); else a line saying they are not
    comparable, and which versions share a split (or a history)."""
    rows = [r for r in rows if r.get("kind") != "embedding" and r.get("value") is not None]
    primary = next((r["primary"] for r in rows if r.get("primary")), "metric")
    splits: dict[str, builtins.list[str]] = {}
    histories: dict[Any, builtins.list[str]] = {}
    for r in rows:
        splits.setdefault(split_text(r.get("split")), []).append(r["version"])
        histories.setdefault(r.get("data_hash"), []).append(r["version"])
    if len(splits) > 1:
        groups = "; ".join(f"{s}: {', '.join(vs)}" for s, vs in splits.items())
        return f"these {primary} figures come from different splits ({groups}): not comparable"
    if len(histories) > 1:
        groups = "; ".join(", ".join(vs) for vs in histories.values())
        return (
            f"these {primary} figures come from the same split of different history ({groups}),"
            " so from different held-out queries: not comparable"
        )
    return None
