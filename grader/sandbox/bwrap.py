"""`--sandbox bwrap`: bubblewrap, as measured in shared/research/sandbox-probe.md.

Fresh namespaces (no network, its own PID space), read-only system and
Python, only the worker and the submission's module visible (passed in as
memfds), a small tmpfs, a non-root uid per grading slot, rlimits, cgroups
where writable, no new user namespaces, and the whole tree killed with the
outer process.

Inside an unprivileged container (the grader image with Docker's masked
/proc and read-only /proc/sys) the kernel refuses a fresh /proc, and
bubblewrap's --disable-userns cannot write its sysctl: there the worker gets
no /proc at all (only /proc/cpuinfo, which torch reads), and a seccomp filter
refuses new user namespaces instead. `bwrap_setup` finds out which applies.
"""
import dataclasses
import errno
import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import IO

from ..errors import SandboxUnavailable
from ..limits import Limits
from .base import PACKAGE_DIR, WORKER_FILES, Sandbox, worker_env
from .slots import Slot, as_user

# bwrap itself runs inside the sandbox as its PID 1, and /proc/1/environ is
# readable there: it must not inherit the grader's environment.
LAUNCH_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


CLONE_NEWUSER = 0x10000000
CONTAINER_MARKERS = ("/.dockerenv", "/run/.containerenv")  # Docker's and podman's


class BwrapSandbox(Sandbox):
    def __init__(self, limits: Limits = Limits(), gpu: bool = False, devices: str | None = None,
                 own_proc: bool | None = None):
        super().__init__(limits, gpu, devices)
        self.own_proc = bwrap_setup().own_proc if own_proc is None else own_proc
        self.slot = Slot(limits, with_cgroups=True) if os.geteuid() == 0 else None

    def command(self, fds: dict[str, int], program: list[str], seccomp_fd: int | None = None) -> list[str]:
        """The argv running `python program...` in bwrap, as the slot's user.

        fds maps a path inside the sandbox to a readable fd holding its bytes;
        seccomp_fd holds no_new_userns_filter() where there is no fresh /proc.
        """
        venv, base = Path(sys.prefix), Path(sys.base_prefix)
        python = "/venv/bin/python" if venv != base else str(Path(sys.executable))
        argv = ["bwrap", "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
                "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
                "--symlink", "usr/sbin", "/sbin", "--symlink", "usr/lib", "/lib",
                "--symlink", "usr/lib64", "/lib64"]
        if venv != base:
            argv += ["--ro-bind", str(venv), "/venv"]
        if not str(base).startswith("/usr"):
            argv += ["--ro-bind", str(base), str(base)]
        if self.own_proc:
            argv += ["--disable-userns", "--proc", "/proc"]
        else:
            argv += ["--seccomp", str(seccomp_fd), "--ro-bind", "/proc/cpuinfo", "/proc/cpuinfo"]
        argv += ["--dev", "/dev", *self._gpu_devices(),
                 "--size", str(self.limits.tmpfs_bytes), "--tmpfs", "/tmp",
                 "--dir", "/opt/grader", "--dir", "/submission"]
        for inside, fd in fds.items():
            argv += ["--perms", "0444", "--ro-bind-data", str(fd), inside]
        if self.limits.data_folder:  # the assignment's data, at ./data as on the student's laptop
            argv += ["--ro-bind", self.limits.data_folder, "/tmp/data"]
        argv += ["--chdir", "/tmp", "--hostname", "sandbox", "--clearenv"]
        env = worker_env(HOME="/tmp", PATH="/venv/bin:/usr/bin:/bin", **self.gpu_env())
        if self.gpu and driver_library_folders(include_usr=True):
            env["LD_LIBRARY_PATH"] = ":".join(driver_library_folders(include_usr=True))
        for key, value in env.items():
            argv += ["--setenv", key, value]
        return as_user(self.uid, argv + [python, "-I", "-B", *program])

    def start(self, module_source: bytes, module_name: str, log_file: IO[bytes]) -> subprocess.Popen:
        contents = {f"/opt/grader/{name}": (PACKAGE_DIR / name).read_bytes() for name in WORKER_FILES}
        contents[f"/submission/{module_name}.py"] = module_source
        contents.update(self._blocked_modules())
        fds = {inside: _memfd(data) for inside, data in contents.items()}
        seccomp_fd = self._seccomp_fd()
        argv = self.command(fds, ["/opt/grader/worker.py", f"/submission/{module_name}.py", module_name],
                            seccomp_fd)
        passed = (*fds.values(), *([seccomp_fd] if seccomp_fd is not None else []))
        self.started()
        try:
            return subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file, cwd="/",
                env=LAUNCH_ENV, pass_fds=passed, start_new_session=True,
                preexec_fn=self._confine)
        finally:
            for fd in passed:
                os.close(fd)

    def _seccomp_fd(self) -> int | None:
        """A memfd holding no_new_userns_filter(), where there is no fresh /proc; else None."""
        return None if self.own_proc else _memfd(no_new_userns_filter())

    def _blocked_modules(self) -> dict[str, bytes]:
        """Files that replace a blocked package's __init__.py with an ImportError."""
        replaced = {}
        for name in self.limits.blocked_modules:
            spec = importlib.util.find_spec(name)
            if spec is None or not spec.origin or not spec.origin.startswith(sys.prefix + "/"):
                continue  # not installed in the venv: nothing to hide
            inside = "/venv" + spec.origin[len(sys.prefix):]
            replaced[inside] = self.limits.blocked_stub(name)
        return replaced

    def _gpu_devices(self) -> list[str]:
        """What CUDA needs, only when this grade asked for it: the NVIDIA device nodes, /sys
        (the driver reads PCI topology there), the loader's cache (libcuda.so.1 is found
        through it) and the driver libraries' folders outside /usr named by LD_LIBRARY_PATH."""
        if not self.gpu:
            return []
        nodes = sorted(Path("/dev").glob("nvidia*")) + sorted(Path("/dev/dri").glob("*"))
        binds = [arg for node in nodes for arg in ("--dev-bind", str(node), str(node))]
        binds += ["--ro-bind", "/sys", "/sys", "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        for folder in driver_library_folders():
            binds += ["--ro-bind", folder, folder]
        return binds

    def _confine(self) -> None:
        """In the child, still as root: join the slot's cgroups, then set the rlimits."""
        if self.slot and self.slot.cgroups:
            self.slot.cgroups.join()
        self.limits.apply(with_nproc=True, address_space=not self.gpu)


@dataclasses.dataclass(frozen=True)
class Setup:
    problem: str | None   # why bubblewrap cannot start a worker here, or None
    own_proc: bool        # a fresh /proc and --disable-userns (else: no /proc, the seccomp filter)


@functools.cache
def bwrap_setup() -> Setup:
    """How bubblewrap can start a Python worker here, or why it cannot."""
    if shutil.which("bwrap") is None:
        return Setup("bubblewrap is not installed (apt-get install bubblewrap)", True)
    problem = _try_worker(own_proc=True)
    if problem is None or "proc" not in problem:
        return Setup(problem, True)
    # "Can't mount proc on /newroot/proc": a container masks parts of its /proc
    return Setup(_try_worker(own_proc=False), False)


def bwrap_problem() -> str | None:
    """None when bubblewrap can start a Python worker here, else why not."""
    return bwrap_setup().problem


def _try_worker(own_proc: bool) -> str | None:
    problem = _run_check(BwrapSandbox(own_proc=own_proc), "import numpy", timeout=30)
    if problem is None:
        return None
    hint = (" (in a container: run it with the seccomp profile docker/seccomp-bwrap.json, "
            "docs/deployment.md)" if any(Path(p).exists() for p in CONTAINER_MARKERS) else "")
    return "bubblewrap could not start a Python worker: " + problem + hint


def _run_check(sandbox: BwrapSandbox, code: str, timeout: float) -> str | None:
    """Run `python -c code` in the sandbox (then closed): None if it succeeds, else its last words."""
    seccomp_fd = sandbox._seccomp_fd()
    passed = () if seccomp_fd is None else (seccomp_fd,)
    try:
        proc = subprocess.run(sandbox.command({}, ["-c", code], seccomp_fd), capture_output=True,
                              timeout=timeout, env=LAUNCH_ENV, pass_fds=passed)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    finally:
        sandbox.close()
        for fd in passed:
            os.close(fd)
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        return detail[-1] if detail else f"exit {proc.returncode}"
    return None


@functools.cache
def no_new_userns_filter() -> bytes:
    """A seccomp program (BPF) refusing new user namespaces: what --disable-userns does where
    it cannot. clone3 reads its flags from memory, out of a filter's reach: it is refused
    with ENOSYS, and the C library falls back to clone, as under Docker's own profile."""
    try:
        import pyseccomp as seccomp  # libseccomp, through ctypes: only this mode needs it
    except (ImportError, OSError) as exc:
        raise SandboxUnavailable(f"bubblewrap without a fresh /proc needs libseccomp: {exc}") from None
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for call in ("unshare", "clone"):
        rules.add_rule(seccomp.ERRNO(errno.EPERM), call,
                       seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    fd = os.memfd_create("seccomp", 0)
    try:
        with os.fdopen(os.dup(fd), "wb") as handle:
            rules.export_bpf(handle)
        return os.pread(fd, 1 << 16, 0)
    finally:
        os.close(fd)


# What a CUDA worker needs to find: torch, a GPU, and room for one tensor on it.
CUDA_CHECK = ("import torch; assert torch.cuda.is_available(), 'torch finds no GPU'; "
              "torch.ones(1, device='cuda').sum().item()")


@functools.cache
def bwrap_cuda_problem() -> str | None:
    """None when a worker in bubblewrap, given what a CUDA grade binds, can use the GPU; else why not."""
    problem = _run_check(BwrapSandbox(gpu=True), CUDA_CHECK, timeout=120)
    return problem and "CUDA fails inside bubblewrap: " + problem


def driver_library_folders(include_usr: bool = False) -> list[str]:
    """The existing folders of the grader's LD_LIBRARY_PATH (where a CUDA image keeps libcuda),
    without those under /usr (bound already) unless include_usr."""
    folders = [f for f in os.environ.get("LD_LIBRARY_PATH", "").split(":") if f.startswith("/") and os.path.isdir(f)]
    return [f for f in dict.fromkeys(folders) if include_usr or not (f == "/usr" or f.startswith("/usr/"))]


def _memfd(data: bytes) -> int:
    fd = os.memfd_create("grader-file", 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
