"""How long `grader similarity` takes for 100, 500 and 2,000 submissions.

Synthetic classes are built from the corpus: each submission takes every
student-written function of the assignment from a randomly chosen solution
(the correct variants and the buggy ones), adds a few statements of its own
(so no two are identical) and lists the functions in a random order; one
submission in 50 is a copy of an earlier one with renamed variables. Timed
in CPU seconds of this process (the machine may be shared), phase by phase:
reading (tokens, fingerprints), the class baselines, the index (candidate
pairs), scoring the candidates, and the outputs (similarity.csv and 200
pair pages). The baseline in the same run scores every pair in full with
the same comparison, without the index (for 2,000 submissions timed on a
random sample of pairs and scaled up); the ratio compares pairwise work.

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
from grader.similarity import scoring, tokens  # noqa: E402
from grader.similarity.report import write_all  # noqa: E402

OPERATORS = ("+", "-", "*", "/", "@", "**", "//", "%")
CALLS = ("np.abs", "np.sqrt", "np.exp", "np.tanh", "float", "np.mean", "np.max", "np.min", "np.sum",
         "np.log", "np.clip", "np.where", "np.maximum", "np.dot", "np.outer", "np.ravel", "len",
         "np.argmax", "np.square", "np.cumsum", "abs", "round", "np.sign", "np.isfinite")
METHODS = ("T", "shape", "sum()", "mean()", "max()", "copy()", "ravel()", "std()", "size")


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
    distinct = {}   # the buggy corpus repeats the reference's version of most functions: once each
    for name, texts in pool.items():
        unique = {" ".join(t.text for t in tokens.normalise(text)): text for text in sorted(texts)}
        distinct[name] = sorted(unique.values())
    return {name: texts for name, texts in distinct.items() if texts}


def expression(rng, depth):
    """A random expression: what one student writes in their own way."""
    if depth == 0:
        leaf = rng.choice(("scale", "eps", "tmp", "check", "x", "w", "1", "0.5"))
        return leaf + (f".{rng.choice(METHODS)}" if rng.random() < 0.3 else "")
    kind = rng.randrange(3)
    if kind == 0:
        return f"{rng.choice(CALLS)}({expression(rng, depth - 1)})"
    if kind == 1:
        return f"({expression(rng, depth - 1)} {rng.choice(OPERATORS)} {expression(rng, depth - 1)})"
    return f"{expression(rng, depth - 1)}[{rng.choice((':', '0', '-1', ':, None', '::2'))}]"


def own_statement(rng, indent):
    """A statement only this student writes (names, calls and operators drawn at random)."""
    return f"{indent}{rng.choice(('scale', 'eps', 'tmp', 'check'))} = {expression(rng, 3)}"


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


def cpu(function, *args):
    started = time.process_time()
    result = function(*args)
    return result, time.process_time() - started


def score_all(documents, pairs, bases):
    for i, j in pairs:
        similarity.compare(documents[i], documents[j], bases)


def brute_force_seconds(documents, bases, pairs_to_time):
    """CPU seconds to score every pair in full (a sample of them, scaled up, past pairs_to_time)."""
    total = len(documents) * (len(documents) - 1) // 2
    if total <= pairs_to_time:
        pairs = [(i, j) for i in range(len(documents)) for j in range(i + 1, len(documents))]
    else:
        rng = random.Random(1)
        pairs = [tuple(rng.sample(range(len(documents)), 2)) for _ in range(pairs_to_time)]
    _, seconds = cpu(score_all, documents, pairs, bases)
    return seconds * total / len(pairs), total, len(pairs) < total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--assignment", default="backprop")
    args = parser.parse_args()
    assignment = course.load(args.assignment)
    names = similarity.student_functions(assignment)
    boilerplate = similarity.boilerplate_of(assignment)
    print(f"{args.assignment}: {len(names)} student functions per submission; CPU seconds")
    print(f"{'submissions':>11} {'read':>6} {'baselines':>9} {'index':>6} {'scoring':>7} {'outputs':>7} "
          f"{'wall':>6} {'candidates':>10} {'share':>6} {'flagged':>9} {'all pairs in full':>17} {'ratio':>6}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="similarity-bench-") as scratch:
            entries = build(assignment, size, Path(scratch))
            wall = time.perf_counter()
            documents, read = cpu(similarity.read_documents, assignment, entries, (), names, boilerplate)
            bases, baselines = cpu(scoring.baselines, documents, names)
            pairs, indexed = cpu(similarity.candidates, documents)
            _, scored = cpu(score_all, documents, pairs, bases)
            analysis, _ = cpu(similarity.analyse, assignment, entries)   # the whole, for the outputs
            _, written = cpu(write_all, analysis, Path(scratch) / "out")
            wall = time.perf_counter() - wall
            full, total, sampled = brute_force_seconds(documents, bases, 50_000)
            planted = size // 50
            print(f"{size:>11} {read:>6.2f} {baselines:>9.2f} {indexed:>6.2f} {scored:>7.2f} {written:>7.2f} "
                  f"{wall:>6.1f} {len(pairs):>10} {len(pairs) / total:>6.1%} {len(analysis.flagged):>4}/{planted:<4} "
                  f"{full:>16.2f}{'*' if sampled else ' '} {full / (indexed + scored):>5.1f}x", flush=True)
    print("read: tokens and fingerprints; index: candidate pairs; scoring: the candidates; outputs: "
          "csv and pages;\nwall: all of it, the analysis twice (once by phase, once whole); flagged: "
          "pairs at or above the threshold / planted copies;\nall pairs in full: scoring every pair "
          "without the index (*: timed on 50,000 random pairs, scaled); ratio: that / (index + scoring)")


if __name__ == "__main__":
    main()
