"""Places that work offline: resolve place names, normalise regions and countries, suggest
names, find place words in a text. Geocoding organisations on write: `matcher.places.locate`."""

from matcher.places.resolve import (
    KINDS,
    Place,
    normalise_country,
    normalise_region,
    place_of,
    region_key,
    region_keys,
    resolve,
    state_code,
    state_name,
)
from matcher.places.suggest import Suggestion, suggest
from matcher.places.words import PlaceSpan, place_words, topic_text

__all__ = [
    "KINDS",
    "Place",
    "PlaceSpan",
    "Suggestion",
    "normalise_country",
    "normalise_region",
    "place_of",
    "place_words",
    "region_key",
    "region_keys",
    "resolve",
    "state_code",
    "state_name",
    "suggest",
    "topic_text",
]
