"""Settings read from the environment: an empty variable means "not set", a bad one is named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.config import ApiSettings
from matcher.settings import ScoreWeights, Settings


def test_an_empty_variable_leaves_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # `MATCHER_RELEVANCE_FLOOR=` (as compose files and `${VAR:-}` write it) was refused with
    # "unable to parse string as a number"; it now means the setting is not given
    monkeypatch.setenv("MATCHER_RELEVANCE_FLOOR", "")
    monkeypatch.setenv("MATCHER_CAUSE_WEIGHT", "")
    monkeypatch.setenv("MATCHER_DATABASE_URL", "")
    settings = Settings()
    assert settings.relevance_floor is None
    assert settings.cause_weight == Settings.model_fields["cause_weight"].default
    assert settings.database_url is None


def test_empty_variables_of_the_service_and_the_weights_leave_their_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MATCHER_API_KEY_BURST", "")
    monkeypatch.setenv("MATCHER_WEIGHT_FIT", "")
    assert ApiSettings().key_burst == ApiSettings.model_fields["key_burst"].default
    assert ScoreWeights().fit == ScoreWeights.model_fields["fit"].default


def test_a_value_that_is_not_a_number_is_still_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MATCHER_RELEVANCE_FLOOR", "high")
    with pytest.raises(ValidationError, match="relevance_floor"):
        Settings()


def test_a_set_value_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHER_RELEVANCE_FLOOR", "0.25")
    assert Settings().relevance_floor == 0.25
