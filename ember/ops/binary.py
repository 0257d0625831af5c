"""Elementwise binary math: maximum/minimum, fmax/fmin, atan2, hypot, copysign, xlogy, and the
division family floor_divide / remainder / fmod (re-exported by pointwise.py).

Gradient conventions follow torch: maximum/minimum split the gradient on ties, fmax/fmin send it
to the non-NaN side, floor_divide and a number's remainder by a tensor have no derivative.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from ._core import (
    Node,
    Tensor,
    binary,
    binary_args,
    needs,
    ns,
    register,
    unary,
)
from ._helpers import _const, _need_tensor, _not_impl, _zeros

__all__ = [
    "maximum", "minimum", "fmax", "fmin", "atan2", "arctan2", "hypot", "copysign", "xlogy",
    "floor_divide", "remainder", "fmod",
]


def _tt(fn: str, input: Tensor, other: Any) -> tuple:
    """Promoted data of two Tensors (``other`` must be a Tensor, like torch)."""
    if not isinstance(other, Tensor):
        raise _need_tensor(fn, "other", 2, other)
    return binary_args(input, other)


def _fargs(input: Tensor, other: Any) -> tuple:
    """Promoted data for float math: integral results become the default float dtype."""
    a, b = binary_args(input, other)
    if a.dtype.kind in "biu":
        a = a.astype(D.default_np())
        if isinstance(b, (np.ndarray, np.generic)):
            b = b.astype(a.dtype)
    return a, b


class MaximumBackward0(Node):
    """out = max(a, b);  the larger input gets g, each gets g/2 on ties (both get it for NaN)."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        h = xp.where(a == b, g / 2, g)
        return (xp.where(a < b, 0.0, h) if needs(self, 0) else None,
                xp.where(a > b, 0.0, h) if needs(self, 1) else None)


class MinimumBackward0(Node):
    """out = min(a, b);  the smaller input gets g, each gets g/2 on ties."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        h = xp.where(a == b, g / 2, g)
        return (xp.where(a > b, 0.0, h) if needs(self, 0) else None,
                xp.where(a < b, 0.0, h) if needs(self, 1) else None)


@register("maximum")
def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise max(input, other) (NaN propagates)."""
    a, b = _tt("maximum", input, other)
    return binary(MaximumBackward0, input, other, np.maximum(a, b), save=1)


@register("minimum")
def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise min(input, other) (NaN propagates)."""
    a, b = _tt("minimum", input, other)
    return binary(MinimumBackward0, input, other, np.minimum(a, b), save=1)


class FmaxBackward0(Node):
    """out = fmax(a, b) (NaN ignored);  a gets g where a >= b or b is NaN, b elsewhere."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        m = (a >= b) | xp.isnan(b)
        return (xp.where(m, g, 0.0) if needs(self, 0) else None,
                xp.where(m, 0.0, g) if needs(self, 1) else None)


class FminBackward0(Node):
    """out = fmin(a, b) (NaN ignored);  a gets g where a <= b or b is NaN, b elsewhere."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        m = (a <= b) | xp.isnan(b)
        return (xp.where(m, g, 0.0) if needs(self, 0) else None,
                xp.where(m, 0.0, g) if needs(self, 1) else None)


@register("fmax")
def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise max(input, other), ignoring NaN when only one side is NaN."""
    a, b = _tt("fmax", input, other)
    return binary(FmaxBackward0, input, other, np.fmax(a, b), save=1)


@register("fmin")
def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise min(input, other), ignoring NaN when only one side is NaN."""
    a, b = _tt("fmin", input, other)
    return binary(FminBackward0, input, other, np.fmin(a, b), save=1)


class Atan2Backward0(Node):
    """out = atan2(a, b);  da = g b / (a^2 + b^2), db = -g a / (a^2 + b^2)."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        r = g / (a * a + b * b)
        return (r * b if needs(self, 0) else None, -r * a if needs(self, 1) else None)


@register("atan2", "arctan2")
def atan2(input: Tensor, other: Tensor) -> Tensor:
    """Angle of the point (other, input): arctan(input / other) in the right quadrant."""
    if not isinstance(other, Tensor):
        raise _need_tensor("atan2", "other", 2, other)
    a, b = _fargs(input, other)
    return binary(Atan2Backward0, input, other, np.arctan2(a, b), save=1)


arctan2 = atan2


class HypotBackward0(Node):
    """out = sqrt(a^2 + b^2);  da = g a / out, db = g b / out."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        r = g / self._result(g)
        return (r * a if needs(self, 0) else None, r * b if needs(self, 1) else None)


@register("hypot")
def hypot(input: Tensor, other: Tensor) -> Tensor:
    """sqrt(input^2 + other^2) without overflow."""
    a, b = _tt("hypot", input, other)
    if a.dtype.kind != "f":
        raise _not_impl("hypot_cpu", a.dtype)
    return binary(HypotBackward0, input, other, np.hypot(a, b), save=1, save_out=True)


class CopysignBackward0(Node):
    """out = |a| sign(b);  da = g out / a (0 where a == 0), db = 0."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        ga = g * ns(g).where(a == 0, 0.0, self._result(g) / a) if needs(self, 0) else None
        return ga, (_zeros(g) if needs(self, 1) else None)


class CopysignBackward1(Node):
    """out = |a| sign(c), c a number;  da = g out / a (0 where a == 0)."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        return (g * ns(g).where(a == 0, 0.0, self._result(g) / a),)


@register("copysign")
def copysign(input: Tensor, other: Any) -> Tensor:
    """|input| with the sign of other."""
    a, b = _fargs(input, other)
    r = np.copysign(a, b)
    if isinstance(other, Tensor):
        return binary(CopysignBackward0, input, other, r, save=2, save_out=True)
    return unary(CopysignBackward1, input, r, save_input=True, save_out=True)


def _xlogy_np(x: Any, y: Any) -> Any:
    ly = np.log(y) if isinstance(y, np.ndarray | np.generic) else float(np.log(np.float64(y)))
    r = np.where(x == 0, 0, x * ly)
    return np.where(y != y, np.nan, r)


class XlogyBackward0(Node):
    """out = a log(b) (0 where a == 0);  da = g log(b) where a != 0, db = g a / b."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        ga = g * xp.where(a != 0, xp.log(b), 0.0) if needs(self, 0) else None
        return ga, (g * a / b if needs(self, 1) else None)


class XlogyBackward1(Node):
    """out = c log(b), c a number;  db = g c / b."""

    def backward(self, g: Any) -> tuple:
        (b,) = self._unpack(g)
        return (g * self.scalar / b,)


class XlogyBackward2(Node):
    """out = a log(c), c a number;  da = g log(c) where a != 0."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        lc = float(np.log(np.float64(self.scalar)))
        return (ns(g).where(a != 0, g * lc, 0.0),)


@register("xlogy")
def xlogy(input: Any, other: Any) -> Tensor:
    """input * log(other), 0 where input == 0 (NaN where other is NaN)."""
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            raise _need_tensor("xlogy", "other", 2, other)
        b, a = _fargs(other, input)
        return unary(XlogyBackward1, other, _xlogy_np(a, b), save_input=True, scalar=a)
    a, b = _fargs(input, other)
    if isinstance(other, Tensor):
        return binary(XlogyBackward0, input, other, _xlogy_np(a, b), save=1)
    return unary(XlogyBackward2, input, _xlogy_np(a, b), save_input=True, scalar=b)


class NotImplementedBackward(Node):
    """torch's node for ops without a derivative: backward through it raises."""

    _name = "torch::autograd::NotImplemented"
    op = ""

    def backward(self, g: Any) -> tuple:
        raise RuntimeError(
            f"derivative for aten::{self.op} is not implemented. Hint: the result is piecewise "
            "constant; compute it on detached inputs (x.detach()) or under ember.no_grad()."
        )


def _int_div_args(input: Tensor, other: Any, kernel: str, swap: bool = False) -> tuple:
    """Promoted operands of // % fmod; integer division by zero raises like torch."""
    a, b = binary_args(input, other)
    if a.dtype.kind in "biu":
        if a.dtype.kind == "b" and (type(b) is bool or getattr(b, "dtype", None) == np.bool_):
            raise _not_impl(kernel, a.dtype)
        if np.any((a if swap else b) == 0):
            raise RuntimeError(
                "ZeroDivisionError. Hint: integer division by zero is undefined; convert to "
                "float (x.float()) to get inf/nan instead."
            )
    return (b, a) if swap else (a, b)


@register("floor_divide", "__floordiv__")
def floor_divide(input: Tensor, other: Any) -> Tensor:
    """floor(input / other) (no derivative: backward raises, like torch)."""
    a, b = _int_div_args(input, other, "div_floor_cpu")
    return binary(NotImplementedBackward, input, other, np.floor_divide(a, b), op="floor_divide")


@register("__rfloordiv__")
def rfloordiv(input: Tensor, other: Any) -> Tensor:
    """floor(other / input) for a number ``other``."""
    if isinstance(other, Tensor):
        return floor_divide(other, input)
    c, a = _int_div_args(input, other, "div_floor_cpu", swap=True)
    return unary(NotImplementedBackward, input, np.floor_divide(c, a), op="floor_divide")


class RemainderBackward0(Node):
    """out = a mod c, c a number;  da = g."""

    def backward(self, g: Any) -> tuple:
        return (g,)


class RemainderBackward1(Node):
    """out = a - b floor(a / b);  da = g, db = -g floor(a / b)."""

    def backward(self, g: Any) -> tuple:
        gb = None
        if needs(self, 1):
            a, b = (x._data if isinstance(x, Tensor) else x for x in self._unpack(g))
            gb = -g * _const(g, np.floor_divide(a, b))
        return (g if needs(self, 0) else None), gb


@register("remainder", "__mod__")
def remainder(input: Any, other: Any) -> Tensor:
    """input - other * floor(input / other): the sign follows the divisor (Python's %)."""
    if not isinstance(input, Tensor):
        return rmod(other, input)
    a, b = _int_div_args(input, other, "remainder_cpu")
    r = np.remainder(a, b)
    if isinstance(other, Tensor):
        return binary(RemainderBackward1, input, other, r, save=1)
    return unary(RemainderBackward0, input, r)


@register("__rmod__")
def rmod(input: Tensor, other: Any) -> Tensor:
    """other mod input for a number ``other`` (no derivative, like torch)."""
    if isinstance(other, Tensor):
        return remainder(other, input)
    c, a = _int_div_args(input, other, "remainder_cpu", swap=True)
    return unary(NotImplementedBackward, input, np.remainder(c, a), op="remainder")


class FmodBackward0(Node):
    """out = fmod(a, c), c a number;  da = g."""

    def backward(self, g: Any) -> tuple:
        return (g,)


class FmodBackward1(Node):
    """out = a - b trunc(a / b);  da = g, db = -g trunc(a / b)."""

    def backward(self, g: Any) -> tuple:
        gb = None
        if needs(self, 1):
            a, b = (x._data if isinstance(x, Tensor) else x for x in self._unpack(g))
            gb = -g * _const(g, np.trunc(np.true_divide(a, b)))
        return (g if needs(self, 0) else None), gb


@register("fmod")
def fmod(input: Tensor, other: Any) -> Tensor:
    """C's fmod: input - other * trunc(input / other) (the sign follows the dividend)."""
    a, b = _int_div_args(input, other, "fmod_cpu")
    r = np.fmod(a, b)
    if isinstance(other, Tensor):
        return binary(FmodBackward1, input, other, r, save=1)
    return unary(FmodBackward0, input, r)

