"""People's sessions: a signed cookie (Starlette's SessionMiddleware, itsdangerous) holding a
random session token (its hash is in `person_sessions`) and a CSRF token.

CSRF: every state-changing form carries `csrf_token`, and cookie-authenticated API calls send
it as `X-CSRF-Token`. A form POST that arrives with a session must carry that session's token;
the forms that start a session (sign up, log in, password reset) always need one, so no other
site can sign a browser into an account. A POST without any session cookie acts as anonymous
and carries no one's authority. The cookie is HttpOnly, SameSite=Lax, and Secure when
MATCHER_API_SESSION_COOKIE_SECURE is set.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api.config import ApiSettings
from matcher.atomic import fsync_directory

SECRET_FILE = "session-secret.txt"
COOKIE_NAME = "pm_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def session_secret(api_settings: ApiSettings, data_dir: Path) -> str:
    """The configured secret, else the one kept in the data dir (made on first start)."""
    if api_settings.session_secret is not None:
        value = api_settings.session_secret.get_secret_value()
        if len(value) < 32:
            raise ValueError("MATCHER_API_SESSION_SECRET must be at least 32 characters")
        return value
    path = data_dir / SECRET_FILE
    if path.exists():
        return _kept_secret(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # written whole under a name of its own, then linked into place: a process that finds the
    # file reads a whole secret. (Created empty and then written, another process starting at
    # the same moment read "" and signed its cookies with no key.)
    tmp = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(value + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:  # another process made it first
            return _kept_secret(path)
        fsync_directory(data_dir)
    finally:
        tmp.unlink(missing_ok=True)
    return value


def _kept_secret(path: Path) -> str:
    value = path.read_text(encoding="utf-8").strip()
    if len(value) < 32:  # never sign with a short or empty key
        raise ValueError(
            f"{path}: the kept session secret is {len(value)} characters, under 32; delete the "
            "file to make a new one (signed-in sessions end) or set MATCHER_API_SESSION_SECRET"
        )
    return value


class LazySessionMiddleware:
    """SessionMiddleware whose secret is read (or made) on the first request, not at import."""

    def __init__(self, app: ASGIApp, *, secret: Callable[[], str], options: dict[str, Any]):
        self.app = app
        self.secret = secret
        self.options = options
        self._inner: SessionMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._inner is None:
            self._inner = SessionMiddleware(self.app, secret_key=self.secret(), **self.options)
        await self._inner(scope, receive, send)


def session_options(api_settings: ApiSettings) -> dict[str, Any]:
    return {
        "session_cookie": COOKIE_NAME,
        "max_age": int(api_settings.session_days * 86400),
        "same_site": "lax",
        "https_only": api_settings.session_cookie_secure,
    }


def has_session(request: Request) -> bool:
    return bool(request.session)


def csrf_token(request: Request, *, create: bool = True) -> str | None:
    """This session's CSRF token; `create` starts a session (sets the cookie) when none."""
    token = request.session.get("csrf")
    if not token and create:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token if isinstance(token, str) else None


def csrf_ok(request: Request, given: str | None) -> bool:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def sign_in(request: Request, session_token: str, email: str) -> str:
    """A new session (fresh CSRF token: nothing from before the sign-in is kept)."""
    request.session.clear()
    request.session["sid"] = session_token
    request.session["email"] = email
    return csrf_token(request) or ""


def session_token(request: Request) -> str | None:
    sid = request.session.get("sid")
    return sid if isinstance(sid, str) and sid else None
