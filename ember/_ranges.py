"""Ranges and grids: arange, linspace, logspace, meshgrid, tril_indices/triu_indices
(re-exported from ``_creation``)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from . import _dtype as D
from ._factory import (
    _I64,
    _default_complex,
    _dt,
    _pybool,
    _pyfloat,
    _pyint,
    finish_out,
    not_implemented,
)
from ._tensor import Tensor, _check_device, _new


def _number(x: Any, who: str, name: str, pos: int) -> Any:
    """A python number from a number / NumPy scalar / one-element tensor argument."""
    if isinstance(x, Tensor):
        if x._data.ndim != 0:
            raise TypeError(f"{who}(): argument '{name}' (position {pos}) must be Number, not "
                            "Tensor. Hint: pass a 0-d tensor or a number.")
        return x.item()
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (_pyint, _pyfloat, complex)):
        return _pyint(x) if isinstance(x, _pybool) else x
    raise TypeError(f"{who}(): argument '{name}' (position {pos}) must be Number, not "
                    f"{type(x).__name__}")


def _real(x: Any) -> Any:
    if isinstance(x, complex):
        raise RuntimeError(
            "value cannot be converted to type double without overflow. Hint: ranges of "
            "complex numbers are not supported; use linspace."
        )
    return x


def arange(start: Any = None, end: Any = None, step: Any = 1, *, out: Any = None,
           dtype: Any = None, layout: Any = None, device: Any = None,
           requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """start, start + step, ... up to (excluding) end; int64 for integer args, else float."""
    _check_device(device)
    one = end is None  # arange(end)
    if one:
        if start is None:
            raise TypeError("arange() missing required argument 'end' (pos 1)")
        start, end = 0, start
    elif start is None:
        start = 0
    s = _real(_number(start, "arange", "start", 1))
    e = _real(_number(end, "arange", "end", 1 if one else 2))
    st = _real(_number(step, "arange", "step", 3))
    if dtype is None and out is not None:
        npd = out._data.dtype
    elif dtype is None:
        npd = D.default_np() if any(type(v) is _pyfloat for v in (s, e, st)) else _I64
    else:
        npd = D.to_np(dtype)
    if npd.kind in "bc":
        raise not_implemented("arange_cpu", npd)
    ds, de, dst = _pyfloat(s), _pyfloat(e), _pyfloat(st)
    if dst == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(ds) and math.isfinite(de)):
        raise RuntimeError(f"unsupported range: {ds:g} -> {de:g}")
    if not ((dst > 0 and de >= ds) or (dst < 0 and de <= ds)):
        raise RuntimeError(
            "upper bound and lower bound inconsistent with step sign. Hint: with step "
            f"{st} the range {s} -> {e} is empty the wrong way round; swap start and end or "
            "negate step."
        )
    if npd.kind in "iu":
        xs, xe, xst = _pyint(s), _pyint(e), _pyint(st)  # int() truncates like C++ casts
        if npd == _I64:  # torch's int64 size: (end - start + step - sign) / step, truncated
            if xst == 0:
                raise ValueError("step must be nonzero")
            a = xe - xs + xst - (1 if xst > 0 else -1)
            n = abs(a) // abs(xst) * (1 if (a >= 0) == (xst > 0) else -1)
        else:
            n = math.ceil((de - ds) / dst)
        vals = np.arange(max(n, 0), dtype=np.int64) * xst + xs
    else:
        n = math.ceil((de - ds) / dst)
        vals = ds + np.arange(n, dtype=np.float64) * dst
    return finish_out(vals.astype(npd, copy=False), requires_grad, out, "arange")


def _endpoints(start: Any, end: Any, steps: Any, who: str) -> tuple:
    for name, v in (("start", start), ("end", end)):
        if isinstance(v, Tensor) and v._data.ndim != 0:
            raise RuntimeError(
                f"{who} only supports 0-dimensional start and end tensors, but got {name} with "
                f"{v._data.ndim} dimension(s)."
            )
    s = _number(start, who, "start", 1)
    e = _number(end, who, "end", 2)
    if isinstance(steps, Tensor):
        steps = steps.__index__()
    if not isinstance(steps, (_pyint, np.integer)) or isinstance(steps, _pybool):
        raise TypeError(f"{who}(): argument 'steps' (position 3) must be int, not "
                        f"{type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return s, e, _pyint(steps)


def _lin(s: Any, e: Any, n: int, work: Any) -> np.ndarray:
    """torch's linspace formula: start + step*i for the first half, end - step*(n-1-i) after."""
    if n == 1:
        return np.array([s], dtype=work)
    step = (e - s) / (n - 1)
    i = np.arange(n, dtype=work)
    half = n // 2
    return np.concatenate([s + step * i[:half], e - step * (n - 1 - i[half:])])


def _range_dtype(s: Any, e: Any, dtype: Any, out: Any, kernel: str) -> np.dtype:
    if dtype is None and out is not None:
        npd = out._data.dtype
    elif dtype is None:
        npd = _default_complex() if complex in (type(s), type(e)) else D.default_np()
    else:
        npd = D.to_np(dtype)
    if npd.kind == "b":
        raise not_implemented(kernel, npd)
    return npd


def _cast_ends(s: Any, e: Any, npd: np.dtype) -> tuple:
    """start/end converted to the result dtype first (C++ ``Scalar::to<scalar_t>``)."""
    if npd.kind in "iu":
        return _pyint(_real(s).real if isinstance(s, complex) else s), _pyint(e)
    if npd.kind == "c":
        return complex(npd.type(s)), complex(npd.type(e))
    return _pyfloat(npd.type(_real(s))), _pyfloat(npd.type(_real(e)))


def linspace(start: Any, end: Any, steps: Any, *, out: Any = None, dtype: Any = None,
             layout: Any = None, device: Any = None, requires_grad: bool = False,
             pin_memory: bool = False) -> Tensor:
    """``steps`` evenly spaced values from start to end (both included)."""
    _check_device(device)
    s, e, n = _endpoints(start, end, steps, "linspace")
    npd = _range_dtype(s, e, dtype, out, "linspace_cpu")
    s, e = _cast_ends(s, e, npd)
    vals = _lin(s, e, n, np.complex128 if npd.kind == "c" else np.float64)
    return finish_out(vals.astype(npd), requires_grad, out, "linspace")


def logspace(start: Any, end: Any, steps: Any, base: float = 10.0, *, out: Any = None,
             dtype: Any = None, layout: Any = None, device: Any = None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """base ** linspace(start, end, steps)."""
    _check_device(device)
    s, e, n = _endpoints(start, end, steps, "logspace")
    npd = _range_dtype(s, e, dtype, out, "logspace_cpu")
    s, e = _cast_ends(s, e, npd)
    work = np.complex128 if npd.kind == "c" else np.float64
    vals = np.power(work(_number(base, "logspace", "base", 4)), _lin(s, e, n, work))
    return finish_out(vals.astype(npd), requires_grad, out, "logspace")


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    """Coordinate grids: output i holds tensors[i] broadcast along every other dimension."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(
                "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a tensor of "
                f"shape {list(t._data.shape)}. Hint: flatten it first."
            )
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError(
                "meshgrid expects all tensors to have the same dtype. Hint: got "
                f"{tensors[0].dtype} and {t.dtype}; convert them first."
            )
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t._data.size for t in ts)
    grids = []
    for i, t in enumerate(ts):
        vshape = tuple(-1 if j == i else 1 for j in range(len(ts)))
        if hasattr(Tensor, "expand") and hasattr(Tensor, "view"):
            grids.append(t.view(vshape).expand(shape))  # type: ignore[attr-defined]
        else:  # shape ops not installed yet: plain read-only broadcast views
            grids.append(_new(np.broadcast_to(np.reshape(t._data, vshape), shape), None))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def _tri_indices(row: int, col: int, offset: int, dtype: Any, lower: bool, who: str) -> Tensor:
    for name, v in (("row", row), ("col", col)):
        if v < 0:
            raise RuntimeError(f"{name} must be non-negative, got{v}")
    npd = _dt(dtype, _I64)
    if npd.kind not in "iu":
        raise not_implemented(who, npd)
    fn = np.tril_indices if lower else np.triu_indices
    r, c = fn(row, offset, col) if row and col else (np.zeros(0, int), np.zeros(0, int))
    return _new(np.stack([r, c]).astype(npd), None)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:
    """2 x N (row, col) coordinates of the lower triangle of a row x col matrix."""
    _check_device(device)
    return _tri_indices(row, col, offset, dtype, True, "tril_indices")


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:
    """2 x N (row, col) coordinates of the upper triangle of a row x col matrix."""
    _check_device(device)
    return _tri_indices(row, col, offset, dtype, False, "triu_indices")
