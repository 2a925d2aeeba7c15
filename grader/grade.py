"""Grading one submission: stage it, run the harness, always leave a grade.

`grade()` is the unit a batch is made of. It never raises for a bad
submission or a failing harness: the submission's problem, a harness crash
or a whole-grade timeout each become a results.json whose tests say what
happened, and an existing partial result keeps the tests already graded.
"""
import dataclasses
import json
import subprocess
import tempfile
from pathlib import Path

from . import budgets, results, submission
from .budgets import Budgets
from .collect import collect
from .course import Assignment
from .errors import InvalidSubmission
from .harness import command as harness_command
from .limits import GRADE_TIMEOUT, NOTEBOOK_CELL_SECONDS, NOTEBOOK_CPU_SECONDS
from .notebook import is_driver
from .procs import die_with_parent, kill_group
from .vocabulary import Outcome
from .warm import HarnessServer

STALE = ("results.json", results.PARTIAL, "feedback.md")


@dataclasses.dataclass
class Options:
    sandbox: str = "bwrap"
    hidden: bool = True
    cuda: bool = False
    gpu: str | None = None  # the CUDA_VISIBLE_DEVICES entry for this grade's workers (a batch lends one GPU a grade)
    timeout: float = GRADE_TIMEOUT
    reverse: bool = False   # run the tests in reverse order (to show a suite is order-independent)
    calibrate: bool = True  # derive CPU budgets from the reference where it is available
    budgets: Budgets | None = None  # given budgets (a batch calibrates once); None: calibrate or defaults


def grade(assignment: Assignment, submission_path, out_dir, options: Options = Options(),
          harness: HarnessServer | None = None, scratch: Path | None = None) -> dict:
    """Grade one submission into out_dir (results.json, feedback.md); return the results document.

    harness: a warm server to fork the harness from (a batch has one); else a fresh interpreter.
    scratch: where the grade's private folder (the module, the settings) goes; else the temp folder.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in STALE:
        (out_dir / stale).unlink(missing_ok=True)
    try:
        source, notes, chosen = submission.load(submission_path, assignment.id)
    except InvalidSubmission as exc:
        data = invalid(assignment, options, f"invalid submission: {exc}")
        results.write_grade(out_dir, data)
        return data
    given = options.budgets or calibrated(assignment, options)
    # absolute: a warm harness server does not share the caller's working folder
    with tempfile.TemporaryDirectory(prefix="grade-", dir=Path(scratch).resolve() if scratch else None) as private:
        private = Path(private)
        module_file = private / f"{assignment.id}.py"
        module_file.write_bytes(source)
        settings = harness_settings(assignment, options, module_file=module_file, out_dir=out_dir, notes=notes,
                                    given=given, notebook=is_driver(source), chosen=chosen)
        settings_file = private / "settings.json"
        settings_file.write_text(json.dumps(settings))
        problem = _run_harness(settings_file, private / "harness.log", options.timeout, harness)
        data = _finish(out_dir, settings, problem, private / "harness.log")
    results.write_grade(out_dir, data)
    return data


def calibrated(assignment: Assignment, options: Options) -> Budgets | None:
    """The assignment's CPU budgets: cached, or measured now by grading the reference once.

    None (the assignment's default budgets) where there is no reference (a
    student's release) or calibration is off, or when the reference does not
    get full marks (then nothing is cached: the suite needs fixing first).
    """
    if not options.calibrate or assignment.reference is None:
        return None
    found = budgets.load(assignment, options.cuda)
    if found is not None:
        return found
    with budgets.calibration_lock(assignment, options.cuda):
        found = budgets.load(assignment, options.cuda)
        if found is not None:
            return found
        run = dataclasses.replace(options, hidden=True, reverse=False, calibrate=False, budgets=None)
        with tempfile.TemporaryDirectory(prefix="calibrate-") as scratch:
            data = grade(assignment, assignment.reference, scratch, run)
        if data["score"] != data["extra_data"]["max_score"] or data["extra_data"]["status"] != Outcome.OK:
            return None
        found = Budgets.from_reference(data)
        budgets.save(assignment, options.cuda, found)
        return found


def harness_settings(assignment: Assignment, options: Options, *, module_file, out_dir, notes,
                     given: Budgets | None = None, notebook: bool = False, chosen: str | None = None) -> dict:
    """What the harness (grader.plugin.GraderPlugin) needs to know about one grade.

    A notebook's import runs all its cells: it gets the notebook budget in
    all, and each cell NOTEBOOK_CELL_SECONDS of CPU before it is interrupted.
    """
    import_budget = NOTEBOOK_CPU_SECONDS if notebook else (given.import_budget if given else None)
    return {
        "module_name": assignment.id,
        "module_file": str(module_file),
        "reference_file": str(assignment.reference) if assignment.reference else None,
        "suites": [str(s) for s in assignment.suites(hidden=options.hidden)],
        "root": str(assignment.course_root),
        "out_dir": str(Path(out_dir).resolve()),
        "sandbox": options.sandbox,
        "cuda": options.cuda,
        "gpu": options.gpu,
        "reverse": options.reverse,
        "notes": notes,
        "chosen": chosen,   # why this file of several was graded: the report lists these for the instructor
        "test_timeout": assignment.test_timeout,
        "limits": dataclasses.asdict(assignment.limits),
        "preload": list(assignment.preload),
        "budgets": given.tests if given else {},
        "reference_cpu": given.reference if given else {},
        "import_budget": import_budget,
        "notebook": notebook_options(assignment) if notebook else None,
    }


def notebook_options(assignment: Assignment) -> dict:
    """How the worker runs a notebook's cells (grader/nbrun.py's configure())."""
    return {"cell_budget": NOTEBOOK_CELL_SECONDS, "api": list(assignment.api),
            "environment": list(assignment.environment.allowed(assignment.limits.blocked_modules)),
            "blocked": list(assignment.limits.blocked_modules)}


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


def _run_harness(settings_file: Path, log_path: Path, timeout: float,
                 server: HarnessServer | None) -> tuple[str, Outcome] | None:
    """Run the harness; None on a normal end, else (what went wrong, its outcome)."""
    if server is not None:
        code = server.run(settings_file, log_path, timeout)
        if code is None:
            return f"the whole grade exceeded {timeout:g} s", Outcome.TIMEOUT
        return None if code == 0 else (f"the grader's harness failed (exit {code})", Outcome.CRASH)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            harness_command(str(settings_file)),
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
    partial = out_dir / results.PARTIAL
    if problem is None and final.exists():
        data = json.loads(final.read_text())
    else:
        records, skipped, config = results.read_partial(partial) if partial.exists() else ([], [], {})
        data = results.build(records, skipped, dict(settings, **config))
        what, outcome = problem or ("no results were written", Outcome.CRASH)
        results.stopped_early(data, f"Grading stopped early: {what}. Tests not listed above were not run.",
                              outcome)
        data["extra_data"]["harness_log"] = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
        partial.unlink(missing_ok=True)
    data["extra_data"]["status"] = results.status(data)
    notes = data["extra_data"].get("notes") or settings["notes"]  # the harness adds a notebook's own
    data["extra_data"]["notes"] = notes
    data["output"] = results.summary(data, notes)
    return data
