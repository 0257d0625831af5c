"""Creating tensors: tensor, as_tensor, from_numpy, zeros/ones/full/empty (and *_like), eye,
empty_strided, scalar_tensor.  The ranges (arange, linspace, logspace, meshgrid,
tril_indices/triu_indices) live in ``_ranges`` and are re-exported from here."""

from __future__ import annotations

import contextlib
import warnings
from itertools import chain
from typing import Any

import numpy as np

from . import _dtype as D
from ._factory import (  # noqa: F401  (TORCH_NAMES, finish_out, not_implemented: re-exported)
    _BOOL,
    _I64,
    TORCH_NAMES,
    _default_complex,
    _dt,
    _finish,
    _out_dt,
    _pybool,
    _pyfloat,
    _pyint,
    finish_out,
    not_implemented,
)
from ._ranges import (  # noqa: F401  (re-exported: ember/__init__.py imports them from here)
    arange,
    linspace,
    logspace,
    meshgrid,
    tril_indices,
    triu_indices,
)
from ._tensor import Tensor, _check_device, _new
from .ops._ns import E


# ------------------------------------------------------------------------ tensor(): inference
def _is_seq(x: Any) -> bool:
    t = type(x)
    return not isinstance(x, (dict, str, bytes)) and hasattr(t, "__len__") and hasattr(
        t, "__getitem__")


_PY_SCALARS = (_pyfloat, _pyint, _pybool, complex)


def _elem_dtype(x: Any) -> np.dtype:
    """torch's inferred dtype of one element of nested data (infer_scalar_type)."""
    t = type(x)
    if t is _pyfloat:
        return D.default_np()
    if t is _pyint:
        return _I64
    if t is _pybool:
        return _BOOL
    if t is complex:
        return _default_complex()
    if isinstance(x, Tensor):
        return x._data.dtype
    if isinstance(x, (np.ndarray, np.generic)):
        if isinstance(x, np.ndarray) and x.ndim == 0:
            raise TypeError("len() of unsized object")
        return D.from_np(x.dtype).np
    if isinstance(x, (str, bytes)):
        raise TypeError(
            f"new(): invalid data type '{t.__name__}'. Hint: ember.tensor takes numbers, nested "
            "lists/tuples of numbers, NumPy arrays or tensors."
        )
    if _is_seq(x):
        return _infer(x)[0]
    raise RuntimeError(
        f"Could not infer dtype of {t.__name__}. Hint: ember.tensor takes numbers, nested "
        "lists/tuples of numbers, NumPy arrays or tensors."
    )


def _infer(seq: Any) -> tuple:
    """torch's dtype for a (nested) sequence (its elements' dtypes promoted together), and
    whether it holds tensors.  Walks one nesting level at a time over lists/tuples."""
    res, has_t, level = None, False, seq
    while True:
        nested = False
        for t in set(map(type, level)):
            if t in _PY_SCALARS:
                d = _elem_dtype(t())
            elif t is list or t is tuple:
                nested = True
                continue
            else:
                d = None
                has_t = has_t or issubclass(t, Tensor)
                for x in level:
                    if type(x) is t:
                        dx = _elem_dtype(x)
                        d = dx if d is None else D.promote_types(d, dx)
            res = d if res is None else D.promote_types(res, d)
        if not nested:
            return (D.default_np() if res is None else res), has_t
        level = list(chain.from_iterable(x for x in level if type(x) is list or type(x) is tuple))


def _from_data(data: Any, dtype: Any = None) -> np.ndarray:
    """NumPy array for python data / arrays / tensors, with torch's dtype inference."""
    npd = D.to_np(dtype)
    if isinstance(data, Tensor):
        arr = np.array(data._data, copy=True)
    elif isinstance(data, np.ndarray):
        D.from_np(data.dtype)
        arr = np.array(data, copy=True)
    elif isinstance(data, np.generic):
        D.from_np(data.dtype)
        arr = np.array(data)
    else:
        return _python_data(data, npd)
    if npd is not None and arr.dtype != npd:
        arr = arr.astype(npd)
    return arr


def _python_data(data: Any, npd: np.dtype | None) -> np.ndarray:
    t, explicit, has_t = type(data), npd is not None, False
    if t is list or t is tuple:
        dt, has_t = _infer(data)
        npd = dt if npd is None else npd
    elif npd is None:
        npd = D.default_np() if t is _pyfloat else _elem_dtype(data)
    if has_t:
        data = _untensor(data)
    try:
        return np.array(data, dtype=npd)
    except OverflowError:
        if explicit:  # torch wraps out-of-range ints into the asked dtype: [-1] -> uint8 255
            with contextlib.suppress(OverflowError):
                return np.array(data, dtype=_elem_dtype(data)).astype(npd)
        raise ValueError(
            "Overflow when unpacking long long. Hint: int64 holds integers in [-2**63, 2**63); "
            "pass floats or dtype=ember.float64 for larger numbers."
        ) from None
    except (ValueError, TypeError):
        _ragged(data, [], 0)
        raise


def _sizes(data: Any) -> list:
    out = []
    while _is_seq(data) and not isinstance(data, (np.ndarray, Tensor)):
        out.append(len(data))
        if not len(data):
            break
        data = data[0]
    return out


def _ragged(data: Any, sizes: list, dim: int) -> None:
    """Raise torch's error for nested data that is not rectangular (recursive_store)."""
    if dim == 0:
        sizes = _sizes(data)
    if dim == len(sizes):
        if _is_seq(data) and not isinstance(data, (np.ndarray, np.generic, Tensor)):
            raise TypeError(
                f"'{type(data).__name__}' object cannot be interpreted as a number. Hint: every "
                "row of nested data must have the same depth."
            )
        return
    if not _is_seq(data) or isinstance(data, np.generic):
        raise TypeError("not a sequence. Hint: every row of nested data must have the same depth.")
    n = len(data)
    if n != sizes[dim]:
        raise ValueError(
            f"expected sequence of length {sizes[dim]} at dim {dim} (got {n}). Hint: every row "
            "must have the same length."
        )
    for x in data:
        _ragged(x, sizes, dim + 1)


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
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
            "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "torch.tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
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


def scalar_tensor(s: Any, *, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding the number ``s`` (default float dtype)."""
    _check_device(device)
    if isinstance(s, Tensor):
        s = s.item()
    return _finish(np.array(s, dtype=_dt(dtype)), requires_grad)


# ------------------------------------------------------------------------ shapes and filling
def _shape(size: tuple, who: str = "empty") -> tuple:
    """A shape tuple from varargs ints, one list/tuple/Size, or 0-d integer tensors."""
    if len(size) == 1 and not isinstance(size[0], (_pyint, np.integer, Tensor)):
        if not isinstance(size[0], (list, tuple)):
            raise TypeError(
                f"{who}(): argument 'size' (position 1) must be tuple of ints, not "
                f"{type(size[0]).__name__}"
            )
        size = tuple(size[0])
    elif len(size) == 1 and isinstance(size[0], _pybool):
        raise TypeError(f"{who}(): argument 'size' (position 1) must be tuple of ints, not bool")
    out = []
    for i, s in enumerate(size):
        if isinstance(s, Tensor):
            if s._data.size != 1 or s._data.dtype.kind not in "iu":
                raise TypeError(f"{who}(): argument 'size' must be tuple of ints, but found "
                                f"element of type Tensor at pos {i + 1}")
            s = s.item()
        if not isinstance(s, (_pyint, np.integer)):
            raise TypeError(
                f"{who}(): argument 'size' failed to unpack the object at pos {i + 1} with error "
                f"\"type must be tuple of ints,but got {type(s).__name__}\""
            )
        out.append(_pyint(s))
    for s in out:
        if s < 0:
            if who == "zeros":
                raise RuntimeError(
                    f"zeros: Dimension size must be non-negative. Hint: got size {out}."
                )
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out}")
    return tuple(out)


def size_arg(args: tuple, size: Any, who: str) -> tuple:
    """The shape from ``*size`` varargs or the ``size=`` keyword (torch accepts both)."""
    if size is not None:
        if args:
            raise TypeError(f"{who}() got multiple values for argument 'size'")
        args = (size,)
    elif not args:
        raise TypeError(f'{who}() missing 1 required positional arguments: "size"')
    return _shape(args, who)


def _filled(fill: Any, shape: tuple, size: Any, out: Any, dtype: Any, device: Any,
            requires_grad: bool, who: str) -> Tensor:
    _check_device(device)
    shape = size_arg(shape, size, who)
    npd = _out_dt(dtype, out)
    arr = np.zeros(shape, npd) if fill is None else np.full(shape, fill, npd)
    return finish_out(arr, requires_grad, out, who)


def zeros(*shape: Any, size: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
          device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor of zeros of the given shape (ints, or one tuple/list/Size, or size=)."""
    return _filled(None, shape, size, out, dtype, device, requires_grad, "zeros")


def ones(*shape: Any, size: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor of ones of the given shape."""
    return _filled(1, shape, size, out, dtype, device, requires_grad, "ones")


def empty(*shape: Any, size: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
          device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
          memory_format: Any = None) -> Tensor:
    """An uninitialised tensor (here: zero-filled) of the given shape."""
    return _filled(None, shape, size, out, dtype, device, requires_grad, "empty")


def full(size: Any, fill_value: Any, *, out: Any = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor of the given shape filled with ``fill_value`` (dtype inferred from it)."""
    if isinstance(fill_value, Tensor):
        if fill_value._data.ndim != 0:
            raise RuntimeError(
                f"fill_value must be a number or a 0-d tensor, got a tensor with "
                f"{fill_value._data.ndim} dimensions. Hint: use .item() or expand()."
            )
        fill_value = fill_value.item()
    elif isinstance(fill_value, np.generic):
        fill_value = fill_value.item()
    if dtype is None and out is None:
        dtype = D.scalar_result(_BOOL, fill_value)
    if isinstance(size, (_pyint, np.integer)):
        raise TypeError(
            f"full(): argument 'size' (position 1) must be tuple of ints, not "
            f"{type(size).__name__}. Hint: pass the shape as a tuple, e.g. full(({size},), v)."
        )
    return _filled(fill_value, (size,), None, out, dtype, device, requires_grad, "full")


def _like(input: Tensor, dtype: Any) -> np.dtype:
    return _dt(dtype, input._data.dtype)


def zeros_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Zeros with the shape (and dtype) of ``input``."""
    _check_device(device)
    return _finish(np.zeros(input._data.shape, _like(input, dtype)), requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Ones with the shape (and dtype) of ``input``."""
    _check_device(device)
    return _finish(np.ones(input._data.shape, _like(input, dtype)), requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """An uninitialised tensor like ``input`` (zero-filled)."""
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, layout: Any = None,
              device: Any = None, requires_grad: bool = False,
              memory_format: Any = None) -> Tensor:
    """``fill_value`` with the shape (and dtype) of ``input``."""
    _check_device(device)
    if isinstance(fill_value, (Tensor, np.generic)):
        fill_value = fill_value.item()
    return _finish(np.full(input._data.shape, fill_value, _like(input, dtype)), requires_grad)


def empty_strided(size: Any, stride: Any, *, dtype: Any = None, layout: Any = None,
                  device: Any = None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """An uninitialised (zero-filled) tensor with the given shape and strides (in elements)."""
    _check_device(device)
    shape, st = _shape((size,), "empty_strided"), _shape((stride,), "empty_strided")
    if len(shape) != len(st):
        raise RuntimeError(
            f"mismatch in length of strides and shape. Hint: got size {list(shape)} and stride "
            f"{list(st)}."
        )
    npd = _dt(dtype)
    n = 0 if 0 in shape else 1 + sum((s - 1) * k for s, k in zip(shape, st, strict=True))
    buf = np.zeros(n, npd)
    arr = np.lib.stride_tricks.as_strided(buf, shape, tuple(k * npd.itemsize for k in st))
    return _finish(arr, requires_grad)


def eye(n: int, m: int | None = None, *, out: Any = None, dtype: Any = None, layout: Any = None,
        device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Identity matrix n x m."""
    _check_device(device)
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    arr = np.eye(n, m if m is not None else n, dtype=_out_dt(dtype, out))
    return finish_out(arr, requires_grad, out, "eye")



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


# backward rules may call xp.zeros_like / xp.ones_like (N has them; this is the E side)
E.zeros_like = zeros_like
E.ones_like = ones_like
