"""A grade: results.json in Gradescope's schema, and feedback.md for people."""
import json
from pathlib import Path

from . import __version__
from .files import atomic_write
from .vocabulary import Outcome, worst

OUTPUT_LIMIT = 4000
FAILED_CELL = ("error", "interrupted", "skipped")   # a notebook cell's statuses (grader/nbrun.py) that cost it
MAX_CELLS, MAX_NOTES = 1000, 50


def build(records: list[dict], skipped: list[dict], config: dict) -> dict:
    """The Gradescope results document from the plugin's per-test records."""
    tests = []
    for number, record in enumerate(records, start=1):
        output = record.get("message", "")
        if record.get("printed"):
            output += ("\n\n" if output else "") + "Your code printed:\n" + record["printed"]
        tests.append({
            "name": record["name"],
            "number": str(number),
            "score": record["max_score"] if record["status"] == "passed" else 0.0,
            "max_score": record["max_score"],
            "status": record["status"],
            "output": _cut(output),
            "visibility": record["visibility"],
            "extra_data": {"nodeid": record["nodeid"], "suite": record["suite"],
                           "duration": record["duration"], "failure": record.get("failure"),
                           "refused": bool(record.get("refused")),
                           "cpu": record.get("cpu"), "budget": record.get("budget")},
        })
        if record.get("clock"):  # a GPU test in a CUDA grade: cpu and budget are device seconds
            tests[-1]["extra_data"]["clock"] = record["clock"]
    score = sum(t["score"] for t in tests)
    data = {
        "score": score,
        "execution_time": round(config.get("elapsed", 0.0), 3),
        "output": "",
        "output_format": "md",
        "tests": tests,
        "extra_data": {
            "assignment": config["module_name"],
            "max_score": sum(t["max_score"] for t in tests),
            "grader_version": __version__,
            "sandbox": config.get("sandbox"),
            "import_cpu": config.get("import_cpu"),
            "status": config.get("status", Outcome.OK),
            "cells": config.get("cells"),
            "notes": list(config.get("notes", [])),
            "chosen": config.get("chosen"),
            "skipped": [{"name": s["name"], "max_score": s["max_score"], "reason": s["reason"]}
                        for s in skipped],
        },
    }
    if config.get("cuda"):  # a CUDA grade: the GPU lent to it and what its worker found there
        data["extra_data"]["cuda"] = {"gpu": config.get("gpu"), "device": config.get("cuda_device")}
    data["output"] = summary(data, config.get("notes", []))
    return data


def summary(data: dict, notes=()) -> str:
    extra = data["extra_data"]
    passed = sum(t["status"] == "passed" for t in data["tests"])
    lines = [f"Score: {data['score']:g} / {extra['max_score']:g} "
             f"({passed} of {len(data['tests'])} tests passed)."]
    if extra.get("status", Outcome.OK) != Outcome.OK:
        lines.append(f"Status: {extra['status']}.")
    lines += _cells_summary(failed_cells(data))
    if extra["skipped"]:
        points = sum(s["max_score"] for s in extra["skipped"])
        lines.append(f"{len(extra['skipped'])} GPU tests ({points:g} points) were not run: "
                     "CUDA is not available on this grader; they are not counted in the maximum.")
    lines += [f"Note: {n}" for n in notes]
    return "\n".join(lines)


def notebook_report(report) -> tuple[list[dict] | None, list[str]]:
    """(cells, notes) from a notebook's cell report as the worker sent it (grader/nbrun.py).

    The report lives in the notebook's own namespace, where a cell could have
    rewritten it: only well-formed entries are kept, texts are cut short.
    """
    if not isinstance(report, dict) or not isinstance(report.get("cells"), list):
        return None, []
    cells = [{"index": c["index"], "status": c["status"], "message": str(c.get("message") or "")[:500],
              "line": c.get("line") if isinstance(c.get("line"), int) else None,
              "first_line": str(c.get("first_line") or "")[:80]}
             for c in report["cells"][:MAX_CELLS]
             if isinstance(c, dict) and isinstance(c.get("index"), int) and isinstance(c.get("status"), str)]
    notes = report.get("notes") if isinstance(report.get("notes"), list) else []
    return cells, [n[:300] for n in notes if isinstance(n, str)][:MAX_NOTES]


def failed_cells(data: dict) -> list[dict]:
    """The notebook cells that did not run to their end (none for a .py submission)."""
    cells = data["extra_data"].get("cells")
    return [c for c in cells or [] if isinstance(c, dict) and c.get("status") in FAILED_CELL]


def _cells_summary(cells):
    if not cells:
        return []
    lines = [f"{len(cells)} notebook cell{'s' if len(cells) > 1 else ''} did not run to the end "
             "(the tests graded what the other cells defined):"]
    for cell in cells:
        first = f" (`{cell['first_line'].replace('`', chr(39))}`)" if cell["first_line"] else ""
        lines.append(f"- cell {cell['index']}{first}: {cell['message']}")
    return lines


def _cut(text):
    return text if len(text) <= OUTPUT_LIMIT else text[:OUTPUT_LIMIT] + "\n… (output cut)"


def status(data: dict) -> Outcome:
    """ok, invalid submission, timeout or crash: the gradebook's status column.

    A status the grade already has (a harness that crashed) stays; otherwise
    the most serious failure kind among its tests decides.
    """
    current = Outcome(data["extra_data"].get("status", Outcome.OK))
    if current != Outcome.OK:
        return current
    return worst(t.get("extra_data", {}).get("failure") for t in data["tests"] if t["status"] == "failed")


def not_graded(assignment_id: str, problem: str) -> dict:
    """The record of a submission the grader could not grade: no test ran, no score is given.

    The grader's fault, not the submission's (a cluster that could not
    produce the grade, a grader error): a batch stores it without a stamp,
    lists it apart and grades it again on its next run.
    """
    data = build([], [], {"module_name": assignment_id, "status": Outcome.NOT_GRADED})
    data["extra_data"]["not_graded"] = problem
    data["output"] = (f"Not graded yet: {problem}. This is the grader's problem, not your submission's; "
                      "it will be graded again.")
    return data


def stopped_early(data: dict, problem: str, outcome: Outcome) -> dict:
    """Add the stand-in failure saying the grade ended before every test ran; set the status."""
    data["tests"].append({
        "name": "The grader finished every test", "number": str(len(data["tests"]) + 1),
        "score": 0.0, "max_score": 0.0, "status": "failed", "visibility": "visible",
        "output": problem,
    })
    data["extra_data"]["status"] = outcome
    return data


PARTIAL = "results.partial.jsonl"   # a grade in progress: one JSON line a test (see append_partial)


def append_partial(path, entry: dict) -> None:
    """Append one line to a grade's partial results: {"record": ...} or {"skipped": ...} for a
    test, and/or {"config": {...}} for what build() takes from the grade (elapsed, cells...).

    Appending costs the same for every test, where rewriting the whole
    document after each one grew with the suite (a second in a 66-test grade).
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def read_partial(path) -> tuple[list[dict], list[dict], dict]:
    """(records, skipped, config) from a partial results file; a torn last line is left out."""
    records, skipped, config = [], [], {}
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if "record" in entry:
            records.append(entry["record"])
        if "skipped" in entry:
            skipped.append(entry["skipped"])
        config.update(entry.get("config") or {})
    return records, skipped, config


def write_json(path, data: dict) -> Path:
    """results.json, written atomically and readable by all."""
    return atomic_write(path, json.dumps(data, indent=1))


def write_grade(folder, data: dict) -> None:
    """feedback.md, then results.json (the mark of a finished grade), each atomically."""
    atomic_write(Path(folder) / "feedback.md", feedback_markdown(data))
    write_json(Path(folder) / "results.json", data)


def feedback_markdown(data: dict) -> str:
    """feedback.md: the score, then every test with its message."""
    lines = [f"# {data['extra_data']['assignment']}: {data['score']:g} / "
             f"{data['extra_data']['max_score']:g}", "", data["output"], ""]
    for test in data["tests"]:
        mark = "PASS" if test["status"] == "passed" else "FAIL"
        lines.append(f"- **{mark}** {test['name']} ({test['score']:g}/{test['max_score']:g})")
        if test["output"]:
            lines += ["", "  ```", *("  " + l for l in test["output"].splitlines()), "  ```", ""]
    for skipped in data["extra_data"]["skipped"]:
        lines.append(f"- **SKIP** {skipped['name']} (0/{skipped['max_score']:g}, not counted): "
                     f"{skipped['reason']}")
    return "\n".join(lines) + "\n"
