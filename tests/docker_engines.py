"""Container engines for the tests: podman's Docker API service and Docker Engine.

Both are started for real, on a unix socket under a folder of the test
session, and stopped by pid at the end; nothing here connects anywhere but
local sockets and the host's loopback.

- podman: `podman system service` (podman and runc installed with apt-get when
  missing, as root), with a containers.conf that picks runc and explicit
  ulimits (shared/research/sandbox-probe.md §3).
- Docker Engine: `docker/dockerd.sh start FOLDER` (docker.io installed when
  missing, as root): its own --data-root, --exec-root, pidfile and socket, no
  bridge and no iptables rules. When GRADER_TEST_DOCKER_URL names an engine
  already running (`make test-docker` starts one and builds the images in
  it), that engine is used and left running.

A worker image is either the skeleton (bin/lib symlinks, passwd/group; the
host's /usr and this project's venv mounted read-only at /usr and /opt/venv:
cheap, for `make test`) or, on Docker Engine when GRADER_TEST_WORKER_IMAGE is
set, the worker image built from the Dockerfile.
"""
import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERD = ROOT / "docker" / "dockerd.sh"
ENGINES = ("podman", "docker")
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
"""


class EngineUnavailable(Exception):
    """This engine cannot run here; the message says why (the tests skip)."""


def apt_install(*packages):
    """Install Debian packages when we are root; else raise EngineUnavailable."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise EngineUnavailable(f"{' and '.join(packages)} missing and not installable here (needs root and apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-qq", *packages]
    if subprocess.run(install, env=env, capture_output=True, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise EngineUnavailable(f"apt-get could not install {packages}: {result.stderr.strip()[-300:]}")


def skeleton_tar():
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


def skeleton_volumes():
    """The read-only mounts a skeleton worker needs, as GRADER_DOCKER_VOLUMES."""
    if sys.prefix == sys.base_prefix or not sys.base_prefix.startswith("/usr"):
        raise EngineUnavailable("the skeleton image needs the tests to run from a venv over a /usr Python")
    return f"/usr:/usr,{sys.prefix}:/opt/venv"


def wait_for_socket(sock, process=None, patience=30.0):
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the engine exited with {process.returncode}")
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(str(sock))
            return
        except OSError:
            pass
        finally:
            probe.close()
        time.sleep(0.1)
    raise RuntimeError(f"no engine answered on {sock}")


@contextlib.contextmanager
def podman(folder):
    """A podman Docker-API service with the skeleton image: yields GRADER_DOCKER_* settings."""
    if not (shutil.which("podman") and shutil.which("runc")):
        apt_install("podman", "runc")
    volumes = skeleton_volumes()
    (folder / "containers.conf").write_text(CONTAINERS_CONF)
    (folder / "skeleton.tar").write_bytes(skeleton_tar())
    env = dict(os.environ, CONTAINERS_CONF=str(folder / "containers.conf"))
    image = f"localhost/grader-test-worker:{os.getpid()}"
    subprocess.run(["podman", "image", "import", str(folder / "skeleton.tar"), image],
                   env=env, check=True, capture_output=True, timeout=120)
    sock = folder / "podman.sock"
    with open(folder / "service.log", "wb") as log:
        service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{sock}"],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_socket(sock, service)
            yield {"GRADER_DOCKER_URL": f"unix://{sock}", "GRADER_DOCKER_IMAGE": image,
                   "GRADER_DOCKER_VOLUMES": volumes}
        finally:
            subprocess.run(["podman", "rm", "-f", "--filter", "label=ml-autograder.worker"], env=env,
                           capture_output=True, timeout=60)
            service.terminate()
            try:
                service.wait(timeout=20)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()
            subprocess.run(["podman", "rmi", "-f", image], env=env, capture_output=True, timeout=60)


@contextlib.contextmanager
def dockerd(folder):
    """A Docker Engine: the one GRADER_TEST_DOCKER_URL names, else a private one. Yields its URL."""
    shared = os.environ.get("GRADER_TEST_DOCKER_URL")
    if shared:
        wait_for_socket(shared.removeprefix("unix://"), patience=5)
        yield shared
        return
    if os.geteuid() != 0:
        raise EngineUnavailable("dockerd needs root")
    if shutil.which("dockerd") is None:
        apt_install("docker.io")
    started = subprocess.run(["bash", str(DOCKERD), "start", str(folder)], capture_output=True,
                             text=True, timeout=120)
    if started.returncode != 0:
        raise RuntimeError(f"dockerd.sh start failed: {started.stderr.strip()[-600:]}")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run(["bash", str(DOCKERD), "stop", str(folder)], capture_output=True, timeout=120)


@contextlib.contextmanager
def docker_engine(folder):
    """Docker Engine with a worker image: yields GRADER_DOCKER_* settings."""
    import docker
    with dockerd(folder) as url:
        built = os.environ.get("GRADER_TEST_WORKER_IMAGE")
        if built:
            yield {"GRADER_DOCKER_URL": url, "GRADER_DOCKER_IMAGE": built, "GRADER_DOCKER_VOLUMES": ""}
            return
        volumes = skeleton_volumes()
        client = docker.DockerClient(base_url=url)
        repository, tag = "grader-test-worker", str(os.getpid())
        try:
            client.api.import_image_from_data(skeleton_tar(), repository=repository, tag=tag)
            yield {"GRADER_DOCKER_URL": url, "GRADER_DOCKER_IMAGE": f"{repository}:{tag}",
                   "GRADER_DOCKER_VOLUMES": volumes}
        finally:
            with contextlib.suppress(Exception):
                client.api.remove_image(f"{repository}:{tag}", force=True)
            client.close()


@contextlib.contextmanager
def docker_environment(folder):
    """docker_engine(folder), with its GRADER_DOCKER_* settings in os.environ for the grades."""
    with docker_engine(folder) as settings, pytest.MonkeyPatch.context() as patch:
        for key, value in settings.items():
            patch.setenv(key, value)
        yield settings


def engine(kind, folder):
    """The context manager for one engine kind ("podman" or "docker")."""
    return {"podman": podman, "docker": docker_engine}[kind](folder)
