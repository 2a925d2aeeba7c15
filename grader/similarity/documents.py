"""A submission as text to compare: its normalised tokens, fingerprints and functions.

Only text is read (grader.submission.load, the same path as grading, so a
notebook's code cells arrive as module source); nothing is imported or run.
A submission that cannot be read still becomes a Document, with the reason
in `problem`, so it gets a row instead of stopping the analysis.
"""
import ast
import dataclasses
from pathlib import Path

from ..submission import load
from . import fingerprints, tokens

REST = "(rest of file)"   # code outside the student functions: helpers, module level


@dataclasses.dataclass(frozen=True)
class Boilerplate:
    """The k-grams of the stub (and any starter code): never evidence of copying."""
    file_grams: frozenset
    function_grams: frozenset

    @classmethod
    def from_texts(cls, texts):
        file_grams, function_grams = set(), set()
        for text in texts:
            words = [t.text for t in tokens.normalise(text)]
            file_grams.update(fingerprints.kgram_hashes(words, fingerprints.K).tolist())
            function_grams.update(fingerprints.kgram_hashes(words, fingerprints.FUNCTION_K).tolist())
        return cls(frozenset(file_grams), frozenset(function_grams))


@dataclasses.dataclass
class Document:
    student: str                  # unique across the analysis (archive students are prefixed)
    origin: str                   # what it was read from, for people
    archive: str | None = None    # the earlier term it comes from, None for this class
    text: str = ""
    tokens: list = dataclasses.field(default_factory=list)
    prints: dict = dataclasses.field(default_factory=dict)      # file fingerprints
    grams: dict = dataclasses.field(default_factory=dict)       # function -> frozenset of k-grams
    spans: dict = dataclasses.field(default_factory=dict)       # function -> (first, last) token
    problem: str | None = None    # why it could not be compared at all
    notes: list = dataclasses.field(default_factory=list)


def read(path, student, assignment_id, student_functions, boilerplate, *, origin=None, archive=None):
    """The Document for one submission (never raises for a bad submission)."""
    document = Document(student, origin or Path(path).name, archive)
    try:
        source = load(path, assignment_id).source
    except Exception as exc:  # untrusted input: whatever went wrong, it is this row's note
        document.problem = str(exc) or type(exc).__name__
        return document
    text = source.decode("utf-8", errors="replace").lstrip("\ufeff").replace("\r\n", "\n")
    text = _notebook_code(text)
    document.text = text
    problem = _syntax_problem(text)
    if problem:
        document.notes.append(f"{problem}; compared as tokens")
    document.tokens = tokens.normalise(text)
    words = [t.text for t in document.tokens]
    document.prints = fingerprints.fingerprints(words, boilerplate.file_grams)
    defined = {f.name: f for f in tokens.functions(text, document.tokens)}
    inside = [False] * len(words)
    for name in student_functions:
        if name in defined:
            function = defined[name]
            document.spans[name] = (function.first, function.last)
            inside[function.head: function.last] = [True] * (function.last - function.head)
            document.grams[name] = _grams(words[function.first: function.last], boilerplate)
    document.grams[REST] = _grams([w for w, used in zip(words, inside) if not used], boilerplate)
    document.grams = {name: grams for name, grams in document.grams.items() if grams}
    if not document.tokens:
        document.problem = "no code to compare"
    return document


def _grams(words, boilerplate):
    return frozenset(fingerprints.kgram_hashes(words, fingerprints.FUNCTION_K).tolist()) \
        - boilerplate.function_grams


def _notebook_code(text):
    """A notebook's code cells, one after the other, when `load` gave the module that runs them.

    Grading turns a notebook into a generated driver module holding its code
    cells as a literal list of {"source": ...} dicts; similarity wants the
    code itself. The literal is read with ast.literal_eval (nothing runs).
    Shell escapes and magics (`!pip`, `%matplotlib`) are left out.
    """
    if not text.startswith("# grader: notebook driver"):
        return text
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if isinstance(call, ast.Call) and call.args and isinstance(call.args[0], ast.List):
            try:
                cells = ast.literal_eval(call.args[0])
            except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                return text
            sources = [cell.get("source", "") for cell in cells if isinstance(cell, dict)]
            return "\n\n".join("\n".join(line for line in str(source).splitlines()
                                          if not line.lstrip().startswith(("!", "%")))
                               for source in sources) + "\n"
    return text


def _syntax_problem(text):
    """'does not parse (line N)' or None; ast only parses, nothing is compiled or run."""
    try:
        ast.parse(text)
    except SyntaxError as exc:
        return f"does not parse (line {exc.lineno}: {exc.msg})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"does not parse ({type(exc).__name__})"
    return None
