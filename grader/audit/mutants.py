"""Mutants of a reference solution: the reference with one bug planted in a solution block.

`generate(source, operators)` walks the reference's concrete syntax tree
(libcst), offers every node inside a `# BEGIN SOLUTION` / `# END SOLUTION`
block to every operator, and returns one `Mutant` per distinct, compilable
rewrite, in source order. Code outside the blocks (signatures, docstrings,
the scaffolding students are given) is never touched.
"""
import dataclasses
import difflib
import re

import libcst as cst
from libcst.metadata import ExpressionContext, ExpressionContextProvider, MetadataWrapper, PositionProvider

from ..stubgen import BEGIN, END, StubError
from .operators import Operator, Site

# Where two operators write the same mutant, the one that names the bug wins.
GENERIC_FAMILIES = ("arithmetic", "comparison", "constant", "dropped-call")


@dataclasses.dataclass(frozen=True)
class Mutant:
    id: str             # m001, m002, ... in source order
    operator: str
    family: str
    what: str           # the bug in a student's terms
    function: str       # the function it touched
    line: int           # first line of the rewritten code in the reference
    before: str         # the rewritten code, as in the reference
    after: str          # ... and in the mutant
    source: str         # the whole mutant module
    diff: str           # unified diff against the reference


def solution_lines(source: str) -> list[tuple[int, int]]:
    """(first, last) line numbers strictly between each BEGIN/END SOLUTION pair."""
    blocks, start = [], None
    for number, line in enumerate(source.splitlines(), start=1):
        if start is None and BEGIN.match(line):
            start = number
        elif start is not None and END.match(line):
            blocks.append((start + 1, number - 1))
            start = None
    if start is not None:
        raise StubError(f"line {start}: BEGIN SOLUTION without END SOLUTION")
    return blocks


def generate(source: str, operators: list[Operator], module_name: str = "reference") -> list[Mutant]:
    blocks = solution_lines(source)
    wrapper = MetadataWrapper(cst.parse_module(source))
    finder = _Finder(operators, blocks, bool(re.search(r"^(import|from) torch\b", source, re.M)),
                     bool(re.search(r"^import numpy as np\b", source, re.M)))
    wrapper.visit(finder)
    module = wrapper.module
    chosen: dict[str, tuple] = {}
    for operator, node, replacement, site, line in finder.found:
        mutated = module.deep_replace(node, replacement).code
        if mutated == source or not _compiles(mutated):
            continue
        previous = chosen.get(mutated)
        if previous is None or (previous[0].family in GENERIC_FAMILIES
                                and operator.family not in GENERIC_FAMILIES):
            chosen[mutated] = (operator, node, replacement, site, line)
    ordered = sorted(chosen.items(), key=lambda item: item[1][4])
    mutants = []
    for number, (mutated, (operator, node, replacement, site, line)) in enumerate(ordered, start=1):
        diff = "".join(difflib.unified_diff(source.splitlines(True), mutated.splitlines(True),
                                            f"reference/{module_name}.py", f"mutant/{module_name}.py", n=1))
        removed, added = _changed_lines(diff)
        mutants.append(Mutant(f"m{number:03d}", operator.name, operator.family, operator.what,
                              site.function, line, removed, added, mutated, diff))
    return mutants


def _changed_lines(diff: str) -> tuple[str, str]:
    """The lines a diff removes and adds, without their indentation."""
    lines = diff.splitlines()[2:]
    removed = [l[1:].strip() for l in lines if l.startswith("-")]
    added = [l[1:].strip() for l in lines if l.startswith("+")]
    return "\n".join(removed), "\n".join(added)


def _compiles(source: str) -> bool:
    try:
        compile(source, "<mutant>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


class _Finder(cst.CSTVisitor):
    """Offers each node of the solution blocks to each operator; records what they return."""
    METADATA_DEPENDENCIES = (PositionProvider, ExpressionContextProvider)

    def __init__(self, operators, blocks, torch, numpy):
        super().__init__()
        self.operators, self.blocks, self.torch, self.numpy = operators, blocks, torch, numpy
        self.scopes = []          # (name, parameters, loop names) of enclosing classes and functions
        self.found = []

    def inside(self, node) -> bool:
        try:
            where = self.get_metadata(PositionProvider, node)
        except KeyError:
            return False
        return any(first <= where.start.line and where.end.line <= last for first, last in self.blocks)

    def on_visit(self, node) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self.scopes.append(_scope(node))
        # block-level operators look at the lines inside a block themselves
        if self.inside(node) or isinstance(node, (cst.IndentedBlock, cst.FunctionDef)):
            site = self.site(loaded=self.get_metadata(ExpressionContextProvider, node, None)
                             == ExpressionContext.LOAD)
            line = self.get_metadata(PositionProvider, node).start.line
            for operator in self.operators:
                for replacement in operator.mutate(node, site):
                    self.found.append((operator, node, replacement, site, line))
        return True

    def on_leave(self, node) -> None:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self.scopes.pop()

    def site(self, loaded: bool) -> Site:
        name = ".".join(s[0] for s in self.scopes) or "<module>"
        functions = [s for s in self.scopes if s[1] is not None]
        parameters, loops, local = functions[-1][1:] if functions else ((), frozenset(), frozenset())
        return Site(name, parameters, loops, local, self.torch, self.numpy, self.inside, loaded)


def _scope(node):
    if isinstance(node, cst.ClassDef):
        return node.name.value, None, None, None
    parameters = tuple(p.name.value for p in (*node.params.posonly_params, *node.params.params,
                                              *node.params.kwonly_params))
    collector = _BoundNames()
    node.body.visit(collector)
    return (node.name.value, parameters, frozenset(collector.loops),
            frozenset(collector.loops | collector.assigned))


class _BoundNames(cst.CSTVisitor):
    """The names a function binds: by loops and comprehensions, and by assignments."""

    def __init__(self):
        super().__init__()
        self.loops, self.assigned = set(), set()

    def _targets(self, target, into):
        if isinstance(target, cst.Name):
            into.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._targets(element.value, into)

    def visit_For(self, node) -> None:
        self._targets(node.target, self.loops)

    def visit_CompFor(self, node) -> None:
        self._targets(node.target, self.loops)

    def visit_Assign(self, node) -> None:
        for target in node.targets:
            self._targets(target.target, self.assigned)

    def visit_AugAssign(self, node) -> None:
        self._targets(node.target, self.assigned)
