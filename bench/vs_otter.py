"""Side by side with Otter-Grader on the same 20-submission polyfit class, in one run.

Otter: `otter run -a autograder.zip` per notebook (no sandbox), each under an
outside 30 s whole-submission timeout since `otter run` has none, one at a
time and then 2 at a time. Ours: `grader batch polyfit DIR --sandbox bwrap`
with `--jobs 1` and `--jobs 2`, a fresh output folder each time so nothing is
resumed. The class comes from bench/polyfit_class.py; Otter's tests
(bench/otter/tests) hold the same checks as our public and hidden suites and
are packed by `otter generate`.

Prints wall time and CPU time (the machine's busy time during each run, so
run it on an idle machine) for each side, the ratios Otter / ours, and each
submission's score as a fraction of the maximum, side by side.

Otter is installed on first use into its own venv ($OTTER_VENV, default
bench/.otter-venv, ignored by git), with the numpy it brings and an ipykernel
to run notebooks; never torch.
Usage: .venv/bin/python bench/vs_otter.py [--out DIR] [--jobs-only N] [--skip-otter] [--grader-root DIR]
"""
import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polyfit_class
from grader.procs import kill_pids, process_tree, subtree

ROOT = Path(__file__).resolve().parent.parent
OTTER_TESTS = ROOT / "bench" / "otter" / "tests"
OTTER_REQUIREMENTS = ["otter-grader==7.0.0", "ipykernel>=6.29,<8"]
OTTER_TIMEOUT = 30          # seconds per submission, applied from outside (as in issue 11)
OURS_BACKSTOP = 3600        # seconds for a whole batch; only against a hung benchmark
_PR_SET_CHILD_SUBREAPER = 36


def otter_venv() -> Path:
    """The venv holding Otter, created and filled on first use."""
    venv = Path(os.environ.get("OTTER_VENV", ROOT / "bench" / ".otter-venv"))
    python = venv / "bin" / "python"
    if not (venv / "bin" / "otter").exists():
        print(f"installing {' '.join(OTTER_REQUIREMENTS)} into {venv} ...", flush=True)
        system_python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
        subprocess.run([system_python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        *OTTER_REQUIREMENTS], check=True)
    check = ("import importlib.util, numpy, otter, ipykernel; "
             "assert importlib.util.find_spec('torch') is None, 'torch in the Otter venv'; "
             "print(otter.__version__, numpy.__version__)")
    versions = subprocess.run([str(python), "-c", check], check=True, capture_output=True, text=True)
    print(f"Otter-Grader {versions.stdout.split()[0]} (numpy {versions.stdout.split()[1]}) in {venv}")
    return venv


def otter_env(venv: Path) -> dict:
    """The environment of an Otter run: its venv first on PATH, nothing of ours."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def build_autograder(venv: Path, work: Path) -> Path:
    """autograder.zip from bench/otter/tests, by `otter generate` in an empty folder."""
    folder = work / "otter-autograder"
    folder.mkdir(parents=True)
    subprocess.run([str(venv / "bin" / "otter"), "generate", "-t", str(OTTER_TESTS), "-o", "autograder.zip",
                    "--no-config", "--no-requirements", "--no-environment"],
                   cwd=folder, env=otter_env(venv), check=True, capture_output=True)
    return folder / "autograder.zip"


def become_subreaper() -> None:
    """Orphaned descendants (a killed run's kernel) get reparented here, so end_phase() finds them."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1)


def machine_cpu() -> float:
    """CPU seconds this machine has been busy (every process: /proc/stat).

    rusage cannot count our side: a sandboxed worker that is killed dies
    with its PID namespace and is reaped by no one this process waits for,
    so its CPU would go uncounted. Busy time of the whole machine counts
    everything, including what else runs here: compare on an idle machine.
    """
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def end_phase() -> None:
    """Kill whatever a phase left behind and reap it."""
    leftovers = [pid for pid in subtree(process_tree(), os.getpid()) if pid != os.getpid()]
    kill_pids(leftovers)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


def kill_tree(process: subprocess.Popen) -> None:
    kill_pids(subtree(process_tree(), process.pid))
    process.wait()


def otter_one(venv: Path, autograder: Path, notebook: Path, out: Path, timeout: float) -> dict:
    """Grade one notebook with `otter run` under the outside timeout."""
    out.mkdir(parents=True)
    started = time.perf_counter()
    with open(out / "otter.log", "wb") as log:
        process = subprocess.Popen(
            [str(venv / "bin" / "otter"), "run", "-a", str(autograder), "-o", str(out), "--no-logo",
             str(notebook)], cwd=out, env=otter_env(venv), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        try:
            code = process.wait(timeout=timeout)
            status = "ok" if code == 0 else f"exit {code}"
        except subprocess.TimeoutExpired:
            kill_tree(process)
            status = f"timeout {timeout:g}s"
    elapsed = time.perf_counter() - started
    results = out / "results.json"
    if not results.exists():
        return {"fraction": 0.0, "status": f"no result, {status}", "seconds": elapsed}
    tests = [t for t in json.loads(results.read_text())["tests"] if t.get("max_score")]
    total, maximum = sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)
    return {"fraction": total / maximum, "status": status, "seconds": elapsed}


def run_otter(venv: Path, autograder: Path, notebooks: Path, out: Path, jobs: int, timeout: float) -> dict:
    """Every notebook through `otter run`, `jobs` at a time."""
    students = sorted(p.stem for p in notebooks.glob("*.ipynb"))
    cpu, started, load = machine_cpu(), time.perf_counter(), os.getloadavg()[0]
    with ThreadPoolExecutor(jobs) as pool:
        grades = dict(zip(students, pool.map(
            lambda s: otter_one(venv, autograder, notebooks / f"{s}.ipynb", out / s, timeout), students)))
    wall = time.perf_counter() - started
    end_phase()
    return {"wall": wall, "cpu": machine_cpu() - cpu, "grades": grades, "load": (load, os.getloadavg()[0])}


def run_ours(grader_root: Path, modules: Path, out: Path, jobs: int) -> dict:
    """`grader batch polyfit` on the modules, bwrap, into a fresh folder.

    The similarity analysis, when this grader has one, is left out: Otter does
    nothing of the kind, and this compares grading.
    """
    python = next((p for p in (grader_root / ".venv" / "bin" / "python", ROOT / ".venv" / "bin" / "python")
                   if p.exists()), Path(sys.executable))
    command = [str(python), "-m", "grader", "batch", "polyfit",
               str(modules), "--jobs", str(jobs), "--sandbox", "bwrap", "--out", str(out)]
    usage = subprocess.run(command[:4] + ["--help"], cwd=grader_root, capture_output=True, text=True, check=True)
    if "--no-similarity" in usage.stdout:
        command.append("--no-similarity")
    cpu, started, load = machine_cpu(), time.perf_counter(), os.getloadavg()[0]
    with open(out.parent / f"{out.name}.log", "wb") as log:
        subprocess.run(command, cwd=grader_root, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       timeout=OURS_BACKSTOP, check=True)
    wall = time.perf_counter() - started
    end_phase()
    grades = {}
    for results in sorted(out.glob("*/results.json")):
        data = json.loads(results.read_text())
        extra = data.get("extra_data", {})
        grades[results.parent.name] = {"fraction": data["score"] / extra["max_score"],
                                       "status": extra.get("status", "ok"),
                                       "seconds": data.get("execution_time", 0.0)}
    return {"wall": wall, "cpu": machine_cpu() - cpu, "grades": grades, "load": (load, os.getloadavg()[0])}


def print_times(runs: dict) -> None:
    print(f"\n{'':<8}{'jobs':>5}{'wall':>10}{'cpu':>10}   load average (start, end); cpu: the machine's busy time")
    for (side, jobs), run in runs.items():
        print(f"{side:<8}{jobs:>5}{run['wall']:9.1f}s{run['cpu']:9.1f}s   {run['load'][0]:.1f}, {run['load'][1]:.1f}")
    for jobs in sorted({jobs for _, jobs in runs}):
        if ("otter", jobs) in runs and ("ours", jobs) in runs:
            otter, ours = runs["otter", jobs], runs["ours", jobs]
            print(f"--jobs {jobs}: Otter / ours = {otter['wall'] / ours['wall']:.2f}x wall, "
                  f"{otter['cpu'] / ours['cpu']:.2f}x CPU")


def print_scores(runs: dict, students: list[str]) -> None:
    columns = list(runs)
    header = "".join(f"{f'{side} --jobs {jobs}':>38}" for side, jobs in columns)
    print(f"\n{'submission':<28}{header}")
    for student in students:
        cells = []
        for key in columns:
            grade = runs[key]["grades"].get(student)
            cells.append("missing" if grade is None else
                         f"{grade['fraction']:6.2f} {grade['status'][:24]:<24}{grade['seconds']:6.1f}s")
        print(f"{student:<28}" + "".join(f"{c:>38}" for c in cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="keep the class, Otter's and our outputs here")
    parser.add_argument("--jobs-only", type=int, choices=(1, 2), help="only this parallelism")
    parser.add_argument("--skip-otter", action="store_true", help="only our batch")
    parser.add_argument("--otter-timeout", type=float, default=OTTER_TIMEOUT,
                        help=f"seconds per `otter run`, applied from outside (default {OTTER_TIMEOUT})")
    parser.add_argument("--grader-root", type=Path, default=ROOT,
                        help="run `grader batch` from this checkout, with its .venv if it has one "
                             "(default: this one)")
    args = parser.parse_args()
    become_subreaper()
    work = args.out or Path(tempfile.mkdtemp(prefix="vs-otter-"))
    for stale in ("class", "otter-autograder", "otter-j1", "otter-j2", "ours-j1", "ours-j2"):
        shutil.rmtree(work / stale, ignore_errors=True)
    modules, notebooks = polyfit_class.write(work / "class")
    students = sorted(p.stem for p in modules.glob("*.py"))
    print(f"{len(students)} polyfit submissions in {work / 'class'}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if not args.skip_otter:
        venv = otter_venv()
        autograder = build_autograder(venv, work)
    runs = {}
    for jobs in [args.jobs_only] if args.jobs_only else [1, 2]:
        if not args.skip_otter:
            runs["otter", jobs] = run_otter(venv, autograder, notebooks, work / f"otter-j{jobs}", jobs,
                                           args.otter_timeout)
            print(f"otter --jobs {jobs}: {runs['otter', jobs]['wall']:.1f}s", flush=True)
        runs["ours", jobs] = run_ours(args.grader_root.resolve(), modules, work / f"ours-j{jobs}", jobs)
        print(f"ours  --jobs {jobs}: {runs['ours', jobs]['wall']:.1f}s", flush=True)
    print_times(runs)
    print_scores(runs, students)
    for (side, jobs), run in runs.items():
        capped = [s for s, g in run["grades"].items() if "timeout" in g["status"] and s not in polyfit_class.HANGS]
        if side == "otter" and capped:
            print(f"warning: otter --jobs {jobs}: {len(capped)} submission(s) that finish on their own reached "
                  f"the {args.otter_timeout:g} s timeout ({', '.join(capped)}): the machine is too loaded "
                  "for these figures to compare")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}; outputs in {work}")
    if not args.out:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
