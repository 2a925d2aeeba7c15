"""k-gram hashes of token sequences, winnowed fingerprints, and the class-wide index.

Winnowing (Schleimer, Wilkerson and Aiken, 2003; what MOSS does) keeps the
smallest hash of every window of `WINDOW` consecutive k-gram hashes, so any
run of at least K + WINDOW - 1 shared tokens yields a shared fingerprint
while matches shorter than K tokens never do. The selection is copydetect's
(`copydetect.utils.winnow`, robust winnowing); the hashes are ours: a
deterministic 52-bit rolling hash of normalised tokens (copydetect hashes
character k-grams with Python's salted `hash()`, which differs from run to
run, and its window buffer holds floats, exact only below 2**53).
"""
import hashlib
from collections import defaultdict
from functools import lru_cache

import numpy as np

K = 9               # tokens per k-gram of the file-level fingerprints
WINDOW = 4          # winnowing window: any shared run of K + WINDOW - 1 = 12 tokens is seen
FUNCTION_K = 5      # tokens per k-gram inside one function (short bodies need short grams)
_MASK = np.uint64((1 << 52) - 1)
_BASE = np.uint64(0x100000001B3)


@lru_cache(maxsize=65536)
def _token_hash(text):
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def kgram_hashes(texts: list[str], k: int) -> np.ndarray:
    """One 52-bit hash per k-gram of the token texts (an empty array when there are fewer than k)."""
    if len(texts) < k:
        return np.zeros(0, dtype=np.int64)
    codes = np.fromiter((_token_hash(t) for t in texts), dtype=np.uint64, count=len(texts))
    count = len(texts) - k + 1
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(k):
            hashes = hashes * _BASE + codes[offset: offset + count]
        hashes ^= hashes >> np.uint64(29)
        hashes *= np.uint64(0xBF58476D1CE4E5B9)
        hashes ^= hashes >> np.uint64(32)
    return (hashes & _MASK).astype(np.int64)


def fingerprints(texts: list[str], boilerplate: frozenset = frozenset()) -> dict[int, list[int]]:
    """Winnowed fingerprints {hash: [k-gram start index, ...]}, boilerplate hashes left out."""
    hashes = kgram_hashes(texts, K)
    if not len(hashes):
        return {}
    selected, where = _winnow()(hashes, WINDOW, remove_duplicates=False)
    found = defaultdict(list)
    for value, index in zip(selected.tolist(), where.tolist()):
        if value not in boilerplate and index not in found[value]:
            found[value].append(index)
    return {h: positions for h, positions in found.items() if positions}


def shared_runs(starts: list[int], k: int) -> list[tuple[int, int]]:
    """Token ranges [start, end) covered by the given matching k-gram starts (merged)."""
    runs = []
    for start in sorted(starts):
        if runs and start <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], start + k)
        else:
            runs.append([start, start + k])
    return [(a, b) for a, b in runs]


class Index:
    """Which documents hold each fingerprint, and the pairs that share rare ones.

    Fingerprints held by more than `max_holders` documents are code most of
    the class writes alike (MOSS's -m, Dolos' maximum fingerprint share):
    they never make a pair a candidate, which also keeps the pair count far
    below n**2 for a large class.
    """

    def __init__(self, documents: list[dict[int, list[int]]]):
        self.holders = defaultdict(list)
        for number, prints in enumerate(documents):
            for value in prints:
                self.holders[value].append(number)
        self.size = len(documents)

    def candidate_pairs(self, max_holders: int, min_shared: int = 1) -> dict[tuple[int, int], int]:
        """{(a, b): number of rare fingerprints they share, at least min_shared} for a < b."""
        chunks = []
        n = self.size
        for holders in self.holders.values():
            count = len(holders)
            if 2 <= count <= max_holders:
                members = np.asarray(holders, dtype=np.int64)
                first, second = np.triu_indices(count, 1)
                chunks.append(members[first] * n + members[second])
        if not chunks:
            return {}
        codes, counts = np.unique(np.concatenate(chunks), return_counts=True)
        keep = counts >= min_shared
        return {(int(c // n), int(c % n)): int(m) for c, m in zip(codes[keep], counts[keep])}


def _winnow():
    """copydetect's winnow, imported on first use: importing copydetect imports
    matplotlib.pyplot (half a second idle, several under load), which no other
    command should pay for."""
    from copydetect.utils import winnow
    return winnow
