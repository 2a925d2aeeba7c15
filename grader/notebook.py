"""Notebook submissions: code cells become the module; shell escapes and magics do not run."""
import io

import nbformat

from .errors import InvalidSubmission


def notebook_to_source(data: bytes, name: str) -> tuple[bytes, list[str]]:
    """Return (module source bytes, notes). Nothing in the notebook is executed here."""
    try:
        original = nbformat.read(io.StringIO(data.decode("utf-8-sig")), as_version=nbformat.NO_CONVERT)
        version = original.get("nbformat")  # read first: convert() upgrades in place
        notebook = nbformat.convert(original, 4)
    except Exception as exc:  # nbformat raises many kinds for broken JSON or schema
        raise InvalidSubmission(f"{name} is not a readable notebook ({type(exc).__name__}: "
                                f"{str(exc)[:200]})") from None
    notes = [f"{name} is in the old notebook format v{version}; it was converted to v4"] \
        if version != 4 else []
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
    if dropped:
        notes.append(f"removed {dropped} shell (!) or magic (%) lines from {name}; they were not run")
    source = "\n\n".join(chunks).strip()
    if not source:
        raise InvalidSubmission(f"{name} has no code cells")
    return (source + "\n").encode("utf-8"), notes
