"""The only format that crosses between the harness and the worker.

A message is a length-prefixed UTF-8 JSON document. Plain values (None, bool,
int, float, str, list) are JSON; everything else is a tagged object:

    {"$tuple": [...]}                     a tuple
    {"$dict": {"key": ...}}               a dict with string keys
    {"$nd": [dtype, shape, base64]}       a numpy array (little-endian bytes)
    {"$np": [dtype, value]}               a numpy scalar
    {"$tensor": [dtype, shape, base64, requires_grad, device]}

Decoding never unpickles, never imports a name chosen by the sender, and
checks sizes, nesting depth and dtypes, so a hostile worker can send bad data
but nothing that runs. Arrays come back as fresh base-class ndarrays (or
plain tensors), whatever class the sender used.

This file is also copied into the sandbox, so it imports only the standard
library and numpy; torch is imported lazily, only when a tensor is seen.
"""
import base64
import json
import math
import struct
import sys

import numpy as np

MAX_MESSAGE_BYTES = 64 * 2**20
MAX_NODES = 200_000      # JSON containers and items: bounds the cost of parsing
MAX_DEPTH = 32
MAX_ELEMENTS = 4 * 2**20
MAX_STRING = 2**20
DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64",
          "float16", "float32", "float64", "complex64", "complex128")
_HEADER = struct.Struct(">Q")


class CodecError(ValueError):
    """The data cannot be encoded, or what arrived is not a valid message."""


# --- encoding (runs on both sides) -------------------------------------------

def encode(value):
    """Serialise value to bytes; raise CodecError for unsupported objects."""
    try:
        text = json.dumps(_to_json(value, 0), allow_nan=True, separators=(",", ":"))
    except RecursionError:
        raise CodecError("value is nested too deeply") from None
    data = text.encode("utf-8")
    if len(data) > MAX_MESSAGE_BYTES:
        raise CodecError(f"value is too large to send ({len(data)} bytes)")
    return data


def _to_json(value, depth):
    if depth > MAX_DEPTH:
        raise CodecError("value is nested too deeply")
    if value is None:
        return None
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, np.generic):
        return _scalar_to_json(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, np.ndarray):
        return {"$nd": _array_fields(np.asarray(value))}
    if _is_tensor(value):
        return _tensor_to_json(value)
    if isinstance(value, tuple):
        return {"$tuple": [_to_json(v, depth + 1) for v in value]}
    if isinstance(value, list):
        return [_to_json(v, depth + 1) for v in value]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CodecError(f"dict keys must be strings, got {type(key).__name__}")
            out[str(key)] = _to_json(item, depth + 1)
        return {"$dict": out}
    raise CodecError(f"cannot send an object of type {type(value).__name__}")


def _scalar_to_json(value):
    dtype = np.dtype(value.dtype).name
    if dtype not in DTYPES:
        raise CodecError(f"unsupported numpy scalar dtype {dtype}")
    if dtype.startswith("complex"):
        return {"$nd": _array_fields(np.asarray(value))}
    return {"$np": [dtype, value.item()]}


def _array_fields(array):
    dtype = array.dtype.name
    if dtype not in DTYPES:
        raise CodecError(f"unsupported array dtype {array.dtype}")
    if array.size > MAX_ELEMENTS:
        raise CodecError(f"array too large ({array.size} elements)")
    raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    return [dtype, list(array.shape), base64.b64encode(raw).decode("ascii")]


def _is_tensor(value):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _tensor_to_json(tensor):
    torch = sys.modules["torch"]
    plain = tensor.detach().to("cpu")
    if plain.dtype == torch.bfloat16:
        raise CodecError("bfloat16 tensors cannot be sent; convert to float32")
    array = plain.resolve_conj().resolve_neg().numpy() if plain.numel() else np.zeros(
        tuple(plain.shape), dtype=str(plain.dtype).replace("torch.", ""))
    fields = _array_fields(np.asarray(array))
    return {"$tensor": fields + [bool(tensor.requires_grad), str(tensor.device)]}


# --- decoding (the harness trusts only this) -----------------------------------

def decode(data):
    """Rebuild a value from bytes produced by encode.

    Tensors stay on the CPU: the harness never moves untrusted data anywhere else.
    """
    if len(data) > MAX_MESSAGE_BYTES:
        raise CodecError("message too large")
    if data.count(b",") + data.count(b"[") + data.count(b"{") > MAX_NODES:
        raise CodecError(f"message has too many items (more than {MAX_NODES})")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CodecError(f"malformed message: {str(exc)[:200]}") from None
    try:
        return _from_json(raw, 0)
    except CodecError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # e.g. a NaN int64
        raise CodecError(f"malformed message: {type(exc).__name__}: {str(exc)[:200]}") from None


def _from_json(raw, depth):
    if depth > MAX_DEPTH:
        raise CodecError("message nested too deeply")
    kind = type(raw)
    if raw is None or kind is bool or kind is float:
        return raw
    if kind is int:
        return raw
    if kind is str:
        if len(raw) > MAX_STRING:
            raise CodecError("string too long")
        return raw
    if kind is list:
        return [_from_json(v, depth + 1) for v in raw]
    if kind is not dict or len(raw) != 1:
        raise CodecError("malformed message: unknown object")
    (tag, body), = raw.items()
    if tag == "$tuple" and type(body) is list:
        return tuple(_from_json(v, depth + 1) for v in body)
    if tag == "$dict" and type(body) is dict:
        return {str(k): _from_json(v, depth + 1) for k, v in body.items()}
    if tag == "$np" and type(body) is list and len(body) == 2:
        dtype = _checked_dtype(body[0])
        if type(body[1]) not in (int, float, bool):
            raise CodecError("malformed numpy scalar")
        with np.errstate(over="ignore"):  # 1e300 as float16 is inf, as numpy would make it
            return np.dtype(dtype).type(body[1])
    if tag == "$nd" and type(body) is list and len(body) == 3:
        return _array_from_fields(body)
    if tag == "$tensor" and type(body) is list and len(body) == 5:
        array = _array_from_fields(body[:3])
        import torch
        tensor = torch.from_numpy(array)
        if body[3] is True and tensor.is_floating_point():
            tensor.requires_grad_(True)
        return tensor
    raise CodecError(f"malformed message: unknown tag {str(tag)[:40]!r}")


def _checked_dtype(name):
    if type(name) is not str or name not in DTYPES:
        raise CodecError(f"unsupported dtype {str(name)[:40]!r}")
    return name


def _array_from_fields(fields):
    dtype, shape, payload = fields
    dtype = np.dtype(_checked_dtype(dtype)).newbyteorder("<")
    if (type(shape) is not list or len(shape) > 16
            or any(type(n) is not int or not 0 <= n <= MAX_ELEMENTS for n in shape)):
        raise CodecError("malformed array shape")
    count = math.prod(shape)
    if count > MAX_ELEMENTS:
        raise CodecError(f"array too large ({count} elements)")
    if type(payload) is not str:
        raise CodecError("malformed array data")
    try:
        raw = base64.b64decode(payload, validate=True)
    except ValueError:
        raise CodecError("malformed array data") from None
    if len(raw) != count * dtype.itemsize:
        raise CodecError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="), copy=True)


# --- framing --------------------------------------------------------------------

def frame(data):
    """Encoded bytes with their length prefix, as they travel."""
    return _HEADER.pack(len(data)) + data


def write_message(stream, value):
    stream.write(frame(encode(value)))
    stream.flush()


def read_exact(read, size):
    """Read size bytes with read(n), at most 1 MiB a call; None at a clean end of stream.

    read may raise to abandon the message (a deadline); it returns b"" at the end.
    """
    chunks, left = [], size
    while left:
        chunk = read(min(left, 1 << 20))
        if not chunk:
            if left == size:
                return None
            raise CodecError("stream ended inside a message")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def message_length(header):
    (length,) = _HEADER.unpack(header)
    if length > MAX_MESSAGE_BYTES:
        raise CodecError(f"message too large ({length} bytes)")
    return length


HEADER_SIZE = _HEADER.size
