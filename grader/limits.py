"""Resource limits and time budgets: the numbers that bound one grade."""
import dataclasses
import resource

GRADE_TIMEOUT = 900.0       # seconds for a whole grade, a backstop beyond every test budget
DEFAULT_TEST_TIMEOUT = 10.0  # a test's CPU budget when neither calibration, marker nor assignment.toml sets one
PRELOAD_SECONDS = 60.0      # wall clock for a worker to start and import numpy/torch (not the student's)
IMPORT_CPU_SECONDS = 10.0   # CPU budget for importing the submission, when not calibrated
NOTEBOOK_CPU_SECONDS = 60.0  # CPU budget for running all of a notebook's cells at import...
NOTEBOOK_CELL_SECONDS = 10.0  # ...and for one cell, after which it is interrupted
CPU_HARD_MARGIN = 5          # seconds between a worker's soft RLIMIT_CPU (SIGXCPU) and its hard one (SIGKILL)
WALL_FACTOR, WALL_SLACK = 10.0, 10.0  # the wall-clock backstop of a CPU budget b: 10 b + 10 s (a loaded machine stretches)


# The limits a worker can go over without running out of time, as the client reports them.
MEMORY, OUTPUT = "memory", "output"


def wall_cap(cpu_budget: float) -> float:
    """The wall-clock backstop for a CPU budget: for sleeps and blocking, far above a loaded machine's stretch."""
    return WALL_FACTOR * cpu_budget + WALL_SLACK


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one worker may use."""
    memory_bytes: int = 3 * 2**30   # address space; torch needs >= 1 GiB
    cpu_seconds: int = 120          # per worker lifetime
    processes: int = 64             # threads count too
    file_bytes: int = 16 * 2**20    # largest file, including the output log
    tmpfs_bytes: int = 64 * 2**20
    open_files: int = 256
    blocked_modules: tuple = ()     # top-level packages the worker must not import (bwrap, docker)
    data_folder: str = ""           # the assignment's data/, read-only at ./data in the worker ("" for none)
    gpu_memory_bytes: int = 4 * 2**30  # CUDA memory the worker's allocator may hold (a CUDA grade)

    def breach(self, which: str) -> str:
        """The words every backend uses for a worker that went over a limit (MEMORY or OUTPUT)."""
        if which == MEMORY:
            return (f"ran out of memory (the limit is {_size(self.memory_bytes)}; "
                    "an array far larger than intended?)")
        return (f"went over the {_size(self.file_bytes)} limit on printed output and written files "
                "(File too large; printing inside a loop?)")

    @staticmethod
    def blocked_stub(name: str) -> bytes:
        """What a blocked package's __init__.py is replaced with, in every sandbox."""
        return f"raise ImportError('{name} is not available in this assignment (it is numpy only)')\n".encode()

    def apply(self, with_nproc: bool, address_space: bool = True) -> None:
        """Set these as rlimits of the calling process (runs in the child).

        CUDA reserves huge virtual ranges, so a GPU worker gets no RLIMIT_AS;
        its memory is bounded by the slot's cgroup instead.
        """
        pairs = [(resource.RLIMIT_FSIZE, self.file_bytes),
                 (resource.RLIMIT_CORE, 0), (resource.RLIMIT_NOFILE, self.open_files)]
        if address_space:
            pairs.append((resource.RLIMIT_AS, self.memory_bytes))
        if with_nproc:
            pairs.append((resource.RLIMIT_NPROC, self.processes))
        for kind, value in pairs:
            resource.setrlimit(kind, (value, value))
        # With the soft CPU limit below the hard one the kernel sends SIGXCPU first, so a
        # worker stopped by it says "CPU time limit exceeded" rather than a bare SIGKILL.
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds + CPU_HARD_MARGIN))


def _size(n: int) -> str:
    return f"{n / 2**30:g} GiB" if n >= 2**30 else f"{n / 2**20:g} MiB"
