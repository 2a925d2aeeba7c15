"""The codec: what crosses between worker and harness, and what is refused."""
import base64
import json

import numpy as np
import pytest
import torch

from grader import codec


def roundtrip(value):
    return codec.decode(codec.encode(value))


def test_plain_values_roundtrip():
    value = {"a": [1, 2.5, None, True, "s"], "t": (1, (2, 3)), "n": {"deep": [[]]}}
    assert roundtrip(value) == value


def test_arrays_come_back_as_fresh_base_arrays_with_dtype_and_shape():
    class Lying(np.ndarray):
        def __eq__(self, other):
            return True

    lying = np.arange(6, dtype=np.float32).reshape(2, 3).view(Lying)
    back = roundtrip(lying)
    assert type(back) is np.ndarray and back.dtype == np.float32 and back.shape == (2, 3)
    assert back.flags.writeable and back.flags.owndata
    assert np.array_equal(back, np.arange(6).reshape(2, 3))


def test_numpy_scalars_keep_their_type():
    assert type(roundtrip(np.float64(1.5))) is np.float64
    assert type(roundtrip(np.int32(3))) is np.int32


def test_tensors_roundtrip_with_requires_grad():
    tensor = torch.linspace(0, 1, 5, dtype=torch.float64).requires_grad_()
    back = roundtrip(tensor * 2)
    assert isinstance(back, torch.Tensor) and back.dtype == torch.float64 and back.requires_grad
    assert torch.equal(back.detach(), (tensor * 2).detach())


@pytest.mark.parametrize("value", [object(), np.array([object()]), {1: 2}, {"f": len}])
def test_unsupported_values_are_refused_when_encoding(value):
    with pytest.raises(codec.CodecError):
        codec.encode(value)


def raw(doc):
    return json.dumps(doc).encode()


@pytest.mark.parametrize("doc", [
    {"$pickle": "gASV"},
    {"$nd": ["object", [1], "AA=="]},
    {"$nd": ["float64", [2], base64.b64encode(b"\0" * 8).decode()]},   # data shorter than shape
    {"$nd": ["float64", [-1], ""]},
    {"$nd": ["float64", [10**9, 10**9], ""]},
    {"$np": ["float64", "1.0"]},
    {"$tuple": [1], "extra": 2},
    {"a": 1},
])
def test_malformed_messages_are_refused(doc):
    with pytest.raises(codec.CodecError):
        codec.decode(raw(doc))


def test_deep_nesting_and_garbage_are_refused():
    deep = "[" * 10_000 + "]" * 10_000
    nested = 1
    for _ in range(codec.MAX_DEPTH + 5):
        nested = [nested]
    for data in (deep.encode(), b"\xff\xfe", b"{not json", raw(nested)):
        with pytest.raises(codec.CodecError):
            codec.decode(data)


def test_oversized_frames_are_refused_before_reading():
    header = codec._HEADER.pack(codec.MAX_MESSAGE_BYTES + 1)
    with pytest.raises(codec.CodecError):
        codec.message_length(header)
