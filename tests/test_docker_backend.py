"""The docker backend (`--sandbox docker`), for real, on podman and on Docker Engine.

Every test that needs an engine runs once per engine (tests/docker_engines.py):
podman's Docker-compatible service and Docker Engine (dockerd), each started
on a socket in a temporary folder and stopped by its pid at the end; podman
or docker.io is installed with apt-get when missing (root only; otherwise
those tests skip). The worker image is the skeleton (bin/lib symlinks and
passwd/group, with the host's /usr and this project's venv mounted read-only
at /usr and /opt/venv), or on Docker Engine under `make test-docker` the
worker image built from the Dockerfile (GRADER_TEST_WORKER_IMAGE). Nothing
here connects anywhere but the host's loopback.
"""
import contextlib
import os
import socket
import time

import pytest

from conftest import ROOT, failed, max_score, run_cli
from docker_engines import ENGINES, EngineUnavailable
from docker_engines import engine as start_engine
from grader import course
from grader.client import Student
from grader.errors import SandboxUnavailable, SubmissionError
from grader.sandbox.docker import LABEL, ContainerProcess, DockerSandbox, _local_pid
from grader.grade import Options, grade
from grader.limits import MEMORY, Limits, wall_cap
from grader.vocabulary import Outcome

PROBES = b'''
import os, socket

def identity():
    return {"uid": os.getuid(), "gid": os.getgid(), "interfaces": sorted(os.listdir("/sys/class/net"))}

def try_write(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return "written"
    except OSError as exc:
        return type(exc).__name__

def try_connect(port):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"leak")
        return "connected"
    except OSError as exc:
        return type(exc).__name__
    finally:
        s.close()

def fork_many(n):
    import time
    children = []
    for _ in range(n):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return len(children)

def allocate(megabytes):
    return len(b"x" * (megabytes * 2**20))

def flood(megabytes):
    import sys
    for _ in range(megabytes * 16):
        sys.stderr.write("x" * 2**16)
    return "flooded"

def try_import(name):
    import importlib
    try:
        importlib.import_module(name)
        return "imported"
    except ImportError as exc:
        return f"ImportError: {exc}"

def hang():
    while True:
        pass

def find(names, skip):
    found = []
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if os.path.join(top, d) not in skip]
        found += [os.path.join(top, f) for f in files if f in names]
    return found

def exists(path):
    return os.path.exists(path)
'''


@pytest.fixture(scope="session", params=ENGINES)
def engine(request, tmp_path_factory):
    """An engine with a worker image; the env points the grader at it (GRADER_DOCKER_*)."""
    with contextlib.ExitStack() as stack:
        try:
            settings = stack.enter_context(start_engine(request.param, tmp_path_factory.mktemp(request.param)))
        except EngineUnavailable as exc:
            pytest.skip(f"{request.param}: {exc}")
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        for key, value in settings.items():
            patch.setenv(key, value)
        yield settings


def _containers(engine):
    """This engine's workers (xdist runs one engine per process on shared storage)."""
    import docker
    client = docker.DockerClient(base_url=engine["GRADER_DOCKER_URL"])
    try:
        return [c for c in client.api.containers(all=True, filters={"label": LABEL})
                if c["Image"] == engine["GRADER_DOCKER_IMAGE"]]
    finally:
        client.close()


@pytest.fixture
def worker(engine):
    """A Student over the docker backend whose module is PROBES (256 MiB, 32 processes)."""
    sandbox = DockerSandbox(Limits(memory_bytes=256 * 2**20, processes=32))
    handle = Student(sandbox, PROBES, "probes")
    yield handle
    handle.close()
    sandbox.close()


def test_reference_gets_full_marks_through_docker(engine, tmp_path):
    assignment = course.load("polyfit")
    data = grade(assignment, assignment.reference, tmp_path / "out", Options(sandbox="docker"))
    assert data["extra_data"]["sandbox"] == "docker"
    assert data["score"] == max_score(data) > 0, [(t["name"], t["output"]) for t in failed(data)]
    assert _containers(engine) == []


def test_cli_grades_through_docker(engine, tmp_path):
    result = run_cli("grade", "polyfit", ROOT / "assignments/polyfit/polyfit.py",
                     "--sandbox", "docker", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "polyfit: 0 /" in result.stdout


def test_unprivileged_and_no_network(worker):
    facts = worker.identity()
    assert (facts["uid"], facts["gid"]) == (65534, 65534)
    assert facts["interfaces"] == ["lo"]


def test_host_loopback_listener_receives_nothing(worker):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    try:
        outcome = worker.try_connect(listener.getsockname()[1])
        with pytest.raises(socket.timeout):
            listener.accept()
    finally:
        listener.close()
    assert outcome != "connected"  # inside, 127.0.0.1 is the container's own empty loopback


def test_root_is_read_only(worker):
    for path in ("/x", "/etc/passwd", "/usr/x", "/opt/venv/x", "/opt/x"):
        assert worker.try_write(path) != "written", path
    assert worker.try_write("/tmp/scratch") == "written"


def test_process_count_is_bounded(worker):
    assert worker.fork_many(100) < 32


def test_memory_is_bounded_in_the_words_of_every_sandbox(worker):
    """RLIMIT_AS, as in bwrap: a MemoryError named as the memory limit, and the next call works."""
    with pytest.raises(SubmissionError, match=r"ran out of memory \(the limit is 256 MiB") as raised:
        worker.allocate(600)
    assert raised.value.kind == Outcome.CRASH
    assert worker.allocate(16) == 16 * 2**20


def test_output_past_the_limit_is_named_as_in_bwrap(engine):
    """The log's cap (RLIMIT_FSIZE on bwrap's log file) ends the worker, in the same words."""
    sandbox = DockerSandbox(Limits(file_bytes=2**20))
    handle = Student(sandbox, PROBES, "probes")
    try:
        handle.begin_test(5.0, "test of flood")
        with pytest.raises(SubmissionError, match=r"went over the 1 MiB limit on printed output") as raised:
            handle.flood(4)
        assert raised.value.kind == Outcome.CRASH
        assert len(handle.output()) <= 8192
    finally:
        handle.close()
        sandbox.close()


def test_blocked_modules_are_hidden_as_in_bwrap(engine):
    sandbox = DockerSandbox(Limits(blocked_modules=("torch",)))
    handle = Student(sandbox, PROBES, "probes")
    try:
        assert handle.try_import("torch") == "ImportError: torch is not available in this assignment (it is numpy only)"
        assert handle.try_import("numpy") == "imported"
    finally:
        handle.close()
        sandbox.close()


def test_hang_is_killed_at_the_deadline_and_next_call_works(worker, engine):
    worker.begin_test(0.5, "test of hang")
    started = time.monotonic()
    # The engine is local: the backend counts the container's CPU time from here and
    # signals its worker, which says where it was stuck (a remote engine gets the wall cap).
    with pytest.raises(SubmissionError, match=r"timed out after 0.5 s of CPU time in hang") as raised:
        worker.hang()
    elapsed = time.monotonic() - started
    worker.end_test()
    assert "`hang` is not run again" in str(raised.value)
    assert worker.hung == {"hang": "test of hang"}
    assert elapsed < wall_cap(0.5), elapsed
    assert _containers(engine) == []
    assert worker.identity()["uid"] == 65534


def test_reference_and_hidden_tests_are_not_visible(worker):
    assert not worker.exists(str(ROOT))
    assert not worker.exists(str(ROOT / "reference"))
    names = ["test_hidden.py", "polyfit.py", "config.json"]
    assert worker.find(names, ["/proc", "/sys", "/dev", "/usr"]) == []


def test_no_container_is_left_after_close(engine):
    sandbox = DockerSandbox(Limits())
    handle = Student(sandbox, PROBES, "probes")
    assert handle.identity()["uid"] == 65534
    assert len(_containers(engine)) == 1
    handle.close()
    sandbox.close()
    assert _containers(engine) == []


def test_gpus_become_a_device_request(engine):
    sandbox = DockerSandbox(Limits(), gpus="all")
    try:
        config = sandbox.host_config()
    finally:
        sandbox.close()
    assert config["DeviceRequests"] == [{"Driver": "", "Count": -1, "DeviceIDs": [],
                                         "Capabilities": [["gpu"]], "Options": {}}]
    assert config["NetworkMode"] == "none" and config["ReadonlyRootfs"] is True
    assert config["CapDrop"] == ["ALL"] and config["SecurityOpt"] == ["no-new-privileges"]


def test_a_remote_engines_pid_is_not_taken_for_a_local_one():
    """An engine elsewhere reports pids of its own machine: they are not ours to count or signal."""
    class RemoteAPI:
        def inspect_container(self, container):
            return {"State": {"Pid": os.getpid()}}  # a live pid here, not in the container's cgroup
    assert _local_pid(RemoteAPI(), "0123456789ab" * 5) is None


def test_missing_engine_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_DOCKER_URL", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(SandboxUnavailable, match="no Docker engine"):
        DockerSandbox(Limits())


def dockerfile_stages():
    """{stage name: [(INSTRUCTION, arguments)]} from the Dockerfile, continuations joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stages, current = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction == "FROM":
            current = rest.split(" AS ")[-1].strip()
            stages[current] = [("FROM", rest)]
        elif current:
            stages[current].append((instruction, " ".join(rest.split())))
    return stages


def test_dockerfile_structure():
    stages = dockerfile_stages()
    assert list(stages) == ["wheels", "worker", "grader"]
    wheels, worker, grader_stage = stages["wheels"], stages["worker"], stages["grader"]
    assert wheels == [("FROM", "scratch AS wheels"), ("ARG", "WHEELS=docker/wheels"), ("COPY", "${WHEELS} /")]
    assert worker[0] == ("FROM", "${BASE} AS worker") and grader_stage[0][1] == "worker AS grader"
    text = (ROOT / "Dockerfile").read_text()
    assert "ARG BASE=python:3.11" in text
    for stage in (worker, grader_stage):  # every COPY source exists and is not ignored
        for instruction, args in stage:
            if instruction == "COPY":
                assert (ROOT / args.split()[0]).exists(), args
    copied = [args.split()[0] for _, args in worker if _ == "COPY"]
    assert copied == ["pyproject.toml", "grader"]  # no course files in the worker image
    runs = " ".join(args for instruction, args in worker if instruction == "RUN")
    assert "grader/templates/setup.sh" in runs and "VENV=/opt/venv" in runs
    assert runs.startswith("--mount=type=bind,from=wheels,target=/wheels") and "WHEELS=/wheels" in runs
    assert ("USER", "65534:65534") in worker
    assert ("ENV", "GRADER_COURSE_ROOT=/course HOME=/home/grader") in grader_stage
    assert any("chown -R root:grader /course/reference" in args and "g=rX,o= /course/reference" in args
               for _, args in grader_stage)
    assert grader_stage[-4] == ("USER", "10001:10001")  # the grader never runs as root
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and "tests" in ignored and "reference" not in ignored
    assert not any(pattern.startswith("docker") for pattern in ignored)  # docker/wheels is a build input


class FakeEngine:
    """What ContainerProcess asks of the Docker API about a container that has ended."""

    def __init__(self, state):
        self.state = state

    def inspect_container(self, container):
        return {"State": self.state}


def ended_container(state, tmp_path):
    """A ContainerProcess whose attach stream has already closed (no engine needed)."""
    ours, theirs = socket.socketpair()
    theirs.close()
    with open(tmp_path / "log", "wb") as log:
        process = ContainerProcess(FakeEngine(state), "c0ffee", ours, log, 2**20)
        process.wait(timeout=5)
    return process


def test_an_oom_killed_container_is_reported_as_out_of_memory(tmp_path):
    process = ended_container({"Running": False, "OOMKilled": True, "ExitCode": 137}, tmp_path)
    assert process.returncode == -9 and process.exceeded == MEMORY


def test_a_container_that_exited_is_not_reported_as_out_of_memory(tmp_path):
    process = ended_container({"Running": False, "OOMKilled": False, "ExitCode": 3}, tmp_path)
    assert process.returncode == 3 and process.exceeded is None
