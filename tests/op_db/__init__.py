"""The op table: one OpInfo per op (and variant), collected from one file per ops module.

Each OpInfo's ``fn(lib, *tensors)`` runs unchanged on ``lib=ember`` and ``lib=torch``.
``samples`` lists the shapes of the differentiable tensor arguments, one tuple per sample
(``((3, 4), (4,))`` = two tensors, broadcasting).  ``make`` overrides sampling entirely:
``make(rng) -> list of lists of NumPy arrays``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class OpInfo:
    name: str  # unique test id
    fn: Callable[..., Any]  # fn(lib, *tensors) -> tensor or tuple/list of tensors
    samples: list = field(default_factory=lambda: [((3, 4),)])
    node: str | None = None  # expected grad_fn.name() of the (first) output, e.g. "ExpBackward0"
    domain: tuple = (-2.0, 2.0)  # uniform sampling range
    grad: bool = True  # compare gradients with torch
    gradcheck: bool = True  # float64 finite differences
    make: Callable | None = None  # make(rng) -> [[np arrays for sample 0], [sample 1], ...]
    integer: bool = False  # inputs are int64 (no gradients)
    atol: float = 1e-5
    rtol: float = 1e-4
    requires_grad: tuple | None = None  # which inputs require grad (default: all float inputs)
    skip_reason: str | None = None


_MODULES = ["arith", "pointwise", "reduction", "shape", "indexing", "linalg", "conversion",
            "inplace"]


def all_ops() -> list[OpInfo]:
    ops: list[OpInfo] = []
    for m in _MODULES:
        try:
            mod = importlib.import_module(f"tests.op_db.{m}")
        except ModuleNotFoundError:
            continue
        ops.extend(mod.OPS)
    names = [o.name for o in ops]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, f"duplicate OpInfo names: {dup}"
    return ops
