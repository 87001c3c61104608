"""Storage: SQLAlchemy models and repository functions. SQLite by default, PostgreSQL by URL."""

from matcher.store.db import Database
from matcher.store.repository import Store

__all__ = ["Database", "Store"]
