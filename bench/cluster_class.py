"""A class graded on a Dask cluster: throughput, and the batch process's peak memory.

Starts a TLS scheduler and two workers (one thread each) as separate
processes with the `dask` command line, bound to 127.0.0.1 with the
dashboards local, then runs `grader batch polyfit CLASS --cluster tls://...`
as its own process for each class size (default 200, then 1,000; the mix of
bench/batch_throughput.py: half correct, a third buggy, the rest broken) and
prints its wall time, submissions per minute and peak RSS (the batch
process alone, from wait4). The client streams submissions (only the grades
in flight are in memory while grading); the end of the run (code similarity,
gradebook.csv, report.html) still reads every stored result.

    nice -n 10 .venv/bin/python bench/cluster_class.py [--sizes 200 1000] [--sandbox auto|bwrap|none]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from batch_throughput import make_class  # noqa: E402
from grader.batch.tls import make_certs  # noqa: E402
from grader.sandbox import bwrap_problem  # noqa: E402

DASK = str(Path(sys.executable).parent / "dask")


def tls(certs, role):
    return ["--tls-ca-file", str(certs / "ca.pem"), "--tls-cert", str(certs / f"{role}.pem"),
            "--tls-key", str(certs / f"{role}-key.pem")]


def start_cluster(folder, certs, workers=2):
    info = folder / "scheduler.json"
    processes = [subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--protocol", "tls", "--no-dashboard",
         "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(info), *tls(certs, "scheduler")],
        stdout=subprocess.DEVNULL, stderr=open(folder / "scheduler.log", "wb"))]
    while not (info.exists() and info.stat().st_size):
        time.sleep(0.1)
    address = json.loads(info.read_text())["address"]
    for n in range(workers):
        processes.append(subprocess.Popen(
            [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
             "--dashboard-address", "127.0.0.1:0", "--host", "127.0.0.1", "--protocol", "tls",
             "--local-directory", str(folder / "dask"), *tls(certs, "worker")],
            stdout=subprocess.DEVNULL, stderr=open(folder / f"worker-{n}.log", "wb")))
    for n in range(workers):
        while b"Registered to" not in (folder / f"worker-{n}.log").read_bytes():
            time.sleep(0.1)
    return address, processes


def grade_class(address, certs, source, out, sandbox):
    """Run the batch as its own process; (wall seconds, peak RSS in MiB, its last output lines)."""
    command = [sys.executable, "-m", "grader", "batch", "polyfit", str(source), "--out", str(out),
               "--cluster", address, "--certs", str(certs), "--sandbox", sandbox]
    log = open(out.parent / f"{out.name}.log", "w+")
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    log.seek(0)
    tail = [line for line in log.read().splitlines() if line.startswith(("done:", "the batch", "grader:"))]
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the batch failed: {tail}")
    return elapsed, usage.ru_maxrss / 1024, tail


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--sandbox", choices=("auto", "none", "bwrap"), default="auto")
    args = parser.parse_args()
    sandbox = args.sandbox if args.sandbox != "auto" else ("bwrap" if bwrap_problem() is None else "none")
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as scratch:
        scratch = Path(scratch)
        certs = scratch / "certs"
        make_certs(certs)
        address, processes = start_cluster(scratch, certs)
        try:
            print(f"cluster: {address}, 2 workers x 1 thread, sandbox {sandbox}, {os.cpu_count()} cores, "
                  f"load {os.getloadavg()[0]:.1f}")
            print(f"{'submissions':>11} {'wall (s)':>9} {'per minute':>10} {'peak RSS (MiB)':>15}")
            for size in args.sizes:
                source = scratch / f"class-{size}"
                source.mkdir()
                make_class(source, size)
                elapsed, peak, tail = grade_class(address, certs, source, scratch / f"out-{size}", sandbox)
                print(f"{size:>11} {elapsed:>9.1f} {60 * size / elapsed:>10.1f} {peak:>15.1f}", flush=True)
                print("   " + " | ".join(tail), flush=True)
        finally:   # the workers first: one told to stop while its scheduler closes can hang in Dask
            for group in (processes[1:], processes[:1]):
                for process in group:
                    process.terminate()
                for process in group:
                    try:
                        process.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()

if __name__ == "__main__":
    main()
