"""Helpers shared by the shape op modules (shape.py, join.py, rearrange.py).

Wrapping a NumPy view as a view Tensor (``_mk``), zeros in a gradient's mode (``_zeros``),
the unsqueeze index table (``_UNSQ``) and torch's shape-argument validation: int tuples
(``_ints``), view/reshape shapes with -1 (``_infer``) and expand targets (``_expand_shape``).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..autograd.graph import ARRAY_TYPES, type_desc
from ._core import STATE, Tensor, as_view, mark, new

_nd = _ndarray = np.ndarray
_SEQ = (tuple, list)
_VIEW_MSG = (
    "view size is not compatible with input tensor's size and stride (at least one dimension "
    "spans across two contiguous subspaces). Use .reshape(...) instead."
)
_UNSQ = [(slice(None),) * k + (None,) for k in range(8)]


def _arr(x: Tensor) -> np.ndarray:
    """``x``'s data as an ndarray (a 0-d NumPy scalar is turned into an array so views share it)."""
    d = x._data
    return d if d.__class__ is _nd else x._array()


def _mk(cls: type, x: Tensor, out: Any, fn: Any, attrs: dict | None = None) -> Tensor:
    """Wrap the view ``out`` of ``x``: node ``cls`` when ``x`` requires grad, then ``as_view``."""
    e = x._edge
    if e is None or not STATE.enabled:
        return as_view(new(out, None), x, fn)
    n = cls()
    n._next = (e,)
    if attrs:
        n.__dict__.update(attrs)
    mark(n)
    return as_view(new(out, (n, 0)), x, fn)


def _zeros(g: Any, shape: tuple) -> Any:
    """Zeros of ``shape`` in ``g``'s mode and dtype (array, or a constant Tensor)."""
    if type(g) in ARRAY_TYPES:
        return np.zeros(shape, g.dtype)
    return new(np.zeros(shape, g._data.dtype), None)


def _ints(seq: Any, fname: str, arg: str) -> tuple:
    """A tuple of python ints (torch's TypeError for anything else)."""
    out = []
    for i, s in enumerate(seq):
        if s.__class__ is not int:
            try:
                s = operator.index(s)
            except TypeError:
                raise TypeError(
                    f"{fname}(): argument '{arg}' failed to unpack the object at pos {i + 1} with "
                    f'error "type must be tuple of ints,but got {type(s).__name__}"'
                ) from None
        out.append(s)
    return tuple(out)


def _infer(shape: tuple, numel: int, fname: str, arg: str) -> tuple:
    """Validate a view shape against ``numel`` and fill in its -1 (torch's errors)."""
    shape = _ints(shape, fname, arg)
    infer, prod = -1, 1
    for i, s in enumerate(shape):
        if s == -1:
            if infer >= 0:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
        else:
            prod *= s
    hint = f" Hint: the new shape must hold exactly {numel} elements."
    if infer >= 0:
        if prod == 0 and numel == 0:
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                "unspecified dimension size -1 can be any value and is ambiguous"
            )
        if prod == 0 or numel % prod:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}.{hint}")
        return shape[:infer] + (numel // prod,) + shape[infer + 1:]
    if prod != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}." + hint)
    return shape


def _expand_shape(d: np.ndarray, size: tuple) -> tuple:
    """The target of ``expand(size)`` with -1 filled in (torch's errors)."""
    size = _ints(size, "expand", "size")
    shp = d.shape
    nd, n = len(shp), len(size)
    if n < nd:
        raise RuntimeError(
            f"expand({type_desc(d)[1:].split(' ')[0]}{{{list(shp)}}}, "
            f"size={list(size)}): the number of sizes provided ({n}) must be greater or equal to "
            f"the number of dimensions in the tensor ({nd})"
        )
    lead = n - nd
    out = list(size)
    for i, s in enumerate(size):
        if i < lead:
            if s < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                    f"non-existing dimension {i}"
                )
            continue
        cur = shp[i - lead]
        if s == -1:
            out[i] = cur
        elif cur != 1 and s != cur:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(size)}.  Tensor sizes: "
                f"{list(shp)}"
            )
        elif s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out}")
    return tuple(out)
