"""How suspicious a pair is: per-function similarity above what the class shares anyway.

Correct solutions of a short ML function converge on the same tokens, so raw
overlap says little. For every student-written function f the class sets its
own baseline: mu_f, the median similarity of f between two submissions of
the class (a sample of pairs), and size_f, the median number of k-grams of
f. A pair's similarity s_f counts only beyond the baseline,

    excess_f = max(0, s_f - mu_f) / (1 - mu_f)

and the functions are weighted by w_f = (1 - mu_f) * size_f: a function
everybody writes the same way (mu_f near 1) or that is a single line
(size_f small) adds little, a long function where the class differs adds
much. The pair's score is the weighted mean of excess_f over the functions
both students wrote, with at least half the assignment's total weight in the
denominator, so agreeing on one small function is not enough to stand out.
"""
import dataclasses
import random
import statistics

from .documents import REST

SAMPLE_PAIRS = 2000       # pairs drawn to estimate each function's class baseline
MIN_EVIDENCE = 0.5        # share of the assignment's weight a score is divided by at least


def dice(a: frozenset, b: frozenset) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


@dataclasses.dataclass(frozen=True)
class Baseline:
    median_similarity: float   # mu_f
    size: float                # size_f (k-grams)
    writers: int               # submissions that wrote it

    @property
    def weight(self) -> float:
        return (1.0 - self.median_similarity) * self.size


def baselines(documents, names, seed=0) -> dict:
    """{function: Baseline} from the documents' k-gram sets (a fixed-seed sample of pairs)."""
    rng = random.Random(seed)
    found = {}
    for name in [*names, REST]:
        writers = [d.grams[name] for d in documents if name in d.grams]
        if not writers:
            continue
        size = statistics.median(len(g) for g in writers)
        if len(writers) < 3:     # too few to tell what the class shares: raw similarity counts
            found[name] = Baseline(0.0, size, len(writers))
            continue
        count = len(writers) * (len(writers) - 1) // 2
        if count <= SAMPLE_PAIRS:
            pairs = [(i, j) for i in range(len(writers)) for j in range(i + 1, len(writers))]
        else:
            pairs = [(rng.randrange(len(writers)), rng.randrange(len(writers)))
                     for _ in range(SAMPLE_PAIRS)]
            pairs = [(i, j) for i, j in pairs if i != j]
        median = statistics.median(dice(writers[i], writers[j]) for i, j in pairs)
        found[name] = Baseline(median, size, len(writers))
    return found


@dataclasses.dataclass
class PairScore:
    score: float
    functions: dict            # function -> s_f for the functions both wrote


def score_pair(a, b, bases) -> PairScore:
    total = sum(base.weight for base in bases.values())
    evidence = weighted = 0.0
    similarities = {}
    for name, base in bases.items():
        if name not in a.grams or name not in b.grams:
            continue
        similarity = dice(a.grams[name], b.grams[name])
        similarities[name] = similarity
        if base.median_similarity >= 1.0:
            continue
        excess = max(0.0, similarity - base.median_similarity) / (1.0 - base.median_similarity)
        weighted += base.weight * excess
        evidence += base.weight
    denominator = max(evidence, MIN_EVIDENCE * total)
    return PairScore(weighted / denominator if denominator > 0 else 0.0, similarities)
