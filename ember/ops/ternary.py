"""lerp, where and clamp (with clamp_min / clamp_max): elementwise ops of up to three
Tensor-or-number inputs (re-exported by pointwise.py).

clamp passes the gradient at its bounds (like torch); with tensor bounds the gradient goes to the
active bound outside [min, max].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from ._core import (
    Node,
    Tensor,
    as_tensor_arg,
    binary,
    binary_args,
    check_broadcast,
    needs,
    new,
    ns,
    register,
    unary,
)
from ._helpers import _bcast, _need_tensor, _not_impl, _rec, _tname

__all__ = [
    "lerp", "where", "clamp", "clip", "clamp_min", "clamp_max",
]

_CNAMES = {"float32": "float", "float64": "double", "float16": "c10::Half"}


class LerpBackward0(Node):
    """out = a + w (b - a), w a number;  da = g (1 - w), db = g w."""

    def backward(self, g: Any) -> tuple:
        w = self.weight
        return (g * (1 - w) if needs(self, 0) else None, g * w if needs(self, 1) else None)


class LerpBackward1(Node):
    """out = a + w (b - a);  da = g (1 - w), db = g w, dw = g (b - a)."""

    def backward(self, g: Any) -> tuple:
        a, b, w = self._unpack(g)
        return (g * (1 - w) if needs(self, 0) else None, g * w if needs(self, 1) else None,
                g * (b - a) if needs(self, 2) else None)


@register("lerp")
def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """input + weight * (end - input) (torch's two-sided formula for accuracy)."""
    if not isinstance(end, Tensor):
        raise _need_tensor("lerp", "end", 2, end)
    a, b = input._data, end._data
    dt = a.dtype
    wt = isinstance(weight, Tensor)
    if dt.kind != "f":
        raise _not_impl("lerp_kernel_tensor" if wt else "lerp_kernel_scalar", dt)
    w = weight._data if wt else weight
    for nm, x in (("end", b), ("weight", w if wt else None)):
        if x is not None and x.dtype != dt and not (nm == "weight" and x.ndim == 0):
            raise RuntimeError(
                f"expected dtype {_CNAMES.get(str(dt), dt)} for `{nm}` but got dtype "
                f"{_CNAMES.get(str(x.dtype), x.dtype)}. Hint: convert it: {nm}.to(input.dtype)."
            )
    if a.shape != b.shape:
        check_broadcast(a.shape, b.shape)
    d = b - a
    if not wt:
        w = w.item() if isinstance(w, np.generic) else w
        r = a + w * d if -0.5 < w < 0.5 else b - d * (1 - w)
        return binary(LerpBackward0, input, end, r, weight=w)
    w = w.astype(dt, copy=False)
    if w.shape != d.shape:
        check_broadcast(d.shape, w.shape)
    r = np.where(np.abs(w) < 0.5, a + w * d, b - d * (1 - w))
    ins = (input, end, weight)
    return _rec(LerpBackward1, ins, r, ins)


class WhereBackward0(Node):
    """out = where(c, a, b);  da = g where c, db = g where not c."""

    def backward(self, g: Any) -> tuple:
        (c,) = self._unpack(g)
        xp = ns(g)
        return (xp.where(c, g, 0.0) if needs(self, 0) else None,
                xp.where(c, 0.0, g) if needs(self, 1) else None)


def _where_data(input: Any, other: Any) -> tuple:
    if isinstance(input, Tensor):
        return binary_args(input, other)
    if isinstance(other, Tensor):
        b, a = binary_args(other, input)
        return a, b
    kinds = {D.scalar_kind(input), D.scalar_kind(other)}
    dt = D.default_np() if 2 in kinds else np.dtype(np.int64 if 1 in kinds else np.bool_)
    return np.asarray(input, dt), np.asarray(other, dt)


@register()
def where(condition: Tensor, input: Any = None, other: Any = None) -> Any:
    """input where condition else other (tensors or numbers, broadcasting)."""
    try:
        c = condition._data
    except AttributeError:  # an array or bool (backward rules may pass raw masks)
        c = np.asarray(condition)
    if input is None and other is None:
        from .indexing import nonzero  # lazy: keeps the op modules' import order free

        return nonzero(condition if isinstance(condition, Tensor) else new(c, None), as_tuple=True)
    if c.dtype != np.bool_:
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{_tname(c.dtype)}. Hint: compare first, e.g. where(x > 0, ...), or call .bool()."
        )
    a, b = _where_data(input, other)
    try:
        r = np.where(c, a, b)
    except ValueError:
        _bcast(c.shape, np.shape(a), np.shape(b))
        raise
    return _rec(WhereBackward0, (input, other), r, (condition,))


@register("where", namespace=False)
def _where_method(self: Tensor, condition: Tensor, other: Any) -> Tensor:
    """self where condition else other."""
    return where(condition, self, other)


class ClampBackward1(Node):
    """out = clamp(a, min, max), number bounds;  da = g where min <= a <= max (bounds included)."""

    min = max = None

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        lo, hi = self.min, self.max
        m = a <= hi if lo is None else (a >= lo if hi is None else (a >= lo) & (a <= hi))
        return (ns(g).where(m, g, 0.0),)


class ClampBackward0(Node):
    """out = clamp(a, min, max), tensor bounds: g goes to a inside, else to the active bound."""

    def backward(self, g: Any) -> tuple:
        a, lo, hi = self._unpack(g)
        xp = ns(g)
        ga = glo = ghi = None
        if lo is not None and hi is not None:
            if needs(self, 0):
                ga = xp.where((a >= lo) & (a <= hi), g, 0.0)
            if needs(self, 1):
                glo = xp.where((a < lo) & (lo < hi), g, 0.0)
            if needs(self, 2):
                ghi = xp.where((a > hi) | (hi < lo), g, 0.0)
        elif lo is not None:
            ga = xp.where(a >= lo, g, 0.0) if needs(self, 0) else None
            glo = xp.where(a < lo, g, 0.0) if needs(self, 1) else None
        else:
            ga = xp.where(a <= hi, g, 0.0) if needs(self, 0) else None
            ghi = xp.where(a > hi, g, 0.0) if needs(self, 2) else None
        return ga, glo, ghi


def _common_dtype(arrs: list) -> np.dtype:
    acc = arrs[0]
    for x in arrs[1:]:
        rt = D.result_type(acc, x)
        acc = np.empty((1,) if (acc.ndim or x.ndim) else (), rt)
    return acc.dtype


@register("clamp", "clip")
def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """min(max(input, min), max); NaN stays NaN, and min > max gives max everywhere."""
    d = input._data
    if min is None and max is None:
        raise RuntimeError(
            "torch.clamp: At least one of 'min' or 'max' must not be None. Hint: pass min=..., "
            "max=... or both."
        )
    lt, ht = isinstance(min, Tensor), isinstance(max, Tensor)
    if lt or ht:  # tensor bounds (a number next to a tensor bound becomes a 0-d tensor)
        if min is not None and not lt:
            min, lt = as_tensor_arg(min, input), True
        if max is not None and not ht:
            max, ht = as_tensor_arg(max, input), True
        ts = [t for t in (input, min, max) if t is not None]
        dt = _common_dtype([t._data for t in ts])
        r = d.astype(dt, copy=False)
        try:
            if lt:
                r = np.maximum(r, min._data.astype(dt, copy=False))
            if ht:
                r = np.minimum(r, max._data.astype(dt, copy=False))
        except ValueError:
            _bcast(*(t._data.shape for t in ts))
            raise
        ins = (input, min, max)
        return _rec(ClampBackward0, ins, r, ins)
    if isinstance(min, np.generic):
        min = min.item()
    if isinstance(max, np.generic):
        max = max.item()
    return unary(ClampBackward1, input, _clamp_num(d, min, max), save_input=True, min=min,
                 max=max)


def _clamp_num(d: Any, lo: Any, hi: Any) -> Any:
    """Clamp data between python numbers (None = unbounded), torch's dtype and -0.0/NaN rules."""
    dt = d.dtype
    if dt.kind != "f":  # numbers never change a float tensor's dtype
        for x in (lo, hi):
            if x is not None:
                dt = D.scalar_result(dt, x)
    r = d.astype(dt) if dt != d.dtype else d
    if lo != lo or hi != hi:  # a NaN bound makes everything NaN
        return np.full(np.shape(r), np.nan, dt)
    # np.maximum/minimum propagate NaN but may turn -0.0 into +0.0 on a tie with a zero bound;
    # there (only) np.where keeps torch's result
    if lo is not None:
        r = np.where(r < lo, lo, r) if lo == 0 else np.maximum(r, lo)
    if hi is not None:
        r = np.where(r > hi, hi, r) if hi == 0 else np.minimum(r, hi)
    return r


clip = clamp


class ClampMinBackward0(Node):
    """out = max(a, c), c a number;  da = g where a >= c."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        return (ns(g).where(a >= self.min, g, 0.0),)


class ClampMinBackward1(Node):
    """out = max(a, b);  da = g where a >= b, db = g where a < b."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        return (xp.where(a >= b, g, 0.0) if needs(self, 0) else None,
                xp.where(a < b, g, 0.0) if needs(self, 1) else None)


class ClampMaxBackward0(Node):
    """out = min(a, c), c a number;  da = g where a <= c."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        return (ns(g).where(a <= self.max, g, 0.0),)


class ClampMaxBackward1(Node):
    """out = min(a, b);  da = g where a <= b, db = g where a > b."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        return (xp.where(a <= b, g, 0.0) if needs(self, 0) else None,
                xp.where(a > b, g, 0.0) if needs(self, 1) else None)


@register("clamp_min")
def clamp_min(input: Tensor, min: Any) -> Tensor:
    """max(input, min)."""
    if isinstance(min, Tensor):
        a, b = binary_args(input, min)
        return binary(ClampMinBackward1, input, min, np.maximum(a, b), save=1)
    if isinstance(min, np.generic):
        min = min.item()
    return unary(ClampMinBackward0, input, _clamp_num(input._data, min, None), save_input=True,
                 min=min)


@register("clamp_max")
def clamp_max(input: Tensor, max: Any) -> Tensor:
    """min(input, max)."""
    if isinstance(max, Tensor):
        a, b = binary_args(input, max)
        return binary(ClampMaxBackward1, input, max, np.minimum(a, b), save=1)
    if isinstance(max, np.generic):
        max = max.item()
    return unary(ClampMaxBackward0, input, _clamp_num(input._data, None, max), save_input=True,
                 max=max)

