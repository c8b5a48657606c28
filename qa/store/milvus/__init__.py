"""The index in a Milvus server: one collection per build, switched atomically by an alias
(docs/scale-out.md)."""
