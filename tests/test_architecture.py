"""The grader's layers: imports point one way, and the worker carries nothing but the codec."""
import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "grader"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules=None):
    """(imported grader module, inside a function?) for every import in the file.

    `from PACKAGE import name` imports PACKAGE.name when that is a module of
    its own (modules lists them), else PACKAGE itself.
    """
    modules = modules if modules is not None else {_module_name(p) for p in PACKAGE.rglob("*.py")}
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    nested = {id(n) for f in functions for n in ast.walk(f) if n is not f}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            continue
        for target in targets:
            if target == "grader" or target.startswith("grader."):
                yield target, id(node) in nested


def _graph():
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges = {}
    for name, path in modules.items():
        edges[name] = {t for t, _ in _imports(path) if t in modules and t != name}
    return modules, edges


def _cycles(edges):
    """Every strongly connected component with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_counting_imports_inside_functions():
    _, edges = _graph()
    assert _cycles(edges) == []


def test_no_grader_module_is_imported_inside_a_function():
    late = [(name, target) for name, path in _graph()[0].items()
            for target, inside in _imports(path) if inside]
    assert late == []


def test_the_cycle_finder_can_fail():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_worker_imports_nothing_of_the_grader_but_the_codec():
    worker = ast.parse((PACKAGE / "worker.py").read_text())
    imported = {alias.name for node in ast.walk(worker) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(worker) if isinstance(node, ast.ImportFrom)}
    assert "codec" in imported
    assert not any(name and (name == "grader" or name.startswith("grader.")) for name in imported)
    codec = ast.parse((PACKAGE / "codec.py").read_text())
    assert not [n for n in ast.walk(codec) if isinstance(n, ast.ImportFrom) and (n.level or
                                                                                 (n.module or "").startswith("grader"))]


def test_leaf_modules_import_only_leaves():
    leaves = {"grader.codec", "grader.checks", "grader.errors", "grader.vocabulary", "grader.limits",
              "grader.files", "grader.procs", "grader.gpus"}
    _, edges = _graph()
    for leaf in leaves:
        assert edges[leaf] <= leaves, (leaf, edges[leaf] - leaves)
