"""The engine on the fixture course (tests/course): what any assignment gets, apart from the real six."""
import dataclasses
import json
import shutil
import textwrap

import pytest

from conftest import COURSE, TOY_REFERENCE, TOY_STUB, default_sandbox, run_toy_cli, toy
from grader import course
from grader.collect import collect
from grader.errors import SuiteError
from grader.grade import Options, grade
from grader.warm import HarnessServer


def test_reference_gets_full_marks_and_the_stub_zero(tmp_path):
    options = Options(sandbox=default_sandbox())
    full = grade(toy(), TOY_REFERENCE, tmp_path / "ref", options)
    assert full["score"] == full["extra_data"]["max_score"] == 7, full["output"]
    assert [s["name"] for s in full["extra_data"]["skipped"]] == ["scale on the GPU (skipped without CUDA)"]
    visibility = {t["name"]: t["visibility"] for t in full["tests"]}
    assert visibility["square_grad agrees with finite differences"] == "after_due_date"
    zero = grade(toy(), TOY_STUB, tmp_path / "stub", options)
    assert zero["score"] == 0 and zero["extra_data"]["status"] == "ok"
    assert all("not implemented yet" in t["output"] for t in zero["tests"])


def test_cli_lists_the_fixture_course():
    result = run_toy_cli("list")
    assert result.returncode == 0, result.stderr
    assert "toy: Toy assignment" in result.stdout and "6 tests, 8 points" in result.stdout
    assert "polyfit" not in result.stdout


def _new_course(root, ids=("demo",)):
    """A course written from nothing but reference/ID/ and assignments/ID/ files."""
    for assignment_id in ids:
        (root / "reference" / assignment_id).mkdir(parents=True)
        (root / "assignments" / assignment_id).mkdir(parents=True)
        (root / "assignments" / assignment_id / "assignment.toml").write_text('title = "Demo"\n')
        (root / "reference" / assignment_id / f"{assignment_id}.py").write_text(textwrap.dedent('''\
            def relu(x):
                """max(x, 0) for a list of numbers."""
                # BEGIN SOLUTION
                return [max(v, 0.0) for v in x]
                # END SOLUTION
            '''))
        (root / "assignments" / assignment_id / "test_public.py").write_text(textwrap.dedent('''\
            def test_relu(student):
                """relu of [-1, 2]"""
                assert student.relu([-1.0, 2.0]) == [0.0, 2.0], "relu([-1, 2]) should be [0, 2]"
            '''))
        (root / "reference" / assignment_id / "test_hidden.py").write_text(textwrap.dedent('''\
            import pytest

            @pytest.mark.points(3)
            def test_relu_matches_reference(student, ref, rng):
                """relu agrees with the reference"""
                x = [float(v) for v in rng.normal(size=6)]
                assert student.relu(x) == ref.relu(x), "relu differs from the reference"
            '''))


def test_adding_an_assignment_is_only_its_folders(tmp_path):
    _new_course(tmp_path)
    assert run_toy_cli("stubs", course_root=tmp_path).returncode == 0
    stub = tmp_path / "assignments" / "demo" / "demo.py"
    assert "raise NotImplementedError" in stub.read_text()
    for path, expected in ((tmp_path / "reference" / "demo" / "demo.py", 4), (stub, 0)):
        out = tmp_path / f"out-{path.parent.parent.name}"
        result = run_toy_cli("grade", "demo", path, "--out", out, "--sandbox", default_sandbox(),
                             course_root=tmp_path)
        assert result.returncode == 0, result.stderr
        data = json.loads((out / "results.json").read_text())
        assert (data["score"], data["extra_data"]["max_score"]) == (expected, 4), data["output"]


@pytest.mark.parametrize("marker, problem", [
    ('@pytest.mark.points("two")', "points must be a number"),
    ('@pytest.mark.points(-1)', "points must be a number"),
    ('@pytest.mark.visibility("secret")', "visibility must be one of"),
    ('@pytest.mark.timeout(0)', "timeout must be a number of seconds"),
    ('@pytest.mark.points(1, 2)', "takes exactly one argument"),
])
def test_a_bad_marker_is_a_collection_error_naming_the_test(tmp_path, marker, problem):
    root = tmp_path / "course"
    shutil.copytree(COURSE, root)
    suite = root / "reference" / "toy" / "test_hidden.py"
    suite.write_text(suite.read_text() + f"\n\n{marker}\ndef test_badly_marked(student):\n    pass\n")
    with pytest.raises(SuiteError, match=problem) as raised:
        collect(course.load("toy", root=root))
    assert "test_badly_marked" in str(raised.value)
    listed = run_toy_cli("list", "toy", course_root=root)
    assert listed.returncode == 1 and "test_badly_marked" in listed.stderr and problem in listed.stderr
    data = grade(course.load("toy", root=root), TOY_REFERENCE, tmp_path / "out", Options(sandbox="none"))
    assert data["extra_data"]["status"] == "crash"
    assert "test_badly_marked" in data["extra_data"]["harness_log"]


def test_a_warm_server_forks_harnesses_that_grade_like_fresh_ones(tmp_path):
    options = Options(sandbox=default_sandbox())
    fresh = grade(toy(), TOY_REFERENCE, tmp_path / "fresh", options)
    with HarnessServer(toy().suites(), toy().course_root) as server:
        warm = grade(toy(), TOY_REFERENCE, tmp_path / "warm", options, harness=server)
        stub = grade(toy(), TOY_STUB, tmp_path / "stub", options, harness=server)
        late = grade(toy(), TOY_REFERENCE, tmp_path / "late", dataclasses.replace(options, timeout=0.01),
                     harness=server)
        assert server.run(tmp_path / "missing.json", tmp_path / "log", 30) != 0  # a broken harness says so
    assert _verdicts(warm) == _verdicts(fresh) and warm["score"] == 7
    assert stub["score"] == 0
    assert late["extra_data"]["status"] == "timeout" and "exceeded 0.01 s" in late["tests"][-1]["output"]


def _verdicts(data):
    return [(t["name"], t["status"], t["output"]) for t in data["tests"]]
