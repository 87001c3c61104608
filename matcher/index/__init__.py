"""Vector indexes (faiss backends behind one protocol) and the lexical index."""

from matcher.index.base import VectorIndex

__all__ = ["VectorIndex"]
