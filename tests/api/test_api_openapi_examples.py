"""The OpenAPI document's examples show recommendation ids as the service makes them now
(api/recids.py: rec_ + 12 hex digits of Unix milliseconds + 20 random hex digits)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI

from api.recids import ID_LENGTH, issued_at, new_recommendation_id

REC = re.compile(r"rec_[0-9A-Za-z]*")


def _examples(node: Any, inside: bool = False) -> Iterator[str]:
    """Every string within an `example` or `examples` of the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _examples(value, inside or key in ("example", "examples"))
    elif isinstance(node, list):
        for value in node:
            yield from _examples(value, inside)
    elif isinstance(node, str) and inside:
        yield node


def test_every_example_recommendation_id_is_in_the_current_format(app: FastAPI) -> None:
    doc = app.openapi()
    ids = [m.group(0) for s in _examples(doc) for m in REC.finditer(s)]
    assert len(ids) >= 5, ids  # the recommendation, feedback, saved-need, introduction examples
    wrong = sorted({i for i in ids if issued_at(i) is None or len(i) != ID_LENGTH})
    assert wrong == [], f"examples with an old-style recommendation id: {wrong}"
    assert issued_at(new_recommendation_id()) is not None  # the parser reads what is made
