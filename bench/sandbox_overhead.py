"""What the sandbox costs: grade the reference of each assignment three ways.

1. `grade()` with the bwrap sandbox (what instructors run);
2. `grade()` with no sandbox (a plain worker subprocess);
3. baseline: the same suites in ONE plain pytest process, the reference
   imported directly and called in-process (no worker, no codec, no harness
   subprocess) — what a naive, unsafe grader would do, in a fresh process
   per assignment (see baseline()); like a naive grader's run per
   submission, it collects the suites itself.
The warm figure is the median of three grades from one server.

Prints wall times and the ratios against the baseline, from one run, and
the reference's score, and each assignment's target for the bwrap grade
(issue 11): 1.5x the baseline for a numpy-only assignment, the baseline plus
one `import torch` (`python -c "import torch"`, timed in the same run) plus
0.5 s for a torch assignment. The in-process score can be lower: a "numpy only"
probe sees the torch that the harness itself imported, which is the kind of
cross-talk the worker exists to prevent.
Each side computes on one thread: workers run with OMP_NUM_THREADS=1 and
the like (grader/sandbox/base.py: a grade's CPU budget must not depend on
how busy the machine is), and this process takes the same settings before
numpy or torch is imported, so the figures compare the grading machinery,
not thread counts; a batch gives each grade one core anyway.
Usage: python bench/sandbox_overhead.py [ASSIGNMENT ...]
"""
import contextlib
import importlib.util
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grader.sandbox.base import worker_env

ONE_THREAD = {key: value for key, value in worker_env().items() if key.endswith("_NUM_THREADS")}
if any(os.environ.get(key) != value for key, value in ONE_THREAD.items()):
    # numpy and torch read these when they are loaded, which importing grader already did
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **ONE_THREAD})

from grader import codec, course
from grader.plugin import GraderPlugin, pytest_args
from grader.grade import Options, grade
from grader.warm import HarnessServer


def plain(value):
    """The value as the harness would receive it (same data, no process boundary)."""
    return codec.decode(codec.encode(value))


class InProcessStudent:
    """The `student` fixture of a naive grader: the module imported right here."""

    def __init__(self, path, name):
        spec = importlib.util.spec_from_file_location(name, path)
        self.module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.module)

    def call(self, fn, *args, **kwargs):
        target = self.module
        for part in fn.split("."):
            target = getattr(target, part)
        return plain(target(*args, **kwargs))

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def call_and_inputs(self, fn, *args, **kwargs):
        return self.call(fn, *args, **kwargs), list(args)

    def many(self, fn, arg_lists):
        return [self.call(fn, *args) for args in arg_lists]

    def probe(self, function, *args, label=None, **kwargs):
        return plain(function(self.module, *args, **kwargs))

    import_cpu = None  # budgets are not counted in-process

    def begin_test(self, budget, label, reference_cpu=None, on_device=False):
        """No budget: the baseline grader trusts the code it runs."""

    def test_cpu(self):
        return None

    def end_test(self):
        return None

    def spawn(self):
        """Nothing to start: the module is already imported here."""

    def close(self):
        """Nothing to stop."""

    def output(self):
        return ""


def baseline(assignment, out):
    """(seconds, score) of the naive grader, run in a fresh process of its own.

    That process has imported grader, pytest, numpy and, for a torch
    assignment, torch (the target counts one `import torch` apart) before the
    clock starts; whatever the suites or the reference import lazily (torch's
    sympy, torch._dynamo) it pays inside the run, as each naive run would.
    """
    command = [sys.executable, __file__, "--baseline", assignment.id, str(out)]
    return tuple(json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout))


def naive_grade(assignment, out):
    """The naive grader's run in this process: see baseline()."""
    if "torch" not in assignment.limits.blocked_modules:
        importlib.import_module("torch")
    settings = {"module_name": assignment.id, "reference_file": str(assignment.reference),
                "out_dir": str(out), "test_timeout": 60, "sandbox": "none", "limits": {},
                "notes": []}
    started = time.perf_counter()
    grader_plugin = GraderPlugin(
        settings, student_factory=lambda _: (InProcessStudent(assignment.reference, assignment.id), None))
    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main(pytest_args(assignment.suites(), assignment.course_root, "-p", "no:timeout"),
                    plugins=[grader_plugin])
    elapsed = time.perf_counter() - started
    data = json.loads((Path(out) / "results.json").read_text())
    return elapsed, data["score"]


def timed_grade(assignment, sandbox, out, harness=None):
    started = time.perf_counter()
    data = grade(assignment, assignment.reference, out, Options(sandbox=sandbox), harness=harness)
    return time.perf_counter() - started, data["score"]


def warm_grade(assignment, out, repeats=3):
    """A grade as a batch makes it: the harness forked from a warm server (started and used
    once before); the median of `repeats` grades, each scored the same."""
    with HarnessServer(assignment.suites(), assignment.course_root) as server:
        timed_grade(assignment, "bwrap", Path(out) / "first", server)
        runs = [timed_grade(assignment, "bwrap", Path(out) / f"warm{i}", server) for i in range(repeats)]
    assert len({score for _, score in runs}) == 1, runs
    return statistics.median(seconds for seconds, _ in runs), runs[0][1]


def import_torch_seconds():
    """Wall time of `python -c "import torch"`, the best of three."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        times.append(time.perf_counter() - started)
    return min(times)


def target(assignment, base, torch_import):
    """The bwrap grade time issue 11 asks for."""
    if "torch" in assignment.limits.blocked_modules:
        return 1.5 * base
    return base + torch_import + 0.5


def main(ids):
    assignments = [course.load(i) for i in ids] if ids else course.all_assignments()
    torch_import = import_torch_seconds()
    print(f"python -c 'import torch': {torch_import:.2f}s")
    print("none, bwrap: a fresh harness interpreter per grade (`grader grade`); "
          "warm: bwrap, the harness forked from a warm server (`grader batch`)")
    print(f"{'assignment':<11} {'baseline':>9} {'none':>9} {'bwrap':>9} {'warm':>9} {'bwrap/base':>11} "
          f"{'warm/base':>10} {'target':>9}   score")
    for assignment in assignments:
        with tempfile.TemporaryDirectory() as tmp:
            base, base_score = baseline(assignment, tmp)
            plain, plain_score = timed_grade(assignment, "none", Path(tmp) / "none")
            boxed, boxed_score = timed_grade(assignment, "bwrap", Path(tmp) / "bwrap")
            warm, warm_score = warm_grade(assignment, tmp)
        assert plain_score == boxed_score == warm_score, (plain_score, boxed_score, warm_score)
        goal = target(assignment, base, torch_import)
        print(f"{assignment.id:<11} {base:8.2f}s {plain:8.2f}s {boxed:8.2f}s {warm:8.2f}s {boxed / base:10.2f}x "
              f"{warm / base:9.2f}x {goal:8.2f}s {'met' if warm <= goal else 'MISSED':>6}   "
              f"{boxed_score:g} ({base_score:g} in-process)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--baseline"]:
        print(json.dumps(naive_grade(course.load(sys.argv[2]), sys.argv[3])))
    else:
        main(sys.argv[1:])
