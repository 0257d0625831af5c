"""``Parameter``: a leaf tensor that a ``Module`` registers as one of its weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module parameter (requires grad by default, shares ``data``'s memory)."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            arr: Any = np.zeros((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            raise TypeError(
                f"Parameter(): expected a Tensor as data, got {type(data).__name__}. "
                "Hint: wrap it first, e.g. nn.Parameter(ember.tensor(x))."
            )
        p = object.__new__(cls)
        p._data = arr
        p._edge = None
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto: int) -> Any:
        return (_rebuild_parameter, (np.asarray(self._data), self.requires_grad))


def _rebuild_parameter(arr: np.ndarray, requires_grad: bool) -> Parameter:
    from .._tensor import _new

    return Parameter(_new(np.array(arr), None), requires_grad)


class Buffer(Tensor):
    """Marks a tensor to be registered as a module buffer when assigned as an attribute."""

    def __new__(cls, data: Tensor, *, persistent: bool = True) -> Buffer:
        b = object.__new__(cls)
        b._data = data._data
        b._edge = None
        b.persistent = persistent
        return b


def is_lazy(param: Any) -> bool:
    """ember has no lazy modules."""
    return False
