"""Whether a generation may be served: its format and embedder (check_compatible), its files as
written (verify_files: sizes at every load, checksums for `qa index --check` and reused vectors)."""

from __future__ import annotations

from pathlib import Path

from qa.store.local.durable import sha256_file
from qa.store.local.files import READABLE_FORMATS, IndexStoreError, Manifest


def check_compatible(manifest: Manifest, index_dir: Path, embedder: str | None) -> None:
    rebuild = f"Rebuild it with: qa index --rebuild --articles DIR --index {index_dir}"
    if manifest.format_version not in READABLE_FORMATS:
        raise IndexStoreError(
            f"The index in {index_dir} has format version {manifest.format_version}; "
            f"this version of qa reads formats {' and '.join(map(str, READABLE_FORMATS))}. {rebuild}"
        )
    if embedder is not None and manifest.embedder != embedder:
        raise IndexStoreError(
            f"The index in {index_dir} was built with the embedding model {manifest.embedder!r}, "
            f"not {embedder!r}; its vectors cannot be searched with another model. "
            f"Use --embedder {manifest.embedder} or {rebuild[0].lower()}{rebuild[1:]}"
        )


def verify_files(generation: Path, manifest: Manifest, index_dir: Path, *, checksums: bool = False) -> None:
    """Refuse a generation whose files are missing or not as written: by size (every load; a cut
    short or emptied file), or by sha256 (`checksums`, or an index with no sizes recorded)."""
    by_checksum = checksums or not manifest.sizes
    for relative, expected in manifest.files.items():
        path = generation / relative
        try:  # missing, or removed while we read it (a concurrent build's clean-up): OSError
            ok = (
                sha256_file(path) == expected
                if by_checksum
                else path.stat().st_size == manifest.sizes.get(relative)
            )
        except OSError:
            ok = False
        if not ok:
            raise IndexStoreError(
                f"The index in {index_dir} is damaged: {relative} is missing or not as it was written "
                f"(its {'checksum' if by_checksum else 'size'} differs). Rebuild it with: qa index --rebuild "
                f"--index {index_dir}"
            )
