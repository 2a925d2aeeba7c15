"""Batch throughput: N generated polyfit submissions graded with --jobs 1, then --jobs 2.

The class is a fixed mix: half correct, a third buggy (one realistic bug each),
the rest broken (a syntax error, an empty file). Prints submissions per minute
for each job count and the speed-up.

    .venv/bin/python bench/batch_throughput.py [--n 12] [--sandbox auto|none|bwrap]
"""
import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import batch, course  # noqa: E402
from grader.grade import Options  # noqa: E402
from grader.sandbox import bwrap_problem  # noqa: E402

BUGS = [
    ("return 2.0 / len(y) * (X.T @ (X @ w - y))", "return 1.0 / len(y) * (X.T @ (X @ w - y))"),
    ("** np.arange(degree + 1)", "** np.arange(degree, -1, -1)"),
    ("return float(np.mean((y_pred - y) ** 2))", "return float(np.sum((y_pred - y) ** 2))"),
    ("        losses.append(mse_loss(predict(X, w), y))\n        w = gd_step(X, w, y, lr)",
     "        w = gd_step(X, w, y, lr)\n        losses.append(mse_loss(predict(X, w), y))"),
]
BROKEN = ["def poly_features(x, degree)\n    return x\n", ""]


def make_class(folder, n):
    """Write n submissions: correct, buggy and broken, in a fixed order."""
    reference = (ROOT / "reference" / "polyfit" / "polyfit.py").read_text()
    correct = re.sub(r"\s*# (BEGIN|END) SOLUTION", "", reference)
    for i in range(n):
        kind = ("correct", "correct", "correct", "buggy", "buggy", "broken")[i % 6]
        if kind == "correct":
            text = correct
        elif kind == "buggy":
            old, new = BUGS[(i // 6) % len(BUGS)]
            text = correct.replace(old, new)
            assert text != correct, old
        else:
            text = BROKEN[(i // 6) % len(BROKEN)]
        (folder / f"student{i:03d}-{kind}.py").write_text(text)


def measure(source, out, jobs, sandbox):
    started = time.monotonic()
    summary = batch.run(course.load("polyfit"), source, out, jobs=jobs, options=Options(sandbox=sandbox))
    elapsed = time.monotonic() - started
    return len(summary.graded), elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12, help="submissions (default 12)")
    parser.add_argument("--sandbox", choices=("auto", "none", "bwrap"), default="auto")
    args = parser.parse_args()
    sandbox = args.sandbox if args.sandbox != "auto" else ("bwrap" if bwrap_problem() is None else "none")
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "class").mkdir()
        make_class(tmp / "class", args.n)
        rates = {}
        for jobs in (1, 2):
            graded, elapsed = measure(tmp / "class", tmp / f"out-{jobs}", jobs, sandbox)
            rates[jobs] = 60 * graded / elapsed
            print(f"--jobs {jobs}: {graded} submissions in {elapsed:.1f} s = "
                  f"{rates[jobs]:.1f} submissions/min (sandbox {sandbox})", flush=True)
    print(f"speed-up with 2 jobs: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
