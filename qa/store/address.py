"""milvus://HOST:PORT/NAME: a Milvus store's address, checked (qa/store/location.py names every store)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from qa import config

MILVUS_SCHEMES = ("milvus", "milvuss")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")  # Milvus's rule for collection and alias names


@dataclass(frozen=True)
class MilvusAddress:
    """milvus://HOST:PORT/NAME, checked; the store itself is qa/store/milvus/ (issue 14)."""

    host: str
    port: int
    name: str
    tls: bool = False

    def __str__(self) -> str:
        return f"{'milvuss' if self.tls else 'milvus'}://{self.host}:{self.port}/{self.name}"

    @property
    def uri(self) -> str:
        """What pymilvus's MilvusClient takes."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def state_dir(self) -> Path:
        host = re.sub(r"[^A-Za-z0-9.-]", "_", self.host)
        return config.user_data_dir() / "milvus" / f"{host}-{self.port}-{self.name}"


def parse_milvus_address(text: str) -> MilvusAddress:
    """MilvusAddress from milvus://HOST:PORT/NAME; ValueError saying what is wrong otherwise."""
    parts = urlsplit(text)
    example = "milvus://127.0.0.1:19530/news"
    if parts.scheme not in MILVUS_SCHEMES:
        raise ValueError(f"not a Milvus address: {text!r} (expected e.g. {example})")
    if parts.username or parts.password:
        raise ValueError(
            "put Milvus credentials in the environment ($MILVUS_TOKEN, or $MILVUS_USER and "
            "$MILVUS_PASSWORD), "
            "not in the store address: command lines end up in shell history and process lists"
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise ValueError(f"a Milvus store needs a host and a port: {text!r} (expected e.g. {example})")
    name = parts.path.strip("/")
    if not _NAME.match(name) or parts.query or parts.fragment:
        raise ValueError(
            "a Milvus store needs a collection name after the port, letters, digits and _ only, not "
            f"starting with a digit: {text!r} (expected e.g. {example})"
        )
    return MilvusAddress(parts.hostname, port, name, tls=parts.scheme == "milvuss")
