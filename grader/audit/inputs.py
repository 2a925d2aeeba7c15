"""Audit inputs: what the audit runs each mutant on, beside the reference.

An instructor declares them in `reference/ID/audit_inputs.py` (trusted code,
imported in the grader's own process, like the reference):

    from grader.audit.inputs import Call, Probe

    def cases(rng):
        yield Call("mse_grad", X, w, y)              # student.mse_grad(X, w, y)
        yield Probe(train_two_epochs, 3)             # a probe: train_two_epochs(module, 3)

`cases(rng)` returns or yields `Call`s and `Probe`s; `rng` is a seeded
numpy Generator. A probe is a self-contained top-level function
`def p(module, *args)` with its imports inside, exactly as in a suite (see
docs/writing-suites.md): it builds what cannot cross (models, loaders) and
returns plain data. Cover the shapes students get wrong: size-1 dimensions,
a batch of one, a last batch of one, float32 and float64 where the spec
allows both.
"""
import dataclasses
import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np

AUDIT_INPUTS = "audit_inputs.py"


@dataclasses.dataclass
class Call:
    """student.fn(*args, **kwargs); the arguments after the call are compared too."""
    fn: str
    args: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)

    def __init__(self, fn: str, *args, **kwargs):
        self.fn, self.args, self.kwargs = fn, args, kwargs

    @property
    def label(self) -> str:
        return f"{self.fn}({_describe(self.args)})"


@dataclasses.dataclass
class Probe:
    """function(module, *args, **kwargs) run next to the module; its result is compared."""
    function: Callable
    args: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)

    def __init__(self, function: Callable, *args, **kwargs):
        self.function, self.args, self.kwargs = function, args, kwargs

    @property
    def label(self) -> str:
        return f"probe {self.function.__name__}({_describe(self.args)})"


class NoAuditInputs(LookupError):
    """The assignment has no reference/ID/audit_inputs.py."""


def load_cases(reference_folder: Path, seed: int = 0) -> list:
    """The cases declared in reference_folder/audit_inputs.py, drawn with a seeded rng."""
    path = Path(reference_folder) / AUDIT_INPUTS
    if not path.is_file():
        raise NoAuditInputs(f"{path} does not exist")
    spec = importlib.util.spec_from_file_location(f"audit_inputs_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cases = list(module.cases(np.random.default_rng(seed)))
    for case in cases:
        if not isinstance(case, (Call, Probe)):
            raise TypeError(f"{path}: cases() must give Call or Probe objects, not {type(case).__name__}")
    return cases


def _describe(args) -> str:
    """Arguments as a short label: arrays and tensors by dtype and shape, dicts by their keys."""
    parts = []
    for value in args:
        shape = getattr(value, "shape", None)
        if isinstance(value, dict):
            parts.append("{" + ", ".join(map(str, value)) + "}" if len(value) <= 4 else f"{{{len(value)} keys}}")
        elif isinstance(value, (list, tuple)) and any(hasattr(v, "shape") for v in value):
            parts.append(f"[{_describe(value)}]")
        elif shape is not None:
            dtype = str(getattr(value, "dtype", "")).replace("torch.", "")
            parts.append(f"{dtype}{list(shape)}")
        else:
            text = repr(value)
            parts.append(text if len(text) <= 20 else text[:17] + "...")
    return ", ".join(parts)
