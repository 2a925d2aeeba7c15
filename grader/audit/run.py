"""One audit: generate the mutants, set the equivalent ones apart, grade the rest.

    audit(assignment, out_dir, jobs=2, operators=None, sandbox="bwrap") -> audit document

OUT/mutants/ holds every graded mutant as a submission (mNNN.py) and the
reference itself (reference.py: it must get full marks, or the audit means
nothing); `grader.batch.run` grades them into OUT/grades/ through the real
pipeline (harness, sandbox, hidden and public suites), and reuses a stored
grade whose mutant, grader and suites are unchanged. A graded mutant is
killed when its score is below the maximum.
"""
import dataclasses
import shutil
import time
from pathlib import Path

from .. import batch
from ..batch.resume import results_from
from ..errors import GraderError
from ..grade import Options
from . import equivalence, inputs, mutants as mutants_module, operators as operators_module

REFERENCE = "reference"


class AuditError(GraderError):
    """The audit cannot be trusted (the message says why)."""


def audit(assignment, out_dir, *, jobs: int = 1, operators: list[str] | None = None,
          sandbox: str = "bwrap", progress=None, say=print) -> dict:
    """Audit assignment's suites into out_dir; return the audit document (also in audit.json)."""
    started = time.monotonic()
    out = Path(out_dir)
    if assignment.reference is None:
        raise AuditError(f"{assignment.id}: no reference solution (reference/{assignment.id}/{assignment.id}.py)")
    source = assignment.reference.read_text()
    chosen = operators_module.select(operators)
    mutants = mutants_module.generate(source, chosen, assignment.id)
    say(f"{assignment.id}: {len(mutants)} mutants from {len(chosen)} operators")

    try:
        cases = inputs.load_cases(assignment.reference_folder)
    except inputs.NoAuditInputs:
        cases = []
        say(f"{assignment.id}: no {inputs.AUDIT_INPUTS}: every mutant is graded, none is set apart as equivalent")
    told_apart = {m.id: ["(not checked)"] for m in mutants}
    if cases:
        say(f"{assignment.id}: running {len(mutants)} mutants and the reference on {len(cases)} audit inputs")
        told_apart, reference_outcomes = equivalence.classify(mutants, assignment, cases, sandbox, jobs)
        broken = [c.label for c, o in zip(cases, reference_outcomes) if o.error]
        if broken:
            raise AuditError(f"the reference itself fails on audit inputs: {', '.join(broken)}")
    graded = [m for m in mutants if told_apart[m.id]]

    folder = out / "mutants"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / f"{REFERENCE}.py").write_text(source)
    for mutant in graded:
        (folder / f"{mutant.id}.py").write_text(mutant.source)
    say(f"{assignment.id}: grading {len(graded)} mutants and the reference (--jobs {jobs}, sandbox {sandbox})")
    summary = batch.run(assignment, folder, out / "grades", jobs=jobs, options=Options(sandbox=sandbox),
                        progress=progress, compare=False)
    if summary.interrupted:
        raise KeyboardInterrupt
    if summary.not_graded:   # a verdict needs a grade: the grader failed, not the mutant
        raise AuditError(f"{len(summary.not_graded)} mutants could not be graded "
                         f"({', '.join(summary.not_graded[:5])}; see {out / 'grades' / 'gradebook.csv'}): "
                         "run the audit again")

    reference_grade = results_from(out / "grades" / REFERENCE)
    if reference_grade["score"] < reference_grade["extra_data"]["max_score"]:
        failing = [t["name"] for t in reference_grade["tests"] if t.get("status") == "failed"]
        raise AuditError(f"the reference does not get full marks "
                         f"({reference_grade['score']:g}/{reference_grade['extra_data']['max_score']:g}); "
                         f"failing: {'; '.join(failing)}")
    records = []
    for mutant in mutants:
        record = {k: v for k, v in dataclasses.asdict(mutant).items() if k != "source"}
        if not told_apart[mutant.id]:
            record.update(status="possibly equivalent", told_apart_by=[])
        else:
            record.update(_verdict(results_from(out / "grades" / mutant.id)),
                          told_apart_by=told_apart[mutant.id])
        records.append(record)
    return document(assignment, records, chosen, len(cases), sandbox, time.monotonic() - started)


def _verdict(data: dict) -> dict:
    maximum = data["extra_data"]["max_score"]
    tests = data["tests"]
    return {"status": "killed" if data["score"] < maximum else "survived",
            "score": data["score"], "max_score": maximum,
            "grade_status": data["extra_data"].get("status", "ok"),
            "killed_by": [t["name"] for t in tests if t.get("status") == "failed"],
            "passed": [t["name"] for t in tests if t.get("status") == "passed"]}


def document(assignment, records: list[dict], chosen, case_count: int, sandbox: str, elapsed: float) -> dict:
    """The audit.json document: totals, per family, every mutant."""
    def totals(rows):
        counts = {s: sum(r["status"] == s for r in rows) for s in ("killed", "survived", "possibly equivalent")}
        graded = counts["killed"] + counts["survived"]
        return {"generated": len(rows), "graded": graded, "killed": counts["killed"],
                "survived": counts["survived"], "possibly_equivalent": counts["possibly equivalent"],
                "score": counts["killed"] / graded if graded else None}

    families = {}
    for family in operators_module.FAMILIES:
        rows = [r for r in records if r["family"] == family]
        if rows or any(o.family == family for o in chosen):
            families[family] = totals(rows)
    return {"assignment": assignment.id, "title": assignment.title, "sandbox": sandbox,
            "audit_inputs": case_count, "elapsed": round(elapsed, 1), **totals(records),
            "families": families,
            "operators": [{"name": o.name, "family": o.family, "what": o.what} for o in chosen],
            "mutants": records}
