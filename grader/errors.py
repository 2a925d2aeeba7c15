"""Every error the grader raises on purpose, under one base class.

Callers classify failures by these types (and a SubmissionError's `kind`),
never by matching message text. codec.CodecError stays in codec.py, which
must import nothing of the grader (the worker carries it into the sandbox).
"""
from .vocabulary import Outcome


class GraderError(Exception):
    """Base of the grader's own errors: the message is written for a person."""


class UsageError(GraderError):
    """The command line asked for something impossible (exit status 2)."""


class UnknownAssignment(GraderError, KeyError):
    """No assignments/ID/assignment.toml in the course."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SuiteError(GraderError):
    """A suite is malformed (a bad marker argument, say): the instructor's problem."""


class StubError(GraderError, ValueError):
    """BEGIN/END SOLUTION markers that do not pair up."""


class InvalidSubmission(GraderError, ValueError):
    """The submission cannot be graded; the message tells the student why."""


class SandboxUnavailable(GraderError, RuntimeError):
    """The requested sandbox cannot run on this machine (the message says why)."""


class ExportError(GraderError, ValueError):
    """An LMS export as a whole cannot be read."""


class BatchBusy(GraderError, RuntimeError):
    """Another batch is writing to the same folder."""


class ClusterLost(GraderError):
    """The Dask scheduler cannot be reached, or was lost during a batch."""


class WorkerRefused(GraderError):
    """A cluster worker will not grade this task: its course or its sandbox is not the one asked for.

    args: (the message, the worker's address), so the client can keep its
    later tasks off that worker (the exception travels pickled by Dask).
    """

    def __init__(self, message: str, worker: str = ""):
        super().__init__(message, worker)

    @property
    def worker(self) -> str:
        return self.args[1]

    def __str__(self) -> str:
        return self.args[0]


class SubmissionError(GraderError):
    """The submission failed in a test; the message says how, in the student's terms.

    kind is an Outcome other than OK: ERROR (it raised or returned something
    wrong), TIMEOUT, CRASH (the worker died) or INVALID (it cannot be imported).
    refused: a TIMEOUT without waiting, as the function had run out of time in
    an earlier test of the grade (one hang costs one budget).
    """

    def __init__(self, message: str, kind: Outcome = Outcome.ERROR, refused: bool = False):
        super().__init__(message)
        self.kind = Outcome(kind)
        self.refused = refused
