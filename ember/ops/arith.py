"""Arithmetic operators: + - * / ** and negation, with tensors or python scalars on either side."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from ..autograd.graph import ARRAY_TYPES as _ARR
from ..autograd.graph import FREED, WEAK, ZERO2, ZERO_F
from ._core import (
    Node,
    Tensor,
    as_tensor_arg,
    binary,
    binary_args,
    needs,
    new,
    ns,
    pair,
    register,
    specialized,
    weak,
    write_out,
)
from ._core import unary as _unary

_pyfloat, _pyint = float, int
_ndarray = np.ndarray
_F32 = np.dtype(np.float32)
_W32 = WEAK[_F32]  # weak()'s float32 cache, read inline on the hot paths

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg",
           "negative", "pow", "rsub", "square", "float_power"]


def _s0(d: Any) -> Any:
    """0-d data as a NumPy scalar: scalar math is several times cheaper than 0-d arrays' (and
    gives the same bits and the same NumPy-scalar result type)."""
    return d[()] if type(d) is _ndarray else d


def _swap(input: Any, other: Any) -> tuple:
    """For functions called as ``f(number, tensor)``: make the first argument a Tensor."""
    if isinstance(input, Tensor):
        return input, other
    return as_tensor_arg(input, other if isinstance(other, Tensor) else None), other


class AddBackward0(Node):
    """out = a + b;  da = g, db = g."""

    alpha = 1

    def backward(self, g: Any) -> tuple:
        return g, g


class _AddAlphaBackward0(AddBackward0):
    """out = a + alpha * b;  da = g, db = alpha * g.  torch's AddBackward0 with alpha != 1 (a
    subclass of the same name, so that the common rule need not look alpha up)."""

    def backward(self, g: Any) -> tuple:
        return g, g * self.alpha


_AddAlphaBackward0.__name__ = _AddAlphaBackward0.__qualname__ = "AddBackward0"


_pair_add = specialized(pair)  # each op its own copy (see _core.specialized)
_pair_sub = specialized(pair)
_pair_mul = specialized(pair)
_pair_div = specialized(pair)


@register("add", "__add__", "__radd__")
def add(input: Tensor, other: Any, *, alpha: Any = 1, out: Any = None) -> Tensor:
    """input + alpha * other (broadcasting; python scalars on either side)."""
    if out is None and alpha == 1 and type(input) is Tensor:
        to = type(other)
        if to is Tensor:
            a, b = input._data, other._data
            if a.dtype is b.dtype and a.shape == b.shape:  # the common case, without promotion
                if not a.shape:  # 0-d: NumPy scalars (see _s0)
                    a = a[()] if type(a) is _ndarray else a
                    b = b[()] if type(b) is _ndarray else b
                return _pair_add(AddBackward0, input, other, a + b, 0)
        elif (to is _pyfloat or to is _pyint) and input._data.dtype.kind == "f":
            a = input._data
            if type(a) is _ndarray:  # a cached 0-d array of a's dtype (see weak)
                dt = a.dtype
                z = _W32.get(other) if dt is _F32 else None
                other = weak(other, dt) if z is None else z
            return _pair_add(AddBackward0, input, other, a + other, 0)
    input, other = _swap(input, other)
    a, b = binary_args(input, other)
    if alpha != 1:
        b = b * alpha
    r = a + b
    if out is not None:
        return write_out("add", out, r, input, other)
    if alpha != 1:
        return binary(_AddAlphaBackward0, input, other, r, alpha=alpha)
    return binary(AddBackward0, input, other, r)


class SubBackward0(Node):
    """out = a - b;  da = g, db = -g."""

    alpha = 1

    def backward(self, g: Any) -> tuple:
        return g, -g


class _SubAlphaBackward0(SubBackward0):
    """out = a - alpha * b;  da = g, db = -alpha * g (torch's SubBackward0 with alpha != 1)."""

    def backward(self, g: Any) -> tuple:
        return g, g * -self.alpha


_SubAlphaBackward0.__name__ = _SubAlphaBackward0.__qualname__ = "SubBackward0"


@register("sub", "subtract", "__sub__")
def sub(input: Tensor, other: Any, *, alpha: Any = 1, out: Any = None) -> Tensor:
    """input - alpha * other."""
    if out is None and alpha == 1 and type(input) is Tensor:
        to = type(other)
        if to is Tensor:
            a, b = input._data, other._data
            if a.dtype is b.dtype and a.shape == b.shape and a.dtype.kind != "b":
                return _pair_sub(SubBackward0, input, other,
                                 a - b if a.shape else _s0(a) - _s0(b), 0)
        elif (to is _pyfloat or to is _pyint) and input._data.dtype.kind == "f":
            a = input._data
            if type(a) is _ndarray:  # a cached 0-d array of a's dtype (see weak)
                dt = a.dtype
                z = _W32.get(other) if dt is _F32 else None
                other = weak(other, dt) if z is None else z
            return _pair_sub(SubBackward0, input, other, a - other, 0)
    input, other = _swap(input, other)
    if input._data.dtype == np.bool_ and (
        isinstance(other, bool) or (isinstance(other, Tensor) and other._data.dtype == np.bool_)
    ):
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
            "or `logical_xor()` operator instead."
        )
    a, b = binary_args(input, other)
    if alpha != 1:
        b = b * alpha
    r = a - b
    if out is not None:
        return write_out("sub", out, r, input, other)
    if alpha != 1:
        return binary(_SubAlphaBackward0, input, other, r, alpha=alpha)
    return binary(SubBackward0, input, other, r)


subtract = sub


class RsubBackward1(Node):
    """out = other - alpha * a  (``number - tensor``);  da = -alpha * g."""

    alpha = 1

    def backward(self, g: Any) -> tuple:
        return (-g if self.alpha == 1 else g * -self.alpha), None


@register("__rsub__")
def rsub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """other - alpha * input (``2 - x``)."""
    if isinstance(other, Tensor):
        return sub(other, input, alpha=alpha)
    a, b = binary_args(input, other)
    r = b - (a if alpha == 1 else a * alpha)
    return binary(RsubBackward1, input, other, r, alpha=alpha) if alpha != 1 else binary(
        RsubBackward1, input, other, r)


class MulBackward0(Node):
    """out = a * b;  da = g * b, db = g * a."""

    def backward(self, g: Any) -> tuple:
        tg = type(g)
        if tg in _ARR:  # arrays, not Tensors: the common cases of Node._unpack, inlined
            s, v = self._saved, self._vers
            if v is ZERO_F and s is not FREED:  # tensor * number: only the tensor needs g
                a, b = s
                vc = a._vc
                if (vc is None or not vc[0]) and (type(b) is not _ndarray or b.dtype is g.dtype):
                    return g * b, None
            elif v is ZERO2 and s is not FREED:
                a, b = s
                va, vb = a._vc, b._vc
                if (va is None or not va[0]) and (vb is None or not vb[0]):
                    ad, bd = a._data, b._data
                    if tg is not _ndarray:  # a NumPy scalar: 0-d operands too (see _s0)
                        if type(ad) is _ndarray:
                            ad = ad[()]
                        if type(bd) is _ndarray:
                            bd = bd[()]
                    nx = self._next
                    return ((g * bd if nx[0][0] is not None else None),
                            (g * ad if nx[1][0] is not None else None))
        a, b = self._unpack(g)
        nx = self._next
        return (g * b if nx[0][0] is not None else None), (g * a if nx[1][0] is not None else None)


@register("mul", "multiply", "__mul__", "__rmul__")
def mul(input: Tensor, other: Any, *, out: Any = None) -> Tensor:
    """input * other (broadcasting)."""
    if out is None and type(input) is Tensor:
        to = type(other)
        if to is Tensor:
            a, b = input._data, other._data
            if a.dtype is b.dtype and a.shape == b.shape:  # the common case, without promotion
                if not a.shape:  # 0-d: NumPy scalars (see _s0)
                    a = a[()] if type(a) is _ndarray else a
                    b = b[()] if type(b) is _ndarray else b
                return _pair_mul(MulBackward0, input, other, a * b, 1)
        elif (to is _pyfloat or to is _pyint) and input._data.dtype.kind == "f":
            a = input._data
            if type(a) is _ndarray:  # a cached 0-d array of a's dtype (see weak)
                dt = a.dtype
                z = _W32.get(other) if dt is _F32 else None
                other = weak(other, dt) if z is None else z
            return _pair_mul(MulBackward0, input, other, a * other, 1)
    input, other = _swap(input, other)
    a, b = binary_args(input, other)
    r = a * b
    if out is not None:
        return write_out("mul", out, r, input, other)
    return binary(MulBackward0, input, other, r, save=1)


multiply = mul


class DivBackward0(Node):
    """out = a / b;  da = g / b, db = -g * a / b**2."""

    def backward(self, g: Any) -> tuple:
        if type(g) is _ndarray and self._vers is ZERO_F:  # tensor / number, _unpack inlined
            s = self._saved
            if s is not FREED:
                a, b = s
                vc = a._vc
                if (vc is None or not vc[0]) and (type(b) is not _ndarray or b.dtype is g.dtype):
                    return g / b, None
        a, b = self._unpack(g)
        nx = self._next
        ga = g / b if nx[0][0] is not None else None
        gb = -g * a / (b * b) if nx[1][0] is not None else None
        return ga, gb


def _div_args(input: Tensor, other: Any) -> tuple:
    a, b = binary_args(input, other)
    if getattr(a, "dtype", None) is not None and a.dtype.kind in "biu" and (
        not isinstance(b, (np.ndarray, np.generic)) or b.dtype.kind in "biu"
    ):
        # true division of integers gives the default float dtype (torch), not float64
        a = a.astype(D.default_np())
    return a, b


@register("div", "divide", "true_divide", "__truediv__")
def div(input: Tensor, other: Any, *, rounding_mode: str | None = None, out: Any = None) -> Tensor:
    """input / other (true division; ``rounding_mode`` 'trunc' or 'floor' rounds the result)."""
    if out is None and rounding_mode is None and type(input) is Tensor:
        to = type(other)
        a = input._data
        if a.dtype.kind == "f":
            if to is Tensor:
                b = other._data
                if a.dtype is b.dtype and a.shape == b.shape:
                    return _pair_div(DivBackward0, input, other,
                                a / b if a.shape else _s0(a) / _s0(b), 1)
            elif to is _pyfloat or to is _pyint:
                if type(a) is _ndarray:  # a cached 0-d array of a's dtype (see weak)
                    dt = a.dtype
                    z = _W32.get(other) if dt is _F32 else None
                    other = weak(other, dt) if z is None else z
                return _pair_div(DivBackward0, input, other, a / other, 1)
    input, other = _swap(input, other)
    if rounding_mode is not None:
        from .pointwise import floor_divide, trunc

        if rounding_mode == "floor":
            return floor_divide(input, other)
        if rounding_mode == "trunc":
            if input.dtype.is_floating_point or (
                isinstance(other, Tensor) and other.dtype.is_floating_point
            ) or isinstance(other, float):
                return trunc(div(input, other))
            a, b = binary_args(input, other)
            return new(_int_trunc_div(a, b), None)
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    a, b = _div_args(input, other)
    r = a / b
    if out is not None:
        return write_out("div", out, r, input, other)
    return binary(DivBackward0, input, other, r, save=1)


def _int_trunc_div(a: Any, b: Any) -> Any:
    if np.any(np.asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")
    q = np.abs(a) // np.abs(b)
    return (np.sign(a) * np.sign(b) * q).astype(np.result_type(a, b))


divide = div
true_divide = div


@register("__rtruediv__")
def rdiv(input: Tensor, other: Any) -> Tensor:
    """other / input (``2 / x``; torch records it as reciprocal then MulBackward0)."""
    if isinstance(other, Tensor):
        return div(other, input)
    from .pointwise import reciprocal

    return mul(reciprocal(input), other)


class NegBackward0(Node):
    """out = -a;  da = -g."""

    def backward(self, g: Any) -> tuple:
        return (-g,)


@register("neg", "negative", "__neg__")
def neg(input: Tensor) -> Tensor:
    """-input."""
    if input._data.dtype == np.bool_:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
            "invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return _unary(NegBackward0, input, -input._data)


negative = neg


@register("__pos__")
def positive(input: Tensor) -> Tensor:
    """+input (the tensor itself)."""
    return input


class PowBackward0(Node):
    """out = a ** c (c a number);  da = g * c * a**(c-1)."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        c = self.exponent
        if c == 0:
            return (g * 0,)
        if c == 2:
            return (g * (a * 2),)
        return (g * (c * ns(g).pow(a, c - 1)),)


class PowBackward1(Node):
    """out = a ** b (both tensors);  da = g * b * a**(b-1), db = g * out * log(a)."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        ga = gb = None
        if needs(self, 0):
            ga = g * xp.where(b == 0, 0.0, b * xp.pow(a, b - 1))
        if needs(self, 1):
            out = self._result(g)
            gb = g * xp.where((a == 0) & (b >= 0), 0.0, out * xp.log(a))
        return ga, gb


class PowBackward2(Node):
    """out = c ** b (c a number);  db = g * out * log(c)."""

    def backward(self, g: Any) -> tuple:
        out = self._result(g)
        c = self.base
        if c == 0:
            return (g * 0,)
        return (g * out * float(np.log(c)),)


@register("pow", "__pow__")
def pow(input: Any, exponent: Any, *, out: Any = None) -> Tensor:  # noqa: A001
    """input ** exponent (tensor or number on either side)."""
    if not isinstance(input, Tensor):
        return rpow(exponent, input)
    if isinstance(exponent, Tensor):
        a, b = binary_args(input, exponent)
        _check_int_pow(a, b)
        r = np.power(a, b)
        if out is not None:
            return write_out("pow", out, r, input, exponent)
        return binary(PowBackward1, input, exponent, r, save=1, save_out=True)
    a, b = binary_args(input, exponent)
    _check_int_pow(a, b)
    r = np.power(a, b)
    if out is not None:
        return write_out("pow", out, r, input, exponent)
    return _unary(PowBackward0, input, r, save_input=True, exponent=exponent)


def _check_int_pow(a: Any, b: Any) -> None:
    if a.dtype.kind in "iu" and np.ndim(b) == 0 and not isinstance(b, float) and (
        np.asarray(b).dtype.kind in "iu" and np.any(np.asarray(b) < 0)
    ):
        raise RuntimeError("Integers to negative integer powers are not allowed.")


@register("__rpow__")
def rpow(input: Tensor, other: Any) -> Tensor:
    """other ** input (``2 ** x``)."""
    if isinstance(other, Tensor):
        return pow(other, input)
    a, c = binary_args(input, other)
    r = np.power(c, a)
    if not isinstance(r, (np.ndarray, np.generic)) or r.dtype != a.dtype:
        r = np.asarray(r).astype(a.dtype) if a.dtype.kind == "f" else np.asarray(r)
    return _unary(PowBackward2, input, r, save_out=True, base=c)


@register("square")
def square(input: Tensor) -> Tensor:
    """input ** 2 (recorded as PowBackward0 like torch)."""
    if input._data.dtype == np.bool_:
        return pow(input.long(), 2)  # type: ignore[attr-defined]
    return pow(input, 2)


@register("float_power")
def float_power(input: Any, exponent: Any) -> Tensor:
    """input ** exponent computed in float64."""
    i = input.double() if isinstance(input, Tensor) else float(input)  # type: ignore[attr-defined]
    e = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
    return pow(i, e)


_ = (as_tensor_arg, new)
