"""The import structure: layers only import downwards, and nothing imports in a circle.

Layers, lowest first: schemas -> domain -> projections -> infra -> streams. Every import is
read from the source with `ast` (also those inside functions): a module-level cycle fails,
counting only imports that run (not those under `if TYPE_CHECKING:`); a cycle among
packages (`streams` itself, `streams.api`, `streams.ingest.parsers`, ...) fails counting
every import, since a type-only import is still a dependency between packages.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAYERS = ("schemas", "domain", "projections", "infra", "streams")


@dataclass(frozen=True)
class Module:
    name: str
    is_package: bool
    tree: ast.Module

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


@dataclass(frozen=True)
class Import:
    target: str
    at_runtime: bool


def modules() -> dict[str, Module]:
    found = {}
    for layer in LAYERS:
        for path in sorted((REPO / layer).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            found[name] = Module(name, is_package, ast.parse(path.read_bytes(), str(path)))
    return found


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:`."""
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            for statement in node.body:
                guarded.update(id(inner) for inner in ast.walk(statement))
    return guarded


def imports_of(module: Module, known: Set[str]) -> Iterator[Import]:
    """The project modules `module` imports, wherever the import statement stands."""
    guarded = _type_checking_only(module.tree)
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, one level up per extra dot
                parts = module.package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from streams.cli import ingest` imports the module streams.cli.ingest
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            if name in known:
                yield Import(name, at_runtime=id(node) not in guarded)


def cycles(graph: Mapping[str, Set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def layer_rank(name: str) -> int:
    return LAYERS.index(name.split(".")[0])


@pytest.fixture(scope="module")
def project() -> dict[str, Module]:
    return modules()


def test_the_walk_sees_the_imports_it_checks(project: dict[str, Module]) -> None:
    """Guards the test itself: a known import (also one inside a function) is found."""
    known = set(project)
    main = {i.target for i in imports_of(project["streams.cli.main"], known)}
    assert {"streams.cli.support", "streams.cli.audit"} <= main
    events = {i.target for i in imports_of(project["streams.cli.events"], known)}
    assert {"schemas.events", "streams.generator"} <= events  # the second inside a function
    assert "streams.metrics" in {
        i.target for i in imports_of(project["streams.runners.processing"], known)
    }


def test_a_lower_layer_never_imports_a_higher_one(project: dict[str, Module]) -> None:
    known = set(project)
    upward = sorted(
        f"{module.name} imports {found.target}"
        for module in project.values()
        for found in imports_of(module, known)
        if layer_rank(found.target) > layer_rank(module.name)
    )
    assert upward == []


def test_no_module_imports_itself_in_a_circle(project: dict[str, Module]) -> None:
    known = set(project)
    graph = {
        module.name: {found.target for found in imports_of(module, known) if found.at_runtime}
        for module in project.values()
    }
    assert cycles(graph) == []


def test_no_package_depends_on_itself_in_a_circle(project: dict[str, Module]) -> None:
    known = set(project)
    graph: dict[str, set[str]] = {}
    for module in project.values():
        targets = graph.setdefault(module.package, set())
        targets.update(project[found.target].package for found in imports_of(module, known))
        targets.discard(module.package)
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
