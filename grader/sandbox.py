"""Sandbox backends: how a worker process is started and confined.

A backend turns "run the worker on this module" into a started process whose
stdin/stdout carry codec frames. `none` is a plain subprocess with rlimits,
for a student's own laptop. `bwrap` is bubblewrap: fresh namespaces (no
network, its own PID space), read-only system and Python, only the worker and
the submission's module visible, a small tmpfs, a non-root uid per grading
slot, rlimits, and the whole tree killed with the outer process. `docker`
lives in docker_sandbox.py.
"""
import dataclasses
import fcntl
import functools
import importlib.util
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKER_FILES = ("worker.py", "codec.py")
PACKAGE_DIR = Path(__file__).resolve().parent
SLOT_DIR = Path(os.environ.get("GRADER_SLOT_DIR", "/tmp/grader-slots"))
SLOT_UID_BASE = 61000
# bwrap itself runs inside the sandbox as its PID 1, and /proc/1/environ is
# readable there: it must not inherit the grader's environment.
LAUNCH_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
SLOT_COUNT = 256


class SandboxUnavailable(RuntimeError):
    """The requested backend cannot run on this machine (the message says why)."""


@dataclasses.dataclass(frozen=True)
class Limits:
    memory_bytes: int = 3 * 2**30   # address space; torch needs >= 1 GiB
    cpu_seconds: int = 120          # per worker lifetime
    processes: int = 64             # threads count too
    file_bytes: int = 16 * 2**20    # largest file, including the output log
    tmpfs_bytes: int = 64 * 2**20
    open_files: int = 256
    blocked_modules: tuple = ()     # top-level packages the worker must not import (bwrap)

    def apply(self, with_nproc, address_space=True):
        """Set these as rlimits of the calling process (runs in the child).

        CUDA reserves huge virtual ranges, so a GPU worker gets no RLIMIT_AS;
        its memory is bounded by the slot's cgroup instead.
        """
        pairs = [(resource.RLIMIT_CPU, self.cpu_seconds), (resource.RLIMIT_FSIZE, self.file_bytes),
                 (resource.RLIMIT_CORE, 0), (resource.RLIMIT_NOFILE, self.open_files)]
        if address_space:
            pairs.append((resource.RLIMIT_AS, self.memory_bytes))
        if with_nproc:
            pairs.append((resource.RLIMIT_NPROC, self.processes))
        for kind, value in pairs:
            resource.setrlimit(kind, (value, value))


class Sandbox:
    """Starts workers. Subclasses say how; `start` returns a running Popen."""
    name = "abstract"

    def __init__(self, limits=Limits(), gpu=False):
        self.limits = limits
        self.gpu = gpu

    def start(self, module_source, module_name, log_file):
        raise NotImplementedError

    def close(self):
        """Release what the backend holds (a slot, a temp dir)."""

    def settle(self):
        """Wait until nothing of earlier workers is left (before a retried start)."""

    @staticmethod
    def kill(process):
        """Kill the worker and everything it started, then reap it."""
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait()


class NoSandbox(Sandbox):
    """A plain subprocess: rlimits and a private working folder, nothing else."""
    name = "none"

    def __init__(self, limits=Limits(), gpu=False):
        super().__init__(limits, gpu)
        # Started as root (a Gradescope container), the worker still drops to
        # a slot's own uid, so files the caller keeps private stay unreadable.
        self._slot = SlotLock.acquire() if os.geteuid() == 0 else None
        self._dir = Path(tempfile.mkdtemp(prefix="grader-worker-"))
        self._dir.chmod(0o755)
        for name in WORKER_FILES:
            shutil.copy(PACKAGE_DIR / name, self._dir / name)

    @property
    def uid(self):
        return SLOT_UID_BASE + self._slot.number if self._slot else None

    def start(self, module_source, module_name, log_file):
        run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=self._dir))
        module = run_dir / f"{module_name}.py"
        module.write_bytes(module_source)
        if self.uid is not None:
            for path in (run_dir, module):
                os.chown(path, self.uid, self.uid)
        return subprocess.Popen(
            _as_user(self.uid, [sys.executable, "-I", "-B", str(self._dir / "worker.py"), str(module), module_name]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file, cwd=run_dir,
            env=worker_env(HOME=str(run_dir), PATH=os.environ.get("PATH", "/usr/bin:/bin")),
            start_new_session=True,
            preexec_fn=self._confine)

    def _confine(self):
        die_with_parent()
        self.limits.apply(with_nproc=self.uid is not None, address_space=not self.gpu)

    def kill(self, process):
        super().kill(process)
        drain(self.uid, None, patience=0)

    def settle(self):
        drain(self.uid, None)

    def close(self):
        shutil.rmtree(self._dir, ignore_errors=True)
        if self._slot:
            self._slot.release()
            self._slot = None


class BwrapSandbox(Sandbox):
    """bubblewrap, as measured in shared/research/sandbox-probe.md."""
    name = "bwrap"

    def __init__(self, limits=Limits(), gpu=False):
        super().__init__(limits, gpu)
        self._slot = self._cgroups = None
        if os.geteuid() == 0:
            self._slot = SlotLock.acquire()
            self._cgroups = Cgroups(f"grader-slot-{self._slot.number}", limits)

    @property
    def uid(self):
        return SLOT_UID_BASE + self._slot.number if self._slot else None

    def command(self, fds, program):
        """The bwrap argv running `python program...`; fds maps a path inside to a readable fd."""
        venv, base = Path(sys.prefix), Path(sys.base_prefix)
        python = "/venv/bin/python" if venv != base else str(Path(sys.executable))
        argv = ["bwrap", "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
                "--disable-userns", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
                "--symlink", "usr/sbin", "/sbin", "--symlink", "usr/lib", "/lib",
                "--symlink", "usr/lib64", "/lib64"]
        if venv != base:
            argv += ["--ro-bind", str(venv), "/venv"]
        if not str(base).startswith("/usr"):
            argv += ["--ro-bind", str(base), str(base)]
        argv += ["--proc", "/proc", "--dev", "/dev", *self._gpu_devices(),
                 "--size", str(self.limits.tmpfs_bytes), "--tmpfs", "/tmp",
                 "--dir", "/opt/grader", "--dir", "/submission"]
        for inside, fd in fds.items():
            argv += ["--perms", "0444", "--ro-bind-data", str(fd), inside]
        argv += ["--chdir", "/tmp", "--hostname", "sandbox", "--clearenv"]
        for key, value in worker_env(HOME="/tmp", PATH="/venv/bin:/usr/bin:/bin").items():
            argv += ["--setenv", key, value]
        return argv + [python, "-I", "-B", *program]

    def start(self, module_source, module_name, log_file):
        contents = {f"/opt/grader/{name}": (PACKAGE_DIR / name).read_bytes() for name in WORKER_FILES}
        contents[f"/submission/{module_name}.py"] = module_source
        contents.update(self._blocked_modules())
        fds = {inside: _memfd(data) for inside, data in contents.items()}
        argv = self._as_slot_user(
            self.command(fds, ["/opt/grader/worker.py", f"/submission/{module_name}.py", module_name]))
        try:
            return subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file, cwd="/",
                env=LAUNCH_ENV, pass_fds=tuple(fds.values()), start_new_session=True,
                preexec_fn=self._confine)
        finally:
            for fd in fds.values():
                os.close(fd)

    def _blocked_modules(self):
        """Files that replace a blocked package's __init__.py with an ImportError."""
        replaced = {}
        for name in self.limits.blocked_modules:
            spec = importlib.util.find_spec(name)
            if spec is None or not spec.origin or not spec.origin.startswith(sys.prefix + "/"):
                continue  # not installed in the venv: nothing to hide
            inside = "/venv" + spec.origin[len(sys.prefix):]
            replaced[inside] = (f"raise ImportError('{name} is not available in this assignment "
                                f"(it is numpy only)')\n").encode()
        return replaced

    def _gpu_devices(self):
        """--dev-bind for the NVIDIA device nodes, only when this grade asked for CUDA."""
        if not self.gpu:
            return []
        nodes = sorted(Path("/dev").glob("nvidia*")) + sorted(Path("/dev/dri").glob("*"))
        binds = [arg for node in nodes for arg in ("--dev-bind", str(node), str(node))]
        return binds + ["--ro-bind", "/sys", "/sys"]  # the driver reads PCI topology there

    def _as_slot_user(self, argv):
        return _as_user(self.uid, argv)

    def _confine(self):
        """In the child, still as root: join the slot's cgroups, then set the rlimits."""
        if self._cgroups:
            self._cgroups.join()
        self.limits.apply(with_nproc=True, address_space=not self.gpu)

    def kill(self, process):
        super().kill(process)
        drain(self.uid, self._cgroups, patience=0)

    def settle(self):
        drain(self.uid, self._cgroups)

    def close(self):
        if self._cgroups:
            self._cgroups.remove()
            self._cgroups = None
        if self._slot:
            self._slot.release()
            self._slot = None


class Cgroups:
    """cgroup v1 memory and pids limits for one slot, where this machine lets us.

    rlimits bound each process; a cgroup bounds the slot as a whole (tmpfs
    pages and every thread included). On machines where the hierarchies are
    not writable (no root, cgroup v2 without delegation) this does nothing and
    the rlimits remain.
    """
    SETTINGS = {"memory": "memory.limit_in_bytes", "pids": "pids.max"}

    def __init__(self, name, limits):
        values = {"memory": limits.memory_bytes + limits.tmpfs_bytes, "pids": limits.processes}
        self.paths = []
        for controller, setting in self.SETTINGS.items():
            base = _own_cgroup(controller)
            if base is None:
                continue
            path = base / name
            try:
                path.mkdir(exist_ok=True)
                (path / setting).write_text(str(values[controller]))
            except OSError:
                continue
            self.paths.append(path)
        drain(None, self, patience=0)  # leftovers of an earlier grade in this slot

    def join(self):
        for path in self.paths:
            (path / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self):
        drain(None, self)
        for path in self.paths:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # busy until the killed processes are reaped
                    time.sleep(0.02)


def _own_cgroup(controller):
    """/sys/fs/cgroup/<controller>/<this process's group>, if that is a v1 hierarchy."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if controller in names.split(","):
                folder = Path("/sys/fs/cgroup") / controller / path.lstrip("/")
                return folder if folder.is_dir() and os.access(folder, os.W_OK) else None
    except OSError:
        pass
    return None


def _read_pids(path):
    try:
        return [int(p) for p in (path / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def drain(uid, cgroups, patience=5.0):
    """Kill whatever the slot still runs; wait up to `patience` s until it is gone.

    The slot's uid (and cgroup) belong to this grade alone, so every process
    of that uid is a leftover: a daemon, or the tail of a fork bomb that would
    otherwise count against RLIMIT_NPROC and stop the next worker starting.
    (Tearing down a PID namespace takes the kernel a second or two, so only a
    retried start waits for it.)
    """
    if uid is None and not cgroups:
        return
    deadline = time.monotonic() + patience
    while True:
        pids = set(_pids_of_uid(uid)) if uid is not None else set()
        if cgroups:
            pids.update(pid for path in cgroups.paths for pid in _read_pids(path))
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() >= deadline:
            return
        time.sleep(0.02)


def _pids_of_uid(uid):
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    yield int(entry.name)
            except OSError:
                pass


def die_with_parent():
    """In a child before exec: get SIGKILL when the thread that started it exits."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _as_user(uid, argv):
    """Prefix argv so it runs as uid (None: as the caller)."""
    if uid is None:
        return argv
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"  # util-linux, on every Debian
    return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *argv]


def _memfd(data):
    fd = os.memfd_create("grader-file", 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def worker_env(**extra):
    env = {"LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # machine quirks, see env docs
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra)
    return env


class SlotLock:
    """A grading slot: an flock-held number giving each concurrent grade its own uid.

    RLIMIT_NPROC counts processes per real uid, so two sandboxes sharing a uid
    would share one process budget; one slot per grade keeps a fork bomb in
    one grade from starving another.
    """

    def __init__(self, number, handle):
        self.number, self._handle = number, handle

    @classmethod
    def acquire(cls):
        SLOT_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        for number in range(SLOT_COUNT):
            handle = open(SLOT_DIR / f"{number}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            return cls(number, handle)
        raise SandboxUnavailable(f"all {SLOT_COUNT} grading slots are busy")

    def release(self):
        self._handle.close()


@functools.cache
def bwrap_problem():
    """None when bubblewrap can start a Python worker here, else why not."""
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    sandbox = BwrapSandbox()
    try:
        argv = sandbox._as_slot_user(sandbox.command({}, ["-c", "import numpy"]))
        proc = subprocess.run(argv, capture_output=True, timeout=30, env=LAUNCH_ENV)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    finally:
        sandbox.close()
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        return "bubblewrap could not start a Python worker: " + (detail[-1] if detail else f"exit {proc.returncode}")
    return None


def make_sandbox(kind, limits=Limits(), gpu=False):
    """Build the backend `kind` (auto, none, bwrap, docker); raise SandboxUnavailable."""
    if kind == "auto":
        kind = "bwrap" if bwrap_problem() is None else "none"
    if kind == "none":
        return NoSandbox(limits, gpu)
    if kind == "bwrap":
        problem = bwrap_problem()
        if problem:
            raise SandboxUnavailable(problem)
        return BwrapSandbox(limits, gpu)
    if kind == "docker":
        from .docker_sandbox import DockerSandbox
        return DockerSandbox(limits, gpus="all" if gpu else None)
    raise SandboxUnavailable(f"unknown sandbox {kind!r} (choose auto, none, bwrap or docker)")
