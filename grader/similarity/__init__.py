"""Code similarity across a class: which pairs of submissions to look at, and why.

`analyse()` reads every submission as text (never importing or running it),
normalises its tokens, removes the stub as boilerplate, indexes winnowed
fingerprints to find the pairs that share code the rest of the class does
not, and scores each such pair per student-written function against what the
class shares anyway (see scoring.py). `grader.similarity.report` writes
similarity.csv and one side-by-side page per pair; `grader similarity` and
`grader batch` (unless --no-similarity) call both.
"""
import dataclasses
import math
import time

from . import fingerprints, scoring, tokens
from .documents import REST, Boilerplate, Document, read

DEFAULT_THRESHOLD = 0.5     # the report's "look at this" line for the score
MIN_HOLDERS = 10            # a fingerprint held by more documents than this (or 5% of the class)
HOLDER_SHARE = 0.05         # is common code and makes no pair a candidate
MIN_SHARED = 4              # rare fingerprints a pair must share to be scored: about 20 tokens in a row


@dataclasses.dataclass
class Pair:
    a: Document
    b: Document
    score: float
    functions: dict          # function -> similarity, for the functions both wrote
    shared: int              # winnowed fingerprints both hold
    longest: int             # longest shared run, in normalised tokens


@dataclasses.dataclass
class Analysis:
    assignment: str
    documents: list          # this class first, then the archives
    functions: list          # the student-written functions, in the reference's order
    baselines: dict          # function -> scoring.Baseline
    pairs: list              # most suspicious first
    boilerplate: Boilerplate
    threshold: float
    elapsed: float

    @property
    def flagged(self):
        return [p for p in self.pairs if p.score >= self.threshold]

    @property
    def unreadable(self):
        return [d for d in self.documents if d.problem]


def student_functions(assignment) -> list:
    """The functions students write, from the reference's solution blocks (none without a reference)."""
    if assignment.reference is None:
        return []
    return tokens.student_functions(assignment.reference.read_text(encoding="utf-8"))


def boilerplate_of(assignment, extra_texts=()) -> Boilerplate:
    texts = [assignment.stub.read_text(encoding="utf-8")] if assignment.stub.is_file() else []
    return Boilerplate.from_texts(texts + list(extra_texts))


def analyse(assignment, entries, archives=(), *, threshold=DEFAULT_THRESHOLD, starter_code=()):
    """Compare every pair among `entries` (lms.Entry) and each of them with the archives.

    archives: (label, entries) for earlier terms; their students appear as
    `label/student` and are compared with this class only, not with each other.
    """
    started = time.monotonic()
    names = student_functions(assignment)
    boilerplate = boilerplate_of(assignment, starter_code)
    documents = read_documents(assignment, entries, archives, names, boilerplate)
    bases = scoring.baselines([d for d in documents if not d.problem], names)
    pairs = [compare(documents[i], documents[j], bases) for i, j in candidates(documents)]
    pairs.sort(key=lambda p: (-p.score, -p.longest, -p.shared, p.a.student, p.b.student))
    return Analysis(assignment.id, documents, names, bases, pairs, boilerplate, threshold,
                    time.monotonic() - started)


def read_documents(assignment, entries, archives, names, boilerplate) -> list:
    documents = [read(e.path, e.student, assignment.id, names, boilerplate, origin=e.origin)
                 for e in entries]
    for label, archived in archives:
        documents += [read(e.path, f"{label}/{e.student}", assignment.id, names, boilerplate,
                           origin=e.origin, archive=label) for e in archived]
    return documents


def candidates(documents) -> list:
    """(i, j) index pairs that share a rare fingerprint (archive pairs left out), from the index."""
    index = fingerprints.Index([d.prints for d in documents])
    limit = max(MIN_HOLDERS, math.ceil(HOLDER_SHARE * len(documents)))
    return [(i, j) for i, j in index.candidate_pairs(limit, MIN_SHARED)
            if not (documents[i].archive and documents[j].archive)]


def compare(a, b, bases) -> Pair:
    result = scoring.score_pair(a, b, bases)
    shared, longest = _overlap(a, b)
    return Pair(a, b, result.score, result.functions, shared, longest)


def _overlap(a, b):
    """(shared fingerprints, longest shared run in tokens) from the winnowed fingerprints."""
    shared = a.prints.keys() & b.prints.keys()
    runs = fingerprints.shared_runs([p for h in shared for p in a.prints[h]], fingerprints.K)
    return len(shared), max((end - start for start, end in runs), default=0)


__all__ = ["Analysis", "Pair", "analyse", "DEFAULT_THRESHOLD", "REST"]
