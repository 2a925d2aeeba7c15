"""The GPU run (bench/gpu/run.sh calls this): every GPU-marked test on CUDA, then a class.

With CUDA:
1. the sandbox: bwrap when it starts here and torch finds the GPU inside it, else none (said so);
2. `grader grade ID REFERENCE --device cuda` for every assignment with GPU-marked tests:
   every one of them must pass (each one's verdict and time are listed);
3. each GPU-specific corpus submission (tests/corpus/ID/gpu/*.py: a device mismatch, a
   .cpu() round trip, a kernel that never ends, an over-allocation) must lose exactly the
   tests its `# fails:` line names, and their points;
4. a small class (the functions reference, its correct corpus, its GPU bugs) graded with
   `grader batch --device cuda` and again on the CPU, both timed.
Without CUDA: checks that `--device cuda` is refused with a clear message, lists what it
skipped and why, and still writes the results file. Exit status 0 when every check that
could run passed.

    python bench/gpu/check.py [--results bench/results] [--scratch DIR]
"""
import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grader import course, gpus  # noqa: E402
from grader.collect import collect  # noqa: E402
from grader.sandbox import bwrap_cuda_problem, bwrap_problem  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"
CLASS_ASSIGNMENT = "functions"


def grader(*args, timeout=240):
    """`python -m grader ARGS` from the repository, as an instructor runs it: (exit code, output, seconds).

    A lent device gives 10 minutes a command: one stuck grade must not take them all.
    """
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, f"stopped after {timeout} s", time.monotonic() - started
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def header(path, key):
    for line in path.read_text().splitlines():
        if line.startswith(f"# {key}:"):
            return [part.strip() for part in line.split(":", 1)[1].split(",") if part.strip()]
    return []


def gpu_tests():
    """{assignment id: [GPU-marked tests as collect() describes them]} for every assignment that has some."""
    found = {}
    for assignment in course.all_assignments():
        tests = [t for t in collect(assignment) if t["gpu"]]
        if tests:
            found[assignment.id] = tests
    return found


def best_sandbox():
    """(sandbox, why): bwrap where it starts and its worker can use the GPU, else none."""
    problem = bwrap_problem() or bwrap_cuda_problem()
    if problem:
        return "none", f"not bwrap: {problem}"
    return "bwrap", "bwrap starts here and its worker uses the GPU"


def grade(assignment_id, path, out, sandbox):
    code, output, seconds = grader("grade", assignment_id, path, "--device", "cuda", "--sandbox", sandbox,
                                   "--out", out, "--format", "json")
    results = Path(out) / "results.json"
    if code != 0 or not results.exists():
        return None, f"grader grade exited {code}: {output[-600:]}", seconds
    return json.loads(results.read_text()), "", seconds


def check_reference(assignment_id, tests, scratch, sandbox, lines):
    """Every GPU-marked test passes with the reference; one row per test."""
    assignment = course.load(assignment_id)
    data, problem, seconds = grade(assignment_id, assignment.reference, scratch / f"ref-{assignment_id}", sandbox)
    if data is None:
        lines.append(f"| {assignment_id} | (reference) | not graded: {problem} | | |")
        return False
    by_id = {t["extra_data"]["nodeid"]: t for t in data["tests"]}
    ok = True
    for test in tests:
        got = by_id.get(test["nodeid"])
        verdict = got["status"] if got else "not run"
        ok &= verdict == "passed"
        extra = got["extra_data"] if got else {}
        note = "" if verdict == "passed" else (got or {}).get("output", "")[:200].replace("\n", " ")
        lines.append(f"| {assignment_id} | {test['name']} | {verdict} {note} | {extra.get('cpu', '')} s "
                     f"({extra.get('clock', 'cpu')}) | {extra.get('budget', '')} s |")
    lines.append(f"| {assignment_id} | whole grade | {data['score']:g} / {data['extra_data']['max_score']:g}, "
                 f"device {json.dumps((data['extra_data'].get('cuda') or {}).get('device'))} | {seconds:.1f} s wall | |")
    return ok


def check_bug(path, scratch, sandbox, lines):
    """A GPU-specific corpus submission loses exactly the tests its `# fails:` line names."""
    assignment_id = path.parts[-3]
    data, problem, seconds = grade(assignment_id, path, scratch / f"bug-{assignment_id}-{path.stem}", sandbox)
    expected = header(path, "fails")
    if data is None:
        lines.append(f"| {assignment_id}/{path.stem} | {', '.join(expected)} | not graded: {problem} | | |")
        return False
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    ids = [t["extra_data"]["nodeid"] for t in failed]
    exact = len(ids) == len(expected) and all(any(n in i for i in ids) for n in expected)
    lost = data["extra_data"]["max_score"] - data["score"]
    points = sum(t["max_score"] for t in failed)
    ok = exact and lost == points
    said = " / ".join(f"{t['extra_data']['nodeid'].split('::')[-1]}: {t['output'][:160]} "
                      f"[{t['extra_data'].get('failure')}, {t['extra_data'].get('cpu')} s]" for t in failed)
    lines.append(f"| {assignment_id}/{path.stem} | {', '.join(expected)} | {'as expected' if ok else 'WRONG'}: "
                 f"lost {lost:g} point(s) | {said.replace(chr(10), ' ').replace('|', '/')} | {seconds:.1f} s |")
    return ok


def make_class(folder):
    """The functions reference, its correct corpus and its GPU bugs: one .py a student."""
    folder.mkdir(parents=True)
    members = [course.load(CLASS_ASSIGNMENT).reference] + sorted((CORPUS / CLASS_ASSIGNMENT / "correct").glob("*.py"))
    members += sorted((CORPUS / CLASS_ASSIGNMENT / "gpu").glob("*.py"))
    for number, path in enumerate(members):
        shutil.copy(path, folder / f"student{number:02d}_{path.stem}.py")
    return len(members)


def time_class(folder, out, device, sandbox, jobs):
    """(exit code, wall seconds, each student's total/max) of `grader batch` on the class."""
    code, output, seconds = grader("batch", CLASS_ASSIGNMENT, folder, "--out", out, "--device", device,
                                   "--sandbox", sandbox, "--jobs", jobs, "--no-similarity")
    book = Path(out) / "gradebook.csv"
    if code != 0 or not book.exists():
        return code, seconds, output[-300:].replace("\n", " ")
    rows = csv.DictReader(book.open())
    return code, seconds, ", ".join(f"{r['student'].split('_', 1)[1]} {r['total']}/{r['max']}" for r in rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--scratch", default=None)
    args = parser.parse_args(argv)
    started = time.monotonic()
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="gpu-run-"))
    shutil.rmtree(scratch, ignore_errors=True)  # a batch would resume from an earlier run's grades
    scratch.mkdir(parents=True)
    os.environ.setdefault("GRADER_CACHE_DIR", str(scratch / "cache"))  # budgets calibrated on this machine, now
    import torch
    problem = gpus.cuda_problem()
    today = datetime.date.today().isoformat()
    lines = [f"# GPU run, {today}", "",
             f"- machine: {platform.node()}, {platform.platform()}, Python {platform.python_version()}",
             f"- torch {torch.__version__} (CUDA {torch.version.cuda}), numpy {__import__('numpy').__version__}"]
    tests = gpu_tests()
    listed = ", ".join(f"{a} ({len(t)})" for a, t in tests.items())
    bugs = sorted(CORPUS.glob("*/gpu/*.py"))
    ok = True
    if problem:
        code, output, _ = grader("grade", "polyfit", course.load("polyfit").reference, "--device", "cuda",
                                 "--out", scratch / "refused")
        refused = code == 2 and "--device cuda asked for CUDA" in output
        ok &= refused
        lines += [f"- CUDA: **not available** ({problem})", "",
                  "## What ran", "",
                  f"- `grader grade polyfit ... --device cuda` exits {code}"
                  f"{' with a clear message (as it must)' if refused else ' (WRONG: expected 2 and a message)'}:",
                  f"  `{output.strip().splitlines()[-1] if output.strip() else ''}`", "",
                  "## Skipped: they need CUDA", "",
                  f"- the GPU-marked tests with the reference: {listed}",
                  f"- the GPU-specific corpus submissions: {', '.join(f'{p.parts[-3]}/{p.stem}' for p in bugs)}",
                  f"- the class ({CLASS_ASSIGNMENT}) with `grader batch --device cuda`, and its CPU baseline"]
    else:
        sandbox, why = best_sandbox()
        devices = gpus.device_ids()
        lines += [f"- CUDA: {torch.cuda.get_device_name(0)} ({len(devices)} GPU(s): {', '.join(devices)}; "
                  f"{torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB)",
                  f"- sandbox: **{sandbox}** ({why})", "",
                  "## Every GPU-marked test with the reference", "",
                  "| assignment | test | verdict | time (clock) | budget |", "|---|---|---|---|---|"]
        for assignment_id, found in tests.items():
            ok &= check_reference(assignment_id, found, scratch, sandbox, lines)
        lines += ["", "## GPU-specific bugs: each loses exactly its tests", "",
                  "| submission | must fail | verdict | what the student reads [failure, time] | grade wall |",
                  "|---|---|---|---|---|"]
        for path in bugs:
            ok &= check_bug(path, scratch, sandbox, lines)
        size = make_class(scratch / "class")
        jobs = str(len(devices))
        cpu = time_class(scratch / "class", scratch / "class-cpu", "cpu", sandbox, jobs)
        gpu = time_class(scratch / "class", scratch / "class-cuda", "cuda", sandbox, jobs)
        ok &= cpu[0] == 0 and gpu[0] == 0
        lines += ["", f"## A class: {size} `{CLASS_ASSIGNMENT}` submissions, `--jobs {jobs}`, sandbox {sandbox}", "",
                  "| device | exit | wall | scores |", "|---|---|---|---|",
                  f"| cpu | {cpu[0]} | {cpu[1]:.1f} s | {cpu[2]} |",
                  f"| cuda | {gpu[0]} | {gpu[1]:.1f} s | {gpu[2]} |"]
    lines += ["", f"Result: {'every check that could run passed' if ok else 'SOME CHECKS FAILED'} "
              f"({time.monotonic() - started:.0f} s in all)."]
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    report = results / f"gpu-{today}.md"
    report.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwrote {report}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
