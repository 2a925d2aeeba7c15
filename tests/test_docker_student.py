"""A student's laptop, in a container: the released repository's `make test` as a
non-root user on a Debian machine without bubblewrap.

The laptop is the local base image (Debian bookworm: python3 3.11 with venv,
make; no bubblewrap, no network), the user uid 1000 with a home of its own.
1. `make test PYTHON=...` with a Python that already has torch: this project's
   venv, mounted read-only at its own path (its interpreter is Debian's
   /usr/bin/python3, the same in the image).
2. `make test` with no .venv: the Makefile makes one. pip gets the local wheel
   folder as its only source (PIP_NO_INDEX, PIP_FIND_LINKS), standing in for
   the indexes a laptop reaches.
Both print the public results and the hidden-tests line. These need the engine
and base image of `make test-docker` and skip elsewhere.
"""
import os
import shutil
import sys

import pytest

from conftest import ROOT, run_cli

URL = os.environ.get("GRADER_TEST_DOCKER_URL", "")
BASE = os.environ.get("GRADER_TEST_BASE_IMAGE", "ml-autograder-base:bookworm")
WHEELS = ROOT / "docker" / "wheels"
STUDENT = "1000:1000"


@pytest.fixture(scope="module")
def client():
    if not URL:
        pytest.skip("needs the engine and base image of `make test-docker` (GRADER_TEST_DOCKER_URL)")
    import docker
    engine = docker.DockerClient(base_url=URL, timeout=600)  # removing a 1.3 GB image on a loaded machine takes minutes
    try:
        engine.images.get(BASE)
    except docker.errors.ImageNotFound:
        engine.close()
        pytest.skip(f"image {BASE} is missing: `make test-docker` builds it")
    yield engine
    engine.close()


@pytest.fixture
def repo(tmp_path):
    """A fresh copy of the student repository (polyfit only), owned by the student."""
    out = tmp_path / "course"
    result = run_cli("release", out, "--assignment", "polyfit")
    assert result.returncode == 0, result.stderr
    for path in [out, *out.rglob("*")]:
        os.chown(path, 1000, 1000, follow_symlinks=False)
    os.chmod(tmp_path, 0o755)
    return out


def laptop(client, repo, command, *, environment=None, volumes=None, timeout=900):
    """Run COMMAND in the repository as the student; return (exit code, output)."""
    container = client.containers.run(
        BASE, ["bash", "-c", command], detach=True, user=STUDENT, working_dir="/home/student/course",
        network_mode="none", environment={"HOME": "/home/student", **(environment or {})},
        tmpfs={"/home/student": "mode=0755,uid=1000,gid=1000"},
        volumes={str(repo): {"bind": "/home/student/course", "mode": "rw"}, **(volumes or {})})
    try:
        code = container.wait(timeout=timeout)["StatusCode"]
        return code, container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


def test_the_laptop_has_no_bubblewrap_and_no_root(client, repo):
    code, output = laptop(client, repo, "id -u; command -v bwrap || echo no-bwrap; python3 --version")
    assert code == 0, output
    assert output.split()[:2] == ["1000", "no-bwrap"] and "Python 3." in output


def test_make_test_with_a_python_that_has_torch(client, repo):
    if sys.prefix == sys.base_prefix or not sys.base_prefix.startswith("/usr"):
        pytest.skip("needs this project's venv over Debian's /usr/bin/python3 (as in the image)")
    venv = {sys.prefix: {"bind": sys.prefix, "mode": "ro"}}
    python = f"{sys.prefix}/bin/python"
    code, output = laptop(client, repo, f"make -s test PYTHON={python}", volumes=venv)
    assert code != 0, output  # the stubs fail their public tests
    assert "0 of 5 public tests passed" in output, output
    assert "Hidden tests" in output and "not implemented" in output, output
    shutil.copy(ROOT / "reference" / "polyfit" / "polyfit.py", repo / "assignments" / "polyfit" / "polyfit.py")
    code, output = laptop(client, repo, f"make -s test PYTHON={python}", volumes=venv)
    assert code == 0, output
    assert "5 of 5 public tests passed" in output and "Hidden tests" in output, output
    assert not (repo / ".venv").exists()


def test_make_test_creates_the_venv_from_local_wheels(client, repo):
    if not any(WHEELS.glob("torch-2.13.0*.whl")):
        pytest.skip("docker/wheels holds no torch wheel (`make docker-wheels`)")
    shutil.copy(ROOT / "reference" / "polyfit" / "polyfit.py", repo / "assignments" / "polyfit" / "polyfit.py")
    code, output = laptop(client, repo, "make -s test",
                          environment={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "/wheels"},
                          volumes={str(WHEELS): {"bind": "/wheels", "mode": "ro"}})
    assert code == 0, output
    assert "5 of 5 public tests passed" in output and "Hidden tests" in output, output
    assert (repo / ".venv" / "bin" / "python").exists()
