"""Resource limits and time budgets: the numbers that bound one grade."""
import dataclasses
import resource

GRADE_TIMEOUT = 900.0       # seconds for a whole grade, a backstop beyond every test budget
STARTUP_SECONDS = 30.0      # a worker's start and the submission's import
DEFAULT_TEST_TIMEOUT = 10.0  # a test's budget when neither marker nor assignment.toml sets one


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one worker may use."""
    memory_bytes: int = 3 * 2**30   # address space; torch needs >= 1 GiB
    cpu_seconds: int = 120          # per worker lifetime
    processes: int = 64             # threads count too
    file_bytes: int = 16 * 2**20    # largest file, including the output log
    tmpfs_bytes: int = 64 * 2**20
    open_files: int = 256
    blocked_modules: tuple = ()     # top-level packages the worker must not import (bwrap)

    def apply(self, with_nproc: bool, address_space: bool = True) -> None:
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
