"""Running a notebook's code cells inside the worker, as Jupyter's "Run All" does.

Standalone like worker.py (the standard library and the venv's IPython; it is
copied into the sandbox beside it). A notebook submission becomes a small
driver module (grader/notebook.py writes it) that calls
`run_notebook(CELLS, globals())` when the worker imports it, so the cells run
in the module's own namespace and the tests then grade whatever it holds.

Each cell runs in a real IPython `InteractiveShell` (display, get_ipython,
%matplotlib, %%time, %%capture, `?` and help behave as in Jupyter), in order,
and an error costs only its cell. Shell escapes (`!cmd`, %system, %%bash,
%pip, %run, %load ...) never run: they are recorded as notes. input() raises.
Every cell has a CPU-time budget (ITIMER_PROF, set by configure()): past it
the cell gets a KeyboardInterrupt, as Jupyter's interrupt button sends, again
every second while it goes on, and the next cell runs. The wall clock
(ITIMER_REAL) interrupts a cell that waits (a sleep, a lock: under 5 % of a
CPU after twice its budget plus 5 s), or any cell after ten times its budget
plus 10 s; a cell merely slowed by a loaded machine is left to its CPU budget.
A cell that swallows every interrupt is the worker's business: the harness
kills the worker at the notebook's budget, asks current_cell() which cell ran,
and starts a new worker with that cell in configure()'s "skip". While cells run, the
process's stdout and stderr go to /dev/null: what a notebook prints, shows or
plots belongs in the notebook, not in the feedback, and figures are closed
after every cell. Cells tagged `skip-execution` are not run; errors in cells
tagged `raises-exception` are expected.

The notebook's folder is the worker's working folder and, as in Jupyter, it
is on sys.path: a module written by a cell (%%writefile helpers.py) can be
imported, and the driver module is out of sys.modules while the cells run,
so it never shadows a module of the same name the notebook writes. A package
outside the grading environment imported by a cell (`import wandb`, `from
google.colab import drive`) becomes a stand-in whose every use fails with a
message saying so: it costs what uses it, not the rest of its cell.
`raise SystemExit` (or sys.exit()) ends the run, as it ends Run All in
Jupyter. `from grader import check` works, and does nothing, during grading.

When the notebook as a whole runs past its CPU budget the harness starts a
new worker with "definitions" set: only the cells that define the names the
tests use (configure()'s "api"), and the cells those need, run again (a
static def/use analysis of the cells); the others are reported as skipped
experiments, the cell that was running at the budget as interrupted.

The report stays in the namespace: `__grader_cells__` (one plain dict per
code cell: index, status, message, line, first_line) and `__grader_notes__`
(strings). Cell numbers count every cell of the notebook from 1, and lines
count from the cell's first line: code in cell 3 is compiled as "<cell 3>".
"""
import ast
import builtins
import importlib.abc
import importlib.util
import linecache
import os
import signal
import symtable
import sys
import tempfile
import time
import types
import warnings

from IPython.core.compilerop import CachingCompiler
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.text import SList
from traitlets.config import Config

DEFAULT_CELL_BUDGET = 10.0   # seconds of CPU time for one cell
WAITING_FACTOR, WAITING_MARGIN = 2.0, 5.0  # after budget * 2 + 5 s of wall clock...
WAITING_SHARE = 0.05         # ...a cell using under 5 % of a CPU is waiting (sleep, a lock): interrupt it
WALL_FACTOR, WALL_MARGIN = 10.0, 10.0      # past budget * 10 + 10 s, interrupt whatever it does
REPEAT = 1.0                 # seconds between interrupts while a cell ignores them

OK, ERROR, INTERRUPTED, SKIPPED, ESCAPED, STOPPED = "ok", "error", "interrupted", "skipped", "escaped", "stopped"
NOT_RUN = "shell commands, %pip, %run and %load never run during grading"

# Magics that reach the shell or other files: refused, never run. Aliases such
# as %ls and %cat go through the shell's system(), which is refused too.
REFUSED_LINE = ("system", "sx", "sc", "pip", "conda", "mamba", "micromamba", "uv", "run", "load",
                "loadpy", "edit", "ed", "pastebin", "rehashx")
REFUSED_CELL = ("!", "bash", "sh", "script", "system", "sx", "perl", "ruby", "python", "python2",
                "python3", "pypy")

_options = {"cell_budget": DEFAULT_CELL_BUDGET, "skip": frozenset(), "api": (), "definitions": False,
            "over_budget": None, "notebook_budget": None, "environment": (), "blocked": ()}
_current = None   # the index of the cell running now
_fired = None     # why the running cell was interrupted: "cpu" or "wall"
_started = (0.0, 0.0)  # (CPU, wall clock) when the running cell started


class InputNotAvailable(RuntimeError):
    """What input() raises while a notebook is graded: nobody is there to type."""


def configure(options: dict) -> None:
    """Set {"cell_budget": CPU seconds per cell, "skip": [cell indices not to run],
    "api": [names the tests use], "definitions": run only the cells that define them,
    "over_budget": the cell running when the notebook's budget ran out,
    "notebook_budget": CPU seconds for all cells, "environment": [the course's packages],
    "blocked": [packages the assignment forbids]}."""
    if options.get("cell_budget") is not None:
        _options["cell_budget"] = float(options["cell_budget"])
    _options["skip"] = frozenset(int(i) for i in options.get("skip") or ())
    _options["api"] = tuple(str(n) for n in options.get("api") or ())
    _options["definitions"] = bool(options.get("definitions"))
    _options["over_budget"] = options.get("over_budget")
    _options["notebook_budget"] = options.get("notebook_budget")
    _options["environment"] = tuple(str(n) for n in options.get("environment") or ())
    _options["blocked"] = tuple(str(n) for n in options.get("blocked") or ())


def current_cell():
    """The index of the cell running now, or None between cells."""
    return _current


def run_notebook(cells: list, namespace: dict) -> None:
    """Run cells ({"index", "source", "tags"} each) in order in namespace; never raises."""
    global _current
    report, notes = [], []
    namespace["__grader_cells__"], namespace["__grader_notes__"] = report, notes
    _prepare_environment()
    shell = _shell(namespace)
    name = namespace.get("__name__")
    driver = sys.modules.pop(name, None)  # never shadows a module of the same name the notebook writes
    keep = definition_cells(shell, cells, _options["api"]) if _options["definitions"] else None
    stopped_at = None
    try:
        for cell in cells:
            if stopped_at is not None:
                report.append(_record(cell, STOPPED, f"not run: Run All stopped at cell {stopped_at} (SystemExit)"))
                continue
            if keep is not None and cell["index"] not in keep and "skip-execution" not in (cell.get("tags") or ()):
                report.append(_not_rerun(cell))
                continue
            _current = cell["index"]
            try:
                record = _run_cell(shell, cell, notes)
            except KeyboardInterrupt:  # a late interrupt, after the cell itself had ended
                record = _record(cell, INTERRUPTED, _interrupted_message(_options["cell_budget"]))
            _current = None
            report.append(record)
            if record.pop("exited", False):
                stopped_at = cell["index"]
        below = sum(1 for c in cells if stopped_at is not None and c["index"] > stopped_at)
        if below:
            notes.append(f"cell {stopped_at} raised SystemExit, which ends Run All as in Jupyter: "
                         f"the {below} code cell(s) below it were not run")
        if keep is not None:
            notes.append(_definitions_note(cells, keep))
    finally:
        _current = None
        if driver is not None:
            sys.modules[name] = driver
        namespace["__grader_cells__"], namespace["__grader_notes__"] = report, notes


def _record(cell, status, message, line=None):
    return {"index": cell["index"], "status": status, "message": message, "line": line,
            "first_line": _first_line(cell["source"])}


def _not_rerun(cell):
    """A cell left out of the definitions run: the one the budget stopped, or an experiment."""
    budget = _options["notebook_budget"]
    spent = f"{budget:g} s of CPU time" if budget else "its CPU budget"
    if cell["index"] == _options["over_budget"]:
        return _record(cell, INTERRUPTED, f"was running when the notebook had used {spent} in all; "
                       "the grader ran the notebook again with only the cells that define what the tests use")
    return _record(cell, SKIPPED, f"an experiment: not run again after the notebook used {spent} "
                   "(it defines nothing the tests use)")


def _definitions_note(cells, keep):
    left = [c["index"] for c in cells if c["index"] not in keep]
    shown = ", ".join(str(i) for i in left[:12]) + (" …" if len(left) > 12 else "")
    return ("the notebook used more than its CPU budget in all, so it was run again with only the cells "
            "that define what the tests use" + (f"; cells {shown} were left out" if left else ""))


# --- which cells define what the tests use ------------------------------------------------

def definition_cells(shell, cells, api) -> set:
    """The indices of the cells that bind a name in api, and of the cells those need, transitively.

    A static def/use analysis: each cell's top-level bindings and the global
    names it reads (in function and class bodies too, by symtable); a star
    import and a module written by %%writefile count as definitions.
    """
    facts = {c["index"]: _names(shell, c["source"]) for c in cells
             if "skip-execution" not in (c.get("tags") or ())}
    needed, keep = set(api), set()
    grown = True
    while grown:
        grown = False
        for index, (defines, uses, star) in facts.items():
            if index not in keep and (star or defines & needed):
                keep.add(index)
                needed |= uses
                grown = True
    return keep


def _names(shell, source):
    """(names a cell binds, global names it reads, whether it star-imports)."""
    lines = source.strip().splitlines()
    if lines and lines[0].startswith("%%writefile"):
        target = lines[0].split()[-1] if len(lines[0].split()) > 1 else ""
        return ({os.path.basename(target)[:-3]} if target.endswith(".py") else set()), set(), False
    try:
        code = shell.transform_cell(source)
        tree = ast.parse(code)
        table = symtable.symtable(code, "<cell>", "exec")
    except (SyntaxError, ValueError):
        return set(), set(), False
    defines = {s.get_name() for s in table.get_symbols()
               if s.is_assigned() or s.is_imported() or s.is_namespace()}
    uses = {s.get_name() for s in table.get_symbols() if s.is_referenced()} | _globals_read(table)
    star = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            uses |= {a.name.partition(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            uses.add(node.module.partition(".")[0])
            star = star or any(a.name == "*" for a in node.names)
    return defines, uses, star


def _globals_read(table):
    found = set()
    for child in table.get_children():
        found |= {s.get_name() for s in child.get_symbols() if s.is_global()} | _globals_read(child)
    return found


def _no_input(prompt=""):
    raise InputNotAvailable("input() is not available during grading")


def _prepare_environment():
    """Headless matplotlib, caches on the worker's own scratch space, no input(); the
    working folder on sys.path, stand-ins for packages outside the environment and for
    `grader.check`."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # Jupyter's '': modules the notebook writes can be imported
    if not any(isinstance(f, NotInEnvironment) for f in sys.meta_path):
        sys.meta_path.append(NotInEnvironment())
    sys.modules["grader"] = _grader_stand_in()
    try:  # the working folder is the worker's own (a tmpfs in bwrap and docker)
        scratch = tempfile.mkdtemp(prefix=".grader-notebook-", dir=os.getcwd())
    except OSError:
        scratch = tempfile.mkdtemp(prefix=".grader-notebook-")
    for key, folder in (("MPLCONFIGDIR", "matplotlib"), ("IPYTHONDIR", "ipython"),
                        ("XDG_CACHE_HOME", "cache"), ("XDG_CONFIG_HOME", "config")):
        os.environ[key] = os.path.join(scratch, folder)
        os.makedirs(os.environ[key], exist_ok=True)
    os.environ["MPLBACKEND"] = "Agg"
    builtins.input = _no_input
    warnings.filterwarnings("ignore", message=".*non-interactive.*cannot be shown")


def _grader_stand_in():
    """`from grader import check; check("ID")` in a cell: the check is for the student's own kernel."""
    module = types.ModuleType("grader", "The grader's check() does nothing while the notebook is graded.")
    module.check = lambda *args, **kwargs: None
    return module


# --- packages outside the grading environment ------------------------------------------

_missing = []   # top-level packages given a stand-in while the running cell ran


class NotInEnvironment(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: a package no finder has, imported by a cell, becomes a stand-in.

    Only imports written in the notebook (code compiled as "<cell N>", or a
    module in the notebook's folder) get one: a library probing for an
    optional dependency still gets its ImportError. Blocked packages never do.
    """

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in _options["blocked"]:
            return None
        importer = _importer()
        if importer is None or _handles_import_error(importer):
            return None
        if top not in _missing:
            _missing.append(top)
        return importlib.util.spec_from_loader(fullname, self, is_package=True)

    def create_module(self, spec):
        return MissingModule(spec.name)

    def exec_module(self, module):
        module.__path__ = []


def _importer():
    """The frame of the notebook's code that asked for the import, or None when it is a library's."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith("<frozen") or "importlib" in name or name == __file__):
            folder = os.getcwd() + os.sep
            mine = name.startswith("<cell ") or (name.startswith(folder) and os.sep not in name[len(folder):])
            return frame if mine else None
        frame = frame.f_back
    return None


CATCHING = ("ImportError", "ModuleNotFoundError", "Exception", "BaseException")


def _handles_import_error(frame):
    """Is the import inside `try: ... except ImportError:` (Colab's `IN_COLAB` test)? Then it gets one."""
    source = "".join(linecache.getlines(frame.f_code.co_filename))
    try:
        shell = GradingShell.instance()
        tree = ast.parse(shell.transform_cell(source) if frame.f_code.co_filename.startswith("<cell ") else source)
    except Exception:  # a cell IPython cannot parse on its own: no stand-in decision to make
        return False
    offset = _line_offsets(source)[0] if frame.f_code.co_filename.startswith("<cell ") else 0
    line = frame.f_lineno - offset
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and node.body[0].lineno <= line <= node.body[-1].end_lineno:
            for handler in node.handlers:
                kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                if handler.type is None or any(isinstance(k, ast.Name) and k.id in CATCHING for k in kinds):
                    return True
    return False


def _not_available(what):
    top = what.partition(".")[0]
    have = ", ".join(_options["environment"]) or "numpy"
    return ModuleNotFoundError(f"{top} is not in the grading environment, so `{what}` cannot be used "
                               f"(the course's packages: {have})", name=top)


class MissingModule(types.ModuleType):
    """A package outside the grading environment: its attributes exist, using them fails."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return MissingName(f"{self.__name__}.{name}")


class MissingName:
    """Something imported from a package outside the environment: every use raises."""

    def __init__(self, what):
        self._what = what

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise _not_available(f"{self._what}.{name}")

    def __call__(self, *args, **kwargs):
        raise _not_available(self._what)

    def __getitem__(self, key):
        raise _not_available(self._what)

    def __iter__(self):
        raise _not_available(self._what)

    def __repr__(self):
        return f"<{self._what}: not in the grading environment>"


# --- the shell ----------------------------------------------------------------------

class CellCompiler(CachingCompiler):
    """Names code after its cell ("<cell 3>"), so tracebacks count lines from the cell."""
    cell_name = "<cell>"

    def cache(self, transformed_code, number=0, raw_code=None):
        return self.cell_name  # the runner caches the cell's own text under this name

    def __call__(self, source, filename, symbol, *args, **kwargs):
        if filename in ("<timed exec>", "<timed eval>"):   # the body of a %%time cell
            filename = self.cell_name
        return super().__call__(source, filename, symbol, *args, **kwargs)


class LineShift(ast.NodeTransformer):
    """Moves parsed code to its lines in the cell: each parse takes the next offset."""

    def __init__(self):
        self.offsets = []

    def visit(self, node):
        offset = self.offsets.pop(0) if self.offsets else 0
        return ast.increment_lineno(node, offset) if offset else node


class GradingShell(InteractiveShell):
    """Jupyter's shell less everything that reaches outside the worker's own Python."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.refused = []          # shell escapes and magics asked for by the running cell
        self.nested_errors = []    # errors inside a %%capture cell's body
        self.depth = 0
        self.line_shift = LineShift()
        self.ast_transformers.append(self.line_shift)
        self.compile = CellCompiler()
        self.call_pdb = False
        self.set_hook("show_in_pager", _discard_page)
        self.display_pub.publish = _discard_display  # display(), a tqdm.notebook bar: also when tests call
        for name in REFUSED_LINE:
            self.register_magic_function(_refuser(self, f"%{name}"), "line", name)
        for name in REFUSED_CELL:
            self.register_magic_function(_refuser(self, f"%%{name}"), "cell", name)

    def system_piped(self, cmd):
        self.refused.append(f"!{cmd}")

    system = system_raw = system_piped

    def getoutput(self, cmd, split=True, depth=0):
        self.refused.append(f"!{cmd}")
        return SList() if split else ""

    def enable_matplotlib(self, gui=None):
        """Every %matplotlib backend is Agg here: nothing is shown, figures are closed."""
        import matplotlib  # only for notebooks that ask for it
        matplotlib.use("Agg", force=True)
        return None, "agg"

    def enable_gui(self, gui=None):
        """No event loops here: %gui and %matplotlib qt do nothing."""

    def showtraceback(self, *args, **kwargs):
        """The runner records errors itself; nobody reads a formatted traceback."""

    def showsyntaxerror(self, *args, **kwargs):
        """As showtraceback."""

    def showindentationerror(self):
        """As showtraceback."""

    def run_cell(self, raw_cell, *args, **kwargs):
        self.depth += 1
        try:
            result = super().run_cell(raw_cell, *args, **kwargs)
        finally:
            self.depth -= 1
        if self.depth and not result.success:  # inside %%capture: Jupyter hides it, we record it
            self.nested_errors.append(result.error_before_exec or result.error_in_exec)
        return result


def _shell(namespace):
    """The shell on namespace (the driver module's globals), without history or pager."""
    config = Config()
    config.HistoryManager.enabled = False
    module = sys.modules.get(namespace.get("__name__"))
    if module is None or module.__dict__ is not namespace:
        module = None
    return GradingShell.instance(config=config, user_module=module, user_ns=namespace)


def _discard_page(shell, data, start=0, screen_lines=0, pager_cmd=None):
    """`obj?` and %pdoc page their text; nobody reads it during grading."""


def _discard_display(*args, **kwargs):
    """What display() shows belongs in the notebook, not in a test's "Your code printed"."""


def _refuser(shell, label):
    def refuse(line="", cell=None):
        shell.refused.append(f"{label} {line}".strip())
    refuse.__doc__ = f"{label} does not run during grading."
    return refuse


# --- one cell ----------------------------------------------------------------------

def _run_cell(shell, cell, notes):
    index, source, tags = cell["index"], cell["source"], set(cell.get("tags") or ())
    record = {"index": index, "status": OK, "message": "", "line": None,
              "first_line": _first_line(source)}
    if "skip-execution" in tags:
        return dict(record, status=SKIPPED, message="tagged skip-execution: not run")
    if index in _options["skip"]:
        return dict(record, status=INTERRUPTED, message=(
            f"kept running after it was interrupted, so the grader ran the notebook again "
            f"without this cell (its budget is {_options['cell_budget']:g} s of CPU time)"))
    name = f"<cell {index}>"
    shell.compile.cell_name = name
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    shell.line_shift.offsets[:] = _line_offsets(source)
    shell.refused.clear()
    shell.nested_errors.clear()
    _missing.clear()
    error, cpu = _execute(shell, source)
    for name in [n for n, m in sys.modules.items() if isinstance(m, MissingModule)]:
        del sys.modules[name]  # each import decides again: a later `try: import ...` gets its ImportError
    if _missing:
        notes.append(f"cell {index}: " + ", ".join(f"`{m}`" for m in _missing) +
                     " not in the grading environment: the import went through, and each use of it fails")
    error = error or (shell.nested_errors[0] if shell.nested_errors else None)
    if shell.refused:
        notes.append(f"cell {index}: not run ({NOT_RUN}): " +
                     ", ".join(f"`{_short(r)}`" for r in shell.refused[:5]) +
                     (f" and {len(shell.refused) - 5} more" if len(shell.refused) > 5 else ""))
        record.update(status=ESCAPED, message=f"{len(shell.refused)} shell command(s) or magic(s) not run")
    if isinstance(error, KeyboardInterrupt) and _fired:
        return dict(record, status=INTERRUPTED, message=_interrupted_message(cpu))
    if isinstance(error, SystemExit):  # Run All stops here, as in Jupyter
        line = _error_line(error, name)
        return dict(record, message="raised SystemExit" + (f" (line {line})" if line else "") +
                    ", which ends Run All: the cells below it did not run", line=line, exited=True)
    if error is not None:
        line = _error_line(error, name)
        if "raises-exception" in tags:
            return dict(record, message=f"raised {type(error).__name__}, as its raises-exception tag allows",
                        line=line)
        return dict(record, status=ERROR, message=_describe(error, line), line=line)
    return record


def _execute(shell, source):
    """Run one cell under its budget, quietly; (the error it ended with or None, CPU seconds)."""
    global _fired, _started
    _fired = None
    budget = _options["cell_budget"]
    _started = (time.process_time(), time.monotonic())
    error = None
    with _Quiet():
        handlers = {s: signal.signal(s, _interrupt) for s in (signal.SIGPROF, signal.SIGALRM)}
        previous = {t: signal.setitimer(t, 0) for t in (signal.ITIMER_PROF, signal.ITIMER_REAL)}
        try:
            signal.setitimer(signal.ITIMER_PROF, budget, REPEAT)
            signal.setitimer(signal.ITIMER_REAL, budget * WAITING_FACTOR + WAITING_MARGIN, REPEAT)
            result = shell.run_cell(source, store_history=True)
            error = result.error_before_exec or result.error_in_exec
        except KeyboardInterrupt as exc:  # arrived between two of IPython's own steps
            error = exc
        finally:
            for timer in previous:
                signal.setitimer(timer, 0)
            for signum, handler in handlers.items():
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)
            _restore_timers(previous, time.process_time() - _started[0], time.monotonic() - _started[1])
            _close_figures()
    return error, time.process_time() - _started[0]


def _interrupt(signum, frame):
    """SIGPROF: the CPU budget is spent. SIGALRM: interrupt only a cell that waits, or one far too long."""
    global _fired
    cpu, wall = time.process_time() - _started[0], time.monotonic() - _started[1]
    budget = _options["cell_budget"]
    if signum == signal.SIGPROF and not _fired and cpu < budget:
        # Linux's profiling timer runs a few percent ahead of the CPU clock
        # (more on a busy machine): the budget is the CPU clock's, so wait out the rest.
        signal.setitimer(signal.ITIMER_PROF, budget - cpu, REPEAT)
        return
    if signum == signal.SIGALRM:
        if cpu >= WAITING_SHARE * wall and wall < budget * WALL_FACTOR + WALL_MARGIN:
            return  # it computes, slowly on a loaded machine: the CPU budget decides
    _fired = _fired or ("cpu" if signum == signal.SIGPROF else "wall")
    raise KeyboardInterrupt


def _restore_timers(previous, cpu, wall):
    """Give back timers someone armed before the cell, less the time the cell took."""
    for timer, (delay, interval) in previous.items():
        if delay > 0:
            spent = cpu if timer == signal.ITIMER_PROF else wall
            signal.setitimer(timer, max(delay - spent, 0.001), interval)


def _close_figures():
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        try:
            pyplot.close("all")
        except Exception:  # a notebook may have broken pyplot; its figures are not our concern
            pass


class _Quiet:
    """Points the process's stdout and stderr at /dev/null for the cell, C-level writes too.

    sys.stdout and sys.stderr are put back as they were, whatever the cell set them to.
    """

    def __enter__(self):
        self.streams = sys.stdout, sys.stderr
        self._flush()
        self.saved = {fd: os.dup(fd) for fd in (1, 2)}
        null = os.open(os.devnull, os.O_WRONLY)
        for fd in self.saved:
            os.dup2(null, fd)
        os.close(null)

    def __exit__(self, *exc):
        self._flush()
        sys.stdout, sys.stderr = self.streams
        self._flush()
        for fd, saved in self.saved.items():
            os.dup2(saved, fd)
            os.close(saved)

    @staticmethod
    def _flush():
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # a cell may have replaced or closed them
                pass


# --- what the report says -----------------------------------------------------------------

def _line_offsets(source):
    """Lines IPython drops before it parses: leading blank lines, and a %% magic's first line.

    The cell itself is parsed first; a cell magic's body (%%time, %%capture)
    is parsed next, after the magic line and its own leading blank lines.
    """
    lines = source.splitlines()
    top = _leading_blank(lines)
    if top < len(lines) and lines[top].lstrip().startswith("%%"):
        body = lines[top + 1:]
        return [top, top + 1 + _leading_blank(body)]
    return [top]


def _leading_blank(lines):
    count = 0
    for line in lines:
        if line.strip():
            break
        count += 1
    return count


def _error_line(error, name):
    """The line of the cell where error happened, counted from the cell's first line."""
    line = None
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == name:
            line = trace.tb_lineno
        trace = trace.tb_next
    if line is None and isinstance(error, SyntaxError) and error.filename == name:
        line = error.lineno
    return line


def _describe(error, line):
    try:
        text = str(error)
    except Exception:
        text = "<the error could not be printed>"
    if isinstance(error, SyntaxError):
        text = error.msg
    message = f"{type(error).__name__}: {text[:500]}" if text else type(error).__name__
    if line is not None:
        message += f" (line {line})"
    if isinstance(error, SyntaxError):  # Colab runs a newer Python, which accepts more
        message += f"; the grader runs Python {sys.version_info[0]}.{sys.version_info[1]}"
    if isinstance(error, FileNotFoundError):
        message += ("; files on your own computer are not there during grading: "
                    "use the paths the handout gives")
    return message


def _interrupted_message(cpu):
    budget = _options["cell_budget"]
    if _fired == "wall":
        waited = time.monotonic() - _started[1]
        return (f"interrupted after {waited:.0f} s of waiting (it used {cpu:.1f} s of CPU time): "
                "is it sleeping or waiting for something?")
    return f"interrupted after {cpu:.1f} s of CPU time (each cell may use {budget:g} s)"


def _first_line(source):
    for line in source.splitlines():
        if line.strip():
            return _short(line.strip())
    return ""


def _short(text, width=80):
    return text if len(text) <= width else text[: width - 1] + "…"
