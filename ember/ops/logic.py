"""Comparisons, closeness tests, logical and bitwise ops: no gradients, bool or integer results
(re-exported by pointwise.py); installs the comparison and bitwise dunders on Tensor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from ._core import (
    Tensor,
    binary_args,
    check_broadcast,
    new,
    register,
)
from ._helpers import _need_tensor, _not_impl, _tname

__all__ = [
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "equal", "allclose", "isclose", "logical_and", "logical_or", "logical_xor",
    "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
]

_NUMBER = (int, float, bool, complex, np.generic)


def _comparison(name: str, ufunc: Any, dunder: str, doc: str, *aliases: str) -> Any:
    def fn(input: Tensor, other: Any) -> Tensor:
        a, b = binary_args(input, other)
        return new(ufunc(a, b), None)

    def op(self: Tensor, other: Any) -> Any:
        try:
            a, b = binary_args(self, other)
        except TypeError:
            return NotImplemented
        return new(ufunc(a, b), None)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    op.__name__ = op.__qualname__ = dunder
    op.__doc__ = doc
    register(dunder, namespace=False)(op)
    return register(name, *aliases)(fn)


eq = _comparison("eq", np.equal, "__eq__", "input == other (bool tensor).")
ne = _comparison("ne", np.not_equal, "__ne__", "input != other (bool tensor).", "not_equal")
lt = _comparison("lt", np.less, "__lt__", "input < other (bool tensor).", "less")
le = _comparison("le", np.less_equal, "__le__", "input <= other (bool tensor).", "less_equal")
gt = _comparison("gt", np.greater, "__gt__", "input > other (bool tensor).", "greater")
ge = _comparison("ge", np.greater_equal, "__ge__", "input >= other (bool tensor).",
                 "greater_equal")
not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge


@register("equal")
def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and equal values (NaN != NaN)."""
    a, b = input._data, other._data
    return bool(a.shape == b.shape and np.array_equal(a, b))


@register("isclose")
def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other| elementwise (equal infinities are close)."""
    a, b = input._data, other._data
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{_tname(a.dtype)} did not match {_tname(b.dtype)}. Hint: convert one of them, "
            "e.g. other.to(input.dtype)."
        )
    if a.shape != b.shape:
        check_broadcast(a.shape, b.shape)
    close = a == b
    if a.dtype.kind != "f":
        a, b = a.astype(D.default_np()), b.astype(D.default_np())
    elif equal_nan:
        close = close | (np.isnan(a) & np.isnan(b))
    if rtol or atol:
        err = np.abs(a - b)
        close = close | (np.isfinite(err) & (err <= atol + np.abs(rtol * b)))
    return new(close, None)


@register("allclose")
def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every element of input is close to other (see isclose)."""
    return bool(np.all(isclose(input, other, rtol, atol, equal_nan)._data))


# ------------------------------------------------------------------ logical and bitwise
def _logical(name: str, ufunc: Any, doc: str) -> Any:
    def fn(input: Tensor, other: Tensor) -> Tensor:
        if not isinstance(other, Tensor):
            raise _need_tensor(name, "other", 2, other)
        a, b = input._data, other._data
        if a.shape != b.shape:
            check_broadcast(a.shape, b.shape)
        return new(ufunc(a, b), None)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return register(name)(fn)


logical_and = _logical("logical_and", np.logical_and, "input and other, as booleans.")
logical_or = _logical("logical_or", np.logical_or, "input or other, as booleans.")
logical_xor = _logical("logical_xor", np.logical_xor, "input xor other, as booleans.")


@register("logical_not")
def logical_not(input: Tensor) -> Tensor:
    """not input, as booleans."""
    return new(np.logical_not(input._data), None)


def _bitwise(name: str, ufunc: Any, dunders: tuple, doc: str) -> Any:
    kernel = f"{name}_cpu"

    def fn(input: Any, other: Any) -> Tensor:
        if not isinstance(input, Tensor):
            input, other = other, input
        a, b = binary_args(input, other)
        if a.dtype.kind not in "biu":
            raise _not_impl(kernel, a.dtype)
        return new(ufunc(a, b), None)

    def op(self: Tensor, other: Any) -> Any:
        if not isinstance(other, _NUMBER) and not isinstance(other, Tensor):
            return NotImplemented
        return fn(self, other)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    op.__doc__ = doc
    register(*dunders, namespace=False)(op)
    return register(name)(fn)


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, ("__and__", "__rand__"),
                       "input & other (integer or bool tensors).")
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, ("__or__", "__ror__"),
                      "input | other (integer or bool tensors).")
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, ("__xor__", "__rxor__"),
                       "input ^ other (integer or bool tensors).")


@register("bitwise_not")
def bitwise_not(input: Tensor) -> Tensor:
    """~input: bit inversion for integers, logical not for bools."""
    d = input._data
    if d.dtype.kind not in "biu":
        raise _not_impl("bitwise_not_cpu", d.dtype)
    return new(np.invert(d), None)


@register("__invert__", namespace=False)
def _invert(self: Tensor) -> Tensor:
    """~self (integer and bool tensors only)."""
    if self._data.dtype.kind not in "biu":
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors. Hint: "
            "for a mask use a bool tensor (x > 0), or call .logical_not()."
        )
    return new(np.invert(self._data), None)
