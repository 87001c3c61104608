"""Region partitioning of the pgvector table (PgVectorStore(partition_by_region=True)).

The table is LIST-partitioned on a stored column `part` (pg_filters.partition_key): one
partition a region ('r:or'), one for national and international bodies ('*', which every region
filter may admit) and one for bodies with no region ('-', which none does). A region-filtered
search names its partitions in the WHERE clause (pg_filters.where_clause(partitioned=True)), so
PostgreSQL reads the region's partition and the wide one only; every partition has its own HNSW,
GIN and B-tree indexes (created on the parent, so partitions made later get them too).

Partitions are made on demand, before a write that brings a new one, in a short transaction of
their own: under a transaction-level advisory lock of the table (two writers bringing the same
new region wait for each other, and the second finds it made), as a plain table then attached
(ATTACH PARTITION takes a lock that lets searches run, CREATE TABLE ... PARTITION OF would
block them). The table has no primary key (PostgreSQL's unique keys of a partitioned table must
hold `part`): an id is kept unique by the writers, which replace rows (delete, then insert)
under a second advisory lock of the table, and looked up through a plain index on id.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from matcher.index.pg_filters import NO_REGION, PARTITION_SQL, WIDE

PARTITION_LOCK = 1  # pg_advisory_xact_lock(table key, PARTITION_LOCK): making partitions
WRITE_LOCK = 2  # pg_advisory_xact_lock(table key, WRITE_LOCK): replacing rows


def partition_name(table: str, key: str) -> str:
    """A partition's table name: the table's, a readable slug of the key and a digest (keys
    that differ only in characters the slug drops get different names); at most 63 bytes."""
    slug = {WIDE: "wide", NO_REGION: "none"}.get(key) or re.sub(r"[^a-z0-9]+", "", key)[:10]
    digest = hashlib.sha1(key.encode()).hexdigest()[:8]
    return f"{table[:40]}_p_{slug}_{digest}"


def lock(cur: Any, table: str, which: int) -> None:
    """A transaction-level advisory lock on (this schema's table, which)."""
    cur.execute(
        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.' || %s), %s)",
        (table, which),
    )


def create_table(cur: Any, table: str, columns: str, vector_type: str) -> None:
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {table} (id bigint NOT NULL, {columns}, "
        f"part text NOT NULL, embedding {vector_type} NOT NULL) PARTITION BY LIST (part)"
    )
    # not unique (a partitioned table's unique keys must hold `part`, and an index on
    # (id, part) would let the planner read `part` through it instead of the HNSW index)
    cur.execute(f"CREATE INDEX IF NOT EXISTS {table}_id ON {table} (id)")


def partitions(cur: Any, table: str) -> dict[str, str]:
    """{partition key: partition table} of a partitioned table."""
    cur.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        (table,),
    )
    found: dict[str, str] = {}
    for name, bound in cur.fetchall():
        for key in re.findall(r"'((?:[^']|'')*)'", str(bound)):  # FOR VALUES IN ('r:or')
            found[key.replace("''", "'")] = str(name)
    return found


def ensure_partitions(cur: Any, table: str, keys: set[str]) -> set[str]:
    """Make the partitions of `keys` the table lacks (commit right after: it holds the lock);
    returns every key the table has a partition for."""
    from psycopg import sql

    lock(cur, table, PARTITION_LOCK)
    have = partitions(cur, table)
    for key in sorted(keys - have.keys()):
        name = partition_name(table, key)
        cur.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING GENERATED)")
        cur.execute(
            sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES IN ({})").format(
                sql.Identifier(table), sql.Identifier(name), sql.Literal(key)
            )
        )
        have[key] = name
    return set(have)


def replace_rows(cur: Any, table: str, names: list[str], vectors_only: bool) -> None:
    """Move the staged rows (temp table _stage) into the partitioned table: every staged row
    replaces the row of its id; with `vectors_only`, a row present keeps its filter columns
    (and partition) and takes the staged vector, a new one is inserted as staged."""
    cols = ", ".join(names)
    lock(cur, table, WRITE_LOCK)
    if vectors_only:
        cur.execute(f"UPDATE {table} t SET embedding = s.embedding FROM _stage s WHERE t.id = s.id")
        absent = f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = s.id)"
    else:
        cur.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM _stage)")
        absent = ""
    cur.execute(
        f"INSERT INTO {table} ({cols}, part) SELECT {cols}, {PARTITION_SQL} FROM _stage s {absent}"
    )
