"""One rule for which marks teach the ranking, read by training and by the page."""

from __future__ import annotations

import pytest

from matcher.feedback_standing import ANONYMOUS, COUNTED, UNCONFIRMED, standing


@pytest.mark.parametrize(
    ("key", "person", "confirmed", "want"),
    [
        ("key_1", None, None, COUNTED),
        (None, "person_1", True, COUNTED),
        (None, "person_1", False, UNCONFIRMED),
        (None, None, None, ANONYMOUS),
        # a key vouches for the mark whoever is signed in (the page used to say "once your
        # e-mail is confirmed" here while training counted it)
        ("key_1", "person_1", False, COUNTED),
    ],
)
def test_standing(key: str | None, person: str | None, confirmed: bool | None, want: str) -> None:
    assert standing(key, person, confirmed) == want
