"""Grading one submission: stage it, run the harness, always leave a grade.

`grade()` is the unit a batch is made of. It never raises for a bad
submission or a failing harness: the submission's problem, a harness crash
or a whole-grade timeout each become a results.json whose tests say what
happened, and an existing partial result keeps the tests already graded.
"""
import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from . import results, submission
from .collect import collect
from .course import Assignment
from .errors import InvalidSubmission
from .limits import GRADE_TIMEOUT
from .procs import die_with_parent, kill_group
from .vocabulary import Outcome

STALE = ("results.json", "results.partial.json", "feedback.md")


@dataclasses.dataclass
class Options:
    sandbox: str = "bwrap"
    hidden: bool = True
    cuda: bool = False
    timeout: float = GRADE_TIMEOUT
    reverse: bool = False   # run the tests in reverse order (to show a suite is order-independent)


def grade(assignment: Assignment, submission_path, out_dir, options: Options = Options()) -> dict:
    """Grade one submission into out_dir (results.json, feedback.md); return the results document."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in STALE:
        (out_dir / stale).unlink(missing_ok=True)
    try:
        source, notes = submission.load(submission_path, assignment.id)
    except InvalidSubmission as exc:
        data = invalid(assignment, options, f"invalid submission: {exc}")
        results.write_grade(out_dir, data)
        return data
    with tempfile.TemporaryDirectory(prefix="grade-") as private:
        private = Path(private)
        module_file = private / f"{assignment.id}.py"
        module_file.write_bytes(source)
        settings = harness_settings(assignment, options, module_file=module_file, out_dir=out_dir, notes=notes)
        settings_file = private / "settings.json"
        settings_file.write_text(json.dumps(settings))
        problem = _run_harness(settings_file, private / "harness.log", options.timeout)
        data = _finish(out_dir, settings, problem, private / "harness.log")
    results.write_grade(out_dir, data)
    return data


def harness_settings(assignment: Assignment, options: Options, *, module_file, out_dir, notes) -> dict:
    """What the harness (grader.plugin.GraderPlugin) needs to know about one grade."""
    return {
        "module_name": assignment.id,
        "module_file": str(module_file),
        "reference_file": str(assignment.reference) if assignment.reference else None,
        "suites": [str(s) for s in assignment.suites(hidden=options.hidden)],
        "root": str(assignment.course_root),
        "out_dir": str(Path(out_dir).resolve()),
        "sandbox": options.sandbox,
        "cuda": options.cuda,
        "reverse": options.reverse,
        "notes": notes,
        "test_timeout": assignment.test_timeout,
        "limits": dataclasses.asdict(assignment.limits),
    }


def invalid(assignment: Assignment, options: Options, message: str) -> dict:
    """The grade of a submission that cannot be run: every test failed with why.

    Built from the collected tests, without starting a harness or a worker.
    """
    records, skipped = [], []
    for test in collect(assignment, hidden=options.hidden):
        record = {"name": test["name"], "nodeid": test["nodeid"], "suite": test["suite"],
                  "max_score": test["points"], "visibility": test["visibility"], "duration": 0.0}
        if test["gpu"] and not options.cuda:
            skipped.append(dict(record, reason="needs CUDA, which is not available here"))
        else:
            records.append(dict(record, status="failed", message=message, failure=Outcome.INVALID))
    settings = {"module_name": assignment.id, "sandbox": options.sandbox,
                "status": Outcome.INVALID, "notes": []}
    data = results.build(records, skipped, settings)
    data["extra_data"]["notes"] = []
    return data


def _run_harness(settings_file: Path, log_path: Path, timeout: float) -> tuple[str, Outcome] | None:
    """Run the harness; None on a normal end, else (what went wrong, its outcome)."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-I", "-B", "-m", "grader.harness", str(settings_file)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=settings_file.parent, start_new_session=True, preexec_fn=die_with_parent)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"the whole grade exceeded {timeout:g} s", Outcome.TIMEOUT
        finally:
            kill_group(process)  # nothing the harness started may outlive it
    return None if code == 0 else (f"the grader's harness failed (exit {code})", Outcome.CRASH)


def _finish(out_dir: Path, settings: dict, problem, log_path: Path) -> dict:
    """The final results document, whatever happened to the harness."""
    final = out_dir / "results.json"
    partial = out_dir / "results.partial.json"
    if problem is None and final.exists():
        data = json.loads(final.read_text())
    else:
        data = json.loads(partial.read_text()) if partial.exists() else results.build([], [], settings)
        what, outcome = problem or ("no results were written", Outcome.CRASH)
        results.stopped_early(data, f"Grading stopped early: {what}. Tests not listed above were not run.",
                              outcome)
        data["extra_data"]["harness_log"] = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
        partial.unlink(missing_ok=True)
    data["extra_data"]["status"] = results.status(data)
    data["extra_data"]["notes"] = settings["notes"]
    data["output"] = results.summary(data, settings["notes"])
    return data
