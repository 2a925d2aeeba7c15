"""Stubs from reference solutions.

The reference marks what students write:

    def area(radius):
        "Area of a circle."
        # BEGIN SOLUTION
        return math.pi * radius ** 2
        # END SOLUTION

In the stub each marked block becomes `raise NotImplementedError` at the
block's indentation; `# BEGIN SOLUTION remove` drops the block entirely (for
private helpers). Lines ending in `# SOLUTION ONLY` are dropped too.
"""
import re

from .errors import StubError

BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION( remove)?\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")


def make_stub(reference_source):
    out, block = [], None
    for number, line in enumerate(reference_source.splitlines(), start=1):
        if block is None:
            match = BEGIN.match(line)
            if match:
                block = (match.group(1), bool(match.group(2)), number)
            elif not line.rstrip().endswith("# SOLUTION ONLY"):
                out.append(line)
        elif END.match(line):
            indent, remove, _ = block
            if not remove:
                out.append(f"{indent}raise NotImplementedError  # TODO: your code here")
            block = None
        elif BEGIN.match(line):
            raise StubError(f"line {number}: nested BEGIN SOLUTION")
    if block is not None:
        raise StubError(f"line {block[2]}: BEGIN SOLUTION without END SOLUTION")
    return "\n".join(_squeeze_blank(out)) + "\n"


def _squeeze_blank(lines):
    """Collapse the runs of blank lines that removed blocks leave behind."""
    kept = []
    for line in lines:
        if line.strip() or not kept or kept[-1].strip() or (len(kept) > 1 and kept[-2].strip()):
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return kept
