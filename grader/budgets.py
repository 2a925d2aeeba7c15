"""CPU-time budgets calibrated from the reference, cached per assignment and suite version.

The reference is graded once (grade.calibrated does it) and the CPU time its
worker spent in each test becomes that test's budget: FACTOR times as much,
and never less than FLOOR seconds. The import budget comes from the
reference's import the same way. Budgets are kept in a cache file keyed by
the suites' fingerprint (public and hidden suites, reference,
assignment.toml), the grader's version and the device, so a change to any
of them recalibrates. A test's timeout marker still sets its budget
explicitly. Machines that differ in speed calibrate on their own reference
runs, so a budget means "FACTOR times what the reference needs here".
"""
import dataclasses
import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .course import Assignment
from .files import CACHE_ROOT, atomic_write

FACTOR = 50.0          # a budget is this many times the reference's CPU time in the test...
FLOOR = 5.0            # ...and at least this many seconds (loop-based correct code runs ~20x slower)
IMPORT_FLOOR = 2.0     # the submission's import (after numpy/torch are preloaded)
CACHE_DIR = CACHE_ROOT / "budgets"


@dataclasses.dataclass(frozen=True)
class Budgets:
    tests: dict            # nodeid -> CPU seconds allowed
    reference: dict        # nodeid -> CPU seconds the reference used
    import_budget: float
    reference_import: float

    @classmethod
    def from_reference(cls, data: dict) -> "Budgets":
        """Budgets from the results document of a full-marks reference grade (with per-test cpu)."""
        reference = {t["extra_data"]["nodeid"]: float(t["extra_data"].get("cpu") or 0.0)
                     for t in data["tests"] if t.get("extra_data", {}).get("nodeid")}
        imported = float(data["extra_data"].get("import_cpu") or 0.0)
        return cls(tests={nodeid: scaled(cpu, FLOOR) for nodeid, cpu in reference.items()},
                   reference=reference, import_budget=scaled(imported, IMPORT_FLOOR),
                   reference_import=imported)


def scaled(reference_cpu: float, floor: float) -> float:
    return round(max(floor, FACTOR * reference_cpu), 2)


def cache_file(assignment: Assignment, cuda: bool) -> Path:
    key = assignment.suites_fingerprint(hidden=True, cuda=cuda)[:12] + f"-{FACTOR:g}x{FLOOR:g}"
    return CACHE_DIR / f"{assignment.id}-{__version__}-{key}.json"


def load(assignment: Assignment, cuda: bool) -> Budgets | None:
    try:
        return Budgets(**json.loads(cache_file(assignment, cuda).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def save(assignment: Assignment, cuda: bool, budgets: Budgets) -> None:
    atomic_write(cache_file(assignment, cuda), json.dumps(dataclasses.asdict(budgets), indent=1))


@contextmanager
def calibration_lock(assignment: Assignment, cuda: bool):
    """One calibration of an assignment at a time, across processes (parallel test runs, batches)."""
    path = cache_file(assignment, cuda).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
