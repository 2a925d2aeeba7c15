"""Grading slots: a uid of its own (and cgroups, where writable) for each concurrent grade.

RLIMIT_NPROC counts processes per real uid, so two sandboxes sharing a uid
would share one process budget; one slot per grade keeps a fork bomb in one
grade from starving another. The slot's uid and cgroups belong to that grade
alone, so every process in them is a leftover once its worker is gone.
"""
import fcntl
import os
import shutil
import time
from pathlib import Path

from ..errors import SandboxUnavailable
from ..limits import Limits
from ..procs import drain, pids_of_uid

SLOT_DIR = Path(os.environ.get("GRADER_SLOT_DIR", "/tmp/grader-slots"))
SLOT_UID_BASE = 61000
SLOT_COUNT = 256


class SlotLock:
    """A grading slot: an flock-held number that gives its holder a uid of its own."""

    def __init__(self, number: int, handle):
        self.number, self._handle = number, handle

    @property
    def uid(self) -> int:
        return SLOT_UID_BASE + self.number

    @classmethod
    def acquire(cls) -> "SlotLock":
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

    def release(self) -> None:
        self._handle.close()


class Cgroups:
    """cgroup v1 memory and pids limits, and CPU accounting, for one slot, where this machine lets us.

    rlimits bound each process; a cgroup bounds the slot as a whole (tmpfs
    pages and every thread included) and counts its CPU time exactly. On
    machines where the hierarchies are not writable (no root, cgroup v2
    without delegation) this does nothing and the rlimits remain.
    """
    SETTINGS = {"memory": "memory.limit_in_bytes", "pids": "pids.max", "cpuacct": None}

    def __init__(self, name: str, limits: Limits):
        values = {"memory": limits.memory_bytes + limits.tmpfs_bytes, "pids": limits.processes}
        self.paths: list[Path] = []
        self.cpuacct: Path | None = None
        for controller, setting in self.SETTINGS.items():
            base = _own_cgroup(controller)
            if base is None:
                continue
            path = base / name
            try:
                path.mkdir(exist_ok=True)
                if setting:
                    (path / setting).write_text(str(values[controller]))
            except OSError:
                continue
            self.paths.append(path)
            if controller == "cpuacct":
                self.cpuacct = path
        drain(self.members, patience=0)  # leftovers of an earlier grade in this slot

    def members(self) -> set[int]:
        pids: set[int] = set()
        for path in self.paths:
            try:
                pids.update(int(p) for p in (path / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return pids

    def cpu_seconds(self) -> float | None:
        """CPU time used by everything that ran in this slot (None: not counted here)."""
        if self.cpuacct is None:
            return None
        try:
            return int((self.cpuacct / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError):
            return None

    def oom_kills(self) -> int:
        """How many processes the kernel has killed in this slot for going over its memory (0: unknown)."""
        for path in self.paths:
            try:
                control = (path / "memory.oom_control").read_text().split()
            except OSError:
                continue
            if "oom_kill" in control:
                return int(control[control.index("oom_kill") + 1])
        return 0

    def join(self) -> None:
        for path in self.paths:
            (path / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        drain(self.members)
        for path in self.paths:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # busy until the killed processes are reaped
                    time.sleep(0.02)


def _own_cgroup(controller: str) -> Path | None:
    """/sys/fs/cgroup/<controller>/<this process's group>, if that is a writable v1 hierarchy."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if controller in names.split(","):
                folder = Path("/sys/fs/cgroup") / controller / path.lstrip("/")
                return folder if folder.is_dir() and os.access(folder, os.W_OK) else None
    except OSError:
        pass
    return None


class Slot:
    """What a backend holds for one grade when run as root: a SlotLock and, optionally, cgroups."""

    def __init__(self, limits: Limits, with_cgroups: bool):
        self.lock = SlotLock.acquire()
        self.cgroups = Cgroups(f"grader-slot-{self.lock.number}", limits) if with_cgroups else None

    @property
    def uid(self) -> int:
        return self.lock.uid

    def processes(self) -> set[int]:
        """Every process of this slot: its uid's, and its cgroups' members."""
        pids = set(pids_of_uid(self.uid))
        if self.cgroups:
            pids |= self.cgroups.members()
        return pids

    def drain(self, patience: float = 5.0) -> None:
        """Kill whatever the slot still runs (a daemon, the tail of a fork bomb)."""
        drain(self.processes, patience)

    def release(self) -> None:
        if self.cgroups:
            self.cgroups.remove()
            self.cgroups = None
        self.lock.release()


def as_user(uid: int | None, argv: list[str]) -> list[str]:
    """Prefix argv so it runs as uid (None: as the caller)."""
    if uid is None:
        return argv
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"  # util-linux, on every Debian
    return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *argv]
