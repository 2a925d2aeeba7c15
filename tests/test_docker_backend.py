"""The docker backend (`--sandbox docker`), for real, against podman's Docker API.

No Docker Engine runs on these machines; podman's Docker-compatible service
does (shared/research/sandbox-probe.md §3). A session fixture installs podman
and runc when missing (root and apt-get only; otherwise these tests skip),
imports a skeleton image (bin/lib symlinks and passwd/group, with the host's
/usr and this project's venv mounted read-only at /usr and /opt/venv), starts
`podman system service` on a socket in a temporary folder and stops it by its
pid at the end. Nothing here connects anywhere but the host's loopback.
"""
import io
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time

import pytest

from conftest import ROOT, failed, max_score, run_cli
from grader import course
from grader.client import Student
from grader.errors import SandboxUnavailable, SubmissionError
from grader.sandbox.docker import LABEL, DockerSandbox
from grader.grade import Options, grade
from grader.limits import Limits

CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
"""

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


def _podman_problem():
    """None when podman and runc are usable (installing them if we may), else why not."""
    if shutil.which("podman") and shutil.which("runc"):
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "podman is not installed and cannot be installed here (needs root and apt-get)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-qq", "podman", "runc"]
    if subprocess.run(install, env=env, capture_output=True, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            return f"apt-get could not install podman: {result.stderr.strip()[-300:]}"
    return None


def _skeleton_tar():
    """A root filesystem of symlinks and account files; /usr comes from the host."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for folder in ("etc", "tmp", "opt", "proc", "dev", "sys", "usr"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if folder == "tmp" else 0o755
            tar.addfile(info)
        for link in ("bin", "sbin", "lib", "lib64"):
            info = tarfile.TarInfo(link)
            info.type, info.linkname = tarfile.SYMTYPE, f"usr/{link}"
            tar.addfile(info)
        for name, text in (("etc/passwd", "root:x:0:0::/root:/bin/sh\n"
                                          "nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n"),
                           ("etc/group", "root:x:0:\nnogroup:x:65534:\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    """A podman Docker-API service with a worker image; the env points the grader at it."""
    problem = _podman_problem()
    if problem:
        pytest.skip(problem)
    if sys.prefix == sys.base_prefix or not sys.base_prefix.startswith("/usr"):
        pytest.skip("the skeleton image needs the tests to run from a venv over a /usr Python")
    folder = tmp_path_factory.mktemp("podman")
    (folder / "containers.conf").write_text(CONTAINERS_CONF)
    (folder / "skeleton.tar").write_bytes(_skeleton_tar())
    env = dict(os.environ, CONTAINERS_CONF=str(folder / "containers.conf"))
    image = f"localhost/grader-test-worker:{os.getpid()}"
    subprocess.run(["podman", "image", "import", str(folder / "skeleton.tar"), image],
                   env=env, check=True, capture_output=True, timeout=120)
    sock = folder / "podman.sock"
    log = open(folder / "service.log", "wb")
    service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{sock}"],
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    settings = {"GRADER_DOCKER_URL": f"unix://{sock}", "GRADER_DOCKER_IMAGE": image,
                "GRADER_DOCKER_VOLUMES": f"/usr:/usr,{sys.prefix}:/opt/venv"}
    try:
        _wait_for_socket(sock, service)
        with pytest.MonkeyPatch.context() as patch:
            for key, value in settings.items():
                patch.setenv(key, value)
            yield settings
    finally:
        subprocess.run(["podman", "rm", "-f", "--filter", f"label={LABEL}"], env=env,
                       capture_output=True, timeout=60)
        service.terminate()
        try:
            service.wait(timeout=20)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()
        log.close()
        subprocess.run(["podman", "rmi", "-f", image], env=env, capture_output=True, timeout=60)


def _wait_for_socket(sock, service, patience=30.0):
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if service.poll() is not None:
            pytest.fail(f"podman system service exited with {service.returncode}")
        if sock.exists():
            probe = socket.socket(socket.AF_UNIX)
            try:
                probe.connect(str(sock))
                return
            except OSError:
                pass
            finally:
                probe.close()
        time.sleep(0.1)
    pytest.fail("podman system service did not open its socket")


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


def test_memory_is_bounded_and_the_worker_is_replaced(worker):
    with pytest.raises(SubmissionError, match="SIGKILL"):
        worker.allocate(600)
    assert worker.allocate(16) == 16 * 2**20


def test_hang_is_killed_at_the_deadline_and_next_call_works(worker, engine):
    worker.timeout, worker.deadline = 2, time.monotonic() + 2
    started = time.monotonic()
    with pytest.raises(SubmissionError, match="timed out after 2 s"):
        worker.hang()
    assert time.monotonic() - started < 6
    assert _containers(engine) == []
    worker.deadline = None
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
    assert list(stages) == ["worker", "grader"]
    worker, grader_stage = stages["worker"], stages["grader"]
    assert worker[0] == ("FROM", "${BASE} AS worker") and grader_stage[0][1] == "worker AS grader"
    assert "ARG BASE=python:3.11" in (ROOT / "Dockerfile").read_text()
    for stage in stages.values():  # every COPY source exists and is not ignored
        for instruction, args in stage:
            if instruction == "COPY":
                assert (ROOT / args.split()[0]).exists(), args
    copied = [args.split()[0] for _, args in worker if _ == "COPY"]
    assert copied == ["pyproject.toml", "grader"]  # no course files in the worker image
    runs = " ".join(args for instruction, args in worker if instruction == "RUN")
    assert "grader/templates/setup.sh" in runs and "VENV=/opt/venv" in runs
    assert ("USER", "65534:65534") in worker
    assert ("ENV", "GRADER_COURSE_ROOT=/course") in grader_stage
    assert any("go-rwx /course/reference" in args for _, args in grader_stage)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and "tests" in ignored and "reference" not in ignored
