"""Helpers shared by convolution and pooling: argument tuples, linear-map nodes, shape checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...autograd.graph import ARRAY_TYPES
from ...ops._core import Node, Tensor, unary

__all__: list[str] = []


def ntuple(x: Any, n: int, name: str = "argument") -> tuple:
    """``x`` as an ``n``-tuple of ints (an int is repeated, a sequence of length n is kept)."""
    if isinstance(x, (list, tuple)):
        if len(x) == 1 and n > 1:
            return (int(x[0]),) * n
        if len(x) != n:
            raise RuntimeError(
                f"expected {name} to be a single integer value or a list of {n} values to match "
                f"the convolution dimensions, but got {name}={list(x)}"
            )
        return tuple(int(v) for v in x)
    return (int(x),) * n


def size_str(shape: tuple) -> str:
    """torch's ``[2, 3, 4]`` spelling of a shape."""
    return "[" + ", ".join(str(s) for s in shape) + "]"


class LinearMapBackward(Node):
    """out = A(x) for a fixed linear map A;  dx = A^T(g) (itself differentiable, its adjoint A)."""

    def backward(self, g: Any) -> tuple:
        if type(g) in ARRAY_TYPES:
            return (self.adj(g),)
        return (linear_apply(g, self.adj, self.fwd, self.adj_name, self._name),)


def linear_apply(x: Tensor, fwd: Callable, adj: Callable, name: str, adj_name: str) -> Tensor:
    """``fwd(x)`` for a linear map ``fwd`` on arrays whose adjoint is ``adj``; node ``name``."""
    return unary(LinearMapBackward, x, fwd(x._data), fwd=fwd, adj=adj, _name=name,
                 adj_name=adj_name)


def check_float(op: str, *ts: Any) -> None:
    """torch's error for integral inputs to a float-only op."""
    for t in ts:
        if t is not None and t._data.dtype.kind in "biu":
            kind = {"b": "Bool", "i": "Long", "u": "Byte"}[t._data.dtype.kind]
            if t._data.dtype.kind == "i" and t._data.dtype.itemsize == 4:
                kind = "Int"
            raise RuntimeError(
                f'"{op}" not implemented for \'{kind}\'. Hint: convert the input and weight to a '
                "floating dtype first, e.g. `x.float()`."
            )
