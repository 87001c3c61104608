"""Organisation names for the pages that hold only ids (partnership records, claims): a page
shows an organisation by its name, never by an id such as "ein-363540471"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from matcher.names import readable_name


def organisation_names(db: Any, ids: Iterable[str]) -> dict[str, str]:
    """id -> name, as pages show it (`readable_name`), of the stored organisations among `ids`
    (an unknown id is left out: the page shows the id it has)."""
    from sqlalchemy import select

    from matcher.store.models import OrganisationRow

    wanted = sorted(set(ids))
    if not wanted:
        return {}
    with db.session() as s:
        q = select(OrganisationRow.id, OrganisationRow.name).where(OrganisationRow.id.in_(wanted))
        return {i: readable_name(n) for i, n in s.execute(q)}
