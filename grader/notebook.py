"""Notebook submissions: code cells become the module; shell escapes and magics do not run."""
import io

import nbformat

from .submission import InvalidSubmission


def notebook_to_source(data, name):
    """Return (module source bytes, notes). Nothing in the notebook is executed here."""
    try:
        notebook = nbformat.read(io.StringIO(data.decode("utf-8-sig")), as_version=4)
    except Exception as exc:  # nbformat raises many kinds for broken JSON or schema
        raise InvalidSubmission(f"{name} is not a readable notebook ({type(exc).__name__}: "
                                f"{str(exc)[:200]})") from None
    chunks, dropped = [], 0
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if source.lstrip().startswith("%%"):
            dropped += 1
            continue
        kept = []
        for line in source.splitlines():
            if line.lstrip().startswith(("!", "%")):
                dropped += 1
                indent = line[: len(line) - len(line.lstrip())]
                kept.append(f"{indent}pass  # removed by the grader: {line.strip()[:60]}")
            else:
                kept.append(line)
        chunks.append("\n".join(kept))
    notes = [f"removed {dropped} shell (!) or magic (%) lines from {name}; they were not run"] if dropped else []
    source = "\n\n".join(chunks).strip()
    if not source:
        raise InvalidSubmission(f"{name} has no code cells")
    return (source + "\n").encode("utf-8"), notes
