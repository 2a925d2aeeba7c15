"""Fuzzing grader/codec.py's decode: the only parser that reads what a worker sends.

Whatever bytes arrive, decode must return a value or raise CodecError: no
other exception (the harness catches only CodecError), no hang, and no code
execution (no pickle, no exec, no process, no import other than torch's).

A seeded mutation loop runs over valid encodings of typical replies:
byte-level (bit flips, truncations, insertions, splices) and structural
(tags, dtypes, shapes, lengths and scalars replaced by lies, deep nesting,
huge declared sizes). Hypothesis adds arbitrary JSON documents and checks
that valid values round-trip.
"""
import base64
import json
import random
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import codec

MUTATIONS = 100_000
SEED = 20240531
SLOWEST_DECODE = 5.0      # seconds for any single input (a loaded CI machine included)
WATCHED_EVENTS = ("pickle.find_class", "exec", "compile", "os.system", "os.exec", "os.posix_spawn",
                  "os.fork", "subprocess.Popen", "ctypes.dlopen", "import", "open", "socket.connect")

_audit = {"on": False, "seen": []}


def _hook(event, args):
    if not _audit["on"] or event not in WATCHED_EVENTS:
        return
    if event == "import" and str(args[0]).split(".")[0] in ("torch", "numpy"):
        return
    _audit["seen"].append((event, repr(args)[:200]))


sys.addaudithook(_hook)   # audit hooks cannot be removed; this one records only while fuzzing


def decode_checked(data):
    """decode(data) under the audit hook; returns the value, or None after a CodecError."""
    _audit["on"] = True
    try:
        return codec.decode(data)
    except codec.CodecError:
        return None
    finally:
        _audit["on"] = False


def seeds():
    """Valid encodings of the values a worker returns."""
    values = [None, True, 0, -7, 2**62, 1.5, float("nan"), float("-inf"), "", "héllo", [1, [2, [3]]],
              (1, "a", None), {"w": np.arange(3.0), "losses": [0.5, 0.25]},
              {"ok": True, "value": np.linspace(0, 1, 12).reshape(3, 4)},
              {"ok": False, "error": {"type": "ValueError", "message": "bad", "traceback": "", "lineno": 3}},
              torch.arange(6, dtype=torch.float32).reshape(2, 3), torch.zeros(0, 4),
              torch.ones(3, dtype=torch.float64, requires_grad=True),
              np.zeros((0, 3)), np.array(3.5), np.float32(2.5), np.int64(-3), np.bool_(True),
              np.complex128(1 + 2j)]
    values += [np.arange(5).astype(name) for name in codec.DTYPES]
    values += [np.dtype(name).type(1) for name in codec.DTYPES]
    return [codec.encode(v) for v in values]


LIES = [None, True, False, 0, -1, 1, 2**31, 2**63, 2**64, -2**70, 10**30, 1e308, -1e308, 0.5,
        float("nan"), float("inf"), "", "x", "float64", "object", "<f8", "V8", "O", "|S5", "U3",
        "bfloat16", "uint64", "$nd", "A" * 64, "AAAA", "====", "\ud800", [], [1], [-1], [2**40, 2**40],
        [0] * 17, [3, 4.0], [True], [[1]], {}, {"$nd": None}, {"$np": ["int8", 1000]},
        {"$np": ["uint8", -1]}, {"$np": ["int64", 2**64]}, {"$np": ["float16", 1e300]},
        {"$np": ["bool", "yes"]}, {"$tensor": ["float32", [2**31], "", True, "cuda"]},
        {"$nd": ["float64", [2**62, 4], ""]}, {"$nd": ["float64", [1], "AAAAAAAAAAA="]},
        {"$tuple": {}}, {"$dict": []}, {"$dict": {"$nd": 1}}, {"$unknown": 1}, {"a": 1, "b": 2}]
TAGS = ["$tuple", "$dict", "$nd", "$np", "$tensor", "$x", "", "nd"]


def nodes(tree, path=()):
    """Every (path, node) of a parsed JSON document."""
    yield path, tree
    if isinstance(tree, list):
        for i, child in enumerate(tree):
            yield from nodes(child, path + (i,))
    elif isinstance(tree, dict):
        for key, child in tree.items():
            yield from nodes(child, path + (key,))


def replaced(tree, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(tree, list):
        return [replaced(c, rest, value) if i == head else c for i, c in enumerate(tree)]
    return {k: (replaced(c, rest, value) if k == head else c) for k, c in tree.items()}


def structural(rnd, data):
    """Replace one node of a valid document by a lie, rename a tag, or bury it deep."""
    tree = json.loads(data)
    path, node = rnd.choice(list(nodes(tree)))
    choice = rnd.random()
    if choice < 0.55:
        tree = replaced(tree, path, rnd.choice(LIES))
    elif choice < 0.7 and isinstance(node, dict) and len(node) == 1:
        (_, body), = node.items()
        tree = replaced(tree, path, {rnd.choice(TAGS): body})
    elif choice < 0.8 and isinstance(node, list) and node:
        tree = replaced(tree, path, node[: rnd.randrange(len(node))] + node * rnd.randrange(2))
    elif choice < 0.9:
        for _ in range(rnd.choice([2, 31, 33, 200])):
            tree = rnd.choice([[tree], {"$tuple": [tree]}, {"$dict": {"k": tree}}])
    else:
        tree = replaced(tree, path, _payload_lie(rnd, node))
    return json.dumps(tree).encode("utf-8", "surrogatepass")


def _payload_lie(rnd, node):
    """An array field whose base64 length, shape or dtype disagree."""
    dtype = rnd.choice(codec.DTYPES + ("float128", "object"))
    shape = [rnd.choice([0, 1, 3, 2**20, 2**33]) for _ in range(rnd.randrange(4))]
    payload = base64.b64encode(bytes(rnd.randrange(256) for _ in range(rnd.randrange(40)))).decode()
    tag = rnd.choice(["$nd", "$tensor"])
    body = [dtype, shape, payload] + ([rnd.choice([True, 1, None]), "cpu"] if tag == "$tensor" else [])
    return {tag: body}


def bytewise(rnd, data, corpus):
    data = bytearray(data)
    for _ in range(rnd.randrange(1, 4)):
        op = rnd.randrange(6)
        if op == 0 and data:
            i = rnd.randrange(len(data))
            data[i] ^= 1 << rnd.randrange(8)
        elif op == 1:
            data = data[: rnd.randrange(len(data) + 1)]
        elif op == 2:
            i = rnd.randrange(len(data) + 1)
            data[i:i] = rnd.choice([b"[", b"{", b"\"", b"\\", b"\x00", b"\xff", b"1e999", b"-", b"]]]]"])
        elif op == 3 and data:
            i, j = sorted(rnd.randrange(len(data) + 1) for _ in range(2))
            data[i:i] = data[i:j] * rnd.randrange(1, 4)
        elif op == 4:
            other = rnd.choice(corpus)
            cut = rnd.randrange(len(other) + 1)
            data = data[: rnd.randrange(len(data) + 1)] + other[cut:]
        elif data:
            del data[rnd.randrange(len(data))]
    return bytes(data)


def test_decode_survives_100k_mutations():
    rnd = random.Random(SEED)
    corpus = seeds()
    for data in corpus:
        assert decode_checked(data) is not None or data == b"null"
    failures, slowest, started = {}, (0.0, b""), time.monotonic()
    for _ in range(MUTATIONS):
        data = rnd.choice(corpus)
        data = structural(rnd, data) if rnd.random() < 0.5 else bytewise(rnd, data, corpus)
        if rnd.random() < 0.2:
            data = bytewise(rnd, data, corpus)
        begun = time.perf_counter()
        try:
            decode_checked(data)
        except Exception as exc:  # anything but CodecError escaping decode is the bug we hunt
            where = traceback.extract_tb(exc.__traceback__)[-1]
            key = (type(exc).__name__, Path(where.filename).name, where.lineno)
            failures.setdefault(key, f"{key[0]} at {key[1]}:{key[2]}: {str(exc)[:100]} <- {data[:160]!r}")
        took = time.perf_counter() - begun
        slowest = max(slowest, (took, data[:160]))
    elapsed = time.monotonic() - started
    print(f"{MUTATIONS} mutated inputs in {elapsed:.1f} s; slowest decode {slowest[0] * 1000:.1f} ms")
    assert not failures, "decode raised something other than CodecError:\n" + "\n".join(failures.values())
    assert slowest[0] < SLOWEST_DECODE, f"decode took {slowest[0]:.2f} s on {slowest[1]!r}"
    assert not _audit["seen"], f"decode did something it never should: {_audit['seen'][:5]}"


@pytest.mark.parametrize("data", [
    b"[" * 100_000 + b"]" * 100_000,                                      # deep nesting
    b'{"$tuple":' * 5000 + b"[]" + b"}" * 5000,
    b'{"$nd":["float64",[1099511627776,1099511627776],""]}',             # huge declared size
    b'{"$tensor":["float32",[4294967296],"",true,"cuda"]}',
    b'{"$nd":["float64",' + b"[1]" * 1 + b',"' + b"A" * (8 * 2**20) + b'"]}',  # payload lies about shape
    b'"' + b"x" * (2**20 + 10) + b'"',                                    # string over the cap
    b"[" + b"1," * (2**19) + b"1]",                                        # a long list
    b"[" + b"[]," * (4 * 2**20) + b"1]",                                   # 12 MB of tiny containers
    b"9" * 5000,                                                           # an int beyond int_max_str_digits
    b" " * (codec.MAX_MESSAGE_BYTES + 1),                                  # over the message cap
], ids=["deep-lists", "deep-tuples", "huge-nd", "huge-tensor", "payload-lie", "long-string", "long-list",
        "many-containers", "huge-int", "oversized"])
def test_decode_hostile_documents(data):
    begun = time.perf_counter()
    decode_checked(data)
    assert time.perf_counter() - begun < SLOWEST_DECODE
    assert not _audit["seen"], _audit["seen"][:5]


def test_message_length_caps_the_header():
    with pytest.raises(codec.CodecError):
        codec.message_length((codec.MAX_MESSAGE_BYTES + 1).to_bytes(8, "big"))
    with pytest.raises(codec.CodecError):
        chunks = iter([b"abc", b""])
        codec.read_exact(lambda size: next(chunks), 8)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["$nd", "$np", "$tensor", "$tuple", "$dict", "a"]) | st.text(max_size=3), children,
        max_size=2),
    max_leaves=12)


@settings(max_examples=1000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_decode_arbitrary_json(document):
    decode_checked(json.dumps(document).encode())
    assert not _audit["seen"], _audit["seen"][:5]


ARRAYS = st.sampled_from(codec.DTYPES).flatmap(lambda dtype: st.lists(
    st.integers(0, 4), max_size=3).map(lambda shape: np.arange(int(np.prod(shape))).reshape(shape).astype(dtype)))


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False)
                    | st.text(max_size=10) | ARRAYS,
                    lambda children: st.lists(children, max_size=3) | st.tuples(children, children)
                    | st.dictionaries(st.text(max_size=3), children, max_size=3), max_leaves=8))
def test_valid_values_round_trip(value):
    back = codec.decode(codec.encode(value))
    assert _same(back, value), (value, back)


def _same(a, b):
    if isinstance(b, np.ndarray):
        return type(a) is np.ndarray and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(b, dict):
        return type(a) is dict and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in b)
    return type(a) is type(b) and a == b
