"""Bad inputs in a batch: each gets a row with a clear status and message, and
every other student is still graded.

One class folder holding every kind of bad input (and two good students) is
graded once per session; each case then checks its own row.
"""
import csv
import os
import shutil
import subprocess
import zipfile

import nbformat
import pytest

from conftest import ROOT, run_cli
from grader import batch, course, lms, submission
from grader.batch.resume import results_from
from grader.errors import ExportError, InvalidSubmission
from grader.grade import Options

CORRECT = (ROOT / "examples" / "polyfit" / "dave" / "polyfit.py").read_bytes()


def _zip(path, members, **kwargs):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, **kwargs) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _password_zip(path):
    """A really encrypted zip with `zip -P`; else one whose members carry the encryption flag."""
    if shutil.which("zip"):
        source = path.parent / "plain-for-zip"
        source.mkdir()
        (source / "polyfit.py").write_bytes(CORRECT)
        subprocess.run(["zip", "-q", "-P", "secret", str(path.resolve()), "polyfit.py"],
                       cwd=source, check=True)
        shutil.rmtree(source)
        return
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("polyfit.py")
        info.flag_bits |= 0x1
        archive.writestr(info, CORRECT)


def _class_folder(root):
    root.mkdir()
    (root / "good.py").write_bytes(CORRECT)
    (root / "syntax.py").write_text("def poly_features(x, degree)\n    return x\n")
    (root / "empty.py").write_bytes(b"")
    (root / "wrongname").mkdir()
    (root / "wrongname" / "poly_fit.py").write_bytes(CORRECT)
    (root / "essay.txt").write_text("I could not do the homework.\n")
    (root / "binary.py").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    (root / "corrupt.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "import nu')
    v3 = nbformat.v3.new_notebook(worksheets=[nbformat.v3.new_worksheet(
        cells=[nbformat.v3.new_code_cell(input=CORRECT.decode())])])
    (root / "oldformat.ipynb").write_text(nbformat.writes(v3, version=3))
    _zip(root / "nested.zip", {"hw/src/deep/polyfit.py": CORRECT})
    _password_zip(root / "locked.zip")
    _zip(root / "bomb.zip", {"polyfit.py": b"#" * (submission.MAX_SOURCE_BYTES + 2**20)})
    (root / "emptydir").mkdir()
    (root / "dup.py").write_bytes(CORRECT)
    (root / "dup.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(CORRECT.decode())])))
    with open(os.path.join(os.fsencode(root), b"\xff\xfezo\xe9.py"), "wb") as handle:
        handle.write(CORRECT)  # a Latin-1 name: not valid UTF-8
    return root


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{student: (gradebook row, results document)} for the whole bad class."""
    base = tmp_path_factory.mktemp("bad")
    out = base / "out"
    summary = batch.run(course.load("polyfit"), _class_folder(base / "class"), out, jobs=2,
                        options=Options(sandbox="none"))
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        rows = {r["student"]: r for r in csv.DictReader(handle)}
    documents = {name: results_from(out / name) for name in rows}
    return summary, {name: (rows[name], documents[name]) for name in rows}


INVALID = {
    "syntax": "SyntaxError",
    "empty": "empty.py is empty",
    "wrongname": "no polyfit.py or polyfit.ipynb found in the submission (found: poly_fit.py)",
    "essay": "essay.txt: expected polyfit.py, polyfit.ipynb, a folder or a .zip",
    "binary": "not a text file",
    "corrupt": "corrupt.ipynb is not a readable notebook",
    "nested": "(found: hw/src/deep/polyfit.py)",
    "locked": "locked.zip is password-protected",
    "bomb": "larger than 2 MiB uncompressed",
    "emptydir": "(found: nothing)",
}


@pytest.mark.parametrize("student", sorted(INVALID))
def test_bad_submission_gets_a_row_with_its_reason(graded, student):
    _, students = graded
    row, data = students[student]
    assert row["status"] == "invalid submission", row
    assert INVALID[student] in row["message"], row["message"]
    assert row["total"] == "0"
    assert any(INVALID[student] in t["output"] for t in data["tests"])


def test_every_good_student_is_still_graded(graded):
    summary, students = graded
    assert len(students) == len(summary.entries) == 15
    for name in ("good", "dup", "dup-2", "oldformat", "zo"):
        row, _ = students[name]
        assert (row["status"], row["total"]) == ("ok", row["max"]), (name, row)


def test_old_notebook_format_is_converted_with_a_note(graded):
    _, students = graded
    _, data = students["oldformat"]
    assert "old notebook format v3; it was converted to v4" in data["output"]


def test_duplicate_names_are_numbered_in_a_stable_order(graded):
    _, students = graded
    assert students["dup"][1]["extra_data"]["batch"]["origin"] == "dup.ipynb"
    assert students["dup-2"][1]["extra_data"]["batch"]["origin"] == "dup.py"
    again = lms.discover(graded[0].entries[0].path.parent, graded[0].out / "discover-again", "polyfit")
    assert [e.student for e in again.entries] == [e.student for e in graded[0].entries]


def test_non_utf8_file_name_is_named_and_reported_readably(graded):
    _, students = graded
    _, data = students["zo"]
    assert data["extra_data"]["batch"]["origin"] == "\ufffd\ufffdzo\ufffd.py"
    assert "graded \ufffd\ufffdzo\ufffd.py as polyfit.py" in data["output"]


def test_folder_in_zip_is_found_one_level_down(tmp_path):
    _zip(tmp_path / "s.zip", {"alice-hw1/": b"", "alice-hw1/polyfit.py": CORRECT,
                              "__MACOSX/alice-hw1/._polyfit.py": b"\x00\x05"})
    source, notes, chosen = submission.load(tmp_path / "s.zip", "polyfit")
    assert source == CORRECT and notes == [] and chosen is None


def test_lying_zip_header_is_capped(tmp_path):
    """A member whose header claims a small size but inflates beyond the cap."""
    path = tmp_path / "liar.zip"
    _zip(path, {"polyfit.py": b"#" * (submission.MAX_SOURCE_BYTES + 10)})
    data = bytearray(path.read_bytes())
    claimed = (submission.MAX_SOURCE_BYTES + 10).to_bytes(4, "little")
    for offset in (i for i in range(len(data) - 3) if data[i:i + 4] == claimed):
        data[offset:offset + 4] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidSubmission, match="cannot be read|zip bomb"):
        submission.load(path, "polyfit")


def test_unsafe_lms_zip_members_are_left_out(tmp_path):
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("class/alice.py", CORRECT)
        archive.writestr("/etc/evil.py", b"x")
        archive.writestr("class/../../escape.py", b"x")
        link = zipfile.ZipInfo("class/link.py")
        link.external_attr = (0o120777 << 16)
        archive.writestr(link, "/etc/passwd")
    found = lms.discover(export, tmp_path / "work", "polyfit")
    assert [e.student for e in found.entries] == ["alice"]
    assert len(found.warnings) == 3, found.warnings
    assert not (tmp_path / "escape.py").exists() and not (tmp_path / "work" / "escape.py").exists()


def test_lms_zip_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(lms, "MAX_EXPORT_BYTES", 2**20)
    _zip(tmp_path / "export.zip", {"alice.py": b"#" * (2 * 2**20)})
    with pytest.raises(ExportError, match="expand beyond"):
        lms.discover(tmp_path / "export.zip", tmp_path / "work", "polyfit")


def test_an_empty_class_folder_is_a_usage_error(tmp_path):
    (tmp_path / "nobody").mkdir()
    result = run_cli("batch", "polyfit", tmp_path / "nobody", "--out", tmp_path / "out",
                     "--sandbox", "none", timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no submissions found" in result.stderr
