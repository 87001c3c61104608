"""Vectors in PostgreSQL with pgvector: one table of halfvec vectors plus the filter columns.

The table holds, per row, the int64 id, the columns the hard filters read (pg_filters.COLUMNS)
and the vector as `halfvec(d)` (half precision: 2 bytes a dimension), with an HNSW index for
inner product and B-tree indexes on the filter columns. Searches never let PostgreSQL's planner
choose between exact and approximate: `exact` disables index scans for the ordering (a filtered
sequential or bitmap scan, every admitted row compared), `approximate` forces the HNSW index with
iterative scans. Which one runs is decided by the caller (matcher.index.filtered).
"""

from __future__ import annotations

import logging
import re
import struct
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from matcher.domain import Filters
from matcher.errors import ArtifactMismatchError, ExtensionMissingError, StorageError
from matcher.index import pg_partitions
from matcher.index.pg_filters import (
    COLUMNS,
    NO_REGION,
    RowAttributes,
    partition_key,
    place_keys_sql,
    where_clause,
)

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "install it on the database server with scripts/install-pgvector.sh (builds pgvector from "
    "its source tarball against postgresql-server-dev), then connect as a superuser once or run "
    "CREATE EXTENSION vector"
)
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_DEFAULT_ATTRS = RowAttributes()
HALF_MAX = 65504.0
ANALYZE_BATCH = 1000  # writes of at least this many rows refresh the table's statistics


def sqlalchemy_url(url: str) -> str:
    """The URL with the psycopg (3) driver: 'postgresql://' alone would ask for psycopg2."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if not parsed.drivername.startswith("postgresql"):
        raise ValueError(f"pgvector needs a PostgreSQL URL, got {parsed.drivername!r}")
    return parsed.render_as_string(hide_password=False)


def copy_rows(
    ids: np.ndarray, vectors: np.ndarray, attrs: Sequence[RowAttributes] | None
) -> Iterator[bytes]:
    """Rows in PostgreSQL's binary COPY format: id, the filter columns, halfvec embedding."""
    yield b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
    n_fields = struct.pack("!h", 2 + len(COLUMNS))
    dim = vectors.shape[1]
    vec_head = struct.pack("!ihh", 4 + 2 * dim, dim, 0)
    if vectors.size and float(np.abs(vectors).max()) > HALF_MAX:
        raise ValueError(f"vectors hold values outside half precision's range (|x| > {HALF_MAX})")
    halves = vectors.astype(">f2")
    for i, pk in enumerate(ids.tolist()):
        a = attrs[i] if attrs is not None else _DEFAULT_ATTRS
        parts = [n_fields, struct.pack("!iq", 8, pk)]
        for (name, _), value in zip(COLUMNS, a.values(), strict=True):
            if value is None:
                parts.append(b"\xff\xff\xff\xff")
            elif name in ("published", "active"):
                parts.append(struct.pack("!ib", 1, bool(value)))
            elif name in ("sector", "size", "level"):
                parts.append(struct.pack("!ih", 2, value))
            elif name in ("lat", "lon"):
                parts.append(struct.pack("!id", 8, value))
            else:
                raw = str(value).encode()
                parts.append(struct.pack("!i", len(raw)) + raw)
        parts.append(vec_head + halves[i].tobytes())
        yield b"".join(parts)
    yield b"\xff\xff"


class PgVectorStore:
    """One pgvector table: writes, filtered counts, exact and HNSW searches."""

    EXTENSION = "vector"

    def __init__(
        self,
        url: str,
        dimension: int,
        *,
        table: str = "matcher_vectors",
        hnsw_m: int = 16,
        ef_construction: int = 64,
        ef_search: int = 100,
        max_scan_tuples: int = 20_000,
        iterative_scan: str = "relaxed_order",
        build_memory: str = "512MB",
        partition_by_region: bool = False,
        replace: bool = False,
    ) -> None:
        if dimension < 1 or dimension > 4000:
            raise ValueError("dimension must be 1..4000 (HNSW indexes halfvec up to 4,000)")
        if not _NAME.match(table):
            raise ValueError(f"table name {table!r} must match {_NAME.pattern}")
        if iterative_scan not in ("off", "relaxed_order", "strict_order"):
            raise ValueError("iterative_scan must be off, relaxed_order or strict_order")
        self.url = sqlalchemy_url(url)
        self.dimension = int(dimension)
        self.table = table
        self.hnsw_m, self.ef_construction = hnsw_m, ef_construction
        self.ef_search, self.max_scan_tuples = ef_search, max_scan_tuples
        self.iterative_scan = iterative_scan
        self.build_memory = build_memory
        # LIST partitions by region (matcher.index.pg_partitions); a table is opened only in the
        # layout it was made in
        self.partition_by_region = bool(partition_by_region)
        self._partitions: set[str] = set()  # partition keys known to exist
        self._engine = create_engine(self.url, future=True, pool_pre_ping=True)
        self.schema = self._check_extension()
        self._op = f'OPERATOR("{self.schema}".<#>)'
        self._type = f'"{self.schema}".halfvec({self.dimension})'
        if replace:  # a table of this name is dropped first, whatever its layout
            self.drop()
        self.ensure_table()

    # connections -----------------------------------------------------------------------------
    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A psycopg cursor in one transaction, committed on success."""
        raw = self._engine.raw_connection()
        try:
            conn: Any = raw.driver_connection
            with conn.cursor() as cur:
                yield cur
            conn.commit()
        except Exception:
            raw.rollback()
            raise
        finally:
            raw.close()

    def close(self) -> None:
        self._engine.dispose()

    def _check_extension(self) -> str:
        """The schema of the `vector` extension, creating it when the server has it; one clear
        ExtensionMissingError when it does not."""
        import psycopg

        where = make_url(self.url).render_as_string(hide_password=True)
        try:
            with self._cursor() as cur:
                cur.execute(
                    "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = %s",
                    (self.EXTENSION,),
                )
                row = cur.fetchone()
                if row is not None:
                    return str(row[0]).strip('"')
                cur.execute(
                    "SELECT count(*) FROM pg_available_extensions WHERE name = %s",
                    (self.EXTENSION,),
                )
                available = cur.fetchone()[0] > 0
        except psycopg.Error as exc:
            raise StorageError(f"cannot reach PostgreSQL at {where}: {exc}") from exc
        if not available:
            raise ExtensionMissingError(
                f"PostgreSQL at {where} has no '{self.EXTENSION}' extension (pgvector), which "
                f"the pgvector vector back end needs: {INSTALL_HINT}",
                extension=self.EXTENSION,
            )
        try:
            with self._cursor() as cur:
                cur.execute(f'CREATE EXTENSION IF NOT EXISTS "{self.EXTENSION}" SCHEMA public')
        except psycopg.Error as exc:
            raise ExtensionMissingError(
                f"PostgreSQL at {where} has pgvector installed but the '{self.EXTENSION}' "
                f"extension is not created in this database and could not be ({exc}); a "
                f"superuser must run CREATE EXTENSION {self.EXTENSION}",
                extension=self.EXTENSION,
            ) from exc
        return "public"

    # schema ----------------------------------------------------------------------------------
    def _layout(self, cur: Any) -> str | None:
        """'partitioned', 'plain' or None (no such table) for the store's table."""
        cur.execute("SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(%s)", (self.table,))
        row = cur.fetchone()
        if row is None:
            return None
        return "partitioned" if str(row[0]) == "p" else "plain"

    def ensure_table(self) -> None:
        cols = ", ".join(f"{name} {sql}" for name, sql in COLUMNS)
        t = self.table
        want = "partitioned" if self.partition_by_region else "plain"
        with self._cursor() as cur:
            found_layout = self._layout(cur)
            if found_layout not in (None, want):
                raise ArtifactMismatchError(
                    f"table {t} is {found_layout}, but a {want} table was asked for "
                    f"(partition_by_region={self.partition_by_region}): open it with "
                    f"partition_by_region={not self.partition_by_region}, or build a new "
                    "generation (matcher build / matcher embed) to change the layout"
                )
            if self.partition_by_region:
                pg_partitions.create_table(cur, t, cols, self._type)
                self._partitions = set(pg_partitions.partitions(cur, t))
            else:
                cur.execute(
                    f"CREATE TABLE IF NOT EXISTS {t} "
                    f"(id bigint PRIMARY KEY, {cols}, embedding {self._type} NOT NULL)"
                )
            cur.execute(
                "SELECT count(*) FROM pg_attribute WHERE attrelid = %s::regclass "
                "AND attname = 'place_keys' AND NOT attisdropped",
                (t,),
            )
            if not cur.fetchone()[0]:  # a table of an older version: rewritten once
                cur.execute(f"DROP INDEX IF EXISTS {t}_hnsw")  # rebuilt below, not in the rewrite
                cur.execute(f"ALTER TABLE {t} ADD COLUMN place_keys {place_keys_sql()}")
            for col in ("sector", "level"):
                cur.execute(f"CREATE INDEX IF NOT EXISTS {t}_{col} ON {t} ({col})")
            cur.execute(f"CREATE INDEX IF NOT EXISTS {t}_place ON {t} USING gin (place_keys)")
            cur.execute(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attname = 'embedding'",
                (t,),
            )
            found = str(cur.fetchone()[0])
        if found.split(".")[-1].strip('"') != f"halfvec({self.dimension})":
            raise ArtifactMismatchError(
                f"table {t} holds {found} vectors, expected halfvec({self.dimension})"
            )
        self.create_ann_index()

    def create_ann_index(self, maintenance_work_mem: str | None = None) -> None:
        """The HNSW index (built from the rows present; kept up to date by later writes). The
        build is much faster while the graph fits in `maintenance_work_mem` (default: the
        store's build_memory)."""
        maintenance_work_mem = maintenance_work_mem or self.build_memory
        if not re.fullmatch(r"\d+\s*[kMG]B", maintenance_work_mem):
            raise ValueError(f"maintenance_work_mem like '512MB', got {maintenance_work_mem!r}")
        with self._cursor() as cur:
            cur.execute(f"SET LOCAL maintenance_work_mem = '{maintenance_work_mem}'")
            cur.execute(
                f"CREATE INDEX IF NOT EXISTS {self.table}_hnsw ON {self.table} USING hnsw "
                f'(embedding "{self.schema}".halfvec_ip_ops) '
                f"WITH (m = {int(self.hnsw_m)}, ef_construction = {int(self.ef_construction)})"
            )

    def drop_ann_index(self) -> None:
        """Drop the HNSW index (before a bulk load: building it afterwards is much faster)."""
        with self._cursor() as cur:
            cur.execute(f"DROP INDEX IF EXISTS {self.table}_hnsw")

    def sibling_tables(self, prefix: str) -> list[str]:
        """Tables of the current schema whose names start with `prefix` (other generations;
        not the partitions of a partitioned one)."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
                "AND relkind IN ('r', 'p') AND NOT relispartition AND starts_with(relname, %s)",
                (prefix,),
            )
            return sorted(str(r[0]) for r in cur.fetchall())

    def drop_table(self, table: str) -> None:
        if not _NAME.match(table):
            raise ValueError(f"table name {table!r} must match {_NAME.pattern}")
        with self._cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")

    def drop(self) -> None:
        """Drop the table (and its partitions)."""
        with self._cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {self.table}")
        self._partitions = set()

    # writes ----------------------------------------------------------------------------------
    def upsert(
        self,
        ids: np.ndarray,
        vectors: np.ndarray,
        attrs: Sequence[RowAttributes] | None = None,
    ) -> None:
        """Insert or replace rows. Without `attrs`, new rows get default filter columns and
        existing rows keep theirs (only the vector changes). A partitioned table first gets
        the partitions of new regions."""
        if attrs is not None and len(attrs) != len(ids):
            raise ValueError(f"{len(attrs)} attribute rows for {len(ids)} ids")
        if len(ids) == 0:
            return
        names = ["id", *(n for n, _ in COLUMNS), "embedding"]
        update = ["embedding"] if attrs is None else names[1:]
        sets = ", ".join(f"{n} = EXCLUDED.{n}" for n in update)
        if self.partition_by_region:
            self.ensure_partitions(
                {NO_REGION} if attrs is None else {partition_key(a.level, a.region) for a in attrs}
            )
        with self._cursor() as cur:
            cur.execute(  # the stored columns only (place_keys is generated)
                f"CREATE TEMP TABLE _stage ON COMMIT DROP AS "
                f"SELECT {', '.join(names)} FROM {self.table} WITH NO DATA"
            )
            with cur.copy(f"COPY _stage ({', '.join(names)}) FROM STDIN (FORMAT BINARY)") as cp:
                for chunk in copy_rows(ids, vectors, attrs):
                    cp.write(chunk)
            cols = ", ".join(names)
            if self.partition_by_region:
                pg_partitions.replace_rows(cur, self.table, names, vectors_only=attrs is None)
            else:
                cur.execute(
                    f"INSERT INTO {self.table} ({cols}) SELECT {cols} FROM _stage "
                    f"ON CONFLICT (id) DO UPDATE SET {sets}"
                )
            if len(ids) >= ANALYZE_BATCH:  # the planner's row estimates for counts and scans
                cur.execute(f"ANALYZE {self.table}")

    def ensure_partitions(self, keys: set[str]) -> None:
        """Make the partitions of `keys` (pg_filters.partition_key) the table lacks, in a
        transaction of their own (safe against writers making the same ones)."""
        if keys <= self._partitions:
            return
        with self._cursor() as cur:
            self._partitions = pg_partitions.ensure_partitions(cur, self.table, keys)

    def partitions(self) -> dict[str, str]:
        """{partition key: partition table}; {} for a table that is not partitioned."""
        if not self.partition_by_region:
            return {}
        with self._cursor() as cur:
            return pg_partitions.partitions(cur, self.table)

    def remove(self, ids: np.ndarray) -> None:
        with self._cursor() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE id = ANY(%s)", (ids.tolist(),))

    # reads -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        with self._cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {self.table}")
            return int(cur.fetchone()[0])

    def ids(self) -> np.ndarray:
        with self._cursor() as cur:
            cur.execute(f"SELECT id FROM {self.table} ORDER BY id")
            return np.asarray([r[0] for r in cur.fetchall()], dtype=np.int64)

    def count_upto(self, filters: Filters | None, limit: int | None = None, **kw: Any) -> int:
        """How many rows pass the filters, counting no further than `limit` (enough to decide
        exact against approximate without counting a large set to the end)."""
        cond, params = where_clause(filters, partitioned=self.partition_by_region, **kw)
        inner = f"SELECT 1 FROM {self.table} WHERE {cond}"
        if limit is not None:
            inner += f" LIMIT {int(limit)}"
        with self._cursor() as cur:
            cur.execute(f"SELECT count(*) FROM ({inner}) AS admitted", params)
            return int(cur.fetchone()[0])

    def _query_literal(self, query: np.ndarray) -> str:
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dimension:
            raise ValueError(f"query must have {self.dimension} dimensions, got {q.shape[0]}")
        return "[" + ",".join(repr(float(x)) for x in q.astype(np.float16)) + "]"

    def _run(
        self,
        query: np.ndarray,
        k: int,
        filters: Filters | None,
        exact: bool,
        *,
        explain: bool = False,
        **kw: Any,
    ) -> list[tuple[Any, ...]]:
        cond, params = where_clause(
            filters, opaque=not exact, partitioned=self.partition_by_region, **kw
        )
        params["q"], params["k"] = self._query_literal(query), int(k)
        dist = f"embedding {self._op} %(q)s::{self._type}"
        sql = (
            f"WITH hits AS MATERIALIZED (SELECT id, {dist} AS d FROM {self.table} "
            f"WHERE {cond} ORDER BY {dist} LIMIT %(k)s) SELECT id, -d FROM hits ORDER BY d, id"
        )
        if exact:  # no index may order the rows: every admitted row is compared
            settings = {"enable_indexscan": "off"}
        else:  # the HNSW index orders them; filters are checked on the rows it reaches
            settings = {
                "enable_seqscan": "off",
                "enable_bitmapscan": "off",
                "hnsw.ef_search": str(min(1000, max(int(self.ef_search), int(k)))),
                "hnsw.iterative_scan": self.iterative_scan,
                "hnsw.max_scan_tuples": str(int(self.max_scan_tuples)),
            }
        with self._cursor() as cur:
            calls = ", ".join("set_config(%s, %s, true)" for _ in settings)
            cur.execute(f"SELECT {calls}", [x for n, v in settings.items() for x in (n, v)])
            cur.execute(f"EXPLAIN {sql}" if explain else sql, params)
            return list(cur.fetchall())

    @staticmethod
    def _hits(rows: list[tuple[Any, ...]]) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray([r[0] for r in rows], dtype=np.int64)
        return ids, np.asarray([r[1] for r in rows], dtype=np.float32)

    def exact(
        self, query: np.ndarray, k: int, filters: Filters | None = None, **kw: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k by inner product over every admitted row (the HNSW index is not used)."""
        return self._hits(self._run(query, k, filters, True, **kw))

    def approximate(
        self, query: np.ndarray, k: int, filters: Filters | None = None, **kw: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k through the HNSW index with iterative scans: the filters are checked on every
        row the graph walk reaches, so results never violate them, but fewer than k may come
        back when admitted rows are rare (the caller then falls back to `exact`)."""
        return self._hits(self._run(query, k, filters, False, **kw))

    def explain(self, query: np.ndarray, k: int, filters: Filters | None, exact: bool) -> str:
        """PostgreSQL's plan for a search (tests check which index each path uses)."""
        return "\n".join(r[0] for r in self._run(query, k, filters, exact, explain=True))
