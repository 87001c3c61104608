"""API key repository over the `api_keys` table, plus a small CLI.

    python -m api.keys create --role editor --name "food bank"   # prints the key once
    python -m api.keys list
    python -m api.keys revoke KEY_ID

The data directory and database come from the usual MATCHER_* settings (or --data-dir).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from api.security import Principal, Role, generate_key, split_key, verify_secret
from api.security import hash_secret as _hash
from matcher.domain import new_id, utcnow
from matcher.errors import NotFoundError
from matcher.settings import Settings
from matcher.store import changes
from matcher.store.db import Database
from matcher.store.models import ApiKeyRow

ADMIN_KEY_FILE = "admin-key.txt"
ADMIN_KEY_LOCK = ".admin-key.lock"


@dataclass(frozen=True)
class KeyInfo:
    id: str
    name: str
    prefix: str
    role: Role
    created_at: datetime
    revoked: bool


def _info(row: ApiKeyRow) -> KeyInfo:
    created = row.created_at
    if created.tzinfo is None:  # SQLite drops the zone; the value was written in UTC
        created = created.replace(tzinfo=UTC)
    return KeyInfo(row.id, row.name, row.prefix, Role(row.role), created, row.revoked)


class KeyRing:
    """Creates, verifies (with a short in-process cache) and revokes API keys."""

    def __init__(self, db: Database, *, cache_seconds: float = 30.0):
        self.db = db
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def create(self, name: str, role: Role | str) -> tuple[str, KeyInfo]:
        """Store a new key (hashed) and return the plaintext, which is never stored."""
        role = Role(role)
        key, prefix, secret = generate_key()
        row = ApiKeyRow(
            id=new_id("key"),
            name=name[:200] or role.value,
            prefix=prefix,
            key_hash=_hash(secret),
            role=role.value,
            created_at=utcnow(),
            revoked=False,
        )
        with self.db.session() as s:
            s.add(row)
            s.flush()
            changes.record(s, changes.KEY, row.id)
            return key, _info(row)

    def cached(self, key: str) -> Principal | None:
        """The principal of a recently verified key, without touching the database."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def authenticate(self, key: str) -> Principal | None:
        parts = split_key(key)
        if parts is None:
            return None
        hit = self.cached(key)
        if hit is not None:
            return hit
        digest = hashlib.sha256(key.encode()).hexdigest()
        now = time.monotonic()
        prefix, secret = parts
        principal: Principal | None = None
        with self.db.session() as s:
            rows = s.scalars(
                select(ApiKeyRow).where(ApiKeyRow.prefix == prefix, ApiKeyRow.revoked.is_(False))
            ).all()
            for row in rows:
                if verify_secret(secret, row.key_hash):
                    principal = Principal(key_id=row.id, role=Role(row.role), name=row.name)
                    break
        if principal is not None and self.cache_seconds > 0:
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[digest] = (principal, now + self.cache_seconds)
        return principal

    def list(self) -> list[KeyInfo]:
        with self.db.session() as s:
            return [_info(r) for r in s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))]

    def revoke(self, key_id: str) -> KeyInfo:
        with self.db.session() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFoundError(f"api key '{key_id}' not found")
            row.revoked = True
            changes.record(s, changes.KEY, key_id, op=changes.DELETE)
            info = _info(row)
        self.forget()
        return info

    def forget(self) -> None:
        """Drop every cached verification (a key was revoked, here or in another process)."""
        with self._lock:
            self._cache.clear()

    def has_admin(self) -> bool:
        with self.db.session() as s:
            q = select(ApiKeyRow.id).where(
                ApiKeyRow.role == Role.admin.value, ApiKeyRow.revoked.is_(False)
            )
            return s.scalar(q.limit(1)) is not None


def ensure_admin_key(keys: KeyRing, data_dir: Path) -> str | None:
    """If no admin key exists, create one, write it to DATA_DIR/admin-key.txt (0600), return it.

    Processes starting together on one data dir (`uvicorn --workers N`) look and create one at
    a time, under an flock of DATA_DIR/.admin-key.lock: without it each found no admin and made
    one. (Machines with data dirs of their own on one PostgreSQL database are not serialised
    by it: start the first one alone.)"""
    if keys.has_admin():
        return None
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ADMIN_KEY_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if keys.has_admin():  # another process made it while this one waited
            return None
        key, _info_ = keys.create("first admin", Role.admin)
        path = data_dir / ADMIN_KEY_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
        os.chmod(path, 0o600)
        return key


def create_api_key(settings: Settings, name: str, role: Role | str) -> str:
    """Create a key in the configured database and return its plaintext (CLI/script use)."""
    db = Database(settings.sqlalchemy_url)
    try:
        db.create_all()
        key, _ = KeyRing(db).create(name, role)
        return key
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.keys", description="Manage API keys")
    parser.add_argument("--data-dir", type=Path, default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a key and print it once")
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.reader.value)
    create.add_argument("--name", default="")
    sub.add_parser("list", help="list keys (never the secrets)")
    revoke = sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)
    settings = Settings(data_dir=args.data_dir) if args.data_dir else Settings()
    if args.command == "create":
        print(create_api_key(settings, args.name or args.role, args.role))
        return 0
    db = Database(settings.sqlalchemy_url)
    try:
        db.create_all()
        ring = KeyRing(db)
        if args.command == "list":
            for k in ring.list():
                state = "revoked" if k.revoked else "active"
                print(f"{k.id}\t{k.role.value}\t{state}\tpm_{k.prefix}_…\t{k.name}")
        else:
            try:
                ring.revoke(args.key_id)
            except NotFoundError as exc:
                print(exc, file=sys.stderr)
                return 1
            print(f"revoked {args.key_id}")
        return 0
    finally:
        db.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
