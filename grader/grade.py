"""Grading one submission: stage it, run the harness, always leave a grade.

`grade()` is the unit a batch is made of. It never raises for a bad
submission or a failing harness: the submission's problem, a harness crash
or a whole-grade timeout each become a results.json whose tests say what
happened, and an existing partial result keeps the tests already graded.
"""
import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from . import results, submission
from .sandbox import die_with_parent

GRADE_TIMEOUT = 900.0


@dataclasses.dataclass
class Options:
    sandbox: str = "bwrap"
    hidden: bool = True
    cuda: bool = False
    timeout: float = GRADE_TIMEOUT
    reverse: bool = False   # run the tests in reverse order (to show a suite is order-independent)


def grade(assignment, submission_path, out_dir, options=Options()):
    """Grade one submission into out_dir; return the results document."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("results.json", "results.partial.json", "feedback.md"):
        (out_dir / stale).unlink(missing_ok=True)
    try:
        source, notes = submission.load(submission_path, assignment.id)
    except submission.InvalidSubmission as exc:
        return _write(out_dir, _invalid(assignment, options, f"invalid submission: {exc}"))
    with tempfile.TemporaryDirectory(prefix="grade-") as private:
        private = Path(private)
        module_file = private / f"{assignment.id}.py"
        module_file.write_bytes(source)
        config = {
            "module_name": assignment.id,
            "module_file": str(module_file),
            "reference_file": str(assignment.reference) if assignment.reference else None,
            "suites": [str(s) for s in assignment.suites(hidden=options.hidden)],
            "root": str(assignment.folder.parent.parent),  # the course this assignment is from
            "out_dir": str(out_dir.resolve()),
            "sandbox": options.sandbox,
            "cuda": options.cuda,
            "reverse": options.reverse,
            "notes": notes,
            "test_timeout": assignment.test_timeout,
            "limits": dataclasses.asdict(assignment.limits),
        }
        config_file = private / "config.json"
        config_file.write_text(json.dumps(config))
        outcome = _run_harness(config_file, private / "harness.log", options.timeout)
        data = _finish(out_dir, config, outcome, private / "harness.log")
    return _write(out_dir, data)


def _write(out_dir, data):
    results.write_json(out_dir / "results.json", data)
    (out_dir / "feedback.md").write_text(results.feedback_markdown(data), errors="replace")
    return data


def _invalid(assignment, options, message):
    """The grade of a submission that cannot be run: every test failed with why.

    Built from the collected tests, without starting a harness or a worker.
    """
    from .collect import collect
    records, skipped = [], []
    for test in collect(assignment, hidden=options.hidden):
        record = {"name": test["name"], "nodeid": test["nodeid"], "suite": test["suite"],
                  "max_score": test["points"], "visibility": test["visibility"], "duration": 0.0}
        if test["gpu"] and not options.cuda:
            skipped.append(dict(record, reason="needs CUDA, which is not available here"))
        else:
            records.append(dict(record, status="failed", message=message, failure="invalid submission"))
    config = {"module_name": assignment.id, "sandbox": options.sandbox,
              "status": "invalid submission", "notes": []}
    data = results.build(records, skipped, config)
    data["extra_data"]["notes"] = []
    return data


def _run_harness(config_file, log_path, timeout):
    """Run the harness; return None on a normal end, else what went wrong."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-I", "-B", "-m", "grader.harness", str(config_file)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=config_file.parent, start_new_session=True, preexec_fn=die_with_parent)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            return f"the whole grade exceeded {timeout:g} s"
        except BaseException:
            _kill_group(process)
            raise
        _kill_group(process)  # nothing the harness started may outlive it
    return None if code == 0 else f"the grader's harness failed (exit {code})"


def _kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _finish(out_dir, config, problem, log_path):
    """The final results document, whatever happened to the harness."""
    final = out_dir / "results.json"
    partial = out_dir / "results.partial.json"
    if problem is None and final.exists():
        data = json.loads(final.read_text())
    else:
        data = json.loads(partial.read_text()) if partial.exists() else results.build([], [], config)
        log_tail = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
        data["tests"].append({
            "name": "The grader finished every test", "number": str(len(data["tests"]) + 1),
            "score": 0.0, "max_score": 0.0, "status": "failed", "visibility": "visible",
            "output": f"Grading stopped early: {problem or 'no results were written'}. "
                      "Tests not listed above were not run.",
        })
        data["extra_data"]["status"] = "timeout" if "exceeded" in (problem or "") else "crash"
        data["extra_data"]["harness_log"] = log_tail
        partial.unlink(missing_ok=True)
    data["extra_data"]["status"] = _status(data)
    data["extra_data"]["notes"] = config["notes"]
    data["output"] = results.summary(data, config["notes"])
    return data


def _status(data):
    """ok, invalid submission, timeout or crash: the gradebook's status column."""
    current = data["extra_data"].get("status", "ok")
    if current != "ok":
        return current
    kinds = {t.get("extra_data", {}).get("failure") for t in data["tests"] if t["status"] == "failed"}
    for status in ("invalid submission", "timeout", "crash"):
        if status in kinds:
            return status
    return "ok"
