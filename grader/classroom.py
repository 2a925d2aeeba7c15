"""GitHub Classroom's result: Exercism v3 JSON, base64, as a `result=` output line.

The classroom workflow (templates/classroom.yml) appends this line to
$GITHUB_OUTPUT; classroom-resources/autograding-grading-reporter decodes it,
sums `tests[].score` and reports `Points X/Y` on the `run-autograding-tests`
check run.
"""
import base64
import json


def classroom_payload(data):
    """The v3 document for one grade (tests carry ids, never suite source)."""
    tests = []
    for test in data["tests"]:
        passed = test["status"] == "passed"
        extra = test.get("extra_data", {})
        tests.append({
            "name": test["name"],
            "status": "pass" if passed else "fail",
            "message": "" if passed else test["output"],
            "test_code": extra.get("nodeid", test["name"]),
            "task_id": int(test["number"]),
            "filename": f"{extra['suite']}.py" if extra.get("suite") else "",
            "line_no": 0,
            "duration": extra.get("duration", 0.0),
            "score": test["score"],
        })
    status = data["extra_data"].get("status", "ok")
    if status == "crash":
        overall = "error"
    else:
        overall = "pass" if tests and all(t["status"] == "pass" for t in tests) else "fail"
    return {"version": 3, "status": overall, "message": data.get("output", ""),
            "max_score": data["extra_data"]["max_score"], "tests": tests}


def classroom_output(data):
    """The line for $GITHUB_OUTPUT: result=<base64 of compact JSON>."""
    text = json.dumps(classroom_payload(data), separators=(",", ":"))
    return "result=" + base64.b64encode(text.encode()).decode()
