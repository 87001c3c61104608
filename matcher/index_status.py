"""How far the saved index is behind the database, told without loading it or the model.

Reads only small columns (vector ids, row keys, text hashes) of the database, the current
generation's manifest and id arrays, and which text hashes the embedding cache holds. The CLI
uses it to say what a command is about to build, and `matcher stats` to report it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from matcher.artifacts import generation_dir
from matcher.build_progress import cached_hashes
from matcher.catalog_files import DIRNAME, as_saved
from matcher.embedding.cache import CachedEmbedder, text_hash


@dataclass
class IndexStatus:
    stored: int  # organisations in the database
    generation: int | None  # the current index generation; None: never built
    indexed: int  # organisations in that generation
    changed: int  # organisations added or rewritten since it was built
    removed: int  # organisations deleted since
    to_embed: int  # texts (profiles, needs, causes) not in the embedding cache
    rebuild: str | None  # why the whole index must be rebuilt, if it must

    @property
    def must_build(self) -> bool:
        """Opening the engine will build or embed: say so before it starts."""
        return self.rebuild is not None or self.to_embed > 0

    @property
    def up_to_date(self) -> bool:
        return self.rebuild is None and self.changed == 0 and self.removed == 0

    def describe(self) -> str:
        if self.rebuild is not None:
            return f"{self.rebuild}: the index of {self.stored} organisations must be built"
        if self.up_to_date:
            return (
                f"index generation {self.generation} is up to date ({self.indexed} organisations)"
            )
        return (
            f"index generation {self.generation} is {self.changed + self.removed} changes behind "
            f"the database ({self.changed} added or changed, {self.removed} removed)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "up_to_date": self.up_to_date}


def index_status(engine: Any) -> IndexStatus:
    """The status of `engine`'s organisation index (an Engine, opened with load=False)."""
    store = engine.store
    keys: list[tuple[int, bytes, str]] = store.organisation_keys()
    db_hash = {pk: h for pk, _, h in keys}
    embedder: CachedEmbedder = engine.profile_embedder
    state = store.index_state("organisations")
    rebuild = _rebuild_reason(engine, state)
    generation = None if state is None else int(state["generation"])
    indexed = changed = removed = 0
    new_texts = list(db_hash.values())
    if rebuild is None and generation is not None:
        directory = generation_dir(engine.index_root, generation)
        pks = np.load(directory / "pks.npy", allow_pickle=False).tolist()
        hashes = np.load(directory / "hashes.npy", allow_pickle=False).tolist()
        indexed = len(pks)
        old_hash = dict(zip(pks, hashes, strict=True))
        saved_keys = _saved_row_keys(directory, pks)
        if saved_keys is not None:
            changed = sum(1 for pk, key, _ in keys if saved_keys.get(pk) != as_saved(key))
        else:  # no snapshot: only text changes are visible
            changed = sum(1 for pk, h in db_hash.items() if old_hash.get(pk) != h)
        removed = sum(1 for pk in old_hash if pk not in db_hash)
        new_texts = [h for pk, h in db_hash.items() if old_hash.get(pk) != h]
    texts = {n.text_hash(): n.text for _, n in store.needs()}
    texts.update((text_hash(c.text()), c.text()) for c in store.causes())
    new_texts += list(texts)
    unique = list(dict.fromkeys(new_texts))
    pk_of = {h: pk for pk, h in db_hash.items()}

    def texts_of(sample: list[str]) -> dict[str, str]:
        orgs = store.organisations_by_pk([pk_of[h] for h in sample if h in pk_of])
        return {**texts, **{o.text_hash(): o.profile_text() for o in orgs.values()}}

    embedder.check_legacy(unique, texts_of)  # old vectors under the bare name: this model's?
    present = cached_hashes(embedder, unique)
    return IndexStatus(
        stored=len(keys),
        generation=generation,
        indexed=indexed,
        changed=changed,
        removed=removed,
        to_embed=len(unique) - len(present),
        rebuild=rebuild,
    )


def _rebuild_reason(engine: Any, state: dict[str, Any] | None) -> str | None:
    if state is None:
        return "no index has been built yet"
    directory = generation_dir(engine.index_root, int(state["generation"]))
    try:
        manifest = json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError):
        return f"index generation {state['generation']} is missing or unreadable"
    model, dimension = engine.embedder.model_name, engine.embedder.dimension
    if manifest.get("model") != model or manifest.get("dimension") != dimension:
        return f"the index was built with {manifest.get('model')}, the settings ask for {model}"
    identity = manifest.get("model_identity")
    if identity is not None and identity != engine.profile_embedder.cache_key:
        return f"the index was built with model files {identity}, the settings ask for another"
    if bool(manifest.get("centred")) != engine.settings.centre_vectors:
        return "the index was built with another centring setting"
    return None


def _saved_row_keys(directory: Any, pks: list[int]) -> dict[int, bytes] | None:
    path = directory / DIRNAME / "row_keys.npy"
    try:
        keys = np.load(path, allow_pickle=False)
        saved_pks = np.load(directory / DIRNAME / "pks.npy", allow_pickle=False).tolist()
    except (OSError, ValueError):
        return None
    if saved_pks != pks or keys.shape != (len(pks),):
        return None
    return dict(zip(pks, keys.tolist(), strict=True))
