"""dtype conversions and copies: to, float/double/half/long/int/bool, type_as, clone, contiguous."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import _check_device, device
from ._core import Node, Tensor, ns, register, unary

__all__ = ["clone"]


class ToCopyBackward0(Node):
    """out = a.to(dtype);  da = g cast back to a's dtype."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).cast(g, self.src),)


def _convert(t: Tensor, npd: np.dtype, copy: bool = False) -> Tensor:
    d = t._data
    if d.dtype == npd and not copy:
        return t
    if t._edge is not None and npd.kind not in "fc":
        r = unary(ToCopyBackward0, t, d.astype(npd), src=d.dtype)
        r._edge = None  # integer results never require grad
        return r
    return unary(ToCopyBackward0, t, d.astype(npd), src=d.dtype)


@register("to")
def to(self: Tensor, *args: Any, dtype: Any = None, device: Any = None, non_blocking: bool = False,
       copy: bool = False, memory_format: Any = None) -> Tensor:
    """Convert to another dtype (and/or device, 'cpu' only); returns self when nothing changes."""
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, D.dtype) or a in (float, int, bool):
            dtype = a
        elif isinstance(a, (str, globals()["device"])):
            device = a
        elif not isinstance(a, bool):  # a positional bool is non_blocking: nothing to do
            raise TypeError(f"to() received an invalid combination of arguments: {a!r}")
    _check_device(device)
    if dtype is None:
        return _convert(self, self._data.dtype, copy)
    return _convert(self, D.to_np(dtype), copy)


def _caster(name: str, dt: D.dtype) -> None:
    def conv(self: Tensor, memory_format: Any = None) -> Tensor:
        return _convert(self, dt.np)

    conv.__name__ = name
    conv.__doc__ = f"Convert to {dt!r} (returns self if already that dtype)."
    register(name, namespace=False)(conv)


for _n, _d in (("float", D.float32), ("double", D.float64), ("half", D.float16),
               ("long", D.int64), ("int", D.int32), ("short", D.int16), ("char", D.int8),
               ("byte", D.uint8), ("bool", D.bool_), ("cfloat", D.complex64),
               ("cdouble", D.complex128)):
    _caster(_n, _d)


@register()
def cast(input: Tensor, dtype: np.dtype) -> Tensor:
    """``input`` converted to a NumPy dtype (differentiable; the engine's cast in create_graph)."""
    return _convert(input, np.dtype(dtype))


@register("type_as")
def type_as(self: Tensor, other: Tensor) -> Tensor:
    """Convert to ``other``'s dtype."""
    return _convert(self, other._data.dtype)


_LEGACY_TYPES = {
    "torch.FloatTensor": D.float32, "torch.DoubleTensor": D.float64, "torch.HalfTensor": D.float16,
    "torch.LongTensor": D.int64, "torch.IntTensor": D.int32, "torch.ShortTensor": D.int16,
    "torch.CharTensor": D.int8, "torch.ByteTensor": D.uint8, "torch.BoolTensor": D.bool_,
}


@register("type")
def type(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:  # noqa: A001
    """With no argument: the legacy type name ('ember.FloatTensor'); else convert."""
    from ..autograd.graph import _LEGACY

    if dtype is None:
        return "ember." + _LEGACY[str(self._data.dtype)]
    if isinstance(dtype, str):
        dtype = _LEGACY_TYPES[dtype.replace("ember.", "torch.")]
    return _convert(self, D.to_np(dtype))


class CloneBackward0(Node):
    """out = copy of a;  da = g."""

    def backward(self, g: Any) -> tuple:
        return (g,)


@register("clone")
def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy of the tensor that stays in the graph."""
    return unary(CloneBackward0, input, np.array(input._data, copy=True))


@register("contiguous")
def contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    """Self if C-contiguous, else a contiguous copy."""
    if self.is_contiguous():
        return self
    return unary(CloneBackward0, self, np.ascontiguousarray(self._data))


_ = device
