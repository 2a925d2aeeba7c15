"""The docker backend: one locked-down container per worker, via the Docker API.

Each worker is a fresh container from a worker image (see the Dockerfile's
`worker` stage): no network, a read-only root, small tmpfs mounts, memory,
pids, CPU and rlimit bounds, every capability dropped, no-new-privileges and
the unprivileged uid 65534. It runs

    PYTHON -I -B -c BOOTSTRAP ...

BOOTSTRAP reads worker.py, codec.py and the submission's module from stdin
into tmpfs mounts at /opt/grader/ and /submission/ (the same layout as the
bwrap backend) and starts the worker, which then speaks codec frames on the
same stdin/stdout. Sending the files through stdin needs no shared folder
with the engine and no `put_archive` (which refuses read-only roots), so a
remote engine works too. The bootstrap stays as the container's first
process (its init, which no process inside can kill) and is a wall-clock
backstop: no container outlives a grade even if the grader dies.

The limits are bwrap's (docs/architecture.md, "One limits model"): RLIMIT_AS
set by the bootstrap, memory plus tmpfs in the container's cgroup, the
worker's output in a file under RLIMIT_FSIZE (relayed by the bootstrap, which
stays as the worker's parent), and each blocked package's folder hidden under
a tmpfs holding bwrap's ImportError stub.

Docker multiplexes stdout and stderr on one attach socket when there is no
tty; a thread splits it: stdout into a real pipe (the client selects and
os.reads on it), stderr into the log file, bounded.

Configuration (the harness inherits the environment):
    GRADER_DOCKER_URL      engine address (default: DOCKER_HOST or the local socket)
    GRADER_DOCKER_IMAGE    worker image (default ml-autograder-worker:latest)
    GRADER_DOCKER_PYTHON   interpreter inside the image (default /opt/venv/bin/python)
    GRADER_DOCKER_VOLUMES  extra read-only mounts, "HOST:INSIDE,HOST:INSIDE"
    GRADER_DOCKER_CPUS     CPUs per worker (default 1)
    GRADER_DOCKER_GPUS     "all" or a comma list of device ids: pass GPUs to workers
"""
import hashlib
import json
import os
import socket
import struct
import subprocess
import threading
import time
import uuid
from pathlib import Path

from .. import codec
from ..errors import SandboxUnavailable
from ..files import CACHE_ROOT, atomic_write
from ..limits import GRADE_TIMEOUT, MEMORY, OUTPUT, Limits
from .base import PACKAGE_DIR, WORKER_FILES, Sandbox, worker_env

DEFAULT_IMAGE = "ml-autograder-worker:latest"
DEFAULT_PYTHON = "/opt/venv/bin/python"
LABEL = "ml-autograder.worker"
BACKSTOP_SECONDS = int(GRADE_TIMEOUT) + 60
FILES_TMPFS = "size=8m,mode=1777,nosuid,nodev,noexec"  # podman rejects uid=
# Over a folder of the image, runc keeps the folder's mode (root's 0755): the worker's uid owns
# it instead, so BOOTSTRAP can write a stub there. Docker Engine takes the kernel's uid=;
# podman refuses it and has U (the container's user) instead, and copies the folder's
# files into a tmpfs unless told not to.
HIDING_TMPFS = {"docker": "size=1m,uid=65534,gid=65534,nosuid,nodev,noexec",
                "podman": "size=1m,U,notmpcopyup,nosuid,nodev,noexec"}
OUTPUT_FILE = "/opt/output/log"  # the worker's stdout and stderr (see BOOTSTRAP)
REMOVE_ATTEMPTS = 10      # a container being removed while it stops (see _remove)

# Runs inside the container as its first process: argv[1] is the module's name, argv[2]
# the address-space limit in bytes (0: none), argv[3] how many bytes the grade's earlier
# workers printed, argv[4] the wall-clock backstop in seconds, argv[5:] the paths of the
# worker's files (worker.py first), of the stubs of blocked packages and, last, of the
# module; each arrives on stdin as an 8-byte big-endian length and the bytes. Reads are
# exact, so the worker's first request stays in the pipe.
#
# Limits as bwrap's launcher sets them: RLIMIT_AS for the worker (Docker has no ulimit for
# it), and the worker's output goes to a file, as into bwrap's log file, so RLIMIT_FSIZE
# (the container's fsize ulimit) ends a flood the same way: the write fails with "File too
# large" once the grade's output reaches the limit (the file starts as a hole of the bytes
# already printed). This process stays as the worker's parent and the container's init,
# as bwrap's own init does: a signal from inside cannot kill it, it holds neither end of
# the request channel, it copies the file's growth to the container's stderr (which the
# harness reads), and when the worker ends it copies the rest and ends with the worker's
# status, taking every process left in the container with it.
BOOTSTRAP = """\
import os, resource, signal, sys, time
def backstop(signum, frame):
    os._exit(137)
signal.signal(signal.SIGALRM, backstop)
signal.alarm(int(sys.argv[4]))
def take(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            sys.exit(3)
        data += chunk
    return data
def copy(source):
    while True:
        data = os.read(source, 1 << 16)
        if not data:
            return
        while data:
            data = data[os.write(2, data):]
name, address_space, printed, paths = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[5:]
for path in paths:
    size = int.from_bytes(take(8), "big")
    with open(path, "wb") as handle:
        handle.write(take(size))
    os.chmod(path, 0o444)
log = os.open(OUTPUT, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
os.ftruncate(log, printed)
worker = os.fork()
if worker == 0:
    signal.alarm(0)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    os.dup2(log, 2)
    os.close(log)
    if address_space:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    os.execv(sys.executable, [sys.executable, "-I", "-B", paths[0], paths[-1], name])
for fd in (log, 0, 1):
    os.close(fd)
source = os.open(OUTPUT, os.O_RDONLY)
os.lseek(source, printed, os.SEEK_SET)
while True:
    copy(source)
    ended, status = os.waitpid(worker, os.WNOHANG)
    if ended:
        copy(source)
        code = os.waitstatus_to_exitcode(status)
        os._exit(128 - code if code < 0 else code)
    time.sleep(0.02)
""".replace("OUTPUT", repr(OUTPUT_FILE))
# Where each named top-level package is installed in the image (run once per image).
FIND_PACKAGES = """\
import importlib.util, json, sys
def folder(name):
    spec = importlib.util.find_spec(name)
    return spec.submodule_search_locations[0] if spec and spec.submodule_search_locations else None
print(json.dumps({name: folder(name) for name in sys.argv[1:]}))
"""


class DockerSandbox(Sandbox):
    def __init__(self, limits=Limits(), *, base_url=None, image=None, python=None,
                 volumes=None, gpus=None, cpus=None):
        super().__init__(limits, gpu=bool(gpus))
        try:  # optional, and slow to import: only this backend needs the docker SDK
            import docker
        except ImportError:
            raise SandboxUnavailable("the docker SDK is not installed (pip install docker)") from None
        self._docker = docker
        base_url = base_url or os.environ.get("GRADER_DOCKER_URL")
        try:
            self.client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
            self.client.ping()
        except Exception as exc:  # the SDK raises several unrelated types here
            raise SandboxUnavailable(f"no Docker engine at {base_url or 'the default address'}: {exc}") from None
        self.image = image or os.environ.get("GRADER_DOCKER_IMAGE") or DEFAULT_IMAGE
        self.python = python or os.environ.get("GRADER_DOCKER_PYTHON") or DEFAULT_PYTHON
        self.volumes = volumes if volumes is not None else _parse_volumes(os.environ.get("GRADER_DOCKER_VOLUMES", ""))
        self.gpus = gpus if gpus is not None else os.environ.get("GRADER_DOCKER_GPUS") or None
        self.cpus = float(cpus or os.environ.get("GRADER_DOCKER_CPUS") or 1)
        self._started = set()
        self._blocked = None  # {package folder in the image: stub source}, found on first start
        self._engine = None   # "docker" or "podman", asked when needed

    def host_config(self, hidden_folders=()):
        """Every confinement setting of a worker container; hidden_folders get an empty tmpfs."""
        limits, types = self.limits, self._docker.types
        ulimits = [types.Ulimit(name=name, soft=value, hard=value) for name, value in (
            ("nofile", limits.open_files),
            # RLIMIT_NPROC counts every process of uid 65534 on the host, across
            # containers; pids_limit below is the per-worker bound. Podman needs
            # an explicit value (its default cannot be set without privileges).
            ("nproc", 4096),
            ("cpu", limits.cpu_seconds), ("fsize", limits.file_bytes), ("core", 0))]
        device_requests = None
        if self.gpus:
            which = {"count": -1} if self.gpus == "all" else {"device_ids": self.gpus.split(",")}
            device_requests = [types.DeviceRequest(capabilities=[["gpu"]], **which)]
        return self.client.api.create_host_config(
            network_mode="none", read_only=True,
            tmpfs={"/tmp": f"size={limits.tmpfs_bytes},mode=1777,nosuid,nodev",
                   "/opt/grader": FILES_TMPFS, "/submission": FILES_TMPFS,
                   os.path.dirname(OUTPUT_FILE): f"size={limits.file_bytes},mode=1777,nosuid,nodev,noexec",
                   **{folder: HIDING_TMPFS[self.engine()] for folder in hidden_folders}},
            # the address space is bounded by RLIMIT_AS (BOOTSTRAP); the cgroup bounds it and the
            # tmpfs together, as a bwrap slot's cgroup does
            mem_limit=limits.memory_bytes + limits.tmpfs_bytes,
            memswap_limit=limits.memory_bytes + limits.tmpfs_bytes,
            pids_limit=limits.processes, nano_cpus=int(self.cpus * 1e9),
            cap_drop=["ALL"], security_opt=["no-new-privileges"], ulimits=ulimits,
            binds={host: {"bind": inside, "mode": "ro"} for host, inside in self.volumes},
            device_requests=device_requests)

    def start(self, module_source, module_name, log_file):
        api = self.client.api
        blocked = self.blocked_stubs()
        files = {f"/opt/grader/{name}": (PACKAGE_DIR / name).read_bytes() for name in WORKER_FILES}
        files.update({f"{folder}/__init__.py": stub for folder, stub in blocked.items()})
        files[f"/submission/{module_name}.py"] = module_source
        address_space = 0 if self.gpus else self.limits.memory_bytes  # CUDA reserves huge ranges
        printed = os.fstat(log_file.fileno()).st_size
        command = [self.python, "-I", "-B", "-c", BOOTSTRAP, module_name, str(address_space), str(printed),
                   str(BACKSTOP_SECONDS), *files]
        env = worker_env(HOME="/tmp", PATH=f"{os.path.dirname(self.python)}:/usr/bin:/bin")
        try:
            container = api.create_container(
                self.image, command=command, user="65534:65534", working_dir="/tmp",
                hostname="sandbox", environment=env, stdin_open=True, tty=False,
                labels={LABEL: "1"}, name=f"grader-worker-{uuid.uuid4().hex[:12]}",
                host_config=self.host_config(blocked))["Id"]
        except self._docker.errors.APIError as exc:
            raise SandboxUnavailable(f"could not create a worker container from {self.image}: {exc}") from None
        self._started.add(container)
        try:
            stream = api.attach_socket(container, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            api.start(container)
        except self._docker.errors.APIError as exc:
            self._remove(container)
            raise SandboxUnavailable(f"could not start a worker container: {exc}") from None
        process = ContainerProcess(api, container, stream._sock, log_file, self.limits.file_bytes)
        process.pid = _local_pid(api, container)
        process.stdin.write(b"".join(struct.pack(">Q", len(data)) + data for data in files.values()))
        return process

    def blocked_stubs(self):
        """{folder of a blocked package in the image: the stub that replaces its __init__.py}.

        The folder is hidden under an empty tmpfs and the stub written there, so
        `import torch` fails with the words bwrap's stub uses.
        """
        if self._blocked is None:
            folders = self.package_folders(self.limits.blocked_modules) if self.limits.blocked_modules else {}
            self._blocked = {folder: self.limits.blocked_stub(name) for name, folder in folders.items()}
        return self._blocked

    def engine(self):
        """"podman" or "docker": which engine answers (they spell tmpfs options differently)."""
        if self._engine is None:
            version = self.client.version()
            names = [c.get("Name", "") for c in version.get("Components") or []]
            names.append((version.get("Platform") or {}).get("Name", ""))
            self._engine = "podman" if any("podman" in name.lower() for name in names) else "docker"
        return self._engine

    def package_folders(self, names):
        """{name: folder} for the packages among names installed in the worker image.

        Asked of the image once (a short container, with the workers' volumes) and cached
        by the image's id and those volumes.
        """
        try:
            image_id = self.client.images.get(self.image).id
        except self._docker.errors.DockerException as exc:
            raise SandboxUnavailable(f"no worker image {self.image}: {exc}") from None
        key = hashlib.sha256(json.dumps([image_id, self.python, self.volumes]).encode()).hexdigest()[:24]
        cache = CACHE_ROOT / "docker-images" / f"{key}.json"
        try:
            known = json.loads(cache.read_text())
        except (OSError, ValueError):
            known = {}
        missing = [name for name in names if name not in known]
        if missing:
            output = self.client.containers.run(
                self.image, [self.python, "-I", "-c", FIND_PACKAGES, *missing], user="65534:65534",
                network_mode="none", read_only=True, cap_drop=["ALL"], remove=True, stderr=False,
                volumes={host: {"bind": inside, "mode": "ro"} for host, inside in self.volumes})
            known.update(json.loads(output))
            atomic_write(cache, json.dumps(known))
        return {name: known[name] for name in names if known.get(name)}

    def exceeded(self, process):
        """OUTPUT when the container's output went over its cap, MEMORY when it was OOM-killed."""
        return process.exceeded

    def cpu_seconds(self, process):
        """On a local engine, the container's process tree as seen from here; a remote one: not counted
        (its stats call is too slow to poll), so budgets are the wall-clock cap alone."""
        return super().cpu_seconds(process) if process.pid is not None else None

    def signal_worker(self, process, signum):
        """On a local engine, the worker itself (the container's first process, the bootstrap,
        passes no signal on); a remote one: not possible."""
        return process.pid is not None and super().signal_worker(process, signum)

    def kill(self, process):
        """Kill and remove the container; the attach stream then ends."""
        self._remove(process.container)
        process.finish()

    def close(self):
        for container in list(self._started):
            self._remove(container)
        self.client.close()

    def _remove(self, container):
        for attempt in range(REMOVE_ATTEMPTS):
            try:
                self.client.api.remove_container(container, force=True)
                break
            except self._docker.errors.NotFound:
                break
            except self._docker.errors.APIError:
                # podman refuses to remove a container that is stopping at that very
                # moment ("could not be stopped: container state improper"): ask again
                if attempt == REMOVE_ATTEMPTS - 1:
                    raise
                time.sleep(0.2)
        self._started.discard(container)


class ContainerProcess:
    """What the client needs of a Popen: stdin, stdout (a real pipe), poll, wait."""

    def __init__(self, api, container, sock, log_file, log_limit):
        self.api, self.container, self.returncode = api, container, None
        self.pid = None  # the container's first process, where the engine is local (see _local_pid)
        self.exceeded = None  # OUTPUT or MEMORY: the limit this worker went over
        self._sock = sock
        sock.settimeout(None)  # the SDK's request timeout must not end an idle worker
        self.stdin = _SocketWriter(sock)
        read_end, self._pipe = os.pipe()
        self.stdout = os.fdopen(read_end, "rb", buffering=0)
        # O_APPEND on a fresh description: the client seeks in log_file meanwhile.
        self._log = os.open(f"/proc/self/fd/{log_file.fileno()}", os.O_WRONLY | os.O_APPEND)
        self._log_limit = log_limit
        self._pump = threading.Thread(target=self._demultiplex, daemon=True)
        self._pump.start()

    def _demultiplex(self):
        """Split Docker's framed stream (8-byte headers: kind, 0, 0, 0, length).

        Once the output went over its cap the worker's end is shown to the client
        (its pipe closes) while the rest of the stream is read and dropped: an
        engine whose attach stream is not read cannot remove the container.
        """
        try:
            while True:
                header = codec.read_exact(self._sock.recv, 8)
                if header is None:
                    return
                kind, length = header[0], struct.unpack(">I", header[4:])[0]
                body = codec.read_exact(self._sock.recv, length)
                if body is None:
                    return
                if self.exceeded == OUTPUT:
                    continue  # dropped
                if kind == 1:
                    _write_all(self._pipe, body)
                elif kind == 2:
                    self._log_output(body)
        except (OSError, codec.CodecError):  # the client closed its end, or the socket was shut
            pass
        finally:
            self._close_pipe()
            os.close(self._log)

    def _close_pipe(self):
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None

    def _log_output(self, data):
        """Append to the log, up to its cap (the whole log's size). The bootstrap's log file under
        RLIMIT_FSIZE keeps the worker's output within it; this guards what else reaches the
        container's stderr (a relay the submission subverted): past the cap, keep what fits and
        mark the worker as over its output limit, which ends it."""
        room = self._log_limit - os.fstat(self._log).st_size
        _write_all(self._log, data[:max(room, 0)])
        if len(data) > room:
            self.exceeded = OUTPUT
            self._close_pipe()

    def poll(self):
        """The exit code once the worker ended (or went over its output limit: then it is done)."""
        if self.returncode is None and (self.exceeded == OUTPUT or not self._pump.is_alive()):
            self.returncode = self._exit_code()
        return self.returncode

    def wait(self, timeout=None):
        if self.exceeded != OUTPUT:
            self._pump.join(timeout)
            if self._pump.is_alive():
                raise subprocess.TimeoutExpired("docker worker", timeout)
        return self.poll()

    def finish(self):
        """After the container was removed: stop the pump; a worker that had not exited was killed."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.stdout.close()  # unblocks a pump writing into a full pipe
        self._pump.join(10)
        self._sock.close()
        if self.returncode is None:
            self.returncode = -9

    def _exit_code(self, patience=10.0):
        """The container's exit code, as Popen reports it (-N for signal N)."""
        if self.exceeded == OUTPUT:
            return -9  # still running: the client's kill removes it
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            try:
                state = self.api.inspect_container(self.container)["State"]
            except Exception:  # removed meanwhile: it was killed
                return -9
            if not state.get("Running"):
                if state.get("OOMKilled"):
                    self.exceeded = MEMORY
                code = int(state.get("ExitCode", 0))
                return 128 - code if 128 < code < 128 + 65 else code
            time.sleep(0.02)
        return -9


def _local_pid(api, container):
    """The container's first process as a pid of this machine, or None (a remote engine).

    The pid the engine reports is its own host's: it is ours only when that
    process's cgroup names the container.
    """
    try:
        pid = int(api.inspect_container(container)["State"]["Pid"])
        return pid if pid > 0 and container in Path(f"/proc/{pid}/cgroup").read_text() else None
    except (OSError, KeyError, TypeError, ValueError):
        return None


class _SocketWriter:
    """stdin of the container: write/flush/close over the attach socket."""

    def __init__(self, sock):
        self._sock = sock

    def write(self, data):
        self._sock.sendall(data)
        return len(data)

    def flush(self):
        pass

    def close(self):
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _parse_volumes(text):
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        host, _, inside = item.partition(":")
        pairs.append((host, inside.split(":")[0] or host))
    return pairs
