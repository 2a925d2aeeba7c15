"""Where a course's assignments, reference solutions and suites live.

A course root holds `assignments/ID/` (handout, stub `ID.py`, public tests
`test_public.py`, settings `assignment.toml`) and, on instructors' machines
only, `reference/ID/` (solution `ID.py`, hidden tests `test_hidden.py`). The
root is the folder above this package unless GRADER_COURSE_ROOT says otherwise.

`course.toml` at the root declares the grading environment: the Python
version and the packages submissions may import (`python`, `packages`); an
assignment.toml may give its own `packages`. Without them: Colab's and
Kaggle's scientific stack (DEFAULT_PACKAGES) on this Python.
"""
import ast
import dataclasses
import hashlib
import importlib.metadata
import os
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (Gradescope's Ubuntu 22.04): the same parser as a package
    import tomli as tomllib

from .errors import UnknownAssignment
from .limits import DEFAULT_TEST_TIMEOUT, Limits
from .vocabulary import HIDDEN_SUITE, PUBLIC_SUITE

PACKAGE_DIR = Path(__file__).resolve().parent          # the grader package
TEMPLATES = PACKAGE_DIR / "templates"
ROOT = Path(os.environ.get("GRADER_COURSE_ROOT") or PACKAGE_DIR.parent).resolve()
DATA = "data"   # assignments/ID/data/: files the handout names as data/..., read-only in the worker
ORDER = ("polyfit", "backprop", "functions", "modules", "training", "conv")
COURSE_SETTINGS = "course.toml"
# What Colab and Kaggle ship and ML homework imports (pip's names).
DEFAULT_PACKAGES = ("numpy", "torch", "matplotlib", "pandas", "seaborn", "scikit-learn", "tqdm", "ipywidgets")
RUNNING_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


@dataclasses.dataclass(frozen=True)
class Environment:
    """The Python and the packages (pip's names) a submission may use."""
    python: str = RUNNING_PYTHON
    packages: tuple = DEFAULT_PACKAGES

    def allowed(self, blocked=()) -> tuple:
        """The packages less those an assignment blocks (polyfit: torch)."""
        return tuple(p for p in self.packages if p not in blocked)

    def problems(self) -> list[str]:
        """What this Python lacks of the environment: a wrong version, packages not installed."""
        found = [] if self.python == RUNNING_PYTHON else [
            f"the course declares Python {self.python}, but this is Python {RUNNING_PYTHON}"]
        missing = []
        for package in self.packages:
            try:
                importlib.metadata.distribution(package)
            except importlib.metadata.PackageNotFoundError:
                missing.append(package)
        if missing:
            found.append(f"not installed: {', '.join(missing)} (pip install {' '.join(missing)})")
        return found


def environment(root: os.PathLike | str | None = None, settings: dict | None = None) -> Environment:
    """The course's environment (course.toml), with an assignment's own packages (its settings)."""
    path = Path(root or ROOT).resolve() / COURSE_SETTINGS
    course = tomllib.loads(path.read_text()) if path.is_file() else {}
    packages = (settings or {}).get("packages", course.get("packages", DEFAULT_PACKAGES))
    return Environment(python=str(course.get("python", RUNNING_PYTHON)), packages=tuple(str(p) for p in packages))


@dataclasses.dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    folder: Path
    reference_folder: Path
    test_timeout: float
    limits: Limits
    environment: Environment = Environment()

    @property
    def course_root(self) -> Path:
        """The course this assignment belongs to (pytest's rootdir for its suites)."""
        return self.folder.parent.parent

    @property
    def stub(self) -> Path:
        return self.folder / f"{self.id}.py"

    @property
    def public_suite(self) -> Path:
        return self.folder / f"{PUBLIC_SUITE}.py"

    @property
    def reference(self) -> Path | None:
        path = self.reference_folder / f"{self.id}.py"
        return path if path.is_file() else None

    @property
    def hidden_suite(self) -> Path | None:
        path = self.reference_folder / f"{HIDDEN_SUITE}.py"
        return path if path.is_file() else None

    @property
    def api(self) -> tuple[str, ...]:
        """The names the stub defines at its top level: what the tests use of a submission."""
        if not self.stub.is_file():
            return ()
        names = []
        for node in ast.parse(self.stub.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names += [t.id for t in targets if isinstance(t, ast.Name)]
        return tuple(names)

    @property
    def preload(self) -> tuple[str, ...]:
        """What a worker imports before the submission (not charged to it): numpy, and torch unless blocked."""
        return tuple(m for m in ("numpy", "torch") if m not in self.limits.blocked_modules)

    def suites_fingerprint(self, hidden: bool, cuda: bool) -> str:
        """sha256 of what decides a grade besides the submission: suites, reference, settings, data."""
        digest = hashlib.sha256(f"hidden={hidden} cuda={cuda}".encode())
        files = [*self.suites(hidden=hidden), self.folder / "assignment.toml"]
        if (self.course_root / COURSE_SETTINGS).is_file():
            files.append(self.course_root / COURSE_SETTINGS)
        if self.reference:
            files.append(self.reference)
        for path in files:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        if self.limits.data_folder:
            for path in sorted(p for p in Path(self.limits.data_folder).rglob("*") if p.is_file()):
                digest.update(path.relative_to(self.folder).as_posix().encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def suites(self, hidden: bool = True) -> list[Path]:
        return [self.public_suite] + ([self.hidden_suite] if hidden and self.hidden_suite else [])


def load(assignment_id: str, root: os.PathLike | str | None = None) -> Assignment:
    root = Path(root or ROOT).resolve()
    folder = root / "assignments" / assignment_id
    settings_file = folder / "assignment.toml"
    if not settings_file.is_file() or "/" in assignment_id or assignment_id.startswith("."):
        raise UnknownAssignment(assignment_id)
    settings = tomllib.loads(settings_file.read_text())
    limits = Limits(memory_bytes=int(settings.get("memory_mb", 3072)) * 2**20,
                    cpu_seconds=int(settings.get("cpu_seconds", 120)),
                    gpu_memory_bytes=int(settings.get("gpu_memory_mb", 4096)) * 2**20,
                    blocked_modules=tuple(settings.get("blocked_modules", ())),
                    data_folder=str(folder / DATA) if (folder / DATA).is_dir() else "")
    return Assignment(id=assignment_id, title=settings.get("title", assignment_id), folder=folder,
                      reference_folder=root / "reference" / assignment_id,
                      test_timeout=float(settings.get("test_timeout", DEFAULT_TEST_TIMEOUT)), limits=limits,
                      environment=environment(root, settings))


def all_assignments(root: os.PathLike | str | None = None) -> list[Assignment]:
    root = Path(root or ROOT).resolve()
    found = sorted(p.parent.name for p in (root / "assignments").glob("*/assignment.toml"))
    ordered = [a for a in ORDER if a in found] + [a for a in found if a not in ORDER]
    return [load(a, root) for a in ordered]
