"""The audit's outputs: audit.json, audit.html and a summary on the terminal."""
from pathlib import Path

import json

import jinja2

from ..files import atomic_write

TEMPLATE = "audit.html.j2"


def write(out_dir, data: dict) -> tuple[Path, Path]:
    """audit.json and audit.html in out_dir, each written atomically."""
    out = Path(out_dir)
    atomic_write(out / "audit.json", json.dumps(data, indent=1))
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("grader", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    page = environment.get_template(TEMPLATE).render(**data, percent=percent)
    return out / "audit.json", atomic_write(out / "audit.html", page)


def percent(score) -> str:
    return "n/a" if score is None else f"{100 * score:.1f}%"


def summary_lines(data: dict) -> list[str]:
    """What `grader audit` prints: the score, the families, every survivor."""
    lines = [f"{data['assignment']}: mutation score {percent(data['score'])} "
             f"({data['killed']} of {data['graded']} graded mutants killed; "
             f"{data['possibly_equivalent']} possibly equivalent set apart; {data['generated']} generated)",
             "", f"  {'family':<14}{'mutants':>8}{'equiv.':>8}{'killed':>8}{'survived':>9}  score"]
    for family, row in data["families"].items():
        lines.append(f"  {family:<14}{row['generated']:>8}{row['possibly_equivalent']:>8}{row['killed']:>8}"
                     f"{row['survived']:>9}  {percent(row['score'])}")
    survivors = [m for m in data["mutants"] if m["status"] == "survived"]
    lines.append("")
    lines.append(f"{len(survivors)} surviving mutants" + (":" if survivors else "."))
    for mutant in survivors:
        lines.append(f"  {mutant['id']} [{mutant['family']}/{mutant['operator']}] in {mutant['function']} "
                     f"(line {mutant['line']}): {mutant['what']}")
        for line in mutant["diff"].splitlines()[2:]:
            if line.startswith(("-", "+")):
                lines.append(f"      {line}")
    return lines
