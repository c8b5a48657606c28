"""One connection to a Milvus server: credentials from the environment, TLS for milvuss://, every
call bounded by a timeout and every failure turned into a MilvusStoreError that names the address."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from qa import config
from qa.store.address import MilvusAddress
from qa.store.protocol import StoreError

logger = logging.getLogger(__name__)

INSTALL = 'pip install "newsqa[milvus]"  (or: pip install "pymilvus[milvus-lite]")'


class MilvusStoreError(StoreError):
    """Anything wrong with a Milvus store: unreachable, refused, missing or damaged; the message names the
    address."""


class IncompatibleStoreError(MilvusStoreError):
    """A generation this build cannot reuse or this query cannot read: another model, format or writer."""


def credentials(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """MilvusClient's keyword arguments for the credentials in the environment: $MILVUS_TOKEN (an
    API key, or "user:password"), else $MILVUS_USER and $MILVUS_PASSWORD; none for an open server."""
    token = environ.get("MILVUS_TOKEN", "")
    if token:
        return {"token": token}
    user, password = environ.get("MILVUS_USER", ""), environ.get("MILVUS_PASSWORD", "")
    if bool(user) != bool(password):
        raise MilvusStoreError("set both $MILVUS_USER and $MILVUS_PASSWORD (or $MILVUS_TOKEN), not only one")
    return {"user": user, "password": password} if user else {}


def tls_options(address: MilvusAddress, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """For milvuss://: $MILVUS_SERVER_PEM, the server's certificate (or its CA's) when it is not
    signed by a CA the system trusts, and $MILVUS_SERVER_NAME when it names another host."""
    if not address.tls:
        return {}
    options = {}
    if environ.get("MILVUS_SERVER_PEM"):
        options["server_pem_path"] = environ["MILVUS_SERVER_PEM"]
    if environ.get("MILVUS_SERVER_NAME"):
        options["server_name"] = environ["MILVUS_SERVER_NAME"]
    return options


class Connection:
    """The calls the store makes, each with config.MILVUS_TIMEOUT_S and errors made one-line.

    Example:
        >>> connection = connect(parse_milvus_address("milvus://127.0.0.1:19530/news"))  # doctest: +SKIP
        >>> connection.alias_target("news")  # doctest: +SKIP
        'news__gen_000003'
    """

    def __init__(self, address: MilvusAddress, client: Any):
        self.address = address
        self.client = client

    def call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """client.<method>(*args, **kwargs) with the timeout; MilvusStoreError saying `what` failed."""
        kwargs.setdefault("timeout", config.MILVUS_TIMEOUT_S)
        return self.guard(what, getattr(self.client, method), *args, **kwargs)

    def guard(self, what: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        """function(*args, **kwargs), its failures made a MilvusStoreError saying `what` failed."""
        from pymilvus.exceptions import MilvusException

        try:
            return function(*args, **kwargs)
        except MilvusException as error:
            raise MilvusStoreError(f"Milvus at {self.address}: {what} failed: {_reason(error)}") from None
        except Exception as error:  # noqa: BLE001 - grpc errors and the like: same message for all
            raise MilvusStoreError(f"Milvus at {self.address}: {what} failed: {_reason(error)}") from None

    def alias_target(self, alias: str) -> str | None:
        """The collection an alias points at; None when there is no such alias (two calls, so that
        "no alias yet" is told apart from a failing server without reading error texts)."""
        if alias not in self.call("listing aliases", "list_aliases").get("aliases", []):
            return None
        return self.call(f"reading the alias {alias}", "describe_alias", alias)["collection_name"]

    def ensure_loaded(self, collection: str) -> None:
        """Load a collection into the server's memory unless it is (a restarted server has released them
        all)."""
        state = self.call(f"reading the load state of {collection}", "get_load_state", collection)
        if "Loaded" not in str(state.get("state", "")):
            self.call(f"loading {collection}", "load_collection", collection)

    def collections(self, prefix: str = "") -> list[str]:
        return sorted(c for c in self.call("listing collections", "list_collections") if c.startswith(prefix))


_CONNECTIONS: dict[tuple, Connection] = {}
_CONNECTIONS_LOCK = threading.Lock()


def connect(address: MilvusAddress) -> Connection:
    """The process's connection to the store at `address` (made on first use, then shared by every
    store, build and check of it); MilvusStoreError in one line when the server does not answer."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise MilvusStoreError(f"the Milvus store needs pymilvus: {INSTALL}") from None
    from pymilvus.exceptions import MilvusException

    # pymilvus logs every failed call with its traceback at ERROR before raising (set after its
    # import, which configures its loggers): each failure is raised here as one line of our own.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    secrets, tls = credentials(), tls_options(address)
    key = (str(address), tuple(sorted(secrets.items())), tuple(sorted(tls.items())))
    with _CONNECTIONS_LOCK:
        if key in _CONNECTIONS:
            return _CONNECTIONS[key]
        options: dict[str, Any] = {
            "uri": address.uri,
            "timeout": config.MILVUS_TIMEOUT_S,
            # A channel of our own (pymilvus otherwise shares one per server, with whatever options
            # its first user gave), pinging at most every 5 minutes: pymilvus's 10 s pings, sent even
            # with no call in flight, are more than Milvus Lite allows, and it answers them with
            # GOAWAY "too many pings", after which new calls wait on a throttled reconnect.
            "dedicated": True,
            "grpc_options": {"grpc.keepalive_time_ms": 300_000},
            **secrets,
            **tls,
        }
        try:
            client = MilvusClient(**options)
        except MilvusException as error:
            raise MilvusStoreError(f"cannot reach Milvus at {address}: {_reason(error)}") from None
        except Exception as error:  # noqa: BLE001 - bad certificates, DNS: one line each
            raise MilvusStoreError(f"cannot reach Milvus at {address}: {error}") from None
        _CONNECTIONS[key] = Connection(address, client)
        return _CONNECTIONS[key]


def _reason(error: Any) -> str:
    message = getattr(error, "message", None) or str(error)
    return " ".join(str(message).split())  # one line, whatever the server sent
