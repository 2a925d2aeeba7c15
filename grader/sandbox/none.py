"""`--sandbox none`: a plain subprocess with rlimits, for a student's own laptop."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

from ..limits import Limits
from ..procs import die_with_parent
from .base import PACKAGE_DIR, WORKER_FILES, Sandbox, worker_env
from .slots import Slot, as_user


class NoSandbox(Sandbox):
    """A plain subprocess: rlimits and a private working folder, nothing else."""

    def __init__(self, limits: Limits = Limits(), gpu: bool = False, devices: str | None = None):
        super().__init__(limits, gpu, devices)
        # Started as root (a Gradescope container), the worker still drops to
        # a slot's own uid, so files the caller keeps private stay unreadable.
        self.slot = Slot(limits, with_cgroups=False) if os.geteuid() == 0 else None
        self._dir = Path(tempfile.mkdtemp(prefix="grader-worker-"))
        self._dir.chmod(0o755)
        for name in WORKER_FILES:
            shutil.copy(PACKAGE_DIR / name, self._dir / name)

    def start(self, module_source: bytes, module_name: str, log_file: IO[bytes]) -> subprocess.Popen:
        run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=self._dir))
        # Not in the working folder, which a notebook has on sys.path: the module never
        # shadows one of the same name that the notebook writes there.
        (run_dir / ".submission").mkdir()
        module = run_dir / ".submission" / f"{module_name}.py"
        module.write_bytes(module_source)
        if self.limits.data_folder:  # the assignment's data, at ./data as on the student's laptop
            (run_dir / "data").symlink_to(self.limits.data_folder, target_is_directory=True)
        if self.uid is not None:
            for path in (run_dir, module.parent, module):
                os.chown(path, self.uid, self.uid)
        return subprocess.Popen(
            as_user(self.uid, [sys.executable, "-I", "-B", str(self._dir / "worker.py"), str(module), module_name]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file, cwd=run_dir,
            env=worker_env(HOME=str(run_dir), PATH=os.environ.get("PATH", "/usr/bin:/bin"), **self.gpu_env()),
            start_new_session=True,
            preexec_fn=self._confine)

    def _confine(self) -> None:
        die_with_parent()
        self.limits.apply(with_nproc=self.uid is not None, address_space=not self.gpu)

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)
        super().close()
