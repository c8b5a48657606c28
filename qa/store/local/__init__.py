"""The local store: a folder of generations, each FAISS + bm25s + SQLite (files.py describes the layout)."""

from qa.store.local.files import *  # noqa: F403 - filled in by the split below
