"""Finding the students in what an instructor downloaded.

`discover(source, workdir)` turns a folder or a zip into a list of `Entry`s,
one per student, each pointing at what `grader.submission.load` will read.
Recognised layouts:

- plain: one entry per student (a .py, an .ipynb, a folder or a .zip), named
  after the entry;
- Gradescope "export submissions": `submission_metadata.yml` beside
  `submission_<id>/` folders, named after the submitters in the metadata;
- Canvas "download submissions": files `name_id_fileid_filename` or
  `name_LATE_id_fileid_filename`, grouped per student (a student who uploaded
  several files gets a folder of them, with the Canvas prefixes removed);
- GitHub Classroom clone-all: folders `<assignment>-<username>`.

A zip is extracted into `workdir` first, refusing absolute paths, `..`,
symbolic links and anything beyond MAX_EXPORT_BYTES or MAX_EXPORT_MEMBERS.
Student names are made safe for a folder name and unique (alice, alice-2, ...,
in the sorted order of the original names, so every run agrees).
"""
import dataclasses
import re
import shutil
import unicodedata
import zipfile
from pathlib import Path

from .errors import ExportError
from .files import TooLarge, copy_capped, printable, zip_member_path

MAX_EXPORT_BYTES = 2 * 2**30
MAX_EXPORT_MEMBERS = 50_000
CANVAS = re.compile(r"^(?P<name>[^_]+)_(?P<late>LATE_)?(?P<id>\d+)_(?P<fileid>\d+)_(?P<file>.+)$")
# Canvas appends -1, -2 ... to a file a student re-uploaded: polyfit-1.py
CANVAS_RESUBMIT = re.compile(r"-\d+(?=\.[^.]+$)")


@dataclasses.dataclass(frozen=True)
class Export:
    layout: str       # folder, gradescope, canvas or github-classroom
    entries: list     # of Entry, sorted by student
    warnings: list    # what was left out of the export, for the instructor


@dataclasses.dataclass(frozen=True)
class Entry:
    student: str      # unique and safe as a folder name
    path: Path        # what grader.submission.load reads
    origin: str       # the name in the export, for people
    details: dict = dataclasses.field(default_factory=dict)


def discover(source, workdir, assignment_id):
    """Return the Export found in a folder or a zip (extracted under workdir)."""
    source, warnings = Path(source), []
    if source.is_file() and source.suffix.lower() == ".zip":
        target = Path(workdir) / "export"
        warnings = extract_zip(source, target)
        source = _single_folder(target, assignment_id)
    elif not source.is_dir():
        raise ExportError(f"{printable(source.name)}: expected a folder or a .zip of submissions")
    names = [p for p in sorted(source.iterdir()) if not _ignored(p.name)]
    if (source / "submission_metadata.yml").is_file():
        layout, found = "gradescope", _gradescope(source)
    elif names and sum(bool(CANVAS.match(p.name)) for p in names) * 2 > len(names):
        layout, found = "canvas", _canvas(names, Path(workdir) / "canvas")
    elif _classroom_prefix(names):
        prefix = _classroom_prefix(names)
        layout, found = "github-classroom", [(p.name[len(prefix):], p, {}) for p in names]
    else:
        layout, found = "folder", [(_stem(p), p, {}) for p in names]
    return Export(layout, _unique(found), warnings)


def _ignored(name):
    return name.startswith((".", "__MACOSX")) or name in ("submission_metadata.yml", "Thumbs.db")


def _stem(path):
    """A student's name from a file (its extension dropped) or a folder (as it is)."""
    return path.name if path.is_dir() else (Path(path.name).stem or path.name)


def _gradescope(root):
    """Gradescope: top-level keys are folder names, each with `:submitters:` (name, sid, email)."""
    try:
        import yaml
        metadata = yaml.safe_load((root / "submission_metadata.yml").read_text(errors="replace")) or {}
    except ImportError:
        metadata = {}
    except Exception as exc:  # yaml raises many kinds for a broken file
        raise ExportError(f"submission_metadata.yml cannot be read ({exc})") from None
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("submission_")):
        info = metadata.get(folder.name) if isinstance(metadata, dict) else None
        submitters = (info or {}).get(":submitters") or []
        names = [str(s.get(":name") or s.get(":sid") or "") for s in submitters if isinstance(s, dict)]
        names = [n for n in names if n.strip()]
        details = {"submission": folder.name}
        if names:
            details["submitters"] = names
            ids = [str(s[":sid"]) for s in submitters if isinstance(s, dict) and s.get(":sid")]
            if ids:
                details["sid"] = ids
        found.append(("+".join(names) or folder.name, folder, details))
    return found


def _canvas(entries, staging):
    groups = {}
    plain = []
    for path in entries:
        match = CANVAS.match(path.name)
        if not match:
            plain.append((_stem(path), path, {}))
            continue
        key = (match["name"], match["id"])
        groups.setdefault(key, []).append((path, match))
    found = []
    for (name, canvas_id), files in sorted(groups.items()):
        details = {"canvas_id": canvas_id, "late": any(m["late"] for _, m in files)}
        if len(files) == 1:
            found.append((name, files[0][0], details))
            continue
        folder = staging / f"{name}_{canvas_id}"
        folder.mkdir(parents=True, exist_ok=True)
        for path, match in files:
            target = folder / CANVAS_RESUBMIT.sub("", match["file"])
            if path.is_file() and not path.is_symlink() and not target.exists():
                shutil.copyfile(path, target)
        found.append((name, folder, details))
    return found + plain


def _classroom_prefix(entries):
    """GitHub Classroom clones are `<assignment>-<username>` folders, usually git checkouts."""
    if len(entries) < 2 or not all(p.is_dir() for p in entries):
        return None
    common = entries[0].name
    for path in entries[1:]:
        while not path.name.startswith(common):
            common = common[:-1]
    prefix = common[: common.rfind("-") + 1]
    if not prefix or any(len(p.name) == len(prefix) for p in entries):
        return None
    if all((p / ".git").exists() for p in entries) or len(entries) > 2:
        return prefix
    return None


def _safe_name(name):
    text = unicodedata.normalize("NFC", printable(name)).strip()
    text = re.sub(r"[^\w.+@-]+", "_", text).strip("._-+@") or "student"
    return text[:80]


def _unique(found):
    """Safe, unique student names; duplicates numbered in the order of their origins."""
    found = sorted(found, key=lambda item: (_safe_name(item[0]).lower(), printable(item[1].name)))
    taken, entries = set(), []
    for name, path, details in found:
        base = _safe_name(name)
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate.lower())
        entries.append(Entry(candidate, path, printable(path.name), details))
    return sorted(entries, key=lambda e: e.student.lower())


def _single_folder(root, assignment_id):
    """LMS zips often wrap everything in one folder: look inside it (unless it is one student's)."""
    inside = [p for p in root.iterdir() if not _ignored(p.name)]
    if len(inside) == 1 and inside[0].is_dir():
        own = (inside[0] / f"{assignment_id}.py", inside[0] / f"{assignment_id}.ipynb")
        if not any(p.exists() for p in own):
            return inside[0]
    return root


def extract_zip(path, target):
    """Extract an export zip safely into target; return warnings for what was left out."""
    try:
        archive = zipfile.ZipFile(path)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExportError(f"{printable(path.name)} is not a readable zip file ({exc})") from None
    if len(members) > MAX_EXPORT_MEMBERS:
        raise ExportError(f"{printable(path.name)} has {len(members)} entries "
                          f"(at most {MAX_EXPORT_MEMBERS})")
    if sum(m.file_size for m in members) > MAX_EXPORT_BYTES:
        raise ExportError(f"{printable(path.name)} would expand beyond {MAX_EXPORT_BYTES // 2**30} GiB")
    target.mkdir(parents=True, exist_ok=True)
    budget, warnings = MAX_EXPORT_BYTES, []
    with archive:
        for member in members:
            relative, problem = _safe_member(member)
            if problem:
                warnings.append(f"{printable(path.name)}: left out {member.filename!r} ({problem})")
            if relative is None:
                continue
            destination = target.joinpath(*relative.parts)
            if member.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            budget -= _copy_capped(archive, member, destination, budget, path.name)
    return warnings


def _safe_member(member):
    """(relative path, None), or (None, why it must not be extracted).

    A student's own password-protected zip is a plain member of the export and
    is extracted whole; grading reports it. Only an encrypted export is refused.
    """
    relative, problem = zip_member_path(member)
    if relative is not None and member.flag_bits & 0x1:
        return None, "encrypted"
    return relative, problem


def _copy_capped(archive, member, destination, budget, name):
    try:
        with archive.open(member) as source, open(destination, "wb") as out:
            return copy_capped(source, out, budget)
    except TooLarge:
        raise ExportError(f"{printable(name)} expands beyond "
                          f"{MAX_EXPORT_BYTES // 2**30} GiB (a zip bomb?)") from None
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        destination.unlink(missing_ok=True)
        raise ExportError(f"{member.filename} in {printable(name)} cannot be read ({exc})") from None
