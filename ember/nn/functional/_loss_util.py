"""Shared helpers of the loss functions: reductions, legacy arguments, dtype names, checks."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ... import _dtype as D
from ...autograd.grad_mode import STATE
from ...autograd.graph import ARRAY_TYPES, Node
from ...ops._core import Tensor, new

__all__: list[str] = []

_TYPE = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
         "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
         "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
NONE, MEAN, SUM = 0, 1, 2
_ENUM = {"none": NONE, "mean": MEAN, "sum": SUM}


def tname(a: Any) -> str:
    """torch's scalar type name (``Float``, ``Long`` ...) of an array's dtype."""
    return _TYPE.get(str(a.dtype), str(a.dtype))


def legacy_string(size_average: Any, reduce: Any, warn: bool = True) -> str:
    """torch's mapping of the deprecated ``size_average``/``reduce`` pair to a reduction."""
    sa = True if size_average is None else size_average
    rd = True if reduce is None else reduce
    ret = "mean" if (sa and rd) else ("sum" if rd else "none")
    if warn:
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", UserWarning, stacklevel=3)
    return ret


def get_enum(reduction: Any, fn: str = "loss") -> int:
    """0 none, 1 mean, 2 sum; torch's ValueError for anything else."""
    r = _ENUM.get(reduction) if isinstance(reduction, str) else None
    if r is not None:
        return r
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", UserWarning, stacklevel=3)
        return MEAN
    raise ValueError(f"{reduction} is not a valid value for reduction. Hint: {fn} takes "
                     "reduction='mean' (the default), 'sum' or 'none'.")


def reduction_enum(size_average: Any, reduce: Any, reduction: Any, fn: str) -> int:
    """The reduction as an enum, honouring the legacy arguments like torch."""
    if size_average is not None or reduce is not None:
        reduction = legacy_string(size_average, reduce)
    return get_enum(reduction, fn)


def reduce_array(a: Any, red: int) -> Any:
    """Apply the reduction to a NumPy loss array (0-d results stay NumPy scalars)."""
    if red == NONE:
        return a
    if red == SUM:
        return a.sum()
    return a.mean() if a.size else np.asarray(np.nan, a.dtype)[()]


def reduce_tensor(t: Tensor, red: int) -> Tensor:
    """Apply the reduction to an ember loss tensor (records MeanBackward0/SumBackward0)."""
    if red == NONE:
        return t
    return t.sum() if red == SUM else t.mean()


def size_warning(input: Tensor, target: Tensor) -> None:
    """torch's UserWarning when input and target sizes differ (they broadcast)."""
    if input._data.shape != target._data.shape:
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", UserWarning, stacklevel=4)


def not_differentiable(t: Any, arg: str, fn: str) -> None:
    """torch's error for a non-differentiable argument (weight ...) that requires grad."""
    if isinstance(t, Tensor) and t._edge is not None and STATE.enabled:
        raise RuntimeError(
            f"The function '{fn}' is not differentiable with respect to argument '{arg}'. This "
            f"input cannot have requires_grad True. Hint: pass {arg}.detach() (a constant)."
        )


def as_tensor(x: Any, like: Tensor) -> Tensor:
    """A Tensor for a tensor-or-number argument."""
    if isinstance(x, Tensor):
        return x
    return new(np.asarray(x, dtype=D.scalar_result(like._data.dtype, x)), None)


def meta_for(datas: tuple, shape: tuple, dt: Any) -> tuple | None:
    """Per input ``(shape, dtype)`` when it differs from the gradient's (engine undoes it)."""
    out = []
    any_ = False
    for d in datas:
        if d is None or (d.shape == shape and d.dtype == dt):
            out.append(None)
        else:
            out.append((d.shape, d.dtype if d.dtype != dt else None))
            any_ = True
    return tuple(out) if any_ else None


def is_array(g: Any) -> bool:
    """Whether a gradient is in array mode (first order) rather than a Tensor."""
    return type(g) in ARRAY_TYPES


def log1p(v: Any) -> Any:
    """log1p in the mode of ``v`` (array or Tensor)."""
    return np.log1p(v) if type(v) in ARRAY_TYPES else v.log1p()


def const(a: Any, g: Any) -> Any:
    """``a`` (an array) as a constant in the mode of ``g``."""
    return a if type(g) in ARRAY_TYPES else new(np.asarray(a), None)


class DivBackward1(Node):
    """out = a / k (k a number);  da = g / k."""

    def backward(self, g: Any) -> tuple:
        return (g / self.k,)


def div_scalar(t: Tensor, k: Any) -> Tensor:
    """``t / k`` recorded as torch's DivBackward1 (division by a Scalar)."""
    from ...ops._core import unary

    d = t._data
    r = d / k
    if np.ndim(r) == 0:
        r = np.asarray(r, d.dtype)[()]
    else:
        r = r.astype(d.dtype, copy=False)
    return unary(DivBackward1, t, r, k=k)
