"""The two namespaces backward rules are written against.

``N`` holds NumPy implementations with torch semantics (first-order backward on raw arrays);
``E`` is filled by the op modules with the ember functions of the same names (higher-order
backward on Tensors, which records a graph).  A rule picks one with ``xp = ns(grad)`` and calls
``xp.exp(x)``, ``xp.sum_to(g, shape)`` ... so it is written once for both.  ``tests/test_ns.py``
checks that every name in ``N`` also exists in ``E``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _sum_to(g: Any, shape: tuple) -> Any:
    """Sum ``g`` over broadcast dimensions so that it has ``shape`` (undo broadcasting)."""
    gs = g.shape
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gs[i + lead] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead:
        g = g.reshape(shape)
    elif g.shape != shape:
        g = g.reshape(shape)
    return g


def _expand(g: Any, shape: tuple) -> Any:
    return np.broadcast_to(g, shape)


def _cast(g: Any, dtype: np.dtype) -> Any:
    return g.astype(dtype)


def _sum(g: Any, dim: Any = None, keepdim: bool = False) -> Any:
    return g.sum(axis=dim, keepdims=keepdim)


def _where(cond: Any, x: Any, y: Any) -> Any:
    return np.where(cond, x, y)


def _reshape(g: Any, shape: tuple) -> Any:
    return np.reshape(g, shape)


def _permute(g: Any, dims: tuple) -> Any:
    return np.transpose(g, dims)


def _transpose(g: Any, d0: int, d1: int) -> Any:
    return np.swapaxes(g, d0, d1)


def _sigmoid(x: Any) -> Any:
    return 0.5 * (np.tanh(0.5 * x) + 1)


def _pow(x: Any, y: Any) -> Any:
    return np.power(x, y)


def _zeros_like(x: Any) -> Any:
    return np.zeros_like(x)


def _ones_like(x: Any) -> Any:
    return np.ones_like(x)


def _sgn(x: Any) -> Any:
    return np.sign(x)


def _clone(x: Any) -> Any:
    return np.array(x, copy=True)


def _unsqueeze(x: Any, dim: int) -> Any:
    return np.expand_dims(x, dim)


def _squeeze(x: Any, dim: Any = None) -> Any:
    return np.squeeze(x, dim)


def _mT(x: Any) -> Any:  # noqa: N802
    return np.swapaxes(x, -1, -2)


def _mul(x: Any, y: Any) -> Any:
    return x * y


class N:
    """NumPy side: the functions backward rules may call, with torch's names and semantics."""

    sum_to = staticmethod(_sum_to)
    expand = staticmethod(_expand)
    cast = staticmethod(_cast)
    sum = staticmethod(_sum)
    where = staticmethod(_where)
    reshape = staticmethod(_reshape)
    permute = staticmethod(_permute)
    transpose = staticmethod(_transpose)
    unsqueeze = staticmethod(_unsqueeze)
    squeeze = staticmethod(_squeeze)
    mT = staticmethod(_mT)  # noqa: N815
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    tanh = staticmethod(np.tanh)
    cosh = staticmethod(np.cosh)
    sinh = staticmethod(np.sinh)
    abs = staticmethod(np.abs)
    sign = staticmethod(_sgn)
    sigmoid = staticmethod(_sigmoid)
    pow = staticmethod(_pow)
    matmul = staticmethod(np.matmul)
    mul = staticmethod(_mul)
    zeros_like = staticmethod(_zeros_like)
    ones_like = staticmethod(_ones_like)
    clone = staticmethod(_clone)


class E:
    """ember side: filled with the ember functions of the same names by ``_core.register``."""
