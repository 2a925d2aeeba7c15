"""The built images on Docker Engine: the worker and grader images, a class graded
by the grader image, and Gradescope's flow for real.

These need the engine and the images that `make test-docker` provides
(docker/test-docker.sh: GRADER_TEST_DOCKER_URL and the image names below);
elsewhere they skip. Containers run with --network none unless said otherwise;
the Gradescope image build uses the host network for apt-get only (pip reads
local wheels).

Gradescope's flow, as its image build does it: the exported zip unpacked into
/autograder/source, setup.sh run there as root, run_autograder copied to
/autograder/run_autograder; then, per upload, a fresh container with
/autograder/submission and /autograder/submission_metadata.json in place runs
/autograder/run_autograder, and /autograder/results/results.json is read.
Gradescope's base is Ubuntu 22.04 (Python 3.10); the stand-in here is the local
Debian bookworm base (Python 3.11, no bubblewrap), since no registry is
reachable. setup.sh gets WHEELS=/wheels (the local wheel folder), where
Gradescope would download from the indexes.
"""
import csv
import json
import os
import shutil
import textwrap
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, run_cli


URL = os.environ.get("GRADER_TEST_DOCKER_URL", "")
BASE = os.environ.get("GRADER_TEST_BASE_IMAGE", "ml-autograder-base:bookworm")
WORKER = os.environ.get("GRADER_TEST_WORKER_IMAGE", "ml-autograder-worker:latest")
GRADER = os.environ.get("GRADER_TEST_GRADER_IMAGE", "ml-autograder:latest")
WHEELS = ROOT / "docker" / "wheels"
LABEL = "ml-autograder.worker"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
CORRECT = ROOT / "reference" / "polyfit" / "polyfit.py"
BUGGY = ROOT / "tests" / "corpus" / "polyfit" / "buggy" / "grad_no_factor_2.py"
CLASS = ("alice.py", "broken.py", "complete.py", "grace.zip")  # from examples/polyfit
SECCOMP = ROOT / "docker" / "seccomp-bwrap.json"
GRADER_UID = 10001
# How docs/deployment.md runs the grader image with bubblewrap inside: its unprivileged
# user, no capability, no new privileges, Docker's default profile plus bubblewrap's calls,
# Docker's masked /proc and read-only /proc/sys left as they are.
HARDENED = {"cap_drop": ["ALL"], "security_opt": ["no-new-privileges", f"seccomp={SECCOMP.read_text()}"]}


@pytest.fixture(scope="module")
def client():
    if not URL:
        pytest.skip("needs the engine and images of `make test-docker` (GRADER_TEST_DOCKER_URL)")
    import docker
    engine = docker.DockerClient(base_url=URL, timeout=600)  # removing a 1.3 GB image on a loaded machine takes minutes
    for image in (BASE, WORKER, GRADER):
        try:
            engine.images.get(image)
        except docker.errors.ImageNotFound:
            engine.close()
            pytest.skip(f"image {image} is missing: `make test-docker` builds it")
    yield engine
    engine.close()


def run(client, image, command, *, timeout=600, **options):
    """Run a container to its end; return (exit code, output). It is always removed."""
    options.setdefault("network_mode", "none")
    container = client.containers.run(image, command, detach=True, **options)
    try:
        code = container.wait(timeout=timeout)["StatusCode"]
        return code, container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


def workers_left(client):
    return client.containers.list(all=True, filters={"label": LABEL})


# --- the images -------------------------------------------------------------------

def test_worker_image_has_the_runtime_and_no_course(client):
    code, output = run(client, WORKER, ["sh", "-c", "id -u; ls /course /opt/grader /submission 2>&1; "
                                        "/opt/venv/bin/python -c 'import torch, numpy, grader; print(torch.__version__)'"])
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == "65534"
    assert sum("No such file or directory" in line for line in lines) == 3, output
    assert lines[-1] == "2.13.0+cpu"


def test_grader_image_hides_the_reference_from_the_student_uid(client):
    code, output = run(client, GRADER, ["-c", "import os; print(os.getuid(), sorted(os.listdir('/course/reference')))"],
                       entrypoint="python")
    assert output.split()[0] == str(GRADER_UID), output
    assert code == 0 and "polyfit" in output, output
    code, output = run(client, GRADER, ["-c", "import os; os.listdir('/course/reference')"],
                       entrypoint="python", user="65534:65534")
    assert code != 0 and "PermissionError" in output, output
    code, output = run(client, GRADER, ["list", "polyfit"])
    assert code == 0 and "polyfit:" in output, output


# --- a class graded by the grader image --------------------------------------------

@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    for name in CLASS:
        shutil.copy(ROOT / "examples" / "polyfit" / name, folder / name)
    os.chmod(folder, 0o755)
    return folder


def read_gradebook(out):
    with open(out / "gradebook.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    gradebook = {}
    for row in rows:
        del row["message"]  # it names paths, which differ between the host and a container
        gradebook[row.pop("student")] = row
    return gradebook


def writable_out(out):
    """An output folder the grader image's user (10001) can write, as docs/deployment.md says."""
    out.mkdir()
    out.chmod(0o777)
    return out


def batch_in_grader_image(client, submissions, out, sandbox, **options):
    writable_out(out)
    command = ["batch", "polyfit", "/grading/in", "--out", "/grading/out", "--jobs", "2", "--sandbox", sandbox]
    volumes = {str(submissions): {"bind": "/grading/in", "mode": "ro"},
               str(out): {"bind": "/grading/out", "mode": "rw"}, **options.pop("volumes", {})}
    code, output = run(client, GRADER, command, volumes=volumes, **options)
    assert code == 0, output
    return read_gradebook(out), output


@pytest.fixture(scope="module")
def sibling_gradebook(client, submissions, tmp_path_factory):
    """The class graded by the grader image, workers as sibling containers of the worker image,
    made through the mounted engine socket."""
    socket_path = URL.removeprefix("unix://")
    gradebook, output = batch_in_grader_image(
        client, submissions, tmp_path_factory.mktemp("sibling") / "out", "docker",
        environment={"GRADER_DOCKER_URL": "unix:///run/engine.sock", "GRADER_DOCKER_IMAGE": WORKER},
        volumes={socket_path: {"bind": "/run/engine.sock", "mode": "rw"}},
        group_add=[str(os.stat(socket_path).st_gid)])  # the socket's group, as the docs say
    return gradebook, output


def test_grader_image_grades_a_class_with_sibling_worker_containers(client, sibling_gradebook):
    gradebook, output = sibling_gradebook
    assert sorted(gradebook) == ["alice", "broken", "complete", "grace"], output
    assert gradebook["complete"]["total"] == gradebook["complete"]["max"] != "0", output
    assert gradebook["broken"]["total"] == "0" and gradebook["broken"]["status"] == "invalid submission", output
    assert workers_left(client) == []


def test_grader_image_grades_a_class_with_bwrap_inside(client, submissions, sibling_gradebook, tmp_path):
    """Workers in bubblewrap inside the grader's container, hardened as the docs say: the same
    class, the same image, the same gradebook as with sibling containers."""
    out = writable_out(tmp_path / "out")
    command = ["batch", "polyfit", "/grading/in", "--out", "/grading/out", "--jobs", "2", "--sandbox", "bwrap"]
    code, output = run(client, GRADER, command, **HARDENED,
                       volumes={str(submissions): {"bind": "/grading/in", "mode": "ro"},
                                str(out): {"bind": "/grading/out", "mode": "rw"}})
    assert code == 0, output
    assert read_gradebook(out) == sibling_gradebook[0], output


# Runs in the hardened grader container: what its user (and so a student who escaped
# bubblewrap) could change of the host kernel's settings, and what it holds.
CONTAINER_CHECK = r"""
import os
status = dict(line.split(":	", 1) for line in open("/proc/self/status").read().splitlines() if ":	" in line)
writable = []
for top, dirs, files in os.walk("/proc/sys"):
    writable += [os.path.join(top, f) for f in files if os.access(os.path.join(top, f), os.W_OK)]
try:
    open("/proc/sys/kernel/core_pattern", "w").write("|/tmp/x")
    core = "written"
except OSError as exc:
    core = type(exc).__name__
print(os.getuid(), status["CapEff"].strip(), status["CapPrm"].strip(), status["CapBnd"].strip(),
      status["NoNewPrivs"].strip(), status["Seccomp"].strip(), core, len(writable))
"""


def test_hardened_grader_container_holds_nothing_and_cannot_write_proc_sys(client):
    code, output = run(client, GRADER, ["-c", CONTAINER_CHECK], entrypoint="python", **HARDENED)
    assert code == 0, output
    uid, effective, permitted, bounding, no_new_privs, seccomp, core, writable = output.split()
    assert uid == str(GRADER_UID)
    assert int(effective, 16) == int(permitted, 16) == int(bounding, 16) == 0, output
    assert no_new_privs == "1" and seccomp == "2", output  # 2: a filter is on
    assert core != "written" and writable == "0", output  # EROFS: /proc/sys is mounted read-only


def test_bubblewrap_inside_refuses_new_user_namespaces_and_shows_no_proc(client, tmp_path):
    """The worker bubblewrap starts in the hardened container: no /proc of the container, no new
    user namespace (the seccomp filter standing in for --disable-userns), the network gone."""
    probe = tmp_path / "probe.py"
    probe.write_text(textwrap.dedent("""
        import ctypes, os, socket
        def check():
            libc = ctypes.CDLL(None, use_errno=True)
            unshared = libc.unshare(0x10000000) == 0
            try:
                socket.create_connection(("127.0.0.1", 9), timeout=1)
                network = "reached"
            except OSError as exc:
                network = type(exc).__name__
            return {"unshared": unshared, "proc": sorted(os.listdir("/proc")), "network": network,
                    "course": os.path.exists("/course")}
    """))
    os.chmod(tmp_path, 0o755)
    script = ("import json; from pathlib import Path; from grader.client import Student; "
              "from grader.sandbox import make_sandbox; s = make_sandbox('bwrap'); "
              "h = Student(s, Path('/probe/probe.py').read_bytes(), 'probe'); print(json.dumps(h.check())); "
              "h.close(); s.close()")
    code, output = run(client, GRADER, ["-c", script], entrypoint="python", **HARDENED,
                       volumes={str(tmp_path): {"bind": "/probe", "mode": "ro"}})
    assert code == 0, output
    seen = json.loads(output.strip().splitlines()[-1])
    assert seen == {"unshared": False, "proc": ["cpuinfo"], "network": seen["network"], "course": False}, seen
    assert seen["network"] != "reached", seen


def test_bwrap_is_refused_under_the_default_seccomp_profile(client, submissions, tmp_path):
    """Without our profile bubblewrap cannot start, and the grader says so instead of grading."""
    out = writable_out(tmp_path / "out")
    code, output = run(client, GRADER, ["grade", "polyfit", "/grading/in/alice.py", "--out", "/grading/out",
                                        "--sandbox", "bwrap"],
                       volumes={str(submissions): {"bind": "/grading/in", "mode": "ro"},
                                str(out): {"bind": "/grading/out", "mode": "rw"}})
    assert code != 0 and "bwrap" in output.lower(), output


# --- Gradescope's flow ------------------------------------------------------------

GRADESCOPE_DOCKERFILE = """\
FROM {base}
COPY wheels /wheels
COPY autograder.zip /tmp/autograder.zip
# Gradescope: the zip into /autograder/source, setup.sh run there as root, run_autograder copied.
RUN mkdir -p /autograder/source /autograder/results \\
    && python3 -c "{unzip}" /tmp/autograder.zip /autograder/source \\
    && cp /autograder/source/run_autograder /autograder/run_autograder \\
    && cd /autograder/source && WHEELS=/wheels bash ./setup.sh \\
    && rm -rf /wheels /tmp/autograder.zip /var/lib/apt/lists/*
"""
# unzip, keeping the modes (the base has no unzip program).
UNZIP = ("import sys, zipfile, os; z = zipfile.ZipFile(sys.argv[1]); "
         "[(z.extract(i, sys.argv[2]), os.chmod(os.path.join(sys.argv[2], i.filename), i.external_attr >> 16 & 0o777)) "
         "for i in z.infolist()]")


@pytest.fixture(scope="module")
def gradescope_image(client, tmp_path_factory):
    context = tmp_path_factory.mktemp("gradescope")
    result = run_cli("export", "gradescope", "polyfit", "--out", context / "autograder.zip")
    assert result.returncode == 0, result.stderr
    wheels = sorted(WHEELS.glob("*.whl"))
    if not wheels:
        pytest.skip("docker/wheels holds no wheels (`make docker-wheels`)")
    (context / "wheels").mkdir()
    for wheel in wheels:
        os.link(wheel, context / "wheels" / wheel.name)
    (context / "Dockerfile").write_text(GRADESCOPE_DOCKERFILE.format(base=BASE, unzip=UNZIP))
    with zipfile.ZipFile(context / "autograder.zip") as archive:  # the same course, for host grades
        archive.extractall(context / "source")
    tag = f"grader-test-gradescope:{os.getpid()}"
    try:
        client.images.build(path=str(context), tag=tag, network_mode="host", rm=True, forcerm=True)
    except Exception as exc:  # BuildError carries the log
        log = "".join(str(line.get("stream", line)) for line in getattr(exc, "build_log", []))
        pytest.fail(f"the Gradescope image did not build: {exc}\n{log[-3000:]}")
    yield tag, context / "source"
    client.images.remove(tag, force=True)


def gradescope_run(client, gradescope_image, tmp_path, upload, name="polyfit.py"):
    """One Gradescope run: a fresh container grades UPLOAD; returns (results.json, stdout)."""
    submission, results = tmp_path / "submission", tmp_path / "results"
    submission.mkdir()
    results.mkdir()
    if isinstance(upload, Path):
        shutil.copy(upload, submission / name)
    else:
        (submission / name).write_text(upload)
    metadata = tmp_path / "submission_metadata.json"
    metadata.write_text(json.dumps({"id": 1, "created_at": "2026-01-01T00:00:00Z",
                                    "assignment": {"title": "polyfit", "total_points": "25.0"},
                                    "users": [{"email": "student@example.edu", "name": "A Student"}]}))
    code, output = run(client, gradescope_image[0], ["/autograder/run_autograder"], volumes={
        str(submission): {"bind": "/autograder/submission", "mode": "rw"},
        str(results): {"bind": "/autograder/results", "mode": "rw"},
        str(metadata): {"bind": "/autograder/submission_metadata.json", "mode": "ro"}})
    assert code == 0, output
    return json.loads((results / "results.json").read_text()), output


def check_schema(data):
    assert isinstance(data["score"], (int, float)) and isinstance(data["output"], str)
    assert data["tests"], data["output"]
    for test in data["tests"]:
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITIES
        assert 0 <= test["score"] <= test["max_score"] and isinstance(test["output"], str)
    assert abs(data["score"] - sum(t["score"] for t in data["tests"])) < 1e-9


def host_grade(upload, course_root, tmp_path):
    """The same upload graded on the host with the exported course files, for comparison."""
    result = run_cli("grade", "polyfit", upload, "--out", tmp_path / "host",
                     env={**os.environ, "GRADER_COURSE_ROOT": str(course_root)})
    assert result.returncode == 0, result.stderr
    return json.loads((tmp_path / "host" / "results.json").read_text())


def per_test(data):
    return [(t["name"], t["score"], t["max_score"], t["status"], t["visibility"]) for t in data["tests"]]


def test_gradescope_correct_upload_gets_full_marks(client, gradescope_image, tmp_path):
    data, output = gradescope_run(client, gradescope_image, tmp_path, CORRECT)
    check_schema(data)
    assert data["score"] == data["extra_data"]["max_score"] > 0, output
    assert {t["extra_data"]["suite"] for t in data["tests"]} == {"test_public", "test_hidden"}
    assert per_test(data) == per_test(host_grade(CORRECT, gradescope_image[1], tmp_path))
    if data["extra_data"]["sandbox"] == "none":  # bubblewrap refused: the instructors' log says why
        assert "bubblewrap cannot run here" in output


def test_gradescope_buggy_upload_loses_points_with_messages(client, gradescope_image, tmp_path):
    data, output = gradescope_run(client, gradescope_image, tmp_path, BUGGY)
    check_schema(data)
    assert 0 < data["score"] < data["extra_data"]["max_score"], output
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert failed and all(t["output"].strip() for t in failed)
    assert per_test(data) == per_test(host_grade(BUGGY, gradescope_image[1], tmp_path))
    hidden = [t for t in data["tests"] if t["extra_data"]["suite"] == "test_hidden"]
    assert hidden and {t["visibility"] for t in data["tests"]} >= {"visible"}


def test_gradescope_broken_upload_gets_zero_with_a_reason(client, gradescope_image, tmp_path):
    data, output = gradescope_run(client, gradescope_image, tmp_path,
                                  "import numpy as np\n\ndef fit(x, y:\n    return 0\n")
    check_schema(data)
    assert data["score"] == 0, output
    assert "SyntaxError" in json.dumps(data), data["output"][:2000]


def test_gradescope_setup_fails_clearly_without_a_usable_python(client, tmp_path):
    """setup.sh on a base whose Python is outside 3.10-3.13 and cannot be fixed by apt-get stops
    with a message (simulated: python3 is a stub reporting 3.9, apt-get is unreachable)."""
    script = (ROOT / "grader" / "templates" / "setup.sh").read_text()
    fake = textwrap.dedent("""\
        mkdir -p /fake && printf '#!/bin/sh\\necho "Python 3.9.0"; exit 1\\n' > /fake/python3
        printf '#!/bin/sh\\nexit 100\\n' > /fake/apt-get
        cp /fake/python3 /fake/python3.11; cp /fake/python3 /fake/python3.10
        cp /fake/python3 /fake/python3.12; cp /fake/python3 /fake/python3.13
        printf '#!/bin/sh\\nexit 0\\n' > /fake/bwrap; chmod +x /fake/*
        PATH=/fake:/usr/bin:/bin bash /setup.sh
        """)
    (tmp_path / "setup.sh").write_text(script)
    code, output = run(client, BASE, ["bash", "-c", fake],
                       volumes={str(tmp_path / "setup.sh"): {"bind": "/setup.sh", "mode": "ro"}})
    assert code != 0
    assert "no Python 3.10-3.13 with venv here" in output, output
