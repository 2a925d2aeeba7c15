"""Same submission, same grade, on every sandbox.

The whole corpus (correct and buggy, every assignment) and every red-team
attack are graded as batches under bwrap and under docker (Docker Engine and
the worker image built from the Dockerfile); the honest corpus also under
`--sandbox none`. Each grade's status and, test by test, its score, outcome
and failure kind must agree. The limits model behind it (memory, CPU,
processes, output, files, blocked modules, network) is docs/architecture.md's.

Minutes of grading: it runs under `make test-docker` (GRADER_TEST_DOCKER_URL)
and skips elsewhere.
"""
import json
import os
import shutil
import subprocess

import pytest

import test_redteam as redteam
from conftest import CORPUS, needs_bwrap, run_cli
from docker_engines import docker_environment
from grader import course

ASSIGNMENTS = [a.id for a in course.all_assignments()]
ATTACKS_OUTSIDE = {"link"}  # a symlink out of the class folder is refused by the batch intake alike


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    if not os.environ.get("GRADER_TEST_DOCKER_URL"):
        pytest.skip("the parity check grades the corpus in containers: it runs under `make test-docker`")
    with docker_environment(tmp_path_factory.mktemp("docker")) as settings:
        yield settings


def stage_corpus(assignment_id, inbox, kinds=("correct", "buggy")):
    inbox.mkdir(parents=True)
    for kind in kinds:
        for path in sorted((CORPUS / assignment_id / kind).glob("*.py")):
            shutil.copy(path, inbox / f"{kind}-{path.stem}.py")
    return inbox


def stage_attacks(inbox, scratch):
    """Every red-team attack as one student of a polyfit class (the twin too)."""
    inbox.mkdir(parents=True)
    scratch.mkdir(parents=True)
    secret = scratch / "host-secret"
    secret.write_text("parity-host-secret")
    for path in [redteam.TWIN, *redteam.ATTACKS]:
        if redteam.headers(path.read_text()).get("stage", "file") in ATTACKS_OUTSIDE:
            continue
        values = {"OUT": str(scratch / "out"), "PORT": "9", "MARKER": f"parity-{path.stem}",
                  "PWNED": f"/tmp/pwned-parity-{path.stem}", "ROOT": str(redteam.ROOT),
                  "HOSTSECRET": str(secret)}
        staged = redteam.stage(path, values, scratch / path.stem)
        suffix = "" if staged.is_dir() else staged.suffix
        shutil.move(staged, inbox / f"{path.stem}{suffix}")
    return inbox


def batch(assignment_id, inbox, out, sandbox):
    """{student: verdicts} of the class graded with `grader batch --sandbox SANDBOX`."""
    result = run_cli("batch", assignment_id, inbox, "--out", out, "--sandbox", sandbox, "--jobs", "2",
                     "--no-similarity", timeout=3000, stdin=subprocess.DEVNULL)
    assert (out / "gradebook.csv").is_file(), result.stdout[-3000:] + result.stderr[-3000:]
    graded = {}
    for folder in sorted(p for p in out.iterdir() if (p / "results.json").is_file()):
        graded[folder.name] = verdicts(json.loads((folder / "results.json").read_text()))
    return graded


def verdicts(data):
    """What must not depend on the sandbox: the grade's status and score, and each test's
    name, score, outcome and failure kind (messages may name the sandbox's own paths)."""
    return {"status": str(data["extra_data"].get("status", "ok")), "score": data["score"],
            "tests": [(t["name"], t["score"], t["status"], t["extra_data"].get("failure"))
                      for t in data["tests"]]}


def differences(left, right, left_name, right_name):
    found = []
    for student in sorted(set(left) | set(right)):
        a, b = left.get(student), right.get(student)
        if a is None or b is None:
            found.append(f"{student}: graded only under {left_name if b is None else right_name}")
            continue
        if (a["status"], a["score"]) != (b["status"], b["score"]):
            found.append(f"{student}: {left_name} {a['status']} {a['score']}, "
                         f"{right_name} {b['status']} {b['score']}")
        for x, y in zip(a["tests"], b["tests"]):
            if x != y:
                found.append(f"{student}: {x[0]!r}: {left_name} {x[1:]}, {right_name} {y[1:]}")
        if len(a["tests"]) != len(b["tests"]):
            found.append(f"{student}: {len(a['tests'])} tests under {left_name}, {len(b['tests'])} under {right_name}")
    return found


@needs_bwrap
@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_the_corpus_gets_the_same_grades_on_every_sandbox(assignment_id, engine, tmp_path):
    inbox = stage_corpus(assignment_id, tmp_path / "in")
    bwrap = batch(assignment_id, inbox, tmp_path / "bwrap", "bwrap")
    docker = batch(assignment_id, inbox, tmp_path / "docker", "docker")
    assert len(bwrap) == len(list(inbox.iterdir())), sorted(bwrap)
    found = differences(bwrap, docker, "bwrap", "docker")
    assert not found, "\n".join(found)
    honest = stage_corpus(assignment_id, tmp_path / "honest", kinds=("correct",))
    unsandboxed = batch(assignment_id, honest, tmp_path / "none", "none")
    found = differences({k: v for k, v in bwrap.items() if k in unsandboxed}, unsandboxed, "bwrap", "none")
    assert not found, "\n".join(found)


@needs_bwrap
def test_every_attack_gets_the_same_grade_on_bwrap_and_docker(engine, tmp_path):
    inbox = stage_attacks(tmp_path / "in", tmp_path / "scratch")
    bwrap = batch("polyfit", inbox, tmp_path / "bwrap", "bwrap")
    docker = batch("polyfit", inbox, tmp_path / "docker", "docker")
    assert len(bwrap) >= len(redteam.ATTACKS) - 2, sorted(bwrap)
    found = differences(bwrap, docker, "bwrap", "docker")
    assert not found, "\n".join(found)


def test_differences_are_found():
    """The comparison can fail: a changed failure kind, score or status is reported."""
    base = {"a": {"status": "ok", "score": 2.0, "tests": [("t", 2.0, "passed", None)]}}
    crashed = {"a": {"status": "crash", "score": 0.0, "tests": [("t", 0.0, "failed", "crash")]}}
    assert len(differences(base, crashed, "bwrap", "docker")) == 2
    assert differences(base, {}, "bwrap", "docker") == ["a: graded only under bwrap"]
