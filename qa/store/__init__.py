"""Where passages and their vectors live: the local FAISS + BM25 store, and building it."""
