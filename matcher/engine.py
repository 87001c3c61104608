"""The facade the CLI, the API and training call: ingest, build, recommend, match, needs_for."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher import benefits, evidence
from matcher.artifacts import (
    IndexArtifact,
    generation_dir,
    load_artifact,
    prune_generations,
    save_artifact,
)
from matcher.asker_names import (
    asker_names,
    askers_among,
    parent_name,
    perhaps_asker_names,
    search_words,
)
from matcher.build_progress import stage_printer, to_embed
from matcher.capabilities import without_yielded
from matcher.catalog import Catalog, Profile
from matcher.catalog_files import KEY_DTYPE, load_catalog, save_catalog
from matcher.cause_model import (
    DEFINITION_WEIGHT,
    LearnedCauses,
    learn_causes,
    load_learned,
    save_learned,
    space_digest,
)
from matcher.causes import Cause, CauseSpace, read_causes, shared_cause
from matcher.coalition import ROLE_OF_SECTOR
from matcher.coalition_stage import PER_SECTOR, shown_rows
from matcher.coalition_stage import coalition as coalition_of
from matcher.conflicts import conflicts_of, withheld_line
from matcher.domain import (
    SECTORS,
    Filters,
    Match,
    Need,
    NeedMatch,
    Organisation,
    Recommendation,
    Sector,
    ServiceLevel,
    home_need,
    utcnow,
)
from matcher.embedding.base import Embedder
from matcher.embedding.cache import CachedEmbedder
from matcher.embedding.factory import create_embedder
from matcher.embedding.hashing import HASHING_MODEL_NAME
from matcher.embedding.published import embedder_floor
from matcher.embedding.spaces import frozen_mean
from matcher.errors import ArtifactMismatchError, DiskFullError, NotFoundError
from matcher.gap_offers import HelpSought, settle_gaps
from matcher.geo import haversine_many
from matcher.history_model import PartnerHistoryModel
from matcher.index.base import VectorIndex
from matcher.index.factory import attach_organisations, new_vector_index
from matcher.index.lexical import LexicalIndex
from matcher.language import Vocabulary, few_words
from matcher.meaning import CapabilityMeaning
from matcher.names import readable_name
from matcher.need_reading import (
    NeedReading,
    cause_weight,
    listed_help,
    query_text,
    reasons_need,
    required_capabilities,
    unread_help,
)
from matcher.offerings import OFFERING_SECTORS, Offerings, known_vectors, offering_clauses
from matcher.offers import focus_offers_by_code, partner_offers
from matcher.places.resolve import Place
from matcher.query_reader import (
    QueryReader,
    RankingCount,
    counted_ranking,
    query_passes_alone,
    side_by_side,
)
from matcher.query_scores import QueryScores
from matcher.reach import reach_km
from matcher.retrieve import Candidates, FilteredIndex, Signal, hybrid, scans_exactly
from matcher.row_dot import row_dot
from matcher.rwlock import ReadWriteLock
from matcher.score import (
    NEED_VOICE,
    PROGRAMME_VOICE,
    Scored,
    Voice,
    fit_from_cosine,
    reasons_for,
    relevance_floor,
    score_candidate,
)
from matcher.score_arrays import Inputs, Ranked, score_all
from matcher.score_columns import ScoreColumns
from matcher.score_files import load_score, recipe_digest, save_score
from matcher.settings import Settings
from matcher.store import Database, Store
from matcher.store.db import is_disk_full
from matcher.store.repository import SqlEmbeddingCache, Stored, UpsertReport
from matcher.telling import telling_clauses
from matcher.threads import limit_blas_threads
from matcher.vectors import centre

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)
# where a request's scoring columns come from (`stats`): saved with the generation, or filled
# from each candidate's profile the first time it is one (slower first requests)
FILLED_ON_USE = "filled from profiles as requests need them"
REBUILD = f"{FILLED_ON_USE} until `matcher build` saves them"

ORG_INDEX = "organisations"
HISTORY = "history"  # the score component the partnership-history model adds
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data"


@dataclass
class _NeedEntry:
    pk: int
    need: Need
    vector: np.ndarray
    required: dict[str, str]


@dataclass(frozen=True)
class TopResult:
    """One entry of `Engine.top`: what a ranked result is, without its explanation."""

    id: str
    name: str
    score: float
    relevance: float | None


class Engine:
    """Holds the store, the embedder and the in-memory indexes; thread-safe."""

    def __init__(self, settings: Settings, store: Store, embedder: Embedder):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.profile_embedder = CachedEmbedder(embedder, SqlEmbeddingCache(store.db))
        self.catalog = Catalog(embedder.dimension)
        self.lexical: LexicalIndex | None = None
        self.ann: VectorIndex | None = None
        self.index_generation = 0
        self.weights: dict[str, float] = settings.weights.as_dict()
        self.weights_name = "default-weights"
        self._needs: dict[str, _NeedEntry] = {}
        self.mean_: np.ndarray | None = None
        self.cause_space: CauseSpace | None = None
        # the sectors the stored taxonomy describes (`set_causes`); None: all, or unsaid
        self._stored_cause_sectors: list[str] | None = None
        self.history_model: PartnerHistoryModel | None = None
        self._history_column: dict[str, int] = {}
        self._columns: ScoreColumns | None = None  # scoring columns, filled on use
        # the model's whole words, to tell a need it mostly cannot read (matcher.language)
        self.vocabulary = Vocabulary.of_model(settings.resolved_model_path())
        self.scoring_columns = FILLED_ON_USE  # where they come from (`stats`)
        self._lock = ReadWriteLock()
        self.rankings = RankingCount()  # rankings in progress: an idle process reads on 2 cores
        # pk -> version of rows written or followed since the last load: an older version of
        # a row (a write applied late, after another process's newer one) is never installed
        self._versions: dict[int, int] = {}
        # pks removed (deleted here or by another process) and not read from the database
        # since: this process's own update, committed before another process's delete but
        # indexed after it, must not put the row back
        self._deleted: set[int] = set()
        self.reader = QueryReader(embedder, settings, lambda: self.mean_)
        self.focus = evidence.FocusVectors(embedder.dimension)
        self.meaning: CapabilityMeaning | None = None
        self._focus_offers: list[dict[str, str]] = [{}]  # by focus code
        self.programmes = evidence.Programmes([], [], [], np.zeros((0, embedder.dimension)))
        self.offerings = Offerings.empty(embedder.dimension)

    # lifecycle ----------------------------------------------------------------------------
    @classmethod
    def open(
        cls, settings: Settings, *, embedder: Embedder | None = None, load: bool = True
    ) -> Engine:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        limit_blas_threads(settings.blas_threads)
        db = Database(settings.sqlalchemy_url)
        db.create_all()
        engine = cls(settings, Store(db), embedder or create_embedder(settings))
        if load:
            engine.load()
        return engine

    def close(self) -> None:
        self.store.db.dispose()

    @property
    def model_version(self) -> str:
        return f"{self.embedder.model_name}@{self.weights_name}"

    @property
    def index_root(self) -> Path:
        return self.settings.index_dir / ORG_INDEX

    def load(self, *, progress: bool = False) -> None:
        """Load the current index generation and catch up with the database; build if absent.
        With `progress`, say on stderr what is built or embedded (with a bar for embedding)."""
        state = self.store.index_state(ORG_INDEX)
        if state is None:
            self.build(progress=progress)
            return
        try:
            art = load_artifact(
                self.index_root,
                state["generation"],
                model=self.embedder.model_name,
                dimension=self.embedder.dimension,
                centred=self.settings.centre_vectors,
                identity=self.profile_embedder.cache_key,
            )
        except ArtifactMismatchError as exc:
            logger.warning("rebuilding the index: %s", exc)
            self.build(progress=progress)
            return
        self._install(art, progress=progress)
        self._load_needs()

    def build(self, *, progress: bool = False) -> dict[str, Any]:
        """Embed what changed (cache) and build a new index generation from the database."""
        say = stage_printer(progress)
        t0 = time.perf_counter()
        keys = self.store.organisation_keys()  # before the rows: a later write shows as changed
        rows = self.store.organisations()
        pks = np.asarray([pk for pk, _ in rows], dtype=np.int64)
        texts = [org.profile_text() for _, org in rows]
        hits0, misses0 = self.profile_embedder.hits, self.profile_embedder.misses
        if progress:
            todo = to_embed(self.profile_embedder, texts)
            say(f"{len(rows)} organisations: {todo} profiles to embed, {len(rows) - todo} cached")
        try:  # the cache keeps each chunk as it is embedded: a rebuild embeds only the rest
            vectors = self.profile_embedder.encode(texts, progress=progress)
        except DiskFullError as exc:
            done = f"{exc.done:,} of {exc.total:,}" if exc.total is not None else "some"
            raise DiskFullError(
                f"the disk is full: {done} profiles to embed were embedded and kept; "
                f"{self._in_use()}; free space and run `matcher build` again",
                done=exc.done,
                total=exc.total,
            ) from exc
        t_embed = time.perf_counter() - t0
        say("keyword index")
        lexical = LexicalIndex().fit(pks, texts)
        mean = None
        mean_source = "none"
        identity = self.profile_embedder.cache_key
        if self.settings.centre_vectors:
            # a space `matcher embed` filled has its mean frozen: every generation centres alike
            mean = frozen_mean(self.store.db, identity, self.embedder.dimension)
            mean_source = "frozen" if mean is not None else "corpus"
            if mean is None:
                mean = vectors.mean(axis=0) if len(rows) else np.zeros(self.embedder.dimension)
        state = self.store.index_state(ORG_INDEX)
        generation = (state["generation"] if state else 0) + 1
        ann = new_vector_index(  # faiss, or pgvector (settings.vector_backend)
            self.settings,
            self.embedder.dimension,
            len(rows),
            generation=generation,
            organisations=self.store.organisations_by_pk,
        )
        kind = ann.kind
        say(f"vector index ({kind})")
        if len(rows):
            ann.add(pks, centre(vectors, mean))
        art = IndexArtifact(
            generation=generation,
            model=self.embedder.model_name,
            dimension=self.embedder.dimension,
            pks=pks,
            hashes=np.asarray([o.text_hash() for _, o in rows], dtype="U64"),
            vectors=vectors,
            lexical=lexical,
            ann=ann,
            manifest={"model_identity": identity, "mean_source": mean_source},
            mean=mean,
        )
        say(f"saving generation {generation}")
        try:
            save_artifact(self.index_root, art)
            self._install(art, rows=rows)
            self._save_snapshot(art, self.catalog, keys)
            try:  # without them an open reads the companies' profiles to make them again
                self.offerings.save(generation_dir(self.index_root, generation))
            except OSError as exc:
                logger.info("offerings not saved: %s", exc)
            say("scoring columns")
            self._save_score_columns(art)
            self.store.set_index_state(
                ORG_INDEX,
                generation=generation,
                model=self.embedder.model_name,
                count=len(rows),
                info={"ann": kind, "data_hash": art.manifest["data_hash"]},
            )
        except (OSError, DiskFullError) as exc:
            if not is_disk_full(exc):
                raise
            raise DiskFullError(
                f"the disk is full: every profile is embedded and kept, but index generation "
                f"{generation} could not be saved; {self._in_use()}; free space and run "
                "`matcher build` again"
            ) from exc
        prune_generations(self.index_root, {generation, generation - 1})
        self._load_needs()
        report = {
            "organisations": len(rows),
            "embedded": self.profile_embedder.misses - misses0,
            "from_cache": self.profile_embedder.hits - hits0,
            "index": kind,
            "generation": generation,
            "embed_seconds": round(t_embed, 2),
            "total_seconds": round(time.perf_counter() - t0, 2),
        }
        logger.info("built index: %s", report)
        return report

    def _in_use(self) -> str:
        """What a failed build left in use: the current generation, which it never touched."""
        state = self.store.index_state(ORG_INDEX)
        if state is None:
            return "no index was built before"
        return f"index generation {state['generation']}, the one in use, is unchanged"

    def _install(
        self,
        art: IndexArtifact,
        rows: list[tuple[int, Organisation]] | None = None,
        *,
        progress: bool = False,
    ) -> None:
        """Make `art` current, re-embedding whatever the database changed since it was built.

        Given no `rows`, the catalog comes from the snapshot saved with the generation and only
        rows written since are read from the database (all of them when there is no snapshot).
        """
        catch_up = None if rows is not None else self._catch_up_from_snapshot(art)
        from_snapshot = catch_up is not None  # profiles not read: rows written since only
        if catch_up is None and rows is None:
            # an index saved without a catalog snapshot (older versions): read every row once,
            # and save the snapshot when nothing changed since, so later opens are fast
            keys = self.store.organisation_keys()
            catch_up = self._catch_up_from_rows(art, self.store.organisations())
            if (
                not catch_up[1]
                and not catch_up[3].size
                and np.array_equal(catch_up[0].pks_, art.pks)
            ):
                self._save_snapshot(art, catch_up[0], keys)
        if catch_up is None:
            catch_up = self._catch_up_from_rows(art, rows)
        catalog, stale, texts, gone = catch_up
        attach_organisations(art.ann, self.store.organisations_by_pk)  # pgvector's filter columns
        if stale:
            say = stage_printer(progress)
            say(f"the index is {len(stale)} profiles behind the database: embedding them")
            vectors = centre(self.profile_embedder.encode(texts, progress=progress), art.mean)
            catalog.set_vectors(stale, vectors)
        if 0 < self.settings.coarse_scan_rows <= catalog.vectors.shape[0]:
            catalog.fit_coarse()  # 0.2 s at 100k
        space = self._learned_cause_space(art.mean) or self._fit_cause_space(
            self.store.causes(), art.mean
        )
        cause_sectors = self.store.causes_describe()
        catalog.set_cause_space(space)
        focus = evidence.FocusVectors(self.embedder.dimension)
        focus.update(catalog.focus_phrases(), self._encode_short(art.mean))
        # the model-free hashing embedder has no sense of meaning: keywords only then
        meaning = (
            CapabilityMeaning(self._encode_short(art.mean))
            if self.embedder.model_name != HASHING_MODEL_NAME
            else None
        )
        focus_offers = focus_offers_by_code(meaning, catalog.focus_phrases(), focus.vectors_)
        offerings = self._offerings_of(art, catalog, from_snapshot)
        columns = None
        columns_note = FILLED_ON_USE
        if rows is None:  # opening a saved generation: its scoring columns, when usable
            saved = load_score(generation_dir(self.index_root, art.generation))
            if saved is None:
                logger.info("index generation %d has no scoring columns saved", art.generation)
                columns_note = f"none saved with generation {art.generation}; {REBUILD}"
            else:
                why = ScoreColumns.unusable(catalog, meaning, focus_offers, saved)
                if why is None:
                    columns = ScoreColumns.from_saved(
                        catalog, meaning, focus_offers, self._history_column, saved
                    )
                    columns_note = f"saved with generation {art.generation}"
                else:
                    logger.warning(
                        "the scoring columns saved with generation %d %s: %s",
                        art.generation,
                        why,
                        REBUILD,
                    )
                    columns_note = (
                        f"the ones saved with generation {art.generation} {why}; {REBUILD}"
                    )
        if stale or gone.size:
            changed_pks = np.asarray(stale, dtype=np.int64)
            if art.ann is not None:
                art.ann.remove(gone)
                if changed_pks.size:
                    art.ann.add(changed_pks, catalog.vectors_of(stale))
            art.lexical.remove(gone)
            if changed_pks.size:
                art.lexical.add(changed_pks, texts)
        with self._lock.write():
            self.catalog = catalog
            self.ann = art.ann
            self.lexical = art.lexical
            self.index_generation = art.generation
            self.mean_ = art.mean
            self.cause_space = space
            self._stored_cause_sectors = cause_sectors
            self.focus = focus
            self.offerings = offerings
            self.meaning = meaning
            self._focus_offers = focus_offers
            self._columns = columns
            self.scoring_columns = columns_note
            self.reader.clear()
            self._versions.clear()
            self._deleted.clear()

    def _offerings_of(self, art: IndexArtifact, catalog: Catalog, from_snapshot: bool) -> Offerings:
        """The offering clauses of the catalog's live rows of OFFERING_SECTORS: the ones saved
        with the generation for the rows not written since its snapshot (their profiles are
        not read), read from the profiles for the others (every row without saved ones)."""
        sectors = [SECTORS.index(s) for s in OFFERING_SECTORS]
        positions = np.flatnonzero(catalog.alive_ & np.isin(catalog.sector_, sectors))
        saved = None
        if from_snapshot:
            saved = Offerings.load(
                generation_dir(self.index_root, art.generation), self.embedder.dimension
            )
        base = Offerings.empty(self.embedder.dimension)
        if saved is not None:
            unchanged = positions[catalog.written_[positions] == 0]
            ids = catalog.ids_by_position()
            base = saved.kept({str(ids[p]) for p in unchanged.tolist()})
            positions = positions[catalog.written_[positions] != 0]
        if not positions.size:
            return base
        catalog.prefetch(positions)
        orgs = [catalog.profile(p).org for p in positions.tolist()]
        return base.replaced(
            {o.id: offering_clauses(o.description) for o in orgs}, self._encode_short(art.mean)
        )

    def _offers_of_focus(self, phrases: list[str]) -> list[dict[str, str]]:
        return focus_offers_by_code(self.meaning, phrases, self.focus.vectors_)

    def _offers(self, positions: np.ndarray) -> list[dict[str, str]]:
        return partner_offers(self.catalog, self.meaning, self._focus_offers, positions)

    def _required(
        self, need: Need, text: str, clause_vecs: np.ndarray, q: np.ndarray
    ) -> dict[str, str]:
        """Listed capabilities (mapped to keys); else what the clauses of `text` (the need's
        text; `clause_vecs` embeds them) ask for, by meaning (the whole text for one clause; `q`,
        the whole need's vector, confirms a capability a clause names)."""
        if self.meaning is None or listed_help(need):
            return required_capabilities(need)
        parts = evidence.clauses(text)
        if len(parts) < 2:
            return without_yielded(self.meaning.asks([text], q[None, :]))
        asked = self.meaning.asks(parts, clause_vecs, whole=q, telling=telling_clauses(text, parts))
        return without_yielded(asked)

    def _encode_short(self, mean: np.ndarray | None) -> evidence.Encode:
        """Embeds short phrases (cached by text) centred like the profiles."""
        return lambda texts: centre(self.profile_embedder.encode(list(texts)), mean)

    def _save_snapshot(
        self, art: IndexArtifact, catalog: Catalog, keys: list[tuple[int, bytes, str]]
    ) -> None:
        """Save `catalog` (of exactly the rows of `art`) beside it, with the database row keys
        read before those rows; a failure (read-only data directory, a concurrent writer) only
        means the next open reads every row again."""
        by_pk = {pk: key for pk, key, _ in keys}
        row_keys = np.asarray([by_pk.get(int(pk), b"") for pk in art.pks], dtype=KEY_DTYPE)
        try:
            save_catalog(
                generation_dir(self.index_root, art.generation),
                catalog.snapshot(),
                row_keys,
                catalog.vectors,
            )
        except OSError as exc:
            logger.info("catalog snapshot not saved: %s", exc)

    def _catch_up_from_rows(
        self, art: IndexArtifact, rows: list[tuple[int, Organisation]] | None
    ) -> tuple[Catalog, list[int], list[str], np.ndarray]:
        """(catalog of every row, pks whose text changed since `art`, their texts, pks gone)."""
        rows = rows if rows is not None else self.store.organisations()
        known = {
            int(pk): (i, str(h)) for i, (pk, h) in enumerate(zip(art.pks, art.hashes, strict=False))
        }
        vectors = np.zeros((len(rows), self.embedder.dimension), dtype=np.float32)
        stale: list[int] = []
        texts: list[str] = []
        for i, (pk, org) in enumerate(rows):
            hit = known.get(pk)
            if hit is not None and hit[1] == org.text_hash():
                vectors[i] = art.vectors[hit[0]]
            else:
                stale.append(pk)
                texts.append(org.profile_text())
        catalog = Catalog(self.embedder.dimension)
        catalog.upsert([pk for pk, _ in rows], [o for _, o in rows], centre(vectors, art.mean))
        live = {pk for pk, _ in rows}
        gone = np.asarray([pk for pk in known if pk not in live], dtype=np.int64)
        return catalog, stale, texts, gone

    def _catch_up_from_snapshot(
        self, art: IndexArtifact
    ) -> tuple[Catalog, list[int], list[str], np.ndarray] | None:
        """As `_catch_up_from_rows`, reading only the rows written since the snapshot saved
        with `art`; None without a usable snapshot."""
        saved = load_catalog(generation_dir(self.index_root, art.generation))
        if saved is None:
            return None
        snap, snap_keys = saved
        if not np.array_equal(snap["pks"], art.pks):
            return None
        vectors = snap.get("vectors")  # the catalog's, centred, when saved with it
        catalog = Catalog.from_snapshot(
            self.embedder.dimension,
            snap,
            vectors if vectors is not None else centre(art.vectors, art.mean),
            self.store.organisations_by_pk,
        )
        if catalog is None:
            return None
        keys = self.store.organisation_keys()
        db_pks = np.fromiter((k[0] for k in keys), dtype=np.int64, count=len(keys))
        db_keys = np.asarray([k[1] for k in keys], dtype=KEY_DTYPE)
        at = np.minimum(np.searchsorted(art.pks, db_pks), max(art.pks.size - 1, 0))
        same = np.zeros(len(keys), dtype=bool)
        if art.pks.size:
            same = (art.pks[at] == db_pks) & (snap_keys[at] == db_keys)
        changed_rows = np.flatnonzero(~same).tolist()
        changed = [(keys[i][0], keys[i][2]) for i in changed_rows]
        old_hash = {  # text hash at build time of the changed rows that existed then
            keys[i][0]: str(art.hashes[at[i]])
            for i in changed_rows
            if art.pks.size and art.pks[at[i]] == keys[i][0]
        }
        gone = np.setdiff1d(art.pks, db_pks).astype(np.int64)
        catalog.remove(gone.tolist())
        stale: list[int] = []
        texts: list[str] = []
        if changed:
            orgs = self.store.organisations_by_pk([pk for pk, _ in changed])
            found = [(pk, h) for pk, h in changed if pk in orgs]
            old = np.zeros((len(found), self.embedder.dimension), dtype=np.float32)
            for i, (pk, h) in enumerate(found):
                pos = catalog.position_of_pk(pk)
                if pos is not None and old_hash.get(pk) == h:
                    old[i] = catalog.vectors[pos]
                else:
                    stale.append(pk)
                    texts.append(orgs[pk].profile_text())
            catalog.upsert([pk for pk, _ in found], [orgs[pk] for pk, _ in found], old)
        return catalog, stale, texts, gone

    def _fit_cause_space(
        self, causes: Sequence[Cause], mean: np.ndarray | None
    ) -> CauseSpace | None:
        if not causes:
            return None
        vecs = centre(self.profile_embedder.encode([c.text() for c in causes]), mean)
        space = CauseSpace(self.settings.cause_temperature, self.settings.cause_top)
        return space.fit(causes, vecs)

    def set_causes(self, causes: Sequence[Cause], describes: Sequence[str] | None = None) -> int:
        """Replace the cause taxonomy (stored, embedded, applied to every profile at once);
        an empty list removes it. `describes`: the sectors whose organisations it describes
        (the NTEE codes: nonprofit, community, government), kept with it; None: every sector.
        Returns the number of causes in use."""
        self.store.replace_causes(causes, describes)
        space = self._fit_cause_space(causes, self.mean_)
        with self._lock.write():
            self.catalog.set_cause_space(space)
            self.cause_space = space
            self._stored_cause_sectors = list(describes) if describes and causes else None
            self.reader.clear()
        return len(causes)

    def _learned_cause_space(self, mean: np.ndarray | None) -> CauseSpace | None:
        """The causes `matcher train causes` learned, when saved for this embedding space."""
        digest = space_digest(mean, self.embedder.model_name, self.embedder.dimension)
        try:
            learned = load_learned(self.settings.data_dir, digest)
        except (ArtifactMismatchError, OSError, ValueError, KeyError) as exc:
            logger.warning("learned causes not used: %s", exc)
            return None
        if learned is None:
            return None
        space = CauseSpace(learned.temperature, self.settings.cause_top)
        return space.fit(learned.causes, learned.vectors, learned.second)

    def cause_vectors(self, causes: Sequence[Cause]) -> np.ndarray:
        """The causes' texts (title, definition, keywords) embedded in the profiles' space,
        centred like the index's vectors."""
        return centre(self.profile_embedder.encode([c.text() for c in causes]), self.mean_)

    def learn_causes(
        self,
        *,
        min_members: int = 5,
        definitions: Sequence[Cause] = (),
        definition_weight: float = DEFINITION_WEIGHT,
    ) -> LearnedCauses:
        """Learn causes from the stored profiles that carry a cause code (matcher.cause_model),
        save them beside the index and use them as the cause space. Titles come from the
        loaded taxonomy when it names the codes. `definitions`: causes whose definitions are
        added to the learned causes as labelled data, a second prototype each
        (matcher.cause_model)."""
        titles = {c.code: c.title for c in self.store.causes()}
        titles.update({c.code: c.title for c in definitions})
        with self._lock.read():
            labelled = [
                (pos, org.cause_code)
                for _, org in self.store.organisations()
                if org.cause_code and (pos := self.catalog.position_of_id(org.id)) is not None
            ]
            vectors = self.catalog.vectors[[p for p, _ in labelled]]
            mean = self.mean_
        defs = None
        if definitions:  # embedded like the profiles, centred on the same mean
            texts = [c.text() for c in definitions]
            defs = dict(
                zip(
                    (c.code for c in definitions),
                    centre(self.profile_embedder.encode(texts), mean),
                    strict=True,
                )
            )
        learned = learn_causes(
            vectors,
            [c for _, c in labelled],
            titles,
            min_members=min_members,
            definitions=defs,
            definition_weight=definition_weight,
        )
        digest = space_digest(mean, self.embedder.model_name, self.embedder.dimension)
        save_learned(self.settings.data_dir, learned, digest)
        self.set_cause_prototypes(
            learned.causes, learned.vectors, learned.temperature, learned.second
        )
        return learned

    def set_cause_prototypes(
        self,
        causes: Sequence[Cause],
        vectors: np.ndarray,
        temperature: float,
        second: np.ndarray | None = None,
    ) -> int:
        """Use causes learned from labelled profiles (matcher.cause_model: one prototype vector
        per cause, in the profiles' space, optionally a second one each, and a calibrated
        temperature) as the cause space, in memory. Returns the number of causes in use."""
        space = CauseSpace(temperature, self.settings.cause_top).fit(causes, vectors, second)
        with self._lock.write():
            self.catalog.set_cause_space(space)
            self.cause_space = space
            self.reader.clear()
        return len(space)

    def causes(self) -> list[Cause]:
        return list(self.cause_space.causes_) if self.cause_space is not None else []

    def _load_needs(self) -> None:
        rows = self.store.needs()
        vecs = centre(self.profile_embedder.encode([n.text for _, n in rows]), self.mean_)
        entries = {
            n.id: _NeedEntry(pk, n, vecs[i], required_capabilities(n))
            for i, (pk, n) in enumerate(rows)
        }
        with self._lock.write():
            self._needs = entries
            self.programmes = self._programmes_of(entries)

    def _programmes_of(self, entries: dict[str, _NeedEntry]) -> evidence.Programmes:
        owned = [
            e
            for e in entries.values()
            if e.need.kind == "programme" and e.need.requester_id and e.need.status == "open"
        ]
        vectors = np.stack([e.vector for e in owned]) if owned else np.zeros((0, 1))
        return evidence.Programmes(
            [e.need.requester_id or "" for e in owned],
            [e.need.id for e in owned],
            [e.need.title or e.need.text[:80] for e in owned],
            vectors,
        )

    # writes -------------------------------------------------------------------------------
    def ingest(self, orgs: Sequence[Organisation], *, keep_ownership: bool = True) -> UpsertReport:
        """Upsert organisations by id; changed ones become searchable at once. Existing ones
        keep their owner and contact unless keep_ownership is False."""
        report = self.store.upsert_organisations(orgs, keep_ownership=keep_ownership)
        changed = set(report.inserted) | set(report.updated)
        if changed:
            self._reindex_ids(changed)
        return report

    def ingest_needs(self, needs: Sequence[Need]) -> UpsertReport:
        report = self.store.upsert_needs(needs)
        if report.changed:
            self._load_needs()
        return report

    def create_organisation(
        self, org: Organisation, *, with_rows: Callable[[Session], None] | None = None
    ) -> Stored:
        stored = self.store.create_organisation(org, with_rows=with_rows)
        self._reindex([(stored.pk, stored.record)], {stored.pk: stored.version})
        return stored

    def update_organisation(
        self,
        org_id: str,
        changes: dict[str, Any],
        *,
        expected_version: int | None = None,
        with_rows: Callable[[Session], None] | None = None,
    ) -> Stored:
        stored = self.store.update_organisation(
            org_id, changes, expected_version=expected_version, with_rows=with_rows
        )
        self._reindex([(stored.pk, stored.record)], {stored.pk: stored.version}, written=True)
        return stored

    def delete_organisation(self, org_id: str, *, expected_version: int | None = None) -> None:
        pk = self.store.delete_organisation(org_id, expected_version=expected_version)
        self._remove([pk])

    def _remove(self, pks: Sequence[int]) -> None:
        ids = np.asarray(pks, dtype=np.int64)
        with self._lock.write():
            self.catalog.remove(list(pks))
            if self.ann is not None:
                self.ann.remove(ids)
            if self.lexical is not None:
                self.lexical.remove(ids)
            for pk in pks:
                self._versions.pop(int(pk), None)
                self._deleted.add(int(pk))

    def create_need(self, need: Need) -> Stored:
        stored = self.store.create_need(need)  # ConflictError if the id exists
        vec = centre(self.profile_embedder.encode([need.text]), self.mean_)[0]
        with self._lock.write():
            self._needs[need.id] = _NeedEntry(
                stored.pk, stored.record, vec, required_capabilities(stored.record)
            )
            self.programmes = self._programmes_of(self._needs)
        return stored

    def delete_need(self, need_id: str) -> None:
        self.store.delete_need(need_id)
        with self._lock.write():
            self._needs.pop(need_id, None)
            self.programmes = self._programmes_of(self._needs)

    def _reindex_ids(self, ids: set[str]) -> None:
        if len(ids) > max(1000, len(self.catalog) // 5):
            self.build()
            return
        stored = [self.store.get_organisation(i) for i in ids]
        self._reindex([(s.pk, s.record) for s in stored], {s.pk: s.version for s in stored})

    def _reindex(
        self,
        rows: list[tuple[int, Organisation]],
        versions: dict[int, int] | None = None,
        *,
        written: bool = False,
    ) -> None:
        """Index these rows. `written`: rows this process wrote a moment ago (not read from
        the database now): one removed since (another process deleted it, and this process
        followed the delete first) stays removed."""
        texts = [o.profile_text() for _, o in rows]
        vecs = centre(self.profile_embedder.encode(texts), self.mean_)
        # each row's offering clauses (none for a row of another sector: a company that
        # became a nonprofit keeps none), embedded before the lock
        clauses_of = {
            o.id: offering_clauses(o.description) if o.sector.value in OFFERING_SECTORS else []
            for _, o in rows
        }
        embedded = known_vectors(
            [c for cs in clauses_of.values() for c in cs], self._encode_short(self.mean_)
        )
        with self._lock.write():
            if written and self._deleted:
                keep = [i for i, (pk, _) in enumerate(rows) if pk not in self._deleted]
                if len(keep) < len(rows):
                    rows, texts, vecs = (
                        [rows[i] for i in keep],
                        [texts[i] for i in keep],
                        vecs[keep],
                    )
            elif not written:  # read from the database now (or created): it exists
                self._deleted.difference_update(pk for pk, _ in rows)
            if versions:  # a newer version of a row is in memory already: keep it
                keep = [
                    i
                    for i, (pk, _) in enumerate(rows)
                    if versions.get(pk, 0) >= self._versions.get(pk, 0)
                ]
                if len(keep) < len(rows):
                    rows, texts = [rows[i] for i in keep], [texts[i] for i in keep]
                    vecs = vecs[keep]
                self._versions.update((pk, versions[pk]) for pk, _ in rows if pk in versions)
            if not rows:
                return
            pks = np.asarray([pk for pk, _ in rows], dtype=np.int64)
            self.catalog.upsert(pks.tolist(), [o for _, o in rows], vecs)
            self.offerings = self.offerings.replaced(
                {o.id: clauses_of[o.id] for _, o in rows}, embedded
            )
            self.focus.update(self.catalog.focus_phrases(), self._encode_short(self.mean_))
            self._focus_offers = self._offers_of_focus(self.catalog.focus_phrases())
            if self.ann is not None:
                self.ann.add(pks, vecs)
            if self.lexical is not None:
                self.lexical.add(pks, texts)

    def refresh_organisations(self, ids: Sequence[str]) -> int:
        """Read these organisations from the database into the indexes (for a process that
        follows writes made by another one); returns how many were found."""
        rows: list[tuple[int, Organisation]] = []
        versions: dict[int, int] = {}
        for org_id in dict.fromkeys(ids):
            try:
                stored = self.store.get_organisation(org_id)
            except NotFoundError:
                continue
            rows.append((stored.pk, stored.record))
            versions[stored.pk] = stored.version
        if rows:
            self._reindex(rows, versions)
        return len(rows)

    # following other processes' writes (matcher.replica) ----------------------------------
    def follow_organisations(self, pks: Sequence[int]) -> int:
        """Bring these rows to their stored state: re-read and reindexed when present, removed
        when deleted. Returns how many were read."""
        wanted = list(dict.fromkeys(int(pk) for pk in pks))
        found = 0
        # in chunks, never a rebuild: a replica writes no index files (the writer of a bulk
        # load builds the next generation; its vectors are in the embedding cache by then)
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            stored = self.store.stored_by_pk(chunk)
            gone = [pk for pk in chunk if pk not in stored]
            if gone:
                self._remove(gone)
            if stored:
                rows = [(s.pk, s.record) for s in stored.values()]
                self._reindex(rows, {s.pk: s.version for s in stored.values()})
            found += len(stored)
        return found

    def follow_needs(self, ids: Sequence[str]) -> None:
        """Bring these needs to their stored state (deleted ones dropped)."""
        stored = self.store.needs_by_id(ids)
        found = list(stored.values())
        vecs = centre(self.profile_embedder.encode([s.record.text for s in found]), self.mean_)
        with self._lock.write():
            for need_id in ids:
                if need_id not in stored:
                    self._needs.pop(need_id, None)
            for i, s in enumerate(found):
                self._needs[s.record.id] = _NeedEntry(
                    s.pk, s.record, vecs[i], required_capabilities(s.record)
                )
            self.programmes = self._programmes_of(self._needs)

    def follow_causes(self) -> None:
        """Use the stored cause taxonomy (replaced by another process)."""
        space = self._fit_cause_space(self.store.causes(), self.mean_)
        describes = self.store.causes_describe()
        with self._lock.write():
            self.catalog.set_cause_space(space)
            self.cause_space = space
            self._stored_cause_sectors = describes
            self.reader.clear()

    # reads --------------------------------------------------------------------------------
    def organisation_vectors(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """(the ids in the index, their profile vectors as ranked against query vectors)."""
        with self._lock.read():
            found = [(i, self.catalog.position_of_id(i)) for i in ids]
            kept = [(i, p) for i, p in found if p is not None]
            vecs = self.catalog.vectors[[p for _, p in kept]].copy()
        return [i for i, _ in kept], vecs

    def offers_counted(self, org_id: str) -> dict[str, str] | None:
        """What matching counts as this organisation's offers (capability -> the phrase it
        rests on, "" when its profile is about it by meaning), as its cards cover them; None
        when it is not in the index (yet)."""
        with self._lock.read():
            pos = self.catalog.position_of_id(org_id)
            if pos is None:
                return None
            return self._offers(np.array([pos]))[0]

    def admits(self, need: Need, filters: Filters | None, org_id: str) -> bool:
        """Whether the organisation passes the hard filters `recommend` applies for this need."""
        f = self._effective_filters(need, filters)
        with self._lock.read():
            pos = self.catalog.position_of_id(org_id)
            return pos is not None and bool(self.catalog.mask(f)[pos])

    def admitted(
        self,
        need: Need,
        filters: Filters | None,
        org_ids: Sequence[str],
        masks: dict[str, np.ndarray] | None = None,
    ) -> set[str]:
        """Those of `org_ids` that pass the hard filters `recommend` applies for this need
        (`admits` of each). `masks`: kept by a caller that asks for many needs in a row, by
        their effective filters (many needs share them), valid while the catalog is unchanged."""
        f = self._effective_filters(need, filters)
        key = f.model_dump_json()
        with self._lock.read():
            mask = masks.get(key) if masks is not None else None
            if mask is None or mask.size != self.catalog.alive_.size:
                mask = self.catalog.mask(f)
                if masks is not None:
                    masks[key] = mask
            out = set()
            for org_id in org_ids:
                pos = self.catalog.position_of_id(org_id)
                if pos is not None and mask[pos]:
                    out.add(org_id)
            return out

    def embed_query(self, text: str) -> np.ndarray:
        """The query vector of a text, centred like the profiles (`QueryReader.vector`)."""
        return self.reader.vector(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """`embed_query` of each text, the ones not cached embedded in one call."""
        return self.reader.vectors(texts)

    def query_vectors(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Query vectors in batches, without the cache (`QueryReader.vectors_uncached`)."""
        return self.reader.vectors_uncached(texts, progress=progress)

    def _profile_of(self, org_id: str | None) -> Profile | None:
        if not org_id:
            return None
        pos = self.catalog.position_of_id(org_id)
        return self.catalog.profile(pos) if pos is not None else None

    def _effective_filters(self, need: Need, filters: Filters | None) -> Filters:
        f = filters.model_copy(deep=True) if filters else Filters()
        if not f.sectors and need.wanted_sectors:
            f.sectors = list(need.wanted_sectors)
        if f.near is None and need.lat is not None and need.lon is not None and need.radius_km:
            f.near, f.radius_km = (need.lat, need.lon), need.radius_km
            f.near_region = need.region  # the limited bodies serving it pass (Catalog.mask)
        elif need.place and f.near is None and not f.region and not f.country:
            # a need with a place is searched within it: its state (or country) is a hard
            # filter; national bodies still pass (Catalog.mask applies the area served)
            f.region, f.country = need.region, need.country
        if need.requester_id and need.requester_id not in f.exclude_ids:
            f.exclude_ids = [*f.exclude_ids, need.requester_id]
        return f

    def _without_askers(
        self, need: Need, f: Filters
    ) -> tuple[Filters, dict[str, str], dict[str, str]]:
        """`f` leaving out, as it leaves out the requester, each organisation the need's text
        names as the one asking ("We at Nike want to support youth sports": NIKE, Inc.;
        `matcher.asker_names`) when exactly one stored organisation bears that name; and
        those organisations (id -> name), and the other businesses of an asking company's
        own line of business (`_peers_of`). A giving lead's own company was the first
        business and a member of the coalition (real data walk, 2026-12-06)."""
        askers: dict[str, str] = {}
        for written in asker_names(need.text):
            # a foundation asking is offered neither itself nor its company
            for named in filter(None, (written, parent_name(written))):
                same, arms, orgs = self._stored_askers(named)
                for i in [*same, *arms]:  # the organisation, then its foundation or fund
                    if orgs[i].id != need.requester_id:
                        askers[orgs[i].id] = orgs[i].name
        for written in perhaps_asker_names(need.text):  # a company's name only
            same, arms, orgs = self._stored_askers(written)
            if not any(orgs[i].sector == Sector.business for i in same):
                continue
            for i in [*same, *arms]:
                if orgs[i].id != need.requester_id:
                    askers[orgs[i].id] = orgs[i].name
        if not askers:
            return f, askers, {}
        peers = self._peers_of(askers, need.requester_id)
        left_out = [*f.exclude_ids, *askers, *peers]
        return f.model_copy(update={"exclude_ids": left_out}), askers, peers

    def _stored_askers(self, named: str) -> tuple[list[int], list[int], list[Organisation]]:
        """`askers_among` the stored organisations found by `named`'s own words ("nike" of
        "Nike Inc"), else by the name as written: "Stanley Black & Decker" holds no "stanley
        black decker", and was never found (helper-75's walk, 2026-12-06)."""
        same: list[int] = []
        arms: list[int] = []
        orgs: list[Organisation] = []
        for typed in dict.fromkeys([search_words(named), " ".join(named.split())]):
            found, _ = self.store.list_organisations(name=typed, limit=50, published_only=True)
            orgs = [s.record for s in found]
            same, arms = askers_among(named, [o.name for o in orgs])
            if same or arms:
                break
        return same, arms, orgs

    def _peers_of(self, askers: Mapping[str, str], requester_id: str | None) -> dict[str, str]:
        """The other businesses of an asking company's own line of business, id -> name: a
        giving lead at Nike was offered Deckers, and one at Lowe's The Home Depot, as
        partners (helper's walk, 2026-12-06). Its line of business is its focus areas that
        only businesses hold (a company list's sector and industry, "Footwear &
        Accessories"); a focus a nonprofit or a public body holds too is a cause ("food
        insecurity"), and companies sharing it are the partners a giving lead may join. A
        nonprofit's peers stay: another food bank is a partner."""
        peers: dict[str, str] = {}
        with self._lock.read():
            business = self.catalog.sector_mask((SECTORS.index(Sector.business.value),))
            for org_id in askers:
                profile = self._profile_of(org_id)
                if profile is None or profile.org.sector != Sector.business:
                    continue
                trades = [
                    p
                    for p in profile.org.focus_areas
                    if p.strip() and not (self.catalog.with_focus([p]) & ~business).any()
                ]
                if not trades:
                    continue
                rows = business.copy()
                for phrase in trades:
                    rows &= self.catalog.with_focus([phrase])
                for pos in np.flatnonzero(rows).tolist():
                    peer = self.catalog.profile(pos).org
                    if peer.id not in askers and peer.id != requester_id:
                        peers[peer.id] = peer.name
        return peers

    def _cause_dist(self, q: np.ndarray) -> np.ndarray | None:
        if self.cause_space is None:
            return None
        return self.cause_space.query_distribution(q[None, :])[0]

    def _retrieve(
        self,
        q: np.ndarray,
        text: str,
        filters: Filters,
        cause_dist: np.ndarray | None = None,
        signals: Sequence[Signal] = (),
        allowed: np.ndarray | None = None,
        shared: QueryScores | None = None,
    ) -> Candidates:
        """Hybrid candidates over the rows that pass `filters` (`allowed`: their mask, when
        the caller has it; `shared`: the request's scores, when it retrieves more than once;
        call under the read lock)."""
        return hybrid(
            self.catalog,
            q,
            text,
            self.catalog.mask(filters) if allowed is None else allowed,
            k=self.settings.candidate_pool,
            index=self.ann,
            lexical=self.lexical,
            exact_threshold=self.settings.exact_filter_threshold,
            lexical_weight=self.settings.lexical_weight,
            cause_dist=cause_dist,
            cause_weight=cause_weight(self.settings.cause_weight, cause_dist),
            signals=signals,
            filters=filters,  # a back end that filters itself (pgvector) searches under them
            shared=shared,
        )

    def _conflicting(
        self, allowed: np.ndarray, need: Need, required: Mapping[str, str]
    ) -> tuple[np.ndarray | None, list[tuple[str, np.ndarray]]]:
        """The `allowed` businesses whose trade works against the need (matcher.conflicts:
        tobacco companies for a need about health or young people), as a mask (None: none),
        and each conflict's rows with what the answer says of them."""
        found = conflicts_of(need.text, list(required))
        if not found:
            return None, []
        business = self.catalog.sector_mask((SECTORS.index(Sector.business.value),))
        out = np.zeros(allowed.size, dtype=bool)
        each = []
        for conflict in found:
            these = self.catalog.with_focus(conflict.industries) & business & allowed
            if these.any():
                out |= these
                each.append((withheld_line(conflict), these))
        return (out if each else None), each

    def _rows_scanned(self, roles: Sequence[tuple[str, list[Sector], np.ndarray]]) -> int:
        """How many rows the roles' retrievals read one by one (the ones scanned exactly; a
        back end that filters itself is given the filters and scans none)."""
        if isinstance(self.ann, FilteredIndex):
            return 0
        counts = (int(np.count_nonzero(allowed)) for _, _, allowed in roles)
        threshold = self.settings.exact_filter_threshold
        return sum(n for n in counts if scans_exactly(self.ann, n, threshold))

    def _with_sectors(
        self, placed: np.ndarray, f: Filters, sectors: Sequence[Sector]
    ) -> np.ndarray:
        """`catalog.mask` of `f` with these sectors, from `placed`, the mask of `f` without
        sectors (every term of a mask is a conjunction): the place filters, which measure the
        distance to every row, are applied once per request, not once per role."""
        only = Filters(sectors=list(sectors), include_inactive=f.include_inactive)
        return placed & self.catalog.mask(only)

    def _signals(
        self,
        q: np.ndarray,
        clause_vecs: np.ndarray,
        sectors: Sequence[Sector] = (),
        allowed: np.ndarray | None = None,
        shared: QueryScores | None = None,
        region: str | None = None,
    ) -> tuple[list[Signal], dict[str, evidence.ProgrammeHit], Mapping[str, tuple[float, str]]]:
        """Focus, offering and programme evidence over every catalog row (call under the read
        lock); `sectors`: the ones asked for (none: all), offerings only when one has them,
        and only of the companies `_offering_owners` picks (`allowed`: the rows the need's
        hard filters other than sector allow; `shared`: the request's scores). Also each
        programme owner's closest programme and each company's closest offering clause
        (score, clause), for the reasons. `region`: the need's state (its programmes are never
        those of other states)."""
        out: list[Signal] = []
        offered: Mapping[str, tuple[float, str]] = {}
        if self.settings.focus_weight and self.focus.vectors_.shape[0] > 1:
            scores = self.focus.scores(self.catalog.focus_codes_, q, clause_vecs)
            out.append(Signal("focus", scores, self.settings.focus_weight))
        asks_offerings = not sectors or any(s.value in OFFERING_SECTORS for s in sectors)
        if self.settings.offering_weight and len(self.offerings) and asks_offerings:
            scores = np.full(self.catalog.alive_.size, np.nan, np.float32)
            lines = self.offerings.best(q, clause_vecs, self._offering_owners(q, allowed, shared))
            rows = self.offerings.positions_in(self.catalog)
            known = rows >= 0
            scores[rows[known]] = lines.best[known]
            offered = lines
            out.append(Signal("offering", scores, self.settings.offering_weight))
        hits = self.programmes.best(q, region) if len(self.programmes) else {}
        if hits and self.settings.programme_weight:
            scores = np.full(self.catalog.alive_.size, np.nan, np.float32)
            for owner, hit in hits.items():
                pos = self.catalog.position_of_id(owner)
                if pos is not None:
                    scores[pos] = hit.similarity
            # an organisation that runs no programme like this is less likely to partner on it
            out.append(Signal("programme", scores, self.settings.programme_weight, absent=0.0))
        return out, hits, offered

    def _offering_owners(
        self, q: np.ndarray, allowed: np.ndarray | None, shared: QueryScores | None
    ) -> np.ndarray:
        """The companies (indexes into offerings.owner_names_) whose offering clauses a request
        reads: the live ones `allowed`, at most `offering_candidates` of them, the ones whose
        profile is closest to the need (two stages: reading every clause of 18k companies
        cost 40 ms a request at 100k)."""
        rows = self.offerings.positions_in(self.catalog)
        live = rows >= 0
        live[live] = self.catalog.alive_[rows[live]]
        if allowed is not None:
            live[live] = allowed[rows[live]]
        owners = np.flatnonzero(live)
        cap = self.settings.offering_candidates
        if owners.size <= cap:
            return owners
        at = rows[owners]
        # the closest by profile are only a pre-filter: a large catalog's coarse copy picks
        # them alone (re-reading 2 x cap of them exactly cost 0.4 of 12 ms a request at 100k)
        if shared is not None:
            return owners[shared.nearest(at, cap)]
        sims = row_dot(self.catalog.vectors, q, at)
        return np.sort(owners[np.argpartition(-sims, cap - 1)[:cap]])

    def _score(
        self,
        need: Need,
        cands: Candidates,
        required: dict[str, str],
        requester: Profile | None,
        q: np.ndarray | None = None,
        hits: dict[str, evidence.ProgrammeHit] | None = None,
        now: datetime | None = None,
        offered: Mapping[str, tuple[float, str]] | None = None,
        *,
        asked: benefits.AskedBenefits | None,
    ) -> Ranked:
        """Every candidate scored at once (matcher.score_arrays), best first; the `history`
        component (P(org | need) from the published partnership-history model) is added for
        the organisations that model knows. `asked`: the benefits the ask names, when the
        request has read them (`_asked_benefits`). Call under the read lock."""
        positions = cands.positions
        dist: np.ndarray | None = None
        if need.lat is not None and need.lon is not None and positions.size:
            dist = haversine_many(
                need.lat, need.lon, self.catalog.lat_[positions], self.catalog.lon_[positions]
            )
        rel = cands.dense.astype(np.float64)
        for extra in cands.extra.values():
            rel = np.fmax(rel, extra.astype(np.float64))  # NaN: no such evidence
        proba = None
        if q is not None and self.history_model is not None:
            proba = self.history_model.predict_proba(q[None, :])[0]
        inputs = Inputs(
            need,
            required,
            requester,
            self.weights,
            self.settings.proximity_scale_km,
            now or utcnow(),
            history_weight=self.weights.get(HISTORY, self.settings.history_weight),
            history_proba=proba,
            hits=hits,
            offered=offered,
            asked_benefits=asked,
        )
        return score_all(self._score_columns(), positions, cands.fused, rel, dist, inputs)

    def _asked_benefits(
        self, required: Mapping[str, str], text: str, q: np.ndarray | None
    ) -> benefits.AskedBenefits | None:
        """The benefits the need's ask names and who runs a programme naming one: per
        organisation, its programme most nearly each benefit it runs (`Programmes.naming`,
        then the closest to the need `q`), their titles joined (None: it names none). Call
        under the read lock."""
        bits = benefits.asked_in(required, text)
        if not bits:
            return None
        # each benefit's programme, said together ("SNAP, WIC and LIHEAP": the Food and
        # Nutrition Service's card named only its SNAP, real data walk)
        titles: dict[str, list[str]] = {}
        for bit in benefits.split_bits(bits):
            for owner, title in self.programmes.naming(bit, q).items():
                if title not in titles.setdefault(owner, []):
                    titles[owner].append(title)
        runs = {
            pos: benefits.TITLES_JOIN.join(named)
            for owner, named in titles.items()
            if (pos := self.catalog.position_of_id(owner)) is not None
        }
        return benefits.AskedBenefits(bits, runs)

    def _score_columns(self) -> ScoreColumns:
        """The scoring columns of the current catalog (new when it or what offers and the
        history model read changed)."""
        cols = self._columns
        if cols is None or not cols.matches(
            self.catalog, self.meaning, self._focus_offers, self._history_column
        ):
            cols = ScoreColumns.successor(
                cols, self.catalog, self.meaning, self._focus_offers, self._history_column
            )
            self._columns = cols
        return cols

    def _save_score_columns(self, art: IndexArtifact) -> None:
        """Fill the scoring columns of every row (the catalog holds the rows of `art`) and save
        them beside it; a failure only means opening it fills them on use. Filled in a columns
        object of its own, without the engine's lock: requests go on (filling the engine's
        columns as they need them) and so do writes (a row written meanwhile is saved as not
        filled). The engine then uses the filled columns."""
        with self._lock.read():
            catalog, meaning = self.catalog, self.meaning
            cols = ScoreColumns(catalog, meaning, self._focus_offers, self._history_column)
        recipe = recipe_digest(
            meaning.keys_ if meaning is not None else None,
            meaning.vectors_ if meaning is not None else None,
        )
        try:
            # a row deleted meanwhile has no profile to read (KeyError): saved next build
            cols.fill(np.flatnonzero(catalog.alive_[: cols.filled_.size]))
            arrays, codes, caps = cols.saved_arrays()
            save_score(
                generation_dir(self.index_root, art.generation),
                arrays,
                codes,
                caps,
                recipe,
                cols.focus_offers,
            )
        except (OSError, KeyError) as exc:
            logger.info("scoring columns not saved: %s", exc)
            return
        with self._lock.write():
            if self.catalog is catalog and self.meaning is meaning:
                self._columns = ScoreColumns.successor(
                    cols, catalog, meaning, self._focus_offers, self._history_column
                )
                self.scoring_columns = f"saved with generation {art.generation}"

    def use_history_model(self, model: PartnerHistoryModel | None) -> None:
        """Use (or, with None, stop using) a partnership-history model; refuses one made for
        another embedding model."""
        if model is not None and (
            model.model_name_ != self.embedder.model_name
            or model.dimension_ != self.embedder.dimension
        ):
            raise ArtifactMismatchError(
                f"history model made for {model.model_name_} ({model.dimension_} dimensions); "
                f"the engine runs {self.embedder.model_name} ({self.embedder.dimension})"
            )
        columns = {o: i for i, o in enumerate(model.org_ids_)} if model is not None else {}
        with self._lock.write():
            self.history_model = model
            self._history_column = columns

    def _match(
        self,
        s: Scored,
        need: Need,
        required: dict[str, str],
        cause_dist: np.ndarray | None = None,
        topic_need: Need | None = None,
        voice: Voice = NEED_VOICE,
    ) -> Match:
        """`topic_need`: `reasons_need(need)`, when the caller explains several results."""
        prof = self.catalog.profile(s.position)
        org = prof.org
        reasons = reasons_for(s, prof, topic_need or reasons_need(need), required, voice=voice)
        if (
            cause_dist is not None
            and self.cause_space is not None
            and self._causes_describe([org.sector])
        ):
            cause = shared_cause(
                self.cause_space,
                cause_dist,
                self.catalog.cause_idx_[s.position],
                self.catalog.cause_p_[s.position],
            )
            if cause is not None:
                reasons.insert(min(1, len(reasons)), f"Works on the same cause: {cause.title}")
        history = s.components.get(HISTORY)
        if history is not None and history >= 0.2 and self.history_model is not None:
            n = self.history_model.counts_.get(org.id, 0)
            reasons.insert(
                min(1, len(reasons)),
                f"Its {n} past partnerships make it {history:.0%} likely to back work like this",
            )
        return Match(
            id=org.id,
            name=org.name,
            sector=org.sector.value,
            score=round(s.score, 4),
            components={k: round(v, 4) for k, v in s.components.items()},
            reasons=reasons,
            covers=sorted(s.covers),
            # the benefits the offer it covers public programmes with names (a programme's
            # title, or the benefits its profile names): the card said only "public
            # programmes and benefits" (real data walk)
            benefits=benefits.names_of(benefits.named_in(s.covers.get(benefits.CAPABILITY, ""))),
            relevance=None if s.relevance is None else round(s.relevance, 4),
            distance_km=None if s.distance_km is None else round(s.distance_km, 1),
            city=org.city,
            region=org.region,
            country=org.country,
            service_level=(org.service_level or ServiceLevel.local).value,
            service_regions=list(org.service_regions),
        )

    def _limit(self, limit: int | None) -> int:
        return max(1, min(limit or self.settings.default_limit, self.settings.max_limit))

    def _causes_describe(self, sectors: Sequence[Sector]) -> bool:
        """Whether the cause taxonomy describes organisations of these sectors (settings:
        cause_sectors; else the sectors stored with the taxonomy, `set_causes`; all when
        neither says). Without them, an NTEE taxonomy said of Coca-Cola "Works on the same
        cause: Substance Abuse Treatment" by its focus "beverages - non-alcoholic" (helper-75's
        walk, 2026-12-06: the server was started without MATCHER_CAUSE_SECTORS)."""
        only = self.settings.cause_sectors or self._stored_cause_sectors
        return only is None or any(s.value in only for s in sectors)

    def _roles(self, f: Filters) -> list[tuple[str, list[Sector]]]:
        """The coalition roles asked for, each with its sectors. When none is asked for, every
        sector the catalog holds: a directory without universities has no academic role to
        report unfilled on every answer (one asked for by name is reported when unfilled)."""
        wanted = list(f.sectors) or [Sector(SECTORS[i]) for i in self._sectors_held()]
        roles: dict[str, list[Sector]] = {}
        for sector in wanted:
            roles.setdefault(ROLE_OF_SECTOR.get(sector.value, sector.value), []).append(sector)
        return list(roles.items())

    def sectors_held(self) -> list[str]:
        """The sectors of the live, published, active organisations a search can return (a
        form offers the others greyed out: ticking them could only find nothing)."""
        with self._lock.read():
            return [SECTORS[i] for i in self._sectors_held()]

    def holds_in_region(self, sectors: Sequence[str] | None, region: str) -> bool:
        """Whether a live organisation of these sectors (None: any) is based in `region` (a US
        state by code or name)."""
        wanted = tuple(SECTORS.index(s) for s in (sectors or SECTORS))
        with self._lock.read():
            return self.catalog.holds_in_region(wanted, region)

    def holds_sectors(self, sectors: Sequence[str] | None) -> bool:
        """Whether a live, published, active organisation of these sectors (None: any) is
        held anywhere."""
        wanted = {SECTORS.index(s) for s in (sectors or SECTORS)}
        with self._lock.read():
            return bool(wanted & set(self._sectors_held()))

    def _sectors_held(self) -> list[int]:
        """Indexes (in SECTORS) of the sectors of the catalog's live, published, active rows."""
        return self.catalog.sectors_held()

    def _read_need(
        self,
        need: Need,
        filters: Filters | None,
        query_vector: np.ndarray | None,
        reading: NeedReading | None = None,
    ) -> tuple[Filters, str, np.ndarray, np.ndarray, dict[str, str], float]:
        """What `recommend` and `top` read from a need before ranking: the effective filters,
        the topic (place words are location, not topic; benefit acronyms glossed), its query
        vector, the clause vectors
        retrieval reads, the required capabilities (read from the clauses as written, since
        they are quoted back to the group) and the relevance floor. `reading`: the vectors
        and capabilities read before (`read_need`), used when made under the current model
        and mean (else the need is read again)."""
        f = self._effective_filters(need, filters)
        topic = query_text(need)
        floor = relevance_floor(
            self.settings.relevance_floor, self.embedder.model_name, embedder_floor(self.embedder)
        )
        if reading is not None and reading.key == self.reading_key():
            return f, topic, reading.query, reading.clauses, reading.required, floor
        reads_asks = not listed_help(need) and self.meaning is not None
        asked_vecs: np.ndarray | None = None
        packed = (
            self.reader.packed_need(topic, [topic, need.text], parallel=self._reads_in_parallel())
            if reads_asks and topic != need.text and query_vector is None
            else None
        )
        if packed is not None:
            # the topic, its clauses and those of the need as written in one call
            q, clause_vecs, asked_vecs = packed[0], packed[1][0], packed[1][1]
        elif reads_asks and topic != need.text and not self.reader.pools_spans():
            # the clauses of the topic and of the need as written (quoted back) in one pass
            both, q = side_by_side(
                lambda: self.reader.clause_vectors_of([topic, need.text]),
                lambda: self.reader.vector(topic) if query_vector is None else query_vector,
                parallel=self._reads_in_parallel() and query_vector is None,
            )
            clause_vecs, asked_vecs = both
        elif query_vector is None:
            q, clause_vecs = self.reader.need_vectors(topic, parallel=self._reads_in_parallel())
        else:
            q, clause_vecs = query_vector, self.reader.clause_vectors(topic)
        if not reads_asks:
            required = required_capabilities(need)  # the clauses are not read: not embedded
        else:
            if asked_vecs is None:
                asked_vecs = (
                    clause_vecs if topic == need.text else self.reader.clause_vectors(need.text)
                )
            required = self._required(need, need.text, asked_vecs, q)
        return f, topic, q, clause_vecs, required, floor

    def _reads_in_parallel(self) -> bool:
        """Read a need's text and clauses at once on two threads: only for a server's one
        request in flight, or (outside a server) the engine's one ranking (at 100k one
        client's p50 31 -> 20 ms; reading on two threads beside other requests cost 4 clients
        17% of their throughput: README, "Fewer calls into the model")."""
        alone = query_passes_alone.get()  # a server's own count of requests in flight
        if alone is None:
            alone = self.rankings.now <= 1
        return self.settings.parallel_query_passes and alone

    def reading_key(self) -> str:
        """The model and corpus mean query vectors are made under: a `NeedReading` made under
        another key is read again (a rebuild that moved the mean changes every vector)."""
        mean = self.mean_
        digest = hashlib.sha1(b"" if mean is None else np.ascontiguousarray(mean).tobytes())
        return f"{self.embedder.model_name}@{digest.hexdigest()[:16]}"

    def read_need(self, need: Need, *, query_vector: np.ndarray | None = None) -> NeedReading:
        """The need's `NeedReading`, as `top` and `recommend` read it now."""
        _, _, q, clauses, required, _ = self._read_need(need, None, query_vector)
        return NeedReading(self.reading_key(), q, clauses, dict(required))

    @counted_ranking
    def recommend(
        self,
        need: Need,
        *,
        filters: Filters | None = None,
        limit: int | None = None,
        requester_id: str | None = None,
        coalition_size: tuple[int, int] = (3, 5),
        query_vector: np.ndarray | None = None,
        now: datetime | None = None,
        voice: Voice = NEED_VOICE,
    ) -> Recommendation:
        """Ranked partners, per-sector lists, a cross-sector coalition and the uncovered needs.

        Candidates are retrieved per role (business, government, nonprofit and community, ...)
        so that no sector crowds out another; partners below the relevance floor are never
        shown and never fill a role. `now`: the clock freshness is measured against (the
        current time when not given; training passes a fixed one so a fit is reproducible).
        `voice`: how the reasons name what was asked (a need, unless a page says otherwise)."""
        limit = self._limit(limit)
        if requester_id and not need.requester_id:
            need = need.model_copy(update={"requester_id": requester_id})
        f, topic, q, clause_vecs, required, floor = self._read_need(need, filters, query_vector)
        f, askers, peers = self._without_askers(need, f)
        with self._lock.read():
            version, generation = self.model_version, self.index_generation
            requester = self._profile_of(need.requester_id)
            dist = self._cause_dist(q)
            placed = self.catalog.mask(f.model_copy(update={"sectors": []}))
            # left out of the rankings once they are made: the rows they were ranked among,
            # and so every other partner's score, stay as they were
            conflicting, conflicts = self._conflicting(placed, need, required)
            ranked_rows: list[np.ndarray] = []  # above the floor, before conflicts are left out
            roles = [(r, s, self._with_sectors(placed, f, s)) for r, s in self._roles(f)]
            shared = QueryScores(self.catalog, q, topic, dist, self._rows_scanned(roles))
            signals, hits, offered = self._signals(
                q, clause_vecs, f.sectors, placed, shared, need.region
            )
            asked = self._asked_benefits(required, need.text, q)  # once a request
            rankings: list[tuple[str, Ranked, list[int]]] = []
            for role, sectors, allowed in roles:
                cause = dist if self._causes_describe(sectors) else None
                cands = self._retrieve(
                    q,
                    topic,
                    f.model_copy(update={"sectors": sectors}),
                    cause,
                    signals,
                    allowed,
                    shared,
                )
                ranked = self._score(
                    need, cands, required, requester, q, hits, now, offered=offered, asked=asked
                ).above(floor)
                ranked_rows.append(ranked.positions)
                ranked = ranked.without(conflicting)
                rankings.append((role, ranked, shown_rows(self.catalog, ranked)))
            # the overall list ranks every allowed partner against each other (fit is
            # standardised over all of them, not within a sector)
            wanted = list(f.sectors) or [Sector(s) for s in SECTORS]
            overall_cause = dist if self._causes_describe(wanted) else None
            allowed_all = self._with_sectors(placed, f, f.sectors)
            overall = self._score(
                need,
                self._retrieve(q, topic, f, overall_cause, signals, allowed_all, shared),
                required,
                requester,
                q,
                hits,
                now,
                offered=offered,
                asked=asked,
            ).above(floor)
            ranked_rows.append(overall.positions)
            overall = overall.without(conflicting)
            # said only of the trades a ranking held: a youth need is not told of casinos
            # no list would have shown
            withheld = [line for line, rows in conflicts if any(rows[p].any() for p in ranked_rows)]
            # every profile shown read from the store in one query, not one a list
            head = overall.positions[: min(limit, len(overall))]
            self.catalog.prefetch(
                np.concatenate([head, *(r.positions[rows] for _, r, rows in rankings)])
            )
            per_role = {role: ranked.explain(rows) for role, ranked, rows in rankings}
            made: dict[tuple[bool, int], Match] = {}
            explained = reasons_need(need, topic)

            def make(s: Scored, *, overall_list: bool = False) -> Match:
                """A partner as the ranking that placed it scores it: in a sector's list and
                the coalition, its role's components (fit standardised over that role's
                candidates), so the scores shown fall down the list; in the overall list,
                the overall ranking's, where fit is standardised over every sector (a
                business with no cause codes can read fit 0 there whatever its text)."""
                key = (overall_list, s.position)
                if key not in made:
                    made[key] = self._match(s, need, required, dist, explained, voice)
                return made[key]

            results = [make(s, overall_list=True) for s in overall.head(limit)]
            by_sector: dict[str, list[Match]] = {}
            for ss in per_role.values():
                for s in ss:
                    sector = self.catalog.profile(s.position).org.sector.value
                    bucket = by_sector.setdefault(sector, [])
                    if len(bucket) < PER_SECTOR:
                        bucket.append(make(s))
            # the parts are quoted as the group wrote them when they align with the clauses
            # read without place words (the ones embedded)
            parts = evidence.clauses(topic)
            written = evidence.clauses(need.text)
            coalition = coalition_of(
                self.catalog,
                per_role,
                required,
                coalition_size,
                make,
                clause_vecs,
                written if len(written) == len(parts) else evidence.as_written(parts, written),
                floor,
                aspect_weight=self.settings.coalition_aspect_weight,
                alternative_margin=self.settings.coalition_alternative_margin,
                reach_km=reach_km(need, self.settings.proximity_scale_km),
                region=need.region,
                asked_benefits=asked,
            )
            empty = [
                r for r, _, allowed in roles if r in coalition.unfilled_roles and not allowed.any()
            ]
            if empty:
                # a role the data holds none of in the need's state: a Phoenix need on data
                # without Arizona's nonprofits was told only that none was within its filters
                absent = [
                    r
                    for r, sectors, _ in roles
                    if r in empty
                    and need.region
                    and not self.catalog.holds_in_region(
                        tuple(SECTORS.index(s.value) for s in sectors), need.region
                    )
                ]
                # the size filter alone left none (every IRS nonprofit has no size on
                # record): "none within your filters" blamed nothing (real data walk)
                unsized: list[str] = []
                if f.sizes:
                    any_size = self.catalog.mask(f.model_copy(update={"sectors": [], "sizes": []}))
                    unsized = [
                        r
                        for r, sectors, _ in roles
                        if r in empty
                        and r not in absent
                        and self._with_sectors(any_size, f, sectors).any()
                    ]
                coalition = coalition.model_copy(
                    update={
                        "empty_roles": empty,
                        "absent_in_region": absent,
                        "unsized_roles": unsized,
                    }
                )
            coalition = settle_gaps(
                coalition,
                HelpSought(
                    required,
                    parts,
                    clause_vecs,
                    need,
                    floor,
                    asked,
                ),
                self.catalog,
                self._score_columns(),
                by_sector,
                per_role,
                allowed_all if conflicting is None else allowed_all & ~conflicting,
                # the request's cosines; the fallback is the unshared reference path that
                # tests/engine/test_query_scores.py compares the shared scores against
                shared.dense.at
                if shared is not None
                else lambda rows: row_dot(self.catalog.vectors, q, rows),
                self.settings.proximity_scale_km,
            )
        return Recommendation(
            need=need,
            unread_words=self.vocabulary.mostly_unknown(topic) if self.vocabulary else [],
            few_words=few_words(need.text),
            unread_help=unread_help(need),
            withheld=withheld,
            named_askers=list(askers.values()),
            asker_peers=list(dict.fromkeys(peers.values())),  # a name held twice said once
            required_capabilities=list(required),
            results=results,
            by_sector=by_sector,
            coalition=coalition,
            gaps=coalition.gaps,
            model_version=version,
            index_generation=generation,
        )

    def top(
        self,
        need: Need,
        *,
        filters: Filters | None = None,
        limit: int | None = None,
        query_vector: np.ndarray | None = None,
        reading: NeedReading | None = None,
    ) -> list[TopResult]:
        """The overall ranked list only, as `recommend` returns it in `results` (same ids,
        order, rounded scores and relevance), without per-sector lists, the coalition or
        reasons: for callers that compare rankings (the saved needs' alerts), at a fraction of
        the cost. `reading`: the need's `read_need`, kept by the caller (not read again)."""
        limit = self._limit(limit)
        f, topic, q, clause_vecs, required, floor = self._read_need(
            need, filters, query_vector, reading
        )
        f, _, _ = self._without_askers(need, f)
        with self._lock.read():
            requester = self._profile_of(need.requester_id)
            dist = self._cause_dist(q)
            signals, hits, offered = self._signals(q, clause_vecs, f.sectors, region=need.region)
            wanted = list(f.sectors) or [Sector(s) for s in SECTORS]
            cause = dist if self._causes_describe(wanted) else None
            conflicting, _ = self._conflicting(self.catalog.mask(f), need, required)
            ranked = self._score(
                need,
                self._retrieve(q, topic, f, cause, signals),
                required,
                requester,
                q,
                hits,
                offered=offered,
                asked=self._asked_benefits(required, need.text, q),
            ).above(floor)
            ranked = ranked.without(conflicting)
            out = []
            self.catalog.prefetch(ranked.positions[:limit])
            for i in range(min(limit, len(ranked))):
                org = self.catalog.profile(int(ranked.positions[i])).org
                rel = float(ranked.relevance[i])
                out.append(
                    TopResult(org.id, org.name, round(float(ranked.score[i]), 4), round(rel, 4))
                )
            return out

    def recommend_batch(
        self,
        needs: Sequence[Need],
        filters: Sequence[Filters | None] | None = None,
        limit: int | None = None,
        *,
        progress: bool = False,
    ) -> list[Recommendation]:
        vecs = self.query_vectors([query_text(n) for n in needs], progress=progress)
        fs = list(filters) if filters is not None else [None] * len(needs)
        return [
            self.recommend(n, filters=f, limit=limit, query_vector=v)
            for n, f, v in zip(needs, fs, vecs, strict=True)
        ]

    def match(
        self,
        org_id: str,
        *,
        sectors: Sequence[str] | None = None,
        filters: Filters | None = None,
        limit: int | None = None,
        around: Place | None = None,
    ) -> list[Match]:
        """Aligned organisations for an organisation, fit judged in both directions; the reasons
        speak of its profile (there is no need). `around`: a place to match around instead of
        its home (distances, nearness and the reasons' place are the place's: a company's
        page asked around Hilo said "Based in Honolulu, 7227 km from Atlanta", real data)."""
        limit = self._limit(limit)
        with self._lock.read():
            prof = self._profile_of(org_id)
            if prof is None:
                raise NotFoundError(f"organisation '{org_id}' not found")
            org = prof.org
            pos = self.catalog.position_of_id(org_id)
            assert pos is not None
            q = self.catalog.vectors[pos].copy()
        need = home_need(org, org.profile_text()[:5000], required_capabilities=list(prof.needs))
        if around is not None:
            need = need.model_copy(update=around.need_fields())
        f = filters.model_copy(deep=True) if filters else Filters()
        if sectors:
            f.sectors = [Sector(s) for s in sectors]
        f.exclude_ids = [*f.exclude_ids, org.id]
        required = {k: prof.needs[k] for k in prof.needs}
        with self._lock.read():
            dist = self._cause_dist(q)
            cands = self._retrieve(q, need.text, f, dist)
            ranked = self._score(
                need, cands, required, prof, q, asked=self._asked_benefits(required, need.text, q)
            )
            explained = reasons_need(need)
            name = readable_name(org.name)
            home = org.city or org.region or f"{name}'s home"
            voice = Voice(
                subject=f"{name}'s profile",
                asked=f"{name} seeks",
                place=around.label if around is not None else home,
                point=None if around is not None else f"{name}'s home",
                requester=name,
            )
            return [
                self._match(s, need, required, dist, explained, voice) for s in ranked.head(limit)
            ]

    def needs_for(
        self, org_id: str, *, limit: int | None = None, kind: str | None = None
    ) -> list[NeedMatch]:
        """Open community needs this organisation could help with (`kind`: only needs, or only
        programmes)."""
        limit = self._limit(limit)
        with self._lock.read():
            prof = self._profile_of(org_id)
            if prof is None:
                raise NotFoundError(f"organisation '{org_id}' not found")
            pos = self.catalog.position_of_id(org_id)
            assert pos is not None
            q = self.catalog.vectors[pos]
            out: list[tuple[float, NeedMatch]] = []
            for entry in self._needs.values():
                need = entry.need
                if need.status != "open" or need.requester_id == org_id:
                    continue
                if kind is not None and need.kind != kind:
                    continue
                d = None
                if need.lat is not None and need.lon is not None and prof.org.lat is not None:
                    d = float(
                        haversine_many(
                            need.lat,
                            need.lon,
                            np.asarray([prof.org.lat]),
                            np.asarray([prof.org.lon]),
                        )[0]
                    )
                s = score_candidate(
                    pos,
                    prof,
                    need,
                    entry.required,
                    self._profile_of(need.requester_id),
                    fit=fit_from_cosine(float(entry.vector @ q)),
                    required_explicit=bool(listed_help(need)),
                    distance_km=d,
                    weights=self.weights,
                    scale_km=self.settings.proximity_scale_km,
                    asked_benefits=self._asked_benefits(entry.required, need.text, entry.vector),
                )
                out.append(
                    (
                        s.score,
                        NeedMatch(
                            id=need.id,
                            text=need.text,
                            score=round(s.score, 4),
                            components=s.components,
                            reasons=reasons_for(
                                s,
                                prof,
                                need,
                                entry.required,
                                voice=PROGRAMME_VOICE if need.kind == "programme" else NEED_VOICE,
                            ),
                            distance_km=None if d is None else round(d, 1),
                            kind=need.kind,
                        ),
                    )
                )
        out.sort(key=lambda t: -t[0])
        return [m for _, m in out[:limit]]

    def stats(self) -> dict[str, Any]:
        with self._lock.read():
            return {
                "organisations": len(self.catalog),
                "needs": len(self._needs),
                "causes": len(self.cause_space) if self.cause_space is not None else 0,
                "index": self.ann.kind if self.ann is not None else None,
                "generation": self.index_generation,
                "model": self.embedder.model_name,
                "model_version": self.model_version,
                "scoring_columns": self.scoring_columns,
            }

    # published ranking model --------------------------------------------------------------
    def use_weights(self, weights: dict[str, float], name: str) -> None:
        """Swap the score weights (a published model) atomically: a request sees the old or
        the new version, never a mix."""
        from matcher.score import COMPONENTS

        unknown = set(weights) - {*COMPONENTS, HISTORY}
        if unknown:
            raise ArtifactMismatchError(f"model {name} has unknown components {sorted(unknown)}")
        if any(w < 0 for w in weights.values()) or not any(weights.values()):
            raise ArtifactMismatchError(f"model {name} needs non-negative, not all-zero weights")
        chosen = {c: float(weights.get(c, 0.0)) for c in COMPONENTS}
        if HISTORY in weights:
            chosen[HISTORY] = float(weights[HISTORY])
        with self._lock.write():
            self.weights = chosen
            self.weights_name = name

    def use_default_weights(self) -> None:
        self.use_weights(self.settings.weights.as_dict(), "default-weights")

    # sample -------------------------------------------------------------------------------
    def bootstrap_sample(self, directory: Path = SAMPLE_DIR) -> bool:
        """Load the bundled sample corpus when the database holds no organisations."""
        if self.store.count_organisations() > 0:
            return False
        from matcher.loaders import load_records

        orgs = load_records(directory / "organisations.jsonl", kind="organisation")
        needs = load_records(directory / "needs.jsonl", kind="need")
        self.store.upsert_organisations([o for o in orgs.accepted if isinstance(o, Organisation)])
        self.store.upsert_needs([n for n in needs.accepted if isinstance(n, Need)])
        causes_file = directory / "causes.jsonl"
        if causes_file.is_file() and not self.store.causes():
            self.store.replace_causes(read_causes(causes_file))
        self.build(progress=True)
        return True
