"""A generation's float16 vectors: memory-mapped for builds, read by row with pread for questions."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.store.local.files import VECTORS_FILE, IndexStoreError
from qa.store.local.npy import HEADER_LOCK, load_npy


def read_vectors(generation: Path, *, mmap: bool = True) -> np.ndarray:
    """float16 (n, dim), memory-mapped unless `mmap` is False."""
    return load_npy(generation / VECTORS_FILE, mmap_mode="r" if mmap else None)


class VectorRows:
    """Rows of a .npy matrix read with pread, a few at a time, nothing mapped.

    A question rescores ~160 scattered rows of 512 bytes. Read through a memory map, each fault
    mapped the whole cached folio around its row (MADV_RANDOM did not change it): a chat server's
    RSS grew by 0.34 GiB in 20 questions at 1M passages for 1.6 MB of rows. pread copies the row
    and leaves the page cache to the kernel, at ~2 microseconds a row.
    """

    def __init__(self, path: Path):
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            with HEADER_LOCK:  # see qa/store/local/npy.py
                shape, fortran_order, dtype = read_header(handle)
            self._offset = handle.tell()
        if fortran_order or len(shape) != 2:
            raise ValueError(f"{path} is not a C-ordered matrix")
        self.shape, self.dtype = shape, np.dtype(dtype)
        self._row_bytes = shape[1] * self.dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: slice | Sequence[int] | np.ndarray) -> np.ndarray:
        """A slice of rows in one read (as stored), or rows by number (float32): what a FAISS build reads."""
        if not isinstance(key, slice):
            return self.rows(np.asarray(key).reshape(-1).tolist())
        start, stop, step = key.indices(self.shape[0])
        if step != 1:
            return self.rows(range(start, stop, step))
        count = max(0, stop - start)
        raw = os.pread(self._fd, count * self._row_bytes, self._offset + start * self._row_bytes)
        if len(raw) != count * self._row_bytes:
            raise IndexStoreError(
                f"vectors.npy ends before row {stop}: the index is damaged; rebuild it with qa index "
                "--rebuild"
            )
        return np.frombuffer(raw, dtype=self.dtype).reshape(count, self.shape[1])

    def rows(self, rows: Sequence[int]) -> np.ndarray:
        """The rows asked for, in order, as float32 (rows are checked by the caller)."""
        out = np.empty((len(rows), self.shape[1]), dtype=np.float32)
        for i, row in enumerate(rows):
            raw = os.pread(self._fd, self._row_bytes, self._offset + int(row) * self._row_bytes)
            if len(raw) != self._row_bytes:
                raise IndexStoreError(
                    f"vectors.npy ends before row {row}: the index is damaged; rebuild it with qa index "
                    "--rebuild"
                )
            out[i] = np.frombuffer(raw, dtype=self.dtype)
        return out

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()
