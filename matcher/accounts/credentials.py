"""E-mail normalisation and argon2 password hashing (argon2-cffi's PasswordHasher)."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from matcher.errors import ValidationError

EMAIL_MAX = 254
# ASCII addresses only (no quoted local parts, no IDN): what the sign-up schema also says.
EMAIL_PATTERN = r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$"
_EMAIL = re.compile(EMAIL_PATTERN)
PASSWORD_MIN = 10
PASSWORD_MAX = 1024

_hasher = PasswordHasher()  # RFC 9106 low-memory profile defaults (t=3, m=64 MiB, p=4)


def normalise_email(value: str) -> str:
    """Trimmed and lower-cased; raises ValidationError naming the field when malformed."""
    email = unicodedata.normalize("NFKC", value).strip().lower()
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        raise ValidationError("is not an e-mail address like name@example.org", field="email")
    return email


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1]


def check_password(password: str, *, field: str = "password") -> None:
    if len(password) < PASSWORD_MIN:
        raise ValidationError(f"must be at least {PASSWORD_MIN} characters", field=field)
    if len(password) > PASSWORD_MAX:
        raise ValidationError(f"must be at most {PASSWORD_MAX} characters", field=field)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, stored: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


# A hash of a random password: verified against when the e-mail is unknown, so a log-in takes
# as long for an unknown e-mail as for a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def burn_time(password: str) -> None:
    verify_password(password, _DUMMY_HASH)


def new_token() -> str:
    """256 random bits, URL-safe; only its SHA-256 is stored."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
