"""Telling possibly equivalent mutants apart before they are graded.

Each mutant and the reference run the assignment's audit inputs (inputs.py)
in sandboxed workers, exactly as a submission would; their answers come back
as plain data and are compared here, in the trusted process. A mutant whose
every answer (return value, arguments after the call, error) matches the
reference's is "possibly equivalent": no suite could tell it from the
reference on these inputs, so it is listed apart and not counted.
"""
import dataclasses
import math
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..client import Student
from ..errors import SubmissionError
from ..sandbox import make_sandbox
from .inputs import Call

CASE_SECONDS = 30.0       # budget for one case; a mutant that loops forever differs
RTOL, ATOL = 1e-9, 1e-12  # float answers closer than this are the same answer


@dataclasses.dataclass
class Outcome:
    value: object = None
    args: object = None
    error: str | None = None     # the first line of the error message, line numbers removed


def run_cases(source: bytes, assignment, cases: list, sandbox: str,
              reference: list | None = None) -> list[Outcome]:
    """The outcomes of the module `source` on the cases, run in one sandboxed worker.

    Given the reference's outcomes, it stops at the first case whose outcome differs.
    """
    backend = make_sandbox(sandbox, assignment.limits)
    student = Student(backend, source, assignment.id)
    outcomes = []
    try:
        for case in cases:
            outcomes.append(_run_case(student, case))
            if reference is not None and not _same_outcome(reference[len(outcomes) - 1], outcomes[-1]):
                break
    finally:
        student.close()
        backend.close()
    return outcomes


def _run_case(student, case) -> Outcome:
    student.begin_test(CASE_SECONDS, case.label)
    try:
        if isinstance(case, Call):
            value, args = student.call_and_inputs(case.fn, *case.args, **case.kwargs)
            return Outcome(value, args)
        return Outcome(student.probe(case.function, *case.args, label=case.label, **case.kwargs))
    except SubmissionError as exc:
        return Outcome(error=_first_line(str(exc)))
    finally:
        student.end_test()


def classify(mutants, assignment, cases: list, sandbox: str, jobs: int = 1) -> tuple[dict, list[Outcome]]:
    """{mutant id: [the first case that tells it apart]}; an empty list: possibly equivalent."""
    reference = run_cases(assignment.reference.read_bytes(), assignment, cases, sandbox)

    def check(mutant):
        outcomes = run_cases(mutant.source.encode(), assignment, cases, sandbox, reference)
        return mutant.id, [case.label for case, a, b in zip(cases, reference, outcomes)
                           if not _same_outcome(a, b)]

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(pool.map(check, mutants)), reference


def _first_line(message: str) -> str:
    return re.sub(r"\s*\(line \d+\)", "", message.splitlines()[0] if message else "")


def _same_outcome(a: Outcome, b: Outcome) -> bool:
    if a.error is not None or b.error is not None:
        return a.error == b.error
    return same(a.value, b.value) and same(a.args, b.args)


def same(a, b) -> bool:
    """Equal values of equal types, floats within RTOL/ATOL, arrays of equal dtype and shape.

    A numpy float64 scalar is a Python float (a subclass): the two count as one type.
    """
    if isinstance(a, float) and isinstance(b, float):
        a, b = float(a), float(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and _close_arrays(a, b)
    if hasattr(a, "detach") and hasattr(a, "numpy"):         # a torch tensor, decoded by the codec
        return (a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
                and _close_arrays(a.detach().cpu().numpy(), b.detach().cpu().numpy()))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (float, np.floating, complex, np.complexfloating)):
        return bool(a == b or (math.isnan(abs(a)) and math.isnan(abs(b)))
                    or abs(a - b) <= ATOL + RTOL * abs(b))
    return bool(a == b)


def _close_arrays(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind in "fc":
        return bool(np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True))
    return bool(np.array_equal(a, b))
