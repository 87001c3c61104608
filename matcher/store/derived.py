"""Columns the store derives from others at every write, and fills where a data directory made
before they existed left them empty."""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update

from matcher.names import initials
from matcher.store.models import OrganisationRow

logger = logging.getLogger(__name__)

# initials kept: enough to tell a name whose initials are the letters typed (at most
# `names.ACRONYM_LETTERS`' six) from one whose initials only start with them
INITIALS_KEPT = 16
_FILL_CHUNK = 2000


def name_initials(name: str) -> str:
    """What `OrganisationRow.name_initials` holds for `name` ("" when it has no initials)."""
    return initials(name)[:INITIALS_KEPT]


def fill_name_initials(conn: Any) -> int:
    """Fill `name_initials` of the rows that have none (written before the column existed), on
    `conn`, in the caller's transaction; the number of rows filled."""
    table = cast(Table, OrganisationRow.__table__)
    empty = select(table.c.pk, table.c.name).where(table.c.name_initials.is_(None))
    rows = conn.execute(empty).all()
    fill = (
        update(table)
        .where(table.c.pk == bindparam("key"))
        .values(name_initials=bindparam("letters"))
        .execution_options(synchronize_session=False)
    )
    for start in range(0, len(rows), _FILL_CHUNK):
        chunk = rows[start : start + _FILL_CHUNK]
        conn.execute(fill, [{"key": pk, "letters": name_initials(n)} for pk, n in chunk])
    if rows:
        logger.info("filled the initials of %d organisation names", len(rows))
    return len(rows)
