"""API keys and roles: key format, salted hashing, and who may see or edit what."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

KEY_PREFIX = "pm"
_HASH_SCHEME = "sha256"


class Role(StrEnum):
    reader = "reader"  # recommend, read public profiles
    editor = "editor"  # + create and edit the organisations and needs it owns
    analyst = "analyst"  # + see every profile (contacts, unpublished), export feedback
    admin = "admin"  # + edit anything, manage keys


_RANK = {Role.reader: 1, Role.editor: 2, Role.analyst: 3, Role.admin: 4}


@dataclass(frozen=True)
class Principal:
    """Who is calling. `key_id` is None for anonymous callers; it is also the owner tag."""

    key_id: str | None = None
    role: Role | None = None
    name: str = "anonymous"

    @property
    def authenticated(self) -> bool:
        return self.key_id is not None

    def at_least(self, role: Role) -> bool:
        return self.role is not None and _RANK[self.role] >= _RANK[role]

    @property
    def privileged(self) -> bool:
        """Analysts and admins see contacts and unpublished profiles."""
        return self.at_least(Role.analyst)

    def owns(self, owner: str | None) -> bool:
        return self.key_id is not None and owner is not None and owner == self.key_id

    def can_see(self, owner: str | None, published: bool) -> bool:
        return published or self.privileged or self.owns(owner)

    def can_see_private(self, owner: str | None) -> bool:
        return self.privileged or self.owns(owner)

    def can_edit(self, owner: str | None) -> bool:
        return self.at_least(Role.admin) or (self.at_least(Role.editor) and self.owns(owner))


ANONYMOUS = Principal()


_PREFIX = re.compile(r"[0-9a-f]{8}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,128}")


def generate_key() -> tuple[str, str, str]:
    """Return (plaintext key, public prefix, secret). The key is `pm_<prefix>_<secret>`."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    return f"{KEY_PREFIX}_{prefix}_{secret}", prefix, secret


def split_key(key: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None."""
    parts = key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not _PREFIX.fullmatch(parts[1]):
        return None
    if not _SECRET.fullmatch(parts[2]):
        return None
    return parts[1], parts[2]


def hash_secret(secret: str, salt: str | None = None) -> str:
    """`sha256$<salt>$<hex>`. Keys carry 256 random bits, so a salted fast hash is enough."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()
    return f"{_HASH_SCHEME}${salt}${digest}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, salt, _digest = stored.split("$", 2)
    except ValueError:
        return False
    if scheme != _HASH_SCHEME:
        return False
    return hmac.compare_digest(hash_secret(secret, salt), stored)
