"""The domain exception tree. Only `api/` turns these into HTTP status codes."""

from __future__ import annotations


class MatcherError(Exception):
    """Base of every error the engine raises on purpose."""


class ValidationError(MatcherError):
    """Input does not satisfy the domain rules. `field` names the offending field."""

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None):
        self.field = field
        self.row = row
        where = []
        if row is not None:
            where.append(f"row {row}")
        if field:
            where.append(f"field '{field}'")
        prefix = f"{', '.join(where)}: " if where else ""
        super().__init__(f"{prefix}{message}")
        self.message = message


class LimitExceededError(ValidationError):
    """Input crosses a budget (decompressed size, rows, columns, nesting). `limit` names it;
    `too_large` says it is about size (HTTP 413) rather than shape (422)."""

    def __init__(self, message: str, *, limit: str, too_large: bool = True, row: int | None = None):
        super().__init__(f"{message} (limit {limit})", row=row)
        self.limit = limit
        self.too_large = too_large


class BlockedHostError(ValidationError):
    """A webhook URL names, or resolves to, an internal address (loopback, private,
    link-local, ...) the service must not send to (matcher.notify.hosts)."""


class NotFoundError(MatcherError):
    """A referenced organisation, need or artifact does not exist."""


class ConflictError(MatcherError):
    """A write conflicts with the stored state (stale version, duplicate id)."""


class AlreadyListedError(ConflictError):
    """A group added again: an organisation of that name is listed in that place already
    (`organisation_id`), which its people claim rather than add."""

    def __init__(self, message: str, *, organisation_id: str):
        super().__init__(message)
        self.organisation_id = organisation_id


class StaleVersionError(ConflictError):
    """The record changed since the version the caller read (an If-Match that no longer
    matches)."""


class IndexNotReadyError(MatcherError):
    """The indexes have not been built, or are being rebuilt."""


class ArtifactMismatchError(MatcherError):
    """A saved index or model does not match what the running engine expects."""


class StorageError(MatcherError):
    """The database or the data directory could not be read or written."""


class DiskFullError(StorageError):
    """A write failed for want of space: the disk (or the database's storage) is full. What
    was committed before it is kept. `done` and `total` count what a long writer had finished
    and had to do (texts embedded and kept of those to embed), when it knows."""

    def __init__(self, message: str, *, done: int | None = None, total: int | None = None):
        super().__init__(message)
        self.done = done
        self.total = total


class OverloadedError(MatcherError):
    """More work is queued or in flight than the process accepts: shed it, retry shortly."""


class ModelLoadError(MatcherError):
    """The embedding model could not be loaded from its local package path."""


class PlaceError(ValidationError):
    """A place name could not be resolved to one place; `place` is the text as given and
    `candidates` the labels of the places it could mean (empty when none)."""

    def __init__(
        self,
        message: str,
        *,
        place: str,
        candidates: list[str] | None = None,
        field: str | None = "place",
    ):
        super().__init__(message, field=field)
        self.place = place
        self.candidates = list(candidates or [])


class UnknownPlaceError(PlaceError):
    """No place of that name is known (offline gazetteer)."""


class AmbiguousPlaceError(PlaceError):
    """Several places have that name; `candidates` lists them, the likeliest first."""


class DeliveryError(MatcherError):
    """A notifier could not deliver a message (server down, refused, bad response). The outbox
    keeps the message queued and retries it. `transport` is True when the backend itself is
    unreachable, so a dispatcher stops its run instead of failing every message in turn.
    `permanent` is True when retrying cannot help (a mailbox that does not exist, a webhook
    that rejects the payload): the message is set aside as dead at once."""

    def __init__(self, message: str, *, transport: bool = False, permanent: bool = False):
        super().__init__(message)
        self.transport = transport
        self.permanent = permanent


class AuthenticationError(MatcherError):
    """Credentials are missing or wrong (a wrong e-mail or password, no signed-in person)."""


class PermissionDeniedError(MatcherError):
    """The caller is known but may not do this (another person's claim, not a member)."""


class ThrottledError(MatcherError):
    """Too many failed attempts; `retry_after` says in how many seconds to try again."""

    def __init__(self, message: str, *, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class QuotaExceededError(ThrottledError):
    """A per-organisation budget is spent (e.g. introduction requests per day); `retry_after`
    says in how many seconds the oldest counted use leaves the window."""


class ExtensionMissingError(StorageError):
    """The PostgreSQL server lacks an extension a back end needs (pgvector's `vector`)."""

    def __init__(self, message: str, *, extension: str):
        super().__init__(message)
        self.extension = extension


class RegistrySyncError(ConflictError):
    """The model registry shared through the database and this machine's copy disagree (a
    version whose files differ, an archive that does not match its digest): a conflict with
    the stored state (409 through the API), never a bad request."""


VALUE_ERROR_PREFIX = "Value error, "


def plain_message(msg: str) -> str:
    """A validation message as people read it: pydantic's "Value error, " prefix (a check's
    own ValueError) left out ("Value error, radius_km needs a point ..." in a 422)."""
    return msg[len(VALUE_ERROR_PREFIX) :] if msg.startswith(VALUE_ERROR_PREFIX) else msg


def field_of_model_check(msg: str) -> str | None:
    """The field a whole-model check's message is about, when it names one first ("radius_km
    needs a point ...": radius_km; "lat and lon ...": lat); such errors have no location."""
    text = plain_message(msg)
    for field in ("radius_km", "lat", "lon", "place", "city", "region", "country"):
        if text.startswith(field + " ") or text.startswith(field + ":"):
            return field
    return None
