"""The words results are made of, defined once: outcomes, suites, visibility levels.

results.json, gradebook.csv, report.html, the batch summary and the plugin
all speak this vocabulary; nothing compares against these strings elsewhere.
"""
from enum import Enum


class Outcome(str, Enum):
    """Why a test failed, and what a grade's status column says.

    A failed test carries one of ERROR, TIMEOUT, CRASH, INVALID; a grade's
    status is OK or the most serious outcome among its tests (see `worst`).
    A str whose str() and format() are its value, on every Python from 3.10
    (enum.StrEnum, which does this, is 3.11+).
    """
    OK = "ok"
    ERROR = "error"                    # the code raised or returned something wrong
    TIMEOUT = "timeout"                # over its budget
    CRASH = "crash"                    # the worker (or the harness) died
    INVALID = "invalid submission"     # the module cannot be imported or found
    NOT_GRADED = "not graded"          # a grade's status only: the grader could not grade it (never stamped)

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


# The statuses a grade can have, in the order reports list them.
GRADE_STATUSES = (Outcome.OK, Outcome.TIMEOUT, Outcome.CRASH, Outcome.INVALID, Outcome.NOT_GRADED)
# Which failure kinds make a grade's status, most serious first (ERROR leaves it ok).
_SEVERITY = (Outcome.INVALID, Outcome.TIMEOUT, Outcome.CRASH)

PUBLIC_SUITE = "test_public"
HIDDEN_SUITE = "test_hidden"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def worst(failures) -> Outcome:
    """The grade status that a collection of failure kinds amounts to."""
    kinds = set(failures)
    for outcome in _SEVERITY:
        if outcome in kinds:
            return outcome
    return Outcome.OK
