"""A grade: results.json in Gradescope's schema, and feedback.md for people."""
import json
import os
import tempfile
from pathlib import Path

from . import __version__

OUTPUT_LIMIT = 4000


def build(records, skipped, config):
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
                           "duration": record["duration"], "failure": record.get("failure")},
        })
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
            "status": config.get("status", "ok"),
            "skipped": [{"name": s["name"], "max_score": s["max_score"], "reason": s["reason"]}
                        for s in skipped],
        },
    }
    data["output"] = summary(data, config.get("notes", []))
    return data


def summary(data, notes=()):
    extra = data["extra_data"]
    passed = sum(t["status"] == "passed" for t in data["tests"])
    lines = [f"Score: {data['score']:g} / {extra['max_score']:g} "
             f"({passed} of {len(data['tests'])} tests passed)."]
    if extra.get("status", "ok") != "ok":
        lines.append(f"Status: {extra['status']}.")
    if extra["skipped"]:
        points = sum(s["max_score"] for s in extra["skipped"])
        lines.append(f"{len(extra['skipped'])} GPU tests ({points:g} points) were not run: "
                     "CUDA is not available on this grader; they are not counted in the maximum.")
    lines += [f"Note: {n}" for n in notes]
    return "\n".join(lines)


def _cut(text):
    return text if len(text) <= OUTPUT_LIMIT else text[:OUTPUT_LIMIT] + "\n… (output cut)"


def write_json(path, data):
    """Write atomically, so no reader ever sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:  # a full disk: leave no half-written temporary behind
        Path(tmp).unlink(missing_ok=True)
        raise


def feedback_markdown(data):
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
