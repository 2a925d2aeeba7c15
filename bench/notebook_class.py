"""The notebook class (tests/notebooks/polyfit: correct answers, one student habit each) against its baseline.

Grades the class with `grader batch --jobs 2`, then, in the same run, as many
copies of the reference as a plain .py (the same answers without a notebook),
and prints wall clock, the import CPU per submission and the ratio. The class
holds one stuck experiment cell, which costs its cell budget (10 s of CPU).
Only issue 16's habits (notebook_habits.HABITS) are graded, as when these
figures were first taken; issue 21's join the class in tests/.

    .venv/bin/python bench/notebook_class.py [--sandbox auto|none|bwrap] [--jobs 2]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLASS = ROOT / "tests" / "notebooks" / "polyfit"
sys.path.insert(0, str(ROOT / "tests"))
import notebook_habits  # noqa: E402  (the class's builder: which students are issue 16's)
REFERENCE = ROOT / "reference" / "polyfit" / "polyfit.py"


def grade_batch(folder, out, sandbox, jobs):
    """(wall seconds, CPU seconds the submissions' workers used, {student: results})."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "grader", "batch", "polyfit", str(folder), "--out", str(out),
                    "--jobs", str(jobs), "--sandbox", sandbox, "--no-similarity"],
                   cwd=ROOT, check=True, capture_output=True)
    wall = time.monotonic() - started
    found = {p.parent.name: json.loads(p.read_text()) for p in Path(out).glob("*/results.json")}
    cpu = sum((d["extra_data"].get("import_cpu") or 0.0) +
              sum(t.get("extra_data", {}).get("cpu") or 0.0 for t in d["tests"]) for d in found.values())
    return wall, cpu, found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", default="auto")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    notebooks = sorted(CLASS / f"{name}.ipynb" for name in notebook_habits.HABITS)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        plain, chosen = scratch / "plain", scratch / "notebooks"
        plain.mkdir()
        chosen.mkdir()
        for notebook in notebooks:
            shutil.copy(notebook, chosen / notebook.name)
        correct = re.sub(r"\s*# (BEGIN|END) SOLUTION", "", REFERENCE.read_text())
        for notebook in notebooks:
            (plain / f"{notebook.stem}.py").write_text(correct)
        rows = {}
        for label, folder in (("notebooks", chosen), (".py baseline", plain)):
            out = scratch / f"out-{label.strip('.').split()[0]}"
            shutil.rmtree(out, ignore_errors=True)
            rows[label] = grade_batch(folder, out, args.sandbox, args.jobs)
    print(f"{len(notebooks)} submissions, --jobs {args.jobs}, --sandbox {args.sandbox}, "
          f"load average {os.getloadavg()[0]:.1f}")
    for label, (wall, cpu, found) in rows.items():
        full = sum(1 for d in found.values() if d["score"] == d["extra_data"]["max_score"])
        imports = sorted(d["extra_data"].get("import_cpu") or 0.0 for d in found.values())
        print(f"{label:>13}: {wall:6.1f} s wall, {cpu:6.1f} s worker CPU, {full}/{len(found)} full marks, "
              f"import CPU median {imports[len(imports) // 2]:.2f} s, max {imports[-1]:.2f} s")
    (wall_nb, cpu_nb, _), (wall_py, cpu_py, _) = rows["notebooks"], rows[".py baseline"]
    print(f"notebooks / .py: {wall_nb / wall_py:.2f}x wall, {cpu_nb - cpu_py:+.1f} s worker CPU")
    slowest = max(rows["notebooks"][2].items(), key=lambda kv: kv[1]["execution_time"])
    print(f"slowest notebook: {slowest[0]} ({slowest[1]['execution_time']:.1f} s, "
          f"import CPU {slowest[1]['extra_data'].get('import_cpu')} s)")


if __name__ == "__main__":
    main()
