"""A class's grades: gradebook.csv and report.html, rebuilt from DIR/<student>/results.json.

Both are regenerated from every results file under the batch folder at the
end of every run, so they always agree with what is on disk, whichever run
graded which student.
"""
import base64
import csv
import dataclasses
import io
import json
import statistics
from collections import Counter
from pathlib import Path

import jinja2

from .course import TEMPLATES
from .files import atomic_write
from .results import failed_cells
from .vocabulary import GRADE_STATUSES, Outcome

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclasses.dataclass
class Row:
    student: str
    data: dict

    @property
    def total(self):
        return self.data["score"]

    @property
    def max(self):
        return self.data["extra_data"]["max_score"]

    @property
    def status(self):
        return self.data["extra_data"].get("status", Outcome.OK)

    @property
    def tests(self):
        """The real tests (the harness's 'stopped early' marker has no node id)."""
        return [t for t in self.data["tests"] if t.get("extra_data", {}).get("nodeid")]

    @property
    def failed_cells(self):
        """The notebook cells that did not run to their end (none for a .py submission)."""
        return failed_cells(self.data)

    @property
    def graded(self):
        """False for the record of a submission the grader could not grade (counted apart)."""
        return self.status != Outcome.NOT_GRADED

    @property
    def message(self):
        """Why the status is not ok, in one line ('' when it is ok)."""
        if self.status == Outcome.OK:
            return ""
        if not self.graded:
            return self.data["extra_data"].get("not_graded", "")[:300]
        for test in self.data["tests"]:
            if test["status"] == "failed" and test.get("output", "").strip():
                return test["output"].strip().splitlines()[0][:300]
        return self.status


def load_rows(out_dir):
    """Every student's results under out_dir, sorted by student."""
    rows = []
    for path in sorted(Path(out_dir).glob("*/results.json")):
        if path.parent.name.startswith("."):
            continue
        try:
            rows.append(Row(path.parent.name, json.loads(path.read_text())))
        except (OSError, ValueError):
            continue  # written atomically, so only a foreign file can be broken
    return sorted(rows, key=lambda r: r.student.lower())


def test_columns(rows):
    """{node id: test name} in grading order, from the students who ran the most tests."""
    columns = {}
    for row in sorted(rows, key=lambda r: -len(r.tests)):
        for test in row.tests:
            columns.setdefault(test["extra_data"]["nodeid"], test["name"])
    return columns


def write_gradebook(out_dir, rows):
    """gradebook.csv: student, total, max, status, message, then one score column per test."""
    return atomic_write(Path(out_dir) / "gradebook.csv", gradebook_text(rows))


def gradebook_text(rows):
    """gradebook.csv's text (a student not graded has an empty total and max)."""
    columns = test_columns(rows)
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["student", "total", "max", "status", "message", *map(_cell, columns.values())])
    for row in rows:
        scores = {t["extra_data"]["nodeid"]: f"{t['score']:g}" for t in row.tests}
        total, maximum = (f"{row.total:g}", f"{row.max:g}") if row.graded else ("", "")
        writer.writerow([_cell(row.student), total, maximum, row.status,
                         _cell(row.message), *(scores.get(n, "") for n in columns)])
    return text.getvalue()


def _cell(text):
    """Keep spreadsheets from running a student's message as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def write_report(out_dir, rows, assignment_id, elapsed=None, similarity=None):
    """report.html: one self-contained page (charts embedded as PNG)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    page = environment.get_template("report.html.j2").render(
        **report_context(rows, assignment_id, elapsed), similarity=similarity)
    return atomic_write(Path(out_dir) / "report.html", page)


def report_context(rows, assignment_id, elapsed=None):
    """What report.html shows; the statistics count only the students graded (not the not graded)."""
    every, rows = rows, [r for r in rows if r.graded]
    totals = [r.total for r in rows]
    maximum = max((r.max for r in rows), default=0.0)
    counts = Counter(r.status for r in every)
    tests = _test_stats(rows)
    return {
        "assignment": assignment_id,
        "students": len(every),
        "not_graded": [r for r in every if not r.graded],
        "maximum": maximum,
        "mean": statistics.fmean(totals) if totals else 0.0,
        "median": statistics.median(totals) if totals else 0.0,
        "lowest": min(totals, default=0.0),
        "highest": max(totals, default=0.0),
        "full_marks": sum(1 for r in rows if r.max and r.total == r.max),
        "statuses": [(s, counts.get(s, 0)) for s in GRADE_STATUSES],
        "elapsed": elapsed,
        "histogram": _histogram_png(totals, maximum, assignment_id),
        "pass_rates": _pass_rate_png(tests),
        "hardest": [t for t in sorted(tests, key=lambda t: t["rate"]) if t["failed"]][:8],
        "slowest": sorted(rows, key=lambda r: -r.data.get("execution_time", 0.0))[:8],
        "invalid": [r for r in rows if r.status != Outcome.OK],
        "notebooks": sum(1 for r in rows if r.data["extra_data"].get("cells") is not None),
        "failing_cells": [r for r in rows if r.failed_cells],
        "chosen": [r for r in rows if r.data["extra_data"].get("chosen")],
        "rows": every,
    }


def _test_stats(rows):
    stats = []
    for nodeid, name in test_columns(rows).items():
        results = [t for r in rows for t in r.tests if t["extra_data"]["nodeid"] == nodeid]
        failed = [t for t in results if t["status"] != "passed"]
        graded = [t for r in rows if r.status != Outcome.INVALID
                  for t in r.tests if t["extra_data"]["nodeid"] == nodeid and t["status"] != "passed"]
        messages = Counter(t["output"].strip().splitlines()[0][:240]
                           for t in graded if t.get("output", "").strip())
        stats.append({"name": name, "graded": len(results), "failed": len(failed),
                      "rate": (len(results) - len(failed)) / len(results) if results else 0.0,
                      "messages": messages.most_common(3)})
    return stats


def _pyplot():
    """matplotlib, headless. Imported on first use: it costs every other command half a second."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png(figure):
    plt = _pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _histogram_png(totals, maximum, assignment_id):
    figure, axes = _pyplot().subplots(figsize=(7, 3.2))
    upper = maximum or max(totals, default=1.0) or 1.0
    axes.hist(totals, bins=min(20, max(5, int(upper))), range=(0, upper),
              color="#3b73b9", edgecolor="white")
    axes.set_xlabel(f"score (out of {upper:g})")
    axes.set_ylabel("students")
    axes.set_title(f"{assignment_id}: score distribution ({len(totals)} students)")
    axes.yaxis.get_major_locator().set_params(integer=True)
    return _png(figure)


def _pass_rate_png(tests):
    height = max(2.0, 0.28 * len(tests) + 0.8)
    figure, axes = _pyplot().subplots(figsize=(7, height))
    labels = [_short(t["name"]) for t in tests]
    rates = [100 * t["rate"] for t in tests]
    colors = ["#c0392b" if r < 50 else "#e6a23c" if r < 80 else "#2e8b57" for r in rates]
    axes.barh(range(len(tests)), rates, color=colors)
    axes.set_yticks(range(len(tests)), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("students passing (%)")
    axes.set_title("pass rate per test")
    return _png(figure)


def _short(name, width=60):
    return name if len(name) <= width else name[: width - 1] + "…"
