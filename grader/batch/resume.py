"""What makes a stored grade reusable, and the lock that keeps two batches apart.

A stored grade is DIR/<student>/results.json with a stamp in
`extra_data.batch`: the submission's sha256, the grader's version and a hash
of the suites (and reference). A later run skips every student whose stamp
still matches, so an interrupted batch resumes where it stopped.
"""
import fcntl
import hashlib
import json
import os
from pathlib import Path

from .. import __version__, results
from ..course import Assignment
from ..errors import BatchBusy
from ..grade import Options
from ..lms import Entry


def stamp(assignment: Assignment, path, options: Options) -> dict:
    """What a stored grade must match to be reused: the submission, the grader, the tests."""
    return {"sha256": fingerprint(path), **course_stamp(assignment, options)}


def course_stamp(assignment: Assignment, options: Options) -> dict:
    """What grades a submission besides itself: the grader's version and the course's hash
    (suites, reference, settings, data). A cluster worker must have the client's."""
    return {"grader_version": __version__,
            "suites_sha256": assignment.suites_fingerprint(options.hidden, options.cuda)}


def fingerprint(path) -> str:
    """sha256 of a file, or of a folder's names, link targets and contents (.git left out)."""
    path = Path(path)
    digest = hashlib.sha256()
    if not path.is_dir() or path.is_symlink():
        _hash_one(digest, path, b"")
        return digest.hexdigest()
    for top, folders, files in os.walk(path):
        folders[:] = sorted(f for f in folders if f != ".git")
        for name in sorted(files):
            full = Path(top) / name
            _hash_one(digest, full, os.fsencode(full.relative_to(path)))
    return digest.hexdigest()


def _hash_one(digest, path, relative):
    digest.update(relative + b"\0")
    if path.is_symlink():
        digest.update(b"link:" + os.fsencode(os.readlink(path)))
        return
    with open(path, "rb") as handle:
        while chunk := handle.read(2**20):
            digest.update(chunk)
    digest.update(b"\0")


def up_to_date(folder: Path, expected: dict) -> bool:
    try:
        data = results_from(folder)
    except (OSError, ValueError):
        return False
    return data.get("extra_data", {}).get("batch", {}).get("stamp") == expected


def results_from(folder) -> dict:
    return json.loads((Path(folder) / "results.json").read_text())


def store(folder: Path, data: dict, stamp_value: dict | None, entry: Entry) -> None:
    """Write one student's grade with its stamp (feedback.md, then results.json).

    stamp_value None: a record of a submission not graded, which the next run grades.
    """
    data["extra_data"]["batch"] = {"stamp": stamp_value, "student": entry.student,
                                   "origin": entry.origin, **entry.details}
    results.write_grade(folder, data)


class Exclusive:
    """Hold DIR/.lock so two batches never write the same folder."""

    def __init__(self, out: Path):
        self.path = out / ".lock"

    def __enter__(self):
        self.handle = open(self.path, "w")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise BatchBusy(f"another `grader batch` is writing to {self.path.parent}") from None
        return self

    def __exit__(self, *exc):
        self.handle.close()
