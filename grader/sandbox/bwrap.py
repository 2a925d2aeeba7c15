"""`--sandbox bwrap`: bubblewrap, as measured in shared/research/sandbox-probe.md.

Fresh namespaces (no network, its own PID space), read-only system and
Python, only the worker and the submission's module visible (passed in as
memfds), a small tmpfs, a non-root uid per grading slot, rlimits, cgroups
where writable, and the whole tree killed with the outer process.
"""
import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import IO

from ..limits import Limits
from .base import PACKAGE_DIR, WORKER_FILES, Sandbox, worker_env
from .slots import Slot, as_user

# bwrap itself runs inside the sandbox as its PID 1, and /proc/1/environ is
# readable there: it must not inherit the grader's environment.
LAUNCH_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


class BwrapSandbox(Sandbox):
    def __init__(self, limits: Limits = Limits(), gpu: bool = False, devices: str | None = None):
        super().__init__(limits, gpu, devices)
        self.slot = Slot(limits, with_cgroups=True) if os.geteuid() == 0 else None

    def command(self, fds: dict[str, int], program: list[str]) -> list[str]:
        """The argv running `python program...` in bwrap, as the slot's user.

        fds maps a path inside the sandbox to a readable fd holding its bytes.
        """
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
        argv = self.command(fds, ["/opt/grader/worker.py", f"/submission/{module_name}.py", module_name])
        try:
            return subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file, cwd="/",
                env=LAUNCH_ENV, pass_fds=tuple(fds.values()), start_new_session=True,
                preexec_fn=self._confine)
        finally:
            for fd in fds.values():
                os.close(fd)

    def _blocked_modules(self) -> dict[str, bytes]:
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


@functools.cache
def bwrap_problem() -> str | None:
    """None when bubblewrap can start a Python worker here, else why not."""
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    sandbox = BwrapSandbox()
    try:
        proc = subprocess.run(sandbox.command({}, ["-c", "import numpy"]), capture_output=True,
                              timeout=30, env=LAUNCH_ENV)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    finally:
        sandbox.close()
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        return "bubblewrap could not start a Python worker: " + (detail[-1] if detail else f"exit {proc.returncode}")
    return None


# What a CUDA worker needs to find: torch, a GPU, and room for one tensor on it.
CUDA_CHECK = ("import torch; assert torch.cuda.is_available(), 'torch finds no GPU'; "
              "torch.ones(1, device='cuda').sum().item()")


@functools.cache
def bwrap_cuda_problem() -> str | None:
    """None when a worker in bubblewrap, given what a CUDA grade binds, can use the GPU; else why not."""
    sandbox = BwrapSandbox(gpu=True)
    try:
        proc = subprocess.run(sandbox.command({}, ["-c", CUDA_CHECK]), capture_output=True, timeout=120,
                              env=LAUNCH_ENV)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    finally:
        sandbox.close()
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        return "CUDA fails inside bubblewrap: " + (detail[-1] if detail else f"exit {proc.returncode}")
    return None


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
