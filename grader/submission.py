"""Turning what a student handed in into the source of one module.

A submission for assignment ID is a file (ID.py, or any single .py/.ipynb
given directly, since LMS exports rename files), a notebook, a folder holding
ID.py or ID.ipynb (nested at most one level), or a zip of any of these. When
both are there the one with the student's work is graded (choose()): the
notebook beside an untouched stub or beside a script exported from it
(`jupyter nbconvert --to script`, which calls get_ipython()), else the .py;
the first note says which file was graded and why. Only
that one module is ever used: other files (conftest.py, numpy.py,
sitecustomize.py), symlinks and zip members with absolute or `..` paths have
no effect. Nothing is extracted to disk; zips are read in memory with size
caps, so a zip bomb costs at most MAX_SOURCE_BYTES (MAX_NOTEBOOK_BYTES for a
notebook, whose saved outputs, such as images, are dropped before it is read).
"""
import ast
import io
import os
import stat
import zipfile
from typing import NamedTuple
from pathlib import Path, PurePosixPath

from .errors import InvalidSubmission
from .files import TooLarge, printable, read_capped, read_prefix, zip_member_path
from .notebook import cells_of, notebook_to_source

MAX_SOURCE_BYTES = 2 * 2**20
MAX_NOTEBOOK_BYTES = 32 * 2**20
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_BYTES = 64 * 2**20


class Loaded(NamedTuple):
    source: bytes        # the module's source (a notebook's driver module)
    notes: list          # for the student's feedback
    chosen: str | None   # why this file was graded when the submission held several candidates


def load(path, assignment_id: str) -> Loaded:
    """The module source, notes for the feedback, and why the file was chosen (if it was)."""
    path = Path(path)
    name = printable(path.name)
    try:
        info = os.lstat(path)
    except OSError:
        raise InvalidSubmission(f"{name}: no such file or folder") from None
    if stat.S_ISLNK(info.st_mode):
        raise InvalidSubmission(f"{name} is a symbolic link; submit the file itself")
    if stat.S_ISDIR(info.st_mode):
        return _from_folder(path, assignment_id)
    if path.suffix.lower() == ".zip":
        if info.st_size > MAX_ZIP_BYTES:
            raise InvalidSubmission(f"{name} is larger than {MAX_ZIP_BYTES // 2**20} MiB")
        return _from_zip(read_prefix(path, MAX_ZIP_BYTES + 1), name, assignment_id)
    if path.suffix.lower() in (".py", ".ipynb"):
        return Loaded(*_from_file(name, _read_source(path, name), assignment_id), None)
    raise InvalidSubmission(f"{name}: expected {assignment_id}.py, {assignment_id}.ipynb, "
                            "a folder or a .zip")


def cap_for(name: str) -> int:
    """The most bytes a .py (MAX_SOURCE_BYTES) or a notebook (MAX_NOTEBOOK_BYTES) may have."""
    return MAX_NOTEBOOK_BYTES if name.lower().endswith(".ipynb") else MAX_SOURCE_BYTES


def _read_source(path: Path, name: str) -> bytes:
    """A source file's bytes, refused past its cap whatever its size claimed."""
    try:
        with open(path, "rb") as handle:
            return read_capped(handle, cap_for(name))
    except TooLarge:
        raise InvalidSubmission(f"{name} is larger than {cap_for(name) // 2**20} MiB") from None


def _from_file(name, data, assignment_id):
    notes = []
    if not name.lower().endswith(".ipynb") and Path(name).stem != assignment_id:
        notes.append(f"graded {name} as {assignment_id}.py")
    if name.lower().endswith(".ipynb"):
        source, nb_notes = notebook_to_source(data, name)
        return source, notes + nb_notes
    if not data.strip():
        raise InvalidSubmission(f"{name} is empty")
    if b"\x00" in data:
        raise InvalidSubmission(f"{name} is not a text file (it contains NUL bytes)")
    return data, notes


def _candidates(assignment_id):
    return (f"{assignment_id}.py", f"{assignment_id}.ipynb")


def _from_folder(folder, assignment_id):
    found, seen = [], []
    for entries in _walk(folder, levels=3):
        for entry in entries:
            seen.append(printable(str(entry.relative_to(folder))))
            if entry.name in _candidates(assignment_id):
                found.append(entry)
        if found:
            break
    if not found:
        raise InvalidSubmission(_not_found(assignment_id, seen))
    shallowest = min(len(p.parts) for p in found)
    found = {p.name: p for p in found if len(p.parts) == shallowest}
    name, data, why = choose({n: (lambda p=p: _read_source(p, p.name)) for n, p in found.items()}, assignment_id)
    source, notes = _from_file(name, data, assignment_id)
    return Loaded(source, ([why] if why else []) + notes, why)


def _walk(folder, levels):
    """Regular files level by level, never through a symbolic link.

    A link anywhere (a file, or a folder such as `answer -> /course/reference`)
    is skipped, so nothing outside the submission can be picked up.
    """
    current = [folder]
    for _ in range(levels):
        files, folders = [], []
        for parent in current:
            try:
                children = sorted(os.scandir(parent), key=lambda e: e.name)
            except OSError:
                continue
            for child in children:
                if child.name.startswith(("__MACOSX", ".")) or child.is_symlink():
                    continue
                path = Path(child.path)
                if child.is_dir(follow_symlinks=False):
                    folders.append(path)
                elif child.is_file(follow_symlinks=False):
                    files.append(path)
        yield files
        current = folders


def _from_zip(data, name, assignment_id):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InvalidSubmission(f"{name} is not a readable zip file ({exc})") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise InvalidSubmission(f"{name} has too many entries ({len(members)})")
    found, seen = [], []
    for member in members:
        parts = PurePosixPath(member.filename.replace("\\", "/")).parts
        if member.is_dir() or not parts or "__MACOSX" in parts or parts[-1].startswith("."):
            continue
        seen.append(member.filename)
        relative, _ = zip_member_path(member)
        if relative is not None and relative.name in _candidates(assignment_id) and len(relative.parts) <= 3:
            found.append(member)
    if not found:
        raise InvalidSubmission(_not_found(assignment_id, seen))
    shallowest = min(len(PurePosixPath(m.filename).parts) for m in found)
    found = {PurePosixPath(m.filename).name: m for m in found if len(PurePosixPath(m.filename).parts) == shallowest}
    for member in found.values():
        if member.flag_bits & 0x1:
            raise InvalidSubmission(f"{name} is password-protected; submit an unencrypted zip")
    chosen, content, why = choose({n: (lambda m=m: _read_capped(archive, m, name)) for n, m in found.items()},
                                  assignment_id)
    source, notes = _from_file(chosen, content, assignment_id)
    why = f"in {name}, {why}" if why else None
    return Loaded(source, ([why] if why else []) + notes, why)


def _read_capped(archive, member, name):
    """Read one member, refusing more than its cap whatever its header claims."""
    cap = cap_for(member.filename)
    if member.file_size > cap:
        raise InvalidSubmission(f"{member.filename} in {name} is larger than "
                                f"{cap // 2**20} MiB uncompressed")
    try:
        with archive.open(member) as handle:
            return read_capped(handle, cap)
    except TooLarge:
        raise InvalidSubmission(f"{member.filename} in {name} expands beyond "
                                f"{cap // 2**20} MiB (a zip bomb?)") from None
    except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, NotImplementedError) as exc:
        raise InvalidSubmission(f"{member.filename} in {name} cannot be read ({exc})") from None


def choose(readers: dict, assignment_id: str) -> tuple[str, bytes, str | None]:
    """(the file name, its bytes, why it was chosen or None) among ID.py and ID.ipynb.

    readers maps each candidate's name to a function reading its bytes. The
    notebook wins beside a .py with no work in it (the untouched stub) and
    beside a script exported from a notebook (it calls get_ipython(), which
    fails outside IPython); otherwise the .py, as before.
    """
    script, notebook = f"{assignment_id}.py", f"{assignment_id}.ipynb"
    if len(readers) == 1:
        name = next(iter(readers))
        return name, readers[name](), None
    code, cells = readers[script](), readers[notebook]()
    worked = _work(_notebook_code(cells))
    if b"get_ipython()" in code:
        return notebook, cells, (f"graded {notebook}: {script} is a script exported from a notebook "
                                 "(it calls get_ipython(), which only IPython has), so its notebook was graded")
    if _work([code]) == 0 and worked > 0:
        return notebook, cells, (f"graded {notebook}: {script} beside it is the untouched stub "
                                 f"(no function in it is written) and the notebook writes {worked}")
    return script, code, (f"graded {script}: it was handed in with {notebook}, which was not graded "
                          "(hand in one of them)")


def _notebook_code(data: bytes) -> list[str]:
    """The notebook's code cells, magics and shell lines left out (nothing is run)."""
    try:
        cells = cells_of(data, "notebook")
    except InvalidSubmission:
        return []
    return ["\n".join(line for line in c["source"].splitlines() if not line.lstrip().startswith(("%", "!")))
            for c in cells]


def _work(sources) -> int:
    """How many top-level functions and methods are written (_stub_body): a stub has none."""
    count = 0
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            functions = [n for n in node.body if isinstance(n, ast.FunctionDef)] \
                if isinstance(node, ast.ClassDef) else [node]
            count += sum(1 for f in functions if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                         and not _stub_body(f.body))
    return count


def _stub_body(body) -> bool:
    """Only a docstring, `pass` or `...`, or a body that still raises NotImplementedError."""
    return any(isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n) for n in body) or \
        all(isinstance(n, ast.Pass) or (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
            for n in body)


def _not_found(assignment_id, seen):
    listing = ", ".join(seen[:8]) + (" …" if len(seen) > 8 else "") if seen else "nothing"
    return (f"no {assignment_id}.py or {assignment_id}.ipynb found in the submission "
            f"(found: {listing})")
