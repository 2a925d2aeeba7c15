"""What every sandbox backend is: a way to start a worker process and to kill it."""
import os
import subprocess
from typing import IO

from ..course import PACKAGE_DIR
from ..limits import MEMORY, Limits
from ..procs import cmdline, kill_group, process_tree, subtree, tree_cpu_seconds
from .slots import Slot

WORKER_FILES = ("worker.py", "codec.py", "nbrun.py")   # all a worker needs of the grader


class Sandbox:
    """Starts workers. Subclasses say how; `start` returns a running Popen-like process
    whose stdin/stdout carry codec frames and whose stderr goes to log_file.

    A backend that runs workers on this machine as root holds a `slot` (a uid
    of its own, cgroups where writable) for the grade; kill, settle, close and
    cpu_seconds use it.

    gpu: the grade asked for CUDA; devices: the CUDA_VISIBLE_DEVICES entry
    lent to this grade (None: what the grader itself sees).
    """

    def __init__(self, limits: Limits = Limits(), gpu: bool = False, devices: str | None = None):
        self.limits = limits
        self.gpu = gpu
        self.devices = devices
        self.slot: Slot | None = None
        self._oom_kills = 0  # the slot's count of out-of-memory kills when the last worker started

    def gpu_env(self) -> dict[str, str]:
        """CUDA_VISIBLE_DEVICES for a worker started on this machine.

        A CPU grade sees no GPU at all; a CUDA grade sees the GPU lent to it,
        else those the grader sees (the variable as the grader has it).
        """
        if not self.gpu:
            return {"CUDA_VISIBLE_DEVICES": ""}
        visible = self.devices if self.devices is not None else os.environ.get("CUDA_VISIBLE_DEVICES")
        return {} if visible is None else {"CUDA_VISIBLE_DEVICES": visible}

    @property
    def uid(self) -> int | None:
        return self.slot.uid if self.slot else None

    def start(self, module_source: bytes, module_name: str, log_file: IO[bytes]) -> subprocess.Popen:
        raise NotImplementedError

    def started(self) -> None:
        """Note what a new worker's limits are measured from (subclasses call it in start)."""
        if self.slot and self.slot.cgroups:
            self._oom_kills = self.slot.cgroups.oom_kills()

    def exceeded(self, process: subprocess.Popen) -> str | None:
        """The limit a dead worker went over (limits.MEMORY or OUTPUT), where this backend can tell.

        Here: an out-of-memory kill in the slot's cgroup since the worker started.
        Going over the output limit shows in the worker itself (RLIMIT_FSIZE: File too large).
        """
        if self.slot and self.slot.cgroups and self.slot.cgroups.oom_kills() > self._oom_kills:
            return MEMORY
        return None

    def close(self) -> None:
        """Release what the backend holds (a slot, a temp dir)."""
        if self.slot:
            self.slot.release()
            self.slot = None

    def cpu_seconds(self, process: subprocess.Popen) -> float | None:
        """CPU time the worker's process tree has used so far; None where it cannot be counted.

        Only differences matter (the client compares two readings), so a
        counter shared by successive workers of one grade is fine.
        """
        counted = self.slot.cgroups.cpu_seconds() if self.slot and self.slot.cgroups else None
        return counted if counted is not None else tree_cpu_seconds(process.pid)

    def signal_worker(self, process: subprocess.Popen, signum: int) -> bool:
        """Send signum to the worker's Python process itself (not bwrap, not its children); sent?"""
        children = process_tree()
        for pid in subtree(children, process.pid):  # parents before children
            argv = cmdline(pid).split(b"\0")
            # `python -I -B .../worker.py MODULE NAME` in every backend (not docker's bootstrap, its parent)
            if os.path.basename(argv[0]).startswith(b"python") and len(argv) > 3 and argv[3].endswith(b"worker.py"):
                try:
                    os.kill(pid, signum)
                    return True
                except (ProcessLookupError, PermissionError):
                    return False
        return False

    def settle(self) -> None:
        """Wait until nothing of earlier workers is left (before a retried start)."""
        if self.slot:
            self.slot.drain()

    def kill(self, process: subprocess.Popen) -> None:
        """Kill the worker and everything it started (in its slot too), then reap it."""
        kill_group(process)
        if self.slot:
            self.slot.drain(patience=0)


def worker_env(**extra: str) -> dict[str, str]:
    """The environment a worker starts with: nothing of the grader's own."""
    env = {"LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
           # one malloc arena: glibc reserves 64 MiB of address space per thread arena, which
           # would make RLIMIT_AS depend on how many CPUs the C library sees in each sandbox
           "MALLOC_ARENA_MAX": "1"}
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # machine quirks, see env docs
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra)
    return env
