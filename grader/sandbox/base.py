"""What every sandbox backend is: a way to start a worker process and to kill it."""
import os
import subprocess
from typing import IO

from ..course import PACKAGE_DIR
from ..limits import Limits
from ..procs import kill_group

WORKER_FILES = ("worker.py", "codec.py")   # all a worker needs of the grader


class Sandbox:
    """Starts workers. Subclasses say how; `start` returns a running Popen-like process
    whose stdin/stdout carry codec frames and whose stderr goes to log_file."""

    def __init__(self, limits: Limits = Limits(), gpu: bool = False):
        self.limits = limits
        self.gpu = gpu

    def start(self, module_source: bytes, module_name: str, log_file: IO[bytes]) -> subprocess.Popen:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the backend holds (a slot, a temp dir)."""

    def settle(self) -> None:
        """Wait until nothing of earlier workers is left (before a retried start)."""

    def kill(self, process: subprocess.Popen) -> None:
        """Kill the worker and everything it started, then reap it."""
        kill_group(process)


def worker_env(**extra: str) -> dict[str, str]:
    """The environment a worker starts with: nothing of the grader's own."""
    env = {"LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # machine quirks, see env docs
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra)
    return env
