"""Names older lessons still use: FloatTensor & co., ember.cuda, is_tensor, default device."""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from . import _dtype as D
from ._tensor import CPU, Tensor, _check_device, _default_device, _new, device

__all__ = [
    "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
    "CharTensor", "ByteTensor", "BoolTensor", "cuda", "is_tensor", "is_floating_point",
    "is_complex", "numel", "set_default_device", "get_default_device", "is_nonzero",
    "promote_types", "result_type", "can_cast",
]


class _LegacyMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj._data.dtype == cls._dtype.np


def _legacy(name: str, dt: D.dtype) -> type:
    def __new__(cls: type, *args: Any, **kwargs: Any) -> Tensor:  # noqa: N807
        _check_device(kwargs.pop("device", None))
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = args[0]
            arr = np.array(data._data if isinstance(data, Tensor) else data, dtype=dt.np)
        else:
            from ._creation import _shape

            arr = np.zeros(_shape(args), dt.np)
        return _new(arr, None)

    return _LegacyMeta(name, (), {"__new__": __new__, "_dtype": dt,
                                  "__doc__": f"Legacy constructor of {dt!r} tensors."})


FloatTensor = _legacy("FloatTensor", D.float32)
DoubleTensor = _legacy("DoubleTensor", D.float64)
HalfTensor = _legacy("HalfTensor", D.float16)
LongTensor = _legacy("LongTensor", D.int64)
IntTensor = _legacy("IntTensor", D.int32)
ShortTensor = _legacy("ShortTensor", D.int16)
CharTensor = _legacy("CharTensor", D.int8)
ByteTensor = _legacy("ByteTensor", D.uint8)
BoolTensor = _legacy("BoolTensor", D.bool_)

cuda = types.ModuleType("ember.cuda", "GPU support (none yet: is_available() is False).")
cuda.is_available = lambda: False  # type: ignore[attr-defined]
cuda.device_count = lambda: 0  # type: ignore[attr-defined]
cuda.manual_seed = lambda seed: None  # type: ignore[attr-defined]
cuda.manual_seed_all = lambda seed: None  # type: ignore[attr-defined]


def is_tensor(obj: Any) -> bool:
    """True for ember tensors."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """True for float dtypes."""
    return input._data.dtype.kind == "f"


def is_complex(input: Tensor) -> bool:
    """True for complex dtypes."""
    return input._data.dtype.kind == "c"


def is_nonzero(input: Tensor) -> bool:
    """bool() of a one-element tensor."""
    return bool(input)


def numel(input: Tensor) -> int:
    """Number of elements."""
    return input._data.size


def set_default_device(dev: Any) -> None:
    """Set the default device (ember computes on the CPU only)."""
    _check_device(dev)
    _default_device[0] = CPU


def get_default_device() -> device:
    """The default device (cpu)."""
    return _default_device[0]


def promote_types(type1: D.dtype, type2: D.dtype) -> D.dtype:
    """The dtype torch's promotion gives two dtypes."""
    return D.from_np(D.promote_types(type1.np, type2.np))


def result_type(tensor1: Any, tensor2: Any) -> D.dtype:
    """Result dtype of an arithmetic op on the two arguments (tensors or numbers)."""
    if isinstance(tensor1, Tensor) and isinstance(tensor2, Tensor):
        return D.from_np(D.result_type(tensor1._data, tensor2._data))
    if isinstance(tensor1, Tensor):
        return D.from_np(D.scalar_result(tensor1._data.dtype, tensor2))
    if isinstance(tensor2, Tensor):
        return D.from_np(D.scalar_result(tensor2._data.dtype, tensor1))
    return D.from_np(D.scalar_result(np.dtype(np.bool_), tensor1))


def can_cast(from_: D.dtype, to: D.dtype) -> bool:
    """torch.can_cast: no float->int, no ->bool from non-bool."""
    k1, k2 = from_.np.kind, to.np.kind
    order = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    return order[k1] <= order[k2]
