"""Small helpers shared by the elementwise op modules (pointwise, binary, ternary, logic).

torch-style dtype names and error builders, zero/constant gradients in the mode of ``g``, and
``_rec`` (``record`` for ops whose inputs may be Tensors or numbers, with broadcasting meta).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._core import Tensor, check_broadcast, new, record

_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
          "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
          "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _tname(dt: np.dtype) -> str:
    return _NAMES.get(str(dt), str(dt))


def _not_impl(kernel: str, dt: np.dtype) -> NotImplementedError:
    return NotImplementedError(
        f'"{kernel}" not implemented for \'{_tname(dt)}\'. Hint: convert the tensor first, e.g. '
        "x.float() or x.long()."
    )


def _need_tensor(fn: str, name: str, pos: int, x: Any) -> TypeError:
    return TypeError(
        f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not {type(x).__name__}. "
        f"Hint: wrap the value, e.g. ember.tensor({x!r})."
    )


def _zeros(g: Any) -> Any:
    """A zero gradient like ``g`` (a constant: it has no graph even when ``g`` is a Tensor)."""
    if isinstance(g, Tensor):
        return new(np.zeros(g._data.shape, g._data.dtype), None)
    return np.zeros_like(g)


def _const(g: Any, arr: Any) -> Any:
    """``arr`` (an array of piecewise-constant values) in the mode of ``g``."""
    return new(arr, None) if isinstance(g, Tensor) else arr


def _rec(cls: type, ins: tuple, out: Any, saved: tuple, **attrs: Any) -> Tensor:
    """``record`` for ops with several Tensor-or-number inputs; meta only when recording."""
    for x in ins:
        if isinstance(x, Tensor) and x._edge is not None:
            return record(cls, ins, out, saved=saved, meta=_meta(ins, out), **attrs)
    return new(out, None)


def _bcast(*shapes: tuple) -> None:
    """Raise torch's broadcasting error for the first pair of shapes that do not broadcast."""
    acc: tuple = ()
    for s in shapes:
        check_broadcast(acc, s)
        acc = np.broadcast_shapes(acc, s)


def _meta(inputs: tuple, out: Any) -> tuple | None:
    """Per-input (shape, dtype-or-None) where broadcasting or promotion changed it."""
    shape, dt = out.shape, out.dtype
    res, any_ = [], False
    for x in inputs:
        m = None
        if isinstance(x, Tensor):
            d = x._data
            if d.shape != shape or d.dtype != dt:
                m = (d.shape, d.dtype if d.dtype != dt else None)
                any_ = True
        res.append(m)
    return tuple(res) if any_ else None

