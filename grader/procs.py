"""Process helpers: parent-death signals, killing process groups and trees, draining a uid."""
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent() -> None:
    """In a child before exec: get SIGKILL when the thread that started it exits."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process group led by process (started with start_new_session), then reap it."""
    if process.poll() is None or _group_alive(process.pid):
        kill_pgid(process.pid)
    process.wait()


def kill_pgid(pgid: int) -> None:
    """SIGKILL process group pgid, if it is still there (the caller reaps its leader)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def process_tree() -> dict[int, list[int]]:
    """{parent pid: [child pids]} for every process visible in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat_line = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat_line.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    return children


def subtree(children: dict[int, list[int]], pid: int) -> list[int]:
    """pid and all its descendants in a process_tree() listing."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue += children.get(current, [])
    return found


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def kill_pids(pids: Iterable[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def pids_of_uid(uid: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def drain(find: Callable[[], set[int]], patience: float = 5.0) -> None:
    """Kill every process find() reports, again and again, until none is left or patience runs out.

    find lists what belongs to one slot (its uid's processes, its cgroup's
    members). Tearing down a PID namespace takes the kernel a second or two,
    so callers that must start again right away give it patience; others 0.
    """
    deadline = time.monotonic() + patience
    while True:
        pids = find()
        if not pids:
            return
        kill_pids(pids)
        if time.monotonic() >= deadline:
            return
        time.sleep(0.02)


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of pid and all its descendants, reaped ones included.

    Reads /proc/PID/stat (utime, stime, cutime, cstime) down the tree through
    /proc/PID/task/TID/children; a process that vanished meanwhile counts 0.
    """
    total, queue = 0, [pid]
    while queue:
        current = queue.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(fields[i]) for i in (11, 12, 13, 14))
            for task in os.listdir(f"/proc/{current}/task"):
                queue += map(int, Path(f"/proc/{current}/task/{task}/children").read_text().split())
        except (OSError, ValueError, IndexError):
            continue
    return total / _TICK
