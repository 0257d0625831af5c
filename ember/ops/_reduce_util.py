"""Helpers shared by the reduction modules (reduction.py, stats.py, scan.py).

Dims follow torch: an int, a tuple/list (``()``/``[]`` = all), or None; negative dims wrap.
Backward rules restore the reduced dims of ``g`` (``_restore``) and broadcast with ``xp.expand``.
Masks (argmax positions, ties, zeros) are NumPy constants computed from the saved data; ``_c``
turns them into Tensors when the rule runs on Tensors (``create_graph=True``).
Also home of ``ember.return_types`` (torch's named tuples: max, min, median, aminmax ...).
"""

from __future__ import annotations

import sys
import types
from collections import namedtuple
from typing import Any

import numpy as np

from .. import _dtype as D
from ..autograd.graph import ARRAY_TYPES
from ._core import STATE, Tensor, new, record, unary, wrap_dim

_ARR = ARRAY_TYPES  # ndarray or a NumPy scalar: the array mode of a rule
_I64 = np.dtype(np.int64)
_INF = float("inf")
_LEGACY = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
           "bool": "Bool"}

# ---------------------------------------------------------------------------- return types
return_types = types.ModuleType("ember.return_types", "Named tuples returned by ops (torch's).")
sys.modules["ember.return_types"] = return_types


def return_type(name: str, fields: tuple) -> type:
    """The named-tuple class ``ember.return_types.<name>`` (created once, printed like torch)."""
    cls = getattr(return_types, name, None)
    if cls is None:
        base = namedtuple(name, fields)  # noqa: PYI024

        def __repr__(self: Any) -> str:  # noqa: N807
            body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self, strict=True))
            return f"ember.return_types.{name}(\n{body})"

        cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                                   "__module__": "ember.return_types"})
        setattr(return_types, name, cls)
    return cls


# ---------------------------------------------------------------------------- helpers
def _axes(dim: Any, ndim: int) -> tuple | None:
    """Normalised reduction axes (None = all); torch's errors for bad or repeated dims."""
    if dim is None:
        return None
    if isinstance(dim, int):
        if -ndim <= dim < ndim:
            return (dim + ndim if dim < 0 else dim,)
        wrap_dim(dim, ndim)  # raises when out of range
        return ()
    dims = tuple(dim)
    if not dims:
        return None
    out: list = []
    for x in dims:
        w = wrap_dim(x, ndim)
        if w in out:
            raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
        out.append(w)
    return tuple(out) if ndim else ()


def _kshape(shape: tuple, axes: tuple | None, keepdim: bool) -> tuple | None:
    """Shape of ``g`` with the reduced dims put back as 1 (None when ``g`` already broadcasts)."""
    if keepdim or axes is None or not shape:
        return None
    s = list(shape)
    for a in axes:
        s[a] = 1
    return tuple(s)


def _restore(xp: Any, g: Any, kshape: tuple | None) -> Any:
    return g if kshape is None else xp.reshape(g, kshape)


def _c(g: Any, a: Any) -> Any:
    """A NumPy constant in the mode of ``g`` (an array, or a Tensor without grad)."""
    return a if type(g) in _ARR else new(np.asarray(a), None)


def _raw(v: Any) -> Any:
    return v._data if isinstance(v, Tensor) else v


def _dims_alias(dim: Any, keepdim: Any, axis: Any, keepdims: Any) -> tuple:
    """torch's numpy-style aliases ``axis=`` / ``keepdims=``."""
    return (axis if dim is None else dim), bool(keepdim or keepdims)


def _np_dtype(dtype: Any, d: Any) -> Any:
    """Accumulation dtype: ``dtype=`` if given; integers and bools sum in int64 (torch)."""
    if dtype is not None:
        return D.to_np(dtype)
    return _I64 if d.dtype.kind in "biu" else None


def _wrap(cls: type, input: Tensor, r: Any, src: Any, **attrs: Any) -> Tensor:
    """``unary`` that, for ``dtype=`` reductions, casts the gradient back to the input dtype."""
    if src.dtype != r.dtype and input._edge is not None and STATE.enabled:
        if r.dtype.kind not in "fc":
            raise RuntimeError(
                f"Autograd not support dtype: {_LEGACY[str(r.dtype)]}. Hint: reduce in a float "
                "dtype, or call .detach() first."
            )
        attrs["_meta"] = ((src.shape, src.dtype),)
    return unary(cls, input, r, **attrs)


def _two(cls: type, input: Tensor, o0: Any, o1: Any, save_out: bool = False,
         **attrs: Any) -> tuple:
    """Two differentiable outputs of one node (var_mean, aminmax ...)."""
    t0 = record(cls, (input,), o0, saved=(input,), save_out=save_out, **attrs)
    e = t0._edge
    if e is None:
        return t0, new(o1, None)
    e[0]._nout = 2
    return t0, new(o1, (e[0], 1))


def _float_only(input: Tensor, what: str) -> None:
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"{what}: Expected a floating point or complex tensor as input. Got "
            f"{_LEGACY.get(str(input._data.dtype), input._data.dtype)}. Hint: convert it first, "
            "e.g. x.float()."
        )


def _empty_check(d: Any, name: str, axes: tuple | None) -> None:
    if d.size:
        return
    if axes is None:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            "the reduction dim with the 'dim' argument."
        )
    for a in axes:
        if d.shape[a] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size.")

