"""How long `grader similarity` takes for 100, 500 and 2,000 submissions.

Synthetic classes are built from the corpus: each submission takes every
student-written function of the assignment from a randomly chosen solution
(the correct variants and the buggy ones), adds a few statements of its own
(so no two are identical) and lists the functions in a random order; a few
submissions are planted copies of another with renamed variables. Timed: the
analysis (reading, tokens, fingerprints, index, scoring) and the outputs
(similarity.csv and the pair pages). The baseline in the same run scores
every pair in full with the same per-function comparison, without the
index (for 2,000 submissions it is timed on a random sample of pairs and
scaled up).

    .venv/bin/python bench/similarity_scale.py [--sizes 100 500 2000] [--assignment backprop]
"""
import argparse
import ast
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import course, lms, similarity  # noqa: E402
from grader.similarity import scoring  # noqa: E402
from grader.similarity.report import write_all  # noqa: E402

OPERATORS = ("+", "-", "*", "/")
CALLS = ("np.abs", "np.sqrt", "np.exp", "np.tanh", "float", "np.mean", "np.max")


def function_pool(assignment):
    """{function name: [source text of one implementation, ...]} from the corpus."""
    names = set(similarity.student_functions(assignment))
    pool = {name: [] for name in names}
    files = sorted((ROOT / "tests" / "corpus" / assignment.id).glob("*/*.py"))
    for path in files:
        tree = ast.parse(path.read_text())
        lines = path.read_text().splitlines()
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in names:
                pool[node.name].append("\n".join(lines[node.lineno - 1: node.end_lineno]))
    return {name: sorted(set(texts)) for name, texts in pool.items() if texts}


def own_statement(rng, indent):
    """A statement only this student writes (names, calls and operators drawn at random)."""
    a, b = rng.sample(("scale", "eps", "tmp", "check", "ratio", "norm"), 2)
    expression = f"{rng.choice(CALLS)}({a}_{rng.randrange(99)} {rng.choice(OPERATORS)} {rng.randrange(1, 9)})"
    return f"{indent}{b} = {expression} {rng.choice(OPERATORS)} {rng.choice(CALLS)}({a})"


def synthetic_submission(pool, rng):
    functions = []
    for name in sorted(pool):
        lines = rng.choice(pool[name]).splitlines()
        body = [n for n, line in enumerate(lines) if n and line.strip()]
        for _ in range(rng.randint(1, 2)):
            where = rng.choice(body)
            indent = lines[where][: len(lines[where]) - len(lines[where].lstrip())] or "    "
            lines.insert(where, own_statement(rng, indent))
            body = [n for n, line in enumerate(lines) if n and line.strip()]
        functions.append("\n".join(lines))
    rng.shuffle(functions)
    return "import numpy as np\nimport torch\n\n\n" + "\n\n\n".join(functions) + "\n"


def renamed_copy(source, rng):
    for old in ("scale", "eps", "tmp", "check", "ratio", "norm", "dZ", "dA", "cache", "grads"):
        source = source.replace(old, f"{old}_{rng.randrange(1000)}")
    return source


def build(assignment, count, folder, seed=0):
    rng = random.Random(seed)
    pool = function_pool(assignment)
    entries = []
    for n in range(count):
        if n % 50 == 49:   # a planted copy of an earlier submission
            source = renamed_copy(entries[rng.randrange(n - 1)][1], rng)
        else:
            source = synthetic_submission(pool, rng)
        entries.append((f"s{n:05d}", source))
    found = []
    for student, source in entries:
        path = folder / f"{student}.py"
        path.write_text(source)
        found.append(lms.Entry(student, path, path.name))
    return found


def brute_force_seconds(analysis, pairs_to_time):
    """Time scoring every pair in full (or a sample of them, scaled up to all pairs)."""
    documents = [d for d in analysis.documents if not d.problem]
    total = len(documents) * (len(documents) - 1) // 2
    rng = random.Random(1)
    if total <= pairs_to_time:
        pairs = [(i, j) for i in range(len(documents)) for j in range(i + 1, len(documents))]
    else:
        pairs = [tuple(rng.sample(range(len(documents)), 2)) for _ in range(pairs_to_time)]
    started = time.perf_counter()
    for i, j in pairs:
        scoring.score_pair(documents[i], documents[j], analysis.baselines)
    return (time.perf_counter() - started) * total / len(pairs), total, len(pairs) < total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--assignment", default="backprop")
    args = parser.parse_args()
    assignment = course.load(args.assignment)
    print(f"{args.assignment}: {len(similarity.student_functions(assignment))} student functions per submission")
    print(f"{'submissions':>11} {'analysis s':>10} {'ms/sub':>7} {'candidates':>10} {'of all pairs':>12} "
          f"{'flagged':>7} {'outputs s':>9} {'all pairs in full s':>19} {'ratio':>6}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="similarity-bench-") as scratch:
            entries = build(assignment, size, Path(scratch))
            started = time.perf_counter()
            analysis = similarity.analyse(assignment, entries)
            analysed = time.perf_counter() - started
            started = time.perf_counter()
            write_all(analysis, Path(scratch) / "out")
            written = time.perf_counter() - started
            full, total, sampled = brute_force_seconds(analysis, 50_000)
            planted = sum(1 for n in range(size) if n % 50 == 49)
            print(f"{size:>11} {analysed:>10.2f} {1000 * analysed / size:>7.2f} {len(analysis.pairs):>10} "
                  f"{len(analysis.pairs) / total:>11.1%} {len(analysis.flagged):>4}/{planted:<2} "
                  f"{written:>9.2f} {full:>18.1f}{'*' if sampled else ' '} {full / analysed:>5.1f}x",
                  flush=True)
    print("flagged: pairs at or above the threshold / planted copies; "
          "*: timed on 50,000 random pairs and scaled to all pairs")


if __name__ == "__main__":
    main()
