"""The package's layout: no two modules import each other, directly or round a circle; nor do two
stages (qa.store, qa.retrieve, ..., and the top-level modules); the store backends share only the core."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "qa"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports, at the top or inside a function (lazy imports
    still make a circle: whichever loads first finds the other half-initialised)."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from qa.eval import runner` imports qa.eval.runner; `from qa.x import f`, qa.x.
                candidates = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            imported.update(c for c in candidates if c in modules and c != name)
        graph[name] = imported
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circles():
    graph = import_graph()
    assert "qa.eval.runner" in graph["qa.cli"] or any(m.startswith("qa.eval") for m in graph["qa.cli"])
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def package_of(module: str, packages: set[str]) -> str:
    """qa.store.local.files -> qa.store: a module stands for its top-level subpackage of qa; a
    top-level module (qa.cli, qa.types) for itself."""
    top = ".".join(module.split(".")[:2])
    return top if top in packages else module


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Stage -> the stages it imports. Two modules are left out: `qa` itself (`from qa import config`
    names the namespace, and its lazy exports import nothing at load), and `__main__` modules: run by
    `python -m`, never imported, an entry point sits above every stage whatever folder holds it
    (`python -m qa.eval` is `qa eval`)."""
    packages = {name for name in graph if (PACKAGE.parent / name.replace(".", "/") / "__init__.py").is_file()}
    packages.discard("qa")
    stages: dict[str, set[str]] = {}
    for module, imported in graph.items():
        if module == "qa" or module.endswith(".__main__"):
            continue
        stage = package_of(module, packages)
        targets = {package_of(m, packages) for m in imported if m != "qa" and not m.endswith(".__main__")}
        stages.setdefault(stage, set()).update(targets - {stage})
    return stages


def test_package_of():
    packages = {"qa.store", "qa.retrieve"}
    assert package_of("qa.store.local.files", packages) == "qa.store"
    assert package_of("qa.store", packages) == "qa.store"
    assert package_of("qa.cli", packages) == "qa.cli"


def test_no_package_circles():
    stages = package_graph(import_graph())
    for stage in (
        "qa.store",
        "qa.retrieve",
        "qa.read",
        "qa.eval",
        "qa.answer",
        "qa.ingest",
        "qa.ui",
        "qa.embed",
    ):
        assert stage in stages, stage
    assert "qa.eval" in stages["qa.cli"] and "qa.store" in stages["qa.retrieve"]  # the walk sees imports
    assert find_cycle(stages) is None, " -> ".join(find_cycle(stages) or [])


def test_store_backends_share_only_the_core():
    """qa/store/local/ and qa/store/milvus/ import the core (qa/store/*.py), never each other; the
    core names the backends in location.py only (parse_location makes either)."""
    graph = import_graph()
    backends = ("qa.store.local", "qa.store.milvus")

    def backend_of(module: str) -> str | None:
        return next((b for b in backends if module == b or module.startswith(b + ".")), None)

    assert any(backend_of(m) == "qa.store.local" for m in graph)
    assert any(backend_of(m) == "qa.store.milvus" for m in graph)
    for module, imported in graph.items():
        if not module.startswith("qa.store"):
            continue
        own = backend_of(module)
        for target in imported:
            other = backend_of(target)
            if own is not None:
                assert other in (None, own), f"{module} imports {target}: one backend imports the other"
            elif module != "qa.store.location":
                assert other is None, f"{module} imports {target}: the core imports a backend"


def test_shared_contracts_have_one_home():
    """SearchFilter and the Embedder protocol are qa/types.py's, the build report and fingerprint the store
    core's; the older import paths name the very same objects, so a type check never sees two."""
    import qa.embed
    import qa.retrieve.filters
    import qa.store.local
    import qa.store.local.build
    import qa.store.report
    import qa.types

    assert qa.retrieve.filters.SearchFilter is qa.types.SearchFilter
    assert qa.embed.Embedder is qa.types.Embedder
    assert qa.store.local.build.BuildReport is qa.store.report.BuildReport
    assert qa.store.local.build.IndexStatus is qa.store.report.IndexStatus
    assert not hasattr(qa.store.local, "corpus_fingerprint")  # one fingerprint, for every store
    assert qa.store.report.corpus_fingerprint({"b": "2", "a": "1"}) == qa.store.report.corpus_fingerprint(
        {"a": "1", "b": "2"}
    )
