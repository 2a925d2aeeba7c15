"""What the command line prints about a grade."""
import json
import sys

from .classroom import classroom_output
from .collect import collect
from .vocabulary import PUBLIC_SUITE


def print_student_summary(assignment, data):
    """The student's view of a public-test run; True when every public test passed.

    It never says "all passed" without saying that hidden tests come later.
    """
    tests = data["tests"]
    passed = [t for t in tests if t["status"] == "passed"]
    for test in tests:
        mark = "PASS" if test["status"] == "passed" else "FAIL"
        print(f"{mark}  {test['name']}")
        if test["status"] != "passed" and test["output"]:
            for line in test["output"].splitlines():
                print(f"      {line}")
    for note in data["extra_data"].get("notes", []):
        print(f"Note: {note}")
    print()
    print(f"{len(passed)} of {len(tests)} public tests passed.")
    hidden = _hidden_count(assignment)
    print(f"Hidden tests{hidden} will also be run when your work is graded; "
          "passing the public tests does not guarantee full marks.")
    return bool(tests) and len(passed) == len(tests)


def _hidden_count(assignment):
    if assignment.hidden_suite is None:
        return ""
    hidden = [t for t in collect(assignment) if t["suite"] != PUBLIC_SUITE]
    return f" ({len(hidden)} more, {sum(t['points'] for t in hidden):g} points)"


def print_grade_summary(data, out_dir, fmt):
    if fmt == "json":
        json.dump(data, sys.stdout, indent=1)
        print()
        return
    if fmt == "classroom":
        print(classroom_output(data))
        return
    extra = data["extra_data"]
    print(f"{extra['assignment']}: {data['score']:g} / {extra['max_score']:g}  "
          f"status: {extra['status']}  ({len(data['tests'])} tests, {data['execution_time']:.1f} s)")
    for test in data["tests"]:
        if test["status"] != "passed":
            first = test["output"].splitlines()[0] if test["output"] else ""
            print(f"  FAIL {test['name']}: {first[:160]}")
    print(f"results: {out_dir / 'results.json'}  feedback: {out_dir / 'feedback.md'}")
