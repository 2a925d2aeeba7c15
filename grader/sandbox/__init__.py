"""Sandbox backends: how a worker process is started and confined.

`none` (none.py) is a plain subprocess with rlimits, for a student's own
laptop; `bwrap` (bwrap.py) is bubblewrap; `docker` (docker.py) is one
container per worker through the Docker API. `make_sandbox` builds one;
`choose` turns the command line's `--sandbox` into the backend to use.
To add a backend: subclass base.Sandbox (start, kill, settle, close) in a
module here and name it in `make_sandbox` and SANDBOXES.
"""
import os

from ..errors import SandboxUnavailable, UsageError
from ..limits import Limits
from .base import PACKAGE_DIR, Sandbox
from .bwrap import BwrapSandbox, bwrap_cuda_problem, bwrap_problem
from .docker import DockerSandbox
from .none import NoSandbox

SANDBOXES = ("auto", "none", "bwrap", "docker")
SANDBOX_HELP = """\
sandboxes (--sandbox):
  auto    bwrap where bubblewrap works, else an error (`grader test`: none, with a note)
  bwrap   bubblewrap: namespaces, no network, rlimits, a uid and cgroups per slot as root
  docker  one container per worker through the Docker API (docs/deployment.md)
  none    a plain subprocess with rlimits: only for code you trust

the docker sandbox reads:
  GRADER_DOCKER_URL      the engine (default: DOCKER_HOST, else the local socket)
  GRADER_DOCKER_IMAGE    the worker image (default ml-autograder-worker:latest)
  GRADER_DOCKER_PYTHON   the interpreter in it (default /opt/venv/bin/python)
  GRADER_DOCKER_VOLUMES  extra read-only mounts, HOST:INSIDE,...
  GRADER_DOCKER_CPUS     CPUs per worker (default 1)
  GRADER_DOCKER_GPUS     all, or a comma list of device ids
"""

NO_SANDBOX_NOTE = ("Note: --sandbox none: each worker is a plain subprocess with rlimits, "
                   "no namespaces; only for code you trust or a machine that is itself the boundary.")

__all__ = ["SANDBOXES", "SANDBOX_HELP", "PACKAGE_DIR", "Sandbox", "NoSandbox", "BwrapSandbox", "DockerSandbox",
           "Limits", "SandboxUnavailable", "bwrap_problem", "bwrap_cuda_problem", "make_sandbox", "choose"]


def make_sandbox(kind: str, limits: Limits = Limits(), gpu: bool = False, devices: str | None = None) -> Sandbox:
    """Build the backend `kind` (auto, none, bwrap, docker); raise SandboxUnavailable.

    gpu: the grade asked for CUDA; devices: the GPU lent to it (a CUDA_VISIBLE_DEVICES
    entry; docker turns it into a device request), None for every GPU.
    """
    if kind == "auto":
        kind = "bwrap" if bwrap_problem() is None else "none"
    if kind == "none":
        return NoSandbox(limits, gpu, devices)
    if kind == "bwrap":
        problem = bwrap_problem()
        if problem:
            raise SandboxUnavailable(problem)
        return BwrapSandbox(limits, gpu, devices)
    if kind == "docker":  # "" asks for no GPU: a CPU grade's container gets none
        gpus = (devices or os.environ.get("GRADER_DOCKER_GPUS") or "all") if gpu else ""
        return DockerSandbox(limits, gpus=gpus)
    raise SandboxUnavailable(f"unknown sandbox {kind!r} (choose {', '.join(SANDBOXES)})")


def choose(kind: str, *, allow_unsandboxed: bool, cuda: bool = False) -> tuple[str, str | None]:
    """(the backend to grade with, a note for the user or None) for `--sandbox kind`.

    auto means bwrap; only where allow_unsandboxed (`grader test` on a laptop)
    does it fall back to no sandbox, with a note saying so. Raises UsageError
    when the requested backend cannot run, or (cuda) when bwrap runs but its
    worker cannot use the GPU.
    """
    chosen, note = _choose(kind, allow_unsandboxed)
    if cuda and chosen == "bwrap" and bwrap_cuda_problem():
        raise UsageError(f"--device cuda: {bwrap_cuda_problem()}. Pass --sandbox none (the machine is "
                         "then the only boundary) or --sandbox docker with the NVIDIA container toolkit.")
    return chosen, note


def _choose(kind: str, allow_unsandboxed: bool) -> tuple[str, str | None]:
    if kind == "docker":
        try:
            DockerSandbox().close()
        except SandboxUnavailable as exc:
            raise UsageError(str(exc)) from None
    if kind == "bwrap" and bwrap_problem():
        raise UsageError(f"the bwrap sandbox cannot run here: {bwrap_problem()}")
    if kind == "none":
        return kind, NO_SANDBOX_NOTE
    if kind != "auto":
        return kind, None
    problem = bwrap_problem()
    if problem is None:
        return "bwrap", None
    if allow_unsandboxed:
        return "none", f"Note: running without a sandbox ({problem})."
    raise UsageError(f"no sandbox available: {problem}. Pass --sandbox none to grade "
                     "unsandboxed (only for code you trust) or --sandbox docker.")
