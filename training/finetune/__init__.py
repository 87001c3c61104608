"""`matcher train embed`: fine-tune the embedding model on in-domain pairs (issue 13, item 1)."""
