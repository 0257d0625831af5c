"""Creating tensors: tensor, as_tensor, from_numpy, zeros/ones/full/empty (and *_like), eye ..."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from . import _dtype as D
from ._tensor import Tensor, _check_device, _new

_pyfloat, _pyint, _pybool = builtins.float, builtins.int, builtins.bool


def _finish(arr: Any, requires_grad: bool, cls: type = Tensor) -> Tensor:
    t = _new(arr, None) if cls is Tensor else _subclass_new(cls, arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _subclass_new(cls: type, arr: Any) -> Tensor:
    t = object.__new__(cls)
    t._data = arr
    t._edge = None
    return t


def _from_data(data: Any, dtype: Any = None) -> np.ndarray:
    """NumPy array for python data / arrays / tensors, with torch's dtype inference."""
    npd = D.to_np(dtype)
    if isinstance(data, Tensor):
        arr = np.array(data._data, copy=True)
    elif isinstance(data, np.ndarray):
        D.from_np(data.dtype)
        arr = np.array(data, copy=True)
    elif isinstance(data, np.generic):
        arr = np.array(data)
    else:
        arr = _python_data(data)
    if npd is not None and arr.dtype != npd:
        arr = arr.astype(npd)
    return arr


def _python_data(data: Any) -> np.ndarray:
    if isinstance(data, (list, tuple)) and _has_tensor(data):
        data = _untensor(data)
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(
            f"expected sequence of equal-length lists to build a tensor ({e}). Hint: every row "
            "must have the same length."
        ) from None
    k = arr.dtype.kind
    if k == "f":
        return arr.astype(D.default_np()) if _all_python(data) else arr
    if k in "iu":
        return arr.astype(np.int64)
    if k == "c":
        return arr.astype(np.complex64 if D.default_np() == np.float32 else np.complex128)
    if k == "b":
        return arr
    if k == "O" or k == "U" or k == "S":
        raise TypeError(
            f"new(): invalid data type '{type(data).__name__}'. Hint: ember.tensor takes numbers, "
            "nested lists/tuples of numbers, NumPy arrays or tensors."
        )
    return arr


def _all_python(data: Any) -> bool:
    """True unless the data holds NumPy float64 scalars/arrays (which keep float64)."""
    if isinstance(data, (np.ndarray, np.generic)):
        return data.dtype != np.float64
    if isinstance(data, (list, tuple)):
        return all(_all_python(x) for x in data[:1]) if data else True
    return True


def _has_tensor(data: Any) -> bool:
    for x in data:
        if isinstance(x, Tensor):
            return True
        if isinstance(x, (list, tuple)) and x and _has_tensor(x):
            return True
    return False


def _untensor(data: Any) -> Any:
    if isinstance(data, Tensor):
        if data._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data._data.reshape(()).item()
    if isinstance(data, (list, tuple)):
        return [_untensor(x) for x in data]
    return data


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays or tensors)."""
    _check_device(device)
    return _finish(_from_data(data, dtype), requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with a tensor/array when no conversion is needed."""
    _check_device(device)
    npd = D.to_np(dtype)
    if isinstance(data, Tensor):
        if npd is None or data._data.dtype == npd:
            return data
        return data.to(D.from_np(npd))  # type: ignore[attr-defined]
    if isinstance(data, np.ndarray) and (npd is None or npd == data.dtype):
        D.from_np(data.dtype)
        return _new(data, None)
    return _finish(_from_data(data, dtype), False)


asarray = as_tensor


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (changes show in both)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_np(ndarray.dtype)
    return _new(ndarray, None)


def _shape(size: tuple) -> tuple:
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (_pyint, np.integer)) or isinstance(s, _pybool):
            raise TypeError(
                f"expected a sequence of integers for the size, but got an element of type "
                f"{type(s).__name__}"
            )
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(_pyint(s))
    return tuple(out)


def _dt(dtype: Any, fallback: Any = None) -> np.dtype:
    npd = D.to_np(dtype)
    if npd is not None:
        return npd
    return fallback if fallback is not None else D.default_np()


def _filled(fill: Any, size: tuple, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    _check_device(device)
    return _finish(np.full(_shape(size), fill, dtype=_dt(dtype)), requires_grad)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          out: Any = None, layout: Any = None) -> Tensor:
    """A tensor of zeros of the given shape."""
    return _filled(0, size, dtype, device, requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         out: Any = None, layout: Any = None) -> Tensor:
    """A tensor of ones of the given shape."""
    return _filled(1, size, dtype, device, requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          memory_format: Any = None, layout: Any = None, pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor (here: zero-filled) of the given shape."""
    return _filled(0, size, dtype, device, requires_grad)


def full(size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of the given shape filled with ``fill_value`` (dtype inferred from it)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = D.from_np(D.scalar_result(np.dtype(np.bool_), fill_value))
    return _filled(fill_value, (size,) if not isinstance(size, int) else (size,), dtype, device,
                   requires_grad)


def _like(input: Tensor, dtype: Any) -> np.dtype:
    return _dt(dtype, input._data.dtype)


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Zeros with the shape (and dtype) of ``input``."""
    return _finish(np.zeros(input._data.shape, _like(input, dtype)), requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Ones with the shape (and dtype) of ``input``."""
    return _finish(np.ones(input._data.shape, _like(input, dtype)), requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """An uninitialised tensor like ``input`` (zero-filled)."""
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """``fill_value`` with the shape (and dtype) of ``input``."""
    return _finish(np.full(input._data.shape, fill_value, _like(input, dtype)), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """Identity matrix n x m."""
    _check_device(device)
    return _finish(np.eye(n, m if m is not None else n, dtype=_dt(dtype)), requires_grad)


def _legacy_new(cls: type, *args: Any, **kwargs: Any) -> Tensor:
    """``Tensor(...)``: from data (float32) or an uninitialised shape, like torch's legacy ctor."""
    device = kwargs.pop("device", None)
    _check_device(device)
    if kwargs:
        raise TypeError(f"Tensor(): unexpected keyword arguments {sorted(kwargs)}")
    if not args:
        return _finish(np.zeros((0,), D.default_np()), False, cls)
    if len(args) == 1 and not isinstance(args[0], (_pyint, np.integer)):
        data = args[0]
        if isinstance(data, Tensor):
            return data
        arr = np.array(data._data if isinstance(data, Tensor) else data)
        if arr.dtype.kind == "O":
            raise TypeError("Tensor(): invalid data")
        return _finish(arr.astype(D.default_np()), False, cls)
    return _finish(np.zeros(_shape(args), D.default_np()), False, cls)
