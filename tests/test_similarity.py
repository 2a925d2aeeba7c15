"""Code similarity: disguised copies rank above every honest pair, honest pairs stay below
the report's threshold, bad files get rows, and the pages render in a real browser.

Cheap: only text is read; nothing is graded, imported or run.
"""
import argparse
import ast
import csv
import io
import subprocess
import tokenize
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, run_cli
from grader import batch, course, lms, similarity
from grader.similarity import cli as similarity_cli
from grader.similarity import fingerprints, report, tokens

CORPUS = ROOT / "tests" / "corpus"
ASSIGNMENTS = ("polyfit", "backprop", "functions", "modules", "training", "conv")


# --- disguises students use -------------------------------------------------------------------

WORDS = ("acc", "tmp", "val", "buf", "res", "cur", "arr", "mat", "vec", "out_", "thing", "q")


def rename_variables(source):
    """Every variable and parameter the student chose gets another name (the API's names stay)."""
    tree = ast.parse(source)
    api = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    imported = {(alias.asname or alias.name).split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    keywords = {kw.arg for node in ast.walk(tree) if isinstance(node, ast.Call) for kw in node.keywords}
    bound = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    bound |= {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
    chosen = sorted(bound - api - imported - keywords - {"self"})
    mapping = {name: f"{WORDS[n % len(WORDS)]}{n}" for n, name in enumerate(chosen)}
    return _replace_names(source, mapping)


def _replace_names(source, mapping):
    lines = source.splitlines(keepends=True)
    edits, previous = [], None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string in mapping and previous != ".":
            edits.append((token.start, token.end, mapping[token.string]))
        if token.type not in (tokenize.NL, tokenize.COMMENT):
            previous = token.string
    for (row, col), (_, end_col), new in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + new + line[end_col:]
    return "".join(lines)


def rewrite_comments_and_layout(source):
    """Comments dropped, others added, 4-space indents become 2, blank lines doubled."""
    comments = {token.start[0]: token.start[1] for token in tokenize.generate_tokens(io.StringIO(source).readline)
                if token.type == tokenize.COMMENT}
    ends = {token.start[0] for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.NEWLINE}
    out = []
    for number, line in enumerate(source.splitlines(), start=1):
        if number in comments:
            line = line[: comments[number]].rstrip()
            if not line.strip():
                continue
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        line = " " * (indent // 2) + stripped
        if number in ends and number % 3 == 0 and not line.rstrip().endswith("\\"):
            line += "  # my own step"
        out.append(line)
        if not stripped:
            out.append("")
    return "\n".join(out) + "\n"


def reorder_functions(source):
    """Top-level functions and classes in reverse order, after the imports."""
    tree = ast.parse(source)
    lines = source.splitlines()
    blocks, head = [], []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        text = "\n".join(lines[start: node.end_lineno])
        (blocks if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else head).append(text)
    return "\n".join(head) + "\n\n\n" + "\n\n\n".join(reversed(blocks)) + "\n"


DEAD_HELPER = '''

VERBOSE = False


def _shapes(*arrays):
    found = []
    for item in arrays:
        found.append(getattr(item, "shape", None))
    return found
'''


def add_dead_code(source):
    """An unused helper, and a never-taken branch at the start of every function."""
    tree = ast.parse(source)
    lines = source.splitlines()
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    for node in sorted(functions, key=lambda n: -n.body[0].lineno):
        first = node.body[0]
        is_docstring = isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant)
        where = first.end_lineno if is_docstring else first.lineno - 1
        indent = " " * first.col_offset
        lines[where:where] = [f"{indent}if VERBOSE:", f"{indent}    print('checking', {where})"]
    return "\n".join(lines) + DEAD_HELPER


# A loop turned into a comprehension, in the submissions that have such a loop.
COMPREHENSIONS = {
    ("polyfit", "loops"): (
        "    X = np.empty((len(x), degree + 1))\n    for i, xi in enumerate(x):\n"
        "        for k in range(degree + 1):\n            X[i, k] = xi ** k\n",
        "    X = np.array([[xi ** k for k in range(degree + 1)] for xi in x], dtype=float)\n"),
    ("backprop", "loops"): (
        "    total = 0.0\n    for i in range(m):\n        y, a = Y[0, i], AL[0, i]\n"
        "        total += y * np.log(a) + (1 - y) * np.log(1 - a)\n",
        "    total = sum(Y[0, i] * np.log(AL[0, i]) + (1 - Y[0, i]) * np.log(1 - AL[0, i])\n"
        "                for i in range(m))\n"),
    ("modules", "addmm_rand"): (
        "    total = 0\n    for p in model.parameters():\n        if p.requires_grad:\n"
        "            total += p.numel()\n",
        "    total = sum(p.numel() for p in model.parameters() if p.requires_grad)\n"),
    ("conv", "loops"): (
        "                total = 0.0\n                for c in range(C_in):\n"
        "                    for k in range(K):\n"
        "                        total += w[o, c, k] * xp[n, c, i * stride + k]\n",
        "                total = sum(w[o, c, k] * xp[n, c, i * stride + k]\n"
        "                            for c in range(C_in) for k in range(K))\n"),
}


def loop_to_comprehension(assignment_id, name, source):
    old, new = COMPREHENSIONS[(assignment_id, name)]
    assert old in source, f"the loop to disguise is no longer in {assignment_id}/{name}"
    return source.replace(old, new)


def as_notebook(source, path):
    """The same code as a notebook: a markdown cell, then one code cell per top-level block."""
    tree = ast.parse(source)
    lines = source.splitlines()
    cells = [nbformat.v4.new_markdown_cell("# My homework\nI wrote this myself.")]
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        cells.append(nbformat.v4.new_code_cell("\n".join(lines[start: node.end_lineno])))
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(path))
    return path


# --- the class --------------------------------------------------------------------------------

# The modules buggy corpus is made of edits of this correct variant, not of the reference.
BUGGY_EDITS_OF = {"modules": "correct-attributes_uniform"}


def honest_sources(assignment_id):
    """Independent submissions: the corpus's correct variants (each written on its own), one
    buggy variant and, for polyfit, the loops example. The buggy corpus and most examples are
    edits of the reference solution (a bug planted in a copy), so they are one family and only
    one member of it may stand for an honest student (two of them are flagged, rightly:
    see test_edits_of_one_solution_are_flagged_against_each_other)."""
    found = {f"correct-{p.stem}": p for p in sorted((CORPUS / assignment_id / "correct").glob("*.py"))}
    buggy = sorted((CORPUS / assignment_id / "buggy").glob("*.py"))[0]
    found.pop(BUGGY_EDITS_OF.get(assignment_id), None)
    found[f"buggy-{buggy.stem}"] = buggy
    if assignment_id == "polyfit":
        found["example-alice"] = ROOT / "examples" / "polyfit" / "alice.py"
    return found


def build_class(assignment_id, folder):
    """Honest students plus planted copies; returns (entries, planted pairs)."""
    folder.mkdir(parents=True, exist_ok=True)
    honest = honest_sources(assignment_id)
    entries = {name: lms.Entry(name, path, path.name) for name, path in honest.items()}
    correct = sorted(p for p in honest if p.startswith("correct-"))
    text = {name: honest[name].read_text() for name in correct}

    def plant(name, source_name, code, suffix=".py"):
        path = folder / f"{name}{suffix}"
        if suffix == ".ipynb":
            as_notebook(code, path)
        else:
            ast.parse(code)   # a disguise must leave valid Python
            path.write_text(code)
        entries[name] = lms.Entry(name, path, path.name)
        return name, source_name

    first, second, third = correct[0], correct[1], correct[2]
    planted = [
        plant("copy-renamed", first, rewrite_comments_and_layout(rename_variables(text[first]))),
        plant("copy-reordered", first, add_dead_code(reorder_functions(rename_variables(text[first])))),
        plant("copy-notebook", second, rewrite_comments_and_layout(text[second]), ".ipynb"),
    ]
    loops = [name for name in correct if (assignment_id, name.removeprefix("correct-")) in COMPREHENSIONS]
    if loops:
        source = loops[0]
        code = loop_to_comprehension(assignment_id, source.removeprefix("correct-"), text[source])
        planted.append(plant("copy-comprehension", source, rename_variables(code)))
    else:
        planted.append(plant("copy-dead-code", third, add_dead_code(rewrite_comments_and_layout(text[third]))))
    groups = {}   # the original and every copy of it: each two of them are a planted pair
    for copy, original in planted:
        groups.setdefault(original, {original}).add(copy)
    pairs = {frozenset((a, b)) for group in groups.values() for a in group for b in group if a != b}
    return sorted(entries.values(), key=lambda e: e.student), pairs


def all_scores(analysis):
    """{frozenset(pair): score}; pairs the index did not propose share nothing rare: 0."""
    names = [d.student for d in analysis.documents]
    scores = {frozenset((a, b)): 0.0 for i, a in enumerate(names) for b in names[i + 1:]}
    scores.update({frozenset((p.a.student, p.b.student)): p.score for p in analysis.pairs})
    return scores


@pytest.fixture(scope="module")
def analyses(tmp_path_factory):
    found = {}
    for assignment_id in ASSIGNMENTS:
        entries, planted = build_class(assignment_id, tmp_path_factory.mktemp(assignment_id))
        found[assignment_id] = (similarity.analyse(course.load(assignment_id), entries), planted)
    return found


class TestAcceptance:
    @pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
    def test_every_planted_pair_ranks_above_every_honest_pair(self, analyses, assignment_id):
        analysis, planted = analyses[assignment_id]
        scores = all_scores(analysis)
        assert not analysis.unreadable
        lowest_planted = min(scores[p] for p in planted)
        honest = {p: s for p, s in scores.items() if p not in planted}
        worst = max(honest, key=honest.get)
        assert lowest_planted > honest[worst], (
            f"a planted copy scores {lowest_planted:.2f}, the honest pair {sorted(worst)} "
            f"{honest[worst]:.2f}: {[(sorted(p), round(scores[p], 2)) for p in planted]}")

    @pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
    def test_honest_pairs_stay_below_the_threshold_and_copies_reach_it(self, analyses, assignment_id):
        analysis, planted = analyses[assignment_id]
        flagged = {frozenset((p.a.student, p.b.student)) for p in analysis.flagged}
        assert flagged == planted, (
            f"flagged {sorted(map(sorted, flagged))}, planted {sorted(map(sorted, planted))}")

    def test_the_notebook_copy_reads_as_the_same_code(self, analyses):
        analysis, _ = analyses["polyfit"]
        pair = next(p for p in analysis.pairs
                    if {p.a.student, p.b.student} == {"copy-notebook", "correct-loops"})
        assert pair.score > 0.95 and all(s == 1.0 for s in pair.functions.values()), pair.functions


def test_edits_of_one_solution_are_flagged_against_each_other():
    """Two buggy corpus files are the reference with different one-line bugs: that is copying."""
    first, second = sorted((CORPUS / "polyfit" / "buggy").glob("*.py"))[:2]
    entries = [lms.Entry(f"correct-{p.stem}", p, p.name)
               for p in sorted((CORPUS / "polyfit" / "correct").glob("*.py"))]
    entries += [lms.Entry("first", first, first.name), lms.Entry("second", second, second.name)]
    analysis = similarity.analyse(course.load("polyfit"), entries)
    assert {analysis.pairs[0].a.student, analysis.pairs[0].b.student} == {"first", "second"}
    assert [(p.a.student, p.b.student) for p in analysis.flagged] == [("first", "second")]


# --- normalisation ----------------------------------------------------------------------------

def _words(source):
    return [t.text for t in tokens.normalise(source)]


def test_names_literals_comments_and_layout_are_abstracted():
    a = "import numpy as np\ndef f(x, n=3):\n    # square\n    y = np.sum(x ** 2, axis=0)  # sum\n    return y + 'a'\n"
    b = 'import numpy\ndef g(values, count=7):\n    """Doc."""\n    total   =   numpy.sum(values**2,axis=1)\n\n    return total + "b" "c"\n'
    assert _words(a) == _words(b)
    assert "numpy" in _words(a) and "axis" in _words(a) and "sum" in _words(a)
    assert "y" not in _words(a) and "x" not in _words(a)


def test_attributes_the_student_assigns_are_abstracted_library_ones_are_not():
    words = _words("class M:\n    def f(self, x):\n        self.hidden = x.T\n        return self.hidden.sum()\n")
    assert "hidden" not in words and "T" in words and "sum" in words


def test_functions_are_found_even_when_the_file_does_not_parse():
    source = "def good(x):\n    return x + 1\n\ndef bad(x)\n    return x\n\nclass C:\n    def m(self):\n        return 2\n"
    found = {f.name for f in tokens.functions(source, tokens.normalise(source))}
    assert found == {"good", "bad", "C.m"}


def test_student_functions_come_from_the_reference_solution_blocks():
    assert similarity.student_functions(course.load("polyfit")) == [
        "poly_features", "predict", "mse_loss", "mse_grad", "gd_step", "fit"]
    assert "FFN.forward" in similarity.student_functions(course.load("modules"))


def test_fingerprints_are_the_same_in_every_process():
    """Determinism: no salted hash() anywhere (copydetect's own k-gram hashing would differ)."""
    code = ("from grader.similarity import fingerprints, tokens\n"
            "words = [t.text for t in tokens.normalise(open('reference/polyfit/polyfit.py').read())]\n"
            "print(sorted(fingerprints.fingerprints(words))[:5])\n")
    runs = {subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", code], cwd=ROOT,
                           capture_output=True, text=True, env={"PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2")}
    assert len(runs) == 1 and runs.pop().startswith("[")


def test_the_stub_is_boilerplate():
    """A submission that is only the stub shares nothing with anyone."""
    assignment = course.load("polyfit")
    boilerplate = similarity.boilerplate_of(assignment)
    words = _words(assignment.stub.read_text())
    assert fingerprints.fingerprints(words, boilerplate.file_grams) == {}


# --- bad files, the command, the pages --------------------------------------------------------

def _bad_class(folder):
    folder.mkdir()
    for name in ("einsum", "loops", "stacked"):
        (folder / f"{name}.py").write_text((CORPUS / "polyfit" / "correct" / f"{name}.py").read_text())
    (folder / "copy.py").write_text(rename_variables((CORPUS / "polyfit" / "correct" / "loops.py").read_text()))
    (folder / "binary.py").write_bytes(b"\x00\x01\x02garbage")
    (folder / "notebook.ipynb").write_text('{"cells": [')
    (folder / "syntax.py").write_text("def fit(x, y:\n    return [\n")
    (folder / "empty.py").write_text("")
    (folder / "latin1.py").write_bytes("# caf\xe9\ndef predict(X, w):\n    return X @ w\n".encode("latin-1"))
    with zipfile.ZipFile(folder / "nothing.zip", "w") as archive:
        archive.writestr("notes.txt", "no code")
    (folder / "deep.py").write_text("x = " + "(" * 5000 + ")" * 5000 + "\n")
    return folder


def _run(argv):
    parser = argparse.ArgumentParser()
    similarity_cli.configure(parser)
    return similarity_cli.main(parser.parse_args(argv))


def test_malformed_submissions_get_rows_not_a_crash(tmp_path):
    out = tmp_path / "out"
    assert _run(["polyfit", str(_bad_class(tmp_path / "class")), "--out", str(out)]) == 0
    with open(out / "similarity.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    first = rows[0]
    assert {first["student_a"], first["student_b"]} == {"copy", "loops"} and float(first["score"]) > 0.9
    assert first["fit"] and first["poly_features"] and int(first["shared_fingerprints"]) > 10
    alone = {row["student_a"]: row["notes"] for row in rows if not row["student_b"]}
    assert set(alone) == {"binary", "notebook", "empty", "nothing"}, alone
    assert "NUL bytes" in alone["binary"] and "notebook" in alone["notebook"]
    scores = [float(r["score"]) for r in rows if r["student_b"]]
    assert scores == sorted(scores, reverse=True)


def test_the_command_line_runs_it_and_batch_can_skip_it(tmp_path):
    out = tmp_path / "out"
    result = run_cli("similarity", "polyfit", _bad_class(tmp_path / "class"), "--out", out)
    assert result.returncode == 0, result.stderr
    assert "1 at or above 0.50" in result.stdout and "copy – loops" in result.stdout
    assert "not compared: binary" in result.stdout and (out / "similarity.csv").is_file()
    assert run_cli("similarity", "polyfit", tmp_path / "missing").returncode == 2
    parser = argparse.ArgumentParser()
    batch.configure(parser)
    assert parser.parse_args(["polyfit", "x"]).similarity is True
    assert parser.parse_args(["polyfit", "x", "--no-similarity"]).similarity is False


def test_archive_submissions_are_compared_with_this_class_only(tmp_path):
    current, archive = tmp_path / "current", tmp_path / "fall"
    current.mkdir(), archive.mkdir()
    for name in ("einsum", "stacked"):
        (current / f"{name}.py").write_text((CORPUS / "polyfit" / "correct" / f"{name}.py").read_text())
    for name in ("loops", "vander"):
        (archive / f"{name}.py").write_text((CORPUS / "polyfit" / "correct" / f"{name}.py").read_text())
    (archive / "old-copy.py").write_text((CORPUS / "polyfit" / "correct" / "vander.py").read_text())
    (current / "new-copy.py").write_text(rename_variables((CORPUS / "polyfit" / "correct" / "loops.py").read_text()))
    out = tmp_path / "out"
    assert _run(["polyfit", str(current), "--archive", str(archive), "--out", str(out)]) == 0
    with open(out / "similarity.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {rows[0]["student_a"], rows[0]["student_b"]} == {"fall/loops", "new-copy"}
    assert not any(r["student_a"].startswith("fall/") and r["student_b"].startswith("fall/") for r in rows)


def test_pages_highlight_the_shared_code(tmp_path):
    out = tmp_path / "out"
    _run(["polyfit", str(_bad_class(tmp_path / "class")), "--out", str(out)])
    page = (out / "similarity" / "0001-copy--loops.html").read_text()
    assert page.count("<mark>") > 5 and "<script" not in page
    assert "X[i, k] = xi ** k" in page.replace("<mark>", "").replace("</mark>", "")
    index = (out / "similarity.html").read_text()
    assert 'href="similarity/0001-copy--loops.html"' in index


def test_the_report_section_renders_and_links_the_pair_pages_in_headless_chromium(tmp_path):
    from test_batch import _chromium
    browser = _chromium()
    out = tmp_path / "out"
    _run(["polyfit", str(_bad_class(tmp_path / "class")), "--out", str(out)])
    probe = out / "probe.html"   # the section's page, plus a script that reports its links
    probe.write_text((out / "similarity.html").read_text().replace(
        "</body>", "<script>window.addEventListener('load', () => {document.title = 'links:' + "
        "[...document.querySelectorAll('#similarity ~ table a')].map(a => a.getAttribute('href')).join(',');"
        "});</script></body>"))
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(flags + ["--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120)
    title = dom.stdout.split("<title>")[1].split("</title>")[0]
    links = title.removeprefix("links:").split(",")
    assert links and links[0] == "similarity/0001-copy--loops.html", (title, dom.stderr[-500:])
    assert all((out / link).is_file() for link in links)
    page = subprocess.run(flags + ["--virtual-time-budget=5000", "--dump-dom", (out / links[0]).as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert page.stdout.count("<mark>") > 5 and "copy and loops" in page.stdout
    shot = tmp_path / "pair.png"
    subprocess.run(flags + ["--window-size=1200,900", f"--screenshot={shot}", (out / links[0]).as_uri()],
                   capture_output=True, timeout=120)
    import matplotlib.image
    pixels = matplotlib.image.imread(shot)
    marked = ((pixels[..., 0] > 0.95) & (pixels[..., 1] > 0.8) & (pixels[..., 2] < 0.65)).sum()
    assert marked > 500, "no highlighted region is visible in the pair page"
