"""Where passages and their vectors live. The core, which every backend imports: the Store protocol
(protocol.py), how a store is named (location.py, address.py), what a build reports (report.py), the
build lock (lock.py), BM25 tokens (tokens.py) and the crash tests' hook (pause.py). The backends sit
beside it and never import each other: local/ (a folder of FAISS + bm25s generations) and milvus/."""
