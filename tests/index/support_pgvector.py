"""pgvector back ends for tests: a fresh schema on MATCHER_TEST_POSTGRES_URL's server, skipped
with the reason when there is no server or it lacks the pgvector extension."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from matcher.errors import ExtensionMissingError
from matcher.index.pgvector import PgVectorIndex
from tests.support_databases import pg_schema_url

NO_PGVECTOR = (
    "PostgreSQL has no pgvector extension (bash scripts/install-pgvector.sh; .ci/run does)"
)
_missing: list[str] = []  # the first ExtensionMissingError's message, then skip at once


@contextmanager
def pgvector_indexes() -> Iterator[Callable[..., PgVectorIndex]]:
    """A factory of PgVectorIndex on one fresh schema (dropped afterwards)."""
    if _missing:
        pytest.skip(f"{NO_PGVECTOR}: {_missing[0]}")
    made: list[PgVectorIndex] = []
    with pg_schema_url("pgv") as url:

        def make(dimension: int, **params: Any) -> PgVectorIndex:
            try:
                index = PgVectorIndex(dimension, url=url, **params)
            except ExtensionMissingError as exc:
                _missing.append(str(exc))
                pytest.skip(f"{NO_PGVECTOR}: {exc}")
            made.append(index)
            return index

        try:
            yield make
        finally:
            for index in made:
                index.close()
