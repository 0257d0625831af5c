"""Helpers shared by the tensor factories (_creation, _ranges, _random ...): wrapping a result
array in a new tensor or writing it into an ``out=`` tensor, default dtypes, and torch's C++ dtype
names for its "not implemented for 'Long'" errors."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from . import _dtype as D
from ._tensor import Tensor, _new
from .autograd.grad_mode import STATE

_pyfloat, _pyint, _pybool = builtins.float, builtins.int, builtins.bool
_I64, _BOOL = np.dtype(np.int64), np.dtype(np.bool_)
# torch's C++ names of dtypes, for its "not implemented for 'Long'" errors
TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
               "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte",
               "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def not_implemented(kernel: str, npd: np.dtype) -> NotImplementedError:
    """torch's error for a kernel that has no implementation for a dtype."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{TORCH_NAMES[npd.name]}\'')


def _finish(arr: Any, requires_grad: bool, cls: type = Tensor) -> Tensor:
    t = _new(arr, None)
    if cls is not Tensor:  # legacy constructors of Tensor subclasses
        t = object.__new__(cls)
        t._data, t._edge = arr, None
    if requires_grad:
        t.requires_grad = True  # torch's factory message differs from requires_grad_()'s
    return t


def finish_out(arr: np.ndarray, requires_grad: bool, out: Any, who: str) -> Tensor:
    """A new tensor around ``arr``, or ``arr`` written into ``out`` (resized if needed)."""
    if out is None:
        return _finish(arr, requires_grad)
    if not isinstance(out, Tensor):
        raise TypeError(f"{who}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out._edge is not None and STATE.enabled:
        raise RuntimeError(
            f"aten::{who}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad. Hint: call it under "
            "`with ember.no_grad():` or leave out= out."
        )
    d = out._data
    if isinstance(d, np.ndarray) and d.shape == arr.shape:
        d[...] = arr
    else:
        out._data = np.array(arr, dtype=d.dtype)
    out._bump()
    return out


def _default_complex() -> np.dtype:
    return np.dtype(np.complex128 if D.default_np() == np.float64 else np.complex64)


def _dt(dtype: Any, fallback: Any = None) -> np.dtype:
    npd = D.to_np(dtype)
    if npd is not None:
        return npd
    return fallback if fallback is not None else D.default_np()


def _out_dt(dtype: Any, out: Any, fallback: Any = None) -> np.dtype:
    if dtype is None and isinstance(out, Tensor):
        return out._data.dtype
    return _dt(dtype, fallback)
