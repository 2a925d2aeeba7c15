"""What people see: similarity.csv, one side-by-side page per pair, the report section.

Pages are self-contained HTML (inline CSS, no script, nothing fetched), with
the regions both submissions share highlighted: every run of at least
FUNCTION_K normalised tokens that also occurs in the other submission and
not in the stub.
"""
import csv
import io
import html
import re
from pathlib import Path

import jinja2
import numpy as np
from markupsafe import Markup

from ..course import TEMPLATES
from ..files import atomic_write
from . import fingerprints
from .documents import REST

PAGES_FOLDER = "similarity"
MAX_PAGES = 200          # side-by-side pages written (the flagged pairs first)
SECTION_ROWS = 20        # pairs listed in the report's section


def write_all(analysis, out_dir) -> dict:
    """similarity.csv, the pair pages and similarity.html; returns the report section's context."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pages = _page_names(analysis)
    write_pages(analysis, out, pages)
    write_csv(analysis, out / "similarity.csv", pages)
    context = section_context(analysis, pages)
    atomic_write(out / "similarity.html", _environment().get_template("similarity.html.j2").render(**context))
    return context


def write_csv(analysis, path, pages=None):
    """One row per compared pair, most suspicious first, then one per unreadable submission."""
    pages = pages or {}
    columns = [*analysis.functions, REST]
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["student_a", "student_b", "score", "shared_fingerprints", "longest_run",
                     *columns, "page", "notes"])
    for pair in analysis.pairs:
        scores = [f"{pair.functions[c]:.2f}" if c in pair.functions else "" for c in columns]
        writer.writerow([pair.a.student, pair.b.student, f"{pair.score:.3f}", pair.shared,
                         pair.longest, *scores, pages.get(_key(pair), ""),
                         "; ".join(_notes(pair.a) + _notes(pair.b))])
    for document in analysis.unreadable:
        writer.writerow([document.student, "", "", "", "", *[""] * len(columns), "",
                         f"{document.student}: not compared: {document.problem}"])
    return atomic_write(path, text.getvalue())


def _notes(document):
    return [f"{document.student}: {note}" for note in document.notes]


def section_context(analysis, pages) -> dict:
    """What report.html's similarity section and similarity.html show."""
    rows = []
    for pair in analysis.pairs[:SECTION_ROWS]:
        top = sorted(pair.functions.items(), key=lambda item: -item[1])[:3]
        rows.append({"a": pair.a.student, "b": pair.b.student, "score": pair.score,
                     "flagged": pair.score >= analysis.threshold, "shared": pair.shared,
                     "longest": pair.longest, "page": pages.get(_key(pair)),
                     "functions": ", ".join(f"{name} {value:.2f}" for name, value in top)})
    return {"assignment": analysis.assignment, "similarity": {
        "compared": sum(1 for d in analysis.documents if not d.problem and not d.archive),
        "archived": sum(1 for d in analysis.documents if d.archive),
        "pairs": len(analysis.pairs), "flagged": len(analysis.flagged),
        "threshold": analysis.threshold, "rows": rows, "elapsed": analysis.elapsed,
        "unreadable": [{"student": d.student, "problem": d.problem} for d in analysis.unreadable],
    }}


def _key(pair):
    return pair.a.student, pair.b.student


def _page_names(analysis):
    names = {}
    for rank, pair in enumerate(analysis.pairs[:MAX_PAGES], start=1):
        slug = re.sub(r"[^\w.+@-]+", "_", f"{pair.a.student}--{pair.b.student}")[:120]
        names[_key(pair)] = f"{PAGES_FOLDER}/{rank:04d}-{slug}.html"
    return names


def write_pages(analysis, out, pages):
    folder = Path(out) / PAGES_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.html"):
        stale.unlink()
    template = _environment().get_template("similarity_pair.html.j2")
    for rank, pair in enumerate(analysis.pairs[:MAX_PAGES], start=1):
        name = pages[_key(pair)]
        left, right = highlighted(pair.a, pair.b, analysis.boilerplate.function_grams)
        functions = [{"name": name_, "similarity": pair.functions.get(name_),
                      "median": base.median_similarity, "weight": base.weight}
                     for name_, base in analysis.baselines.items()]
        page = template.render(assignment=analysis.assignment, rank=rank, pair=pair,
                               threshold=analysis.threshold, functions=functions,
                               left=left, right=right, notes=_notes(pair.a) + _notes(pair.b))
        atomic_write(Path(out) / name, page)


def highlighted(a, b, boilerplate_grams=frozenset()):
    """Both sources as HTML lines, with the regions they share marked."""
    return (_lines(a.text, _shared_ranges(a, b, boilerplate_grams)),
            _lines(b.text, _shared_ranges(b, a, boilerplate_grams)))


def _shared_ranges(document, other, boilerplate_grams):
    k = fingerprints.FUNCTION_K
    mine = fingerprints.kgram_hashes([t.text for t in document.tokens], k)
    theirs = fingerprints.kgram_hashes([t.text for t in other.tokens], k)
    if not len(mine) or not len(theirs):
        return []
    matching = np.isin(mine, theirs)
    if boilerplate_grams:
        matching &= ~np.isin(mine, np.fromiter(boilerplate_grams, dtype=np.int64))
    ranges = []
    for start, end in fingerprints.shared_runs(np.flatnonzero(matching).tolist(), k):
        for token in document.tokens[start:end]:   # docstrings and comments in between stay unmarked
            between = document.text[ranges[-1][1]: token.start] if ranges else "x"
            if ranges and not between.strip():
                ranges[-1] = (ranges[-1][0], token.end)
            else:
                ranges.append((token.start, token.end))
    return ranges


def _lines(text, ranges):
    """[(line number, Markup)] with <mark> around the shared character ranges."""
    lines, offset, r = [], 0, 0
    for number, line in enumerate(text.split("\n"), start=1):
        end = offset + len(line)
        parts, cursor = [], offset
        while r < len(ranges) and ranges[r][0] < end:
            start, stop = max(ranges[r][0], cursor), min(ranges[r][1], end)
            if start > cursor:
                parts.append(html.escape(text[cursor:start]))
            if stop > start:
                parts.append(f"<mark>{html.escape(text[start:stop])}</mark>")
            cursor = max(cursor, stop)
            if ranges[r][1] <= end:
                r += 1
            else:
                break
        parts.append(html.escape(text[cursor:end]))
        lines.append((number, Markup("".join(parts))))
        offset = end + 1
    return lines


def _environment():
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              autoescape=jinja2.select_autoescape(["html", "j2"]),
                              undefined=jinja2.StrictUndefined)
