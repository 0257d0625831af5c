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
    """``np.broadcast_to(g, shape)`` (a read-only view), cheaper when ``strided_broadcast`` can."""
    out = strided_broadcast(g, shape)
    return np.broadcast_to(g, shape) if out is None else out


def strided_broadcast(g: Any, shape: tuple) -> Any:
    """``g`` broadcast to ``shape`` as a read-only strided ndarray over ``g``'s buffer (about
    2.5x cheaper than ``np.broadcast_to``), or None when that is not possible (-1 entries,
    incompatible shapes, NumPy scalars, non-contiguous buffers)."""
    try:
        shp, st = g.shape, g.strides
        lead = len(shape) - len(shp)
        if lead < 0:
            raise ValueError
        strides = [0] * lead
        for i in range(len(shp)):
            s, k = shp[i], shape[lead + i]
            if k == s:
                strides.append(st[i])
            elif s == 1 and k >= 0:
                strides.append(0)
            else:
                raise ValueError
        out = np.ndarray(shape, g.dtype, g, 0, strides)
    except (ValueError, TypeError, BufferError, AttributeError):
        return None
    out.flags.writeable = False  # like np.broadcast_to: elements alias each other
    return out


def _cast(g: Any, dtype: np.dtype) -> Any:
    return g.astype(dtype)


def _sum(g: Any, dim: Any = None, keepdim: bool = False) -> Any:
    if isinstance(dim, (tuple, list)):
        dim = tuple(dim) or None  # () / [] = all dims, like ember.sum
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
    """1 / (1 + exp(-x)): exact to the last bits for x << 0 (exp(-x) = inf gives 0, no warning
    under ember's np.seterr); float16 is computed in float32 and rounded once, like torch."""
    if getattr(x, "dtype", None) == np.float16:
        return np.reciprocal(np.exp(-x.astype(np.float32)) + 1).astype(np.float16)
    return np.reciprocal(np.exp(-x) + 1)


def _pow(x: Any, y: Any) -> Any:
    return np.power(x, y)


def _zeros_like(x: Any) -> Any:
    return np.zeros_like(x)


def _ones_like(x: Any) -> Any:
    return np.ones_like(x)


def _sgn(x: Any) -> Any:
    """-1, 0 or 1; 0 for NaN like torch.sign (np.sign gives NaN)."""
    r = np.sign(x)
    if type(r) is np.ndarray:
        if r.dtype.kind == "f":
            np.copyto(r, 0, where=r != r)
    elif r != r:
        r = r.dtype.type(0) if isinstance(r, np.generic) else 0.0
    return r


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


def _index_apply(x: Any, index: tuple) -> Any:
    """``x[index]`` for an index parsed by ops/indexing.py (``(basic, adv, ...)``)."""
    basic, adv = index[0], index[1]
    if basic is not None:
        x = x[basic]
    return x if adv is None else x[adv]


def _index_backward(g: Any, shape: tuple, index: tuple) -> Any:
    """Gradient of ``x[index]``: zeros of ``shape`` with ``g`` added at ``index`` (repeats add)."""
    basic, adv = index[0], index[1]
    z = np.zeros(shape, dtype=g.dtype)
    v = z if basic is None else z[basic]
    if adv is None:
        v[...] = g
    elif any(type(a) is np.ndarray and a.dtype != np.bool_ for a in adv):
        np.add.at(v, adv, g)
    else:  # only masks and slices: every position is hit at most once
        v[adv] = g
    return z


def _masked_fill(x: Any, mask: Any, value: Any) -> Any:
    return np.where(mask, np.asarray(value, dtype=x.dtype), x)


def _flip(x: Any, dims: Any) -> Any:
    return np.flip(x, dims)


def _cumsum(x: Any, dim: int) -> Any:
    return np.cumsum(x, axis=dim)


def _cumprod(x: Any, dim: int) -> Any:
    return np.cumprod(x, axis=dim)


def _prod(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    return x.prod(axis=dim, keepdims=keepdim)


def _cat(tensors: Any, dim: int = 0) -> Any:
    return np.concatenate(tensors, axis=dim)


def _stack(tensors: Any, dim: int = 0) -> Any:
    return np.stack(tensors, axis=dim)


def _unbind(x: Any, dim: int = 0) -> Any:
    pre = (slice(None),) * dim
    return tuple(x[pre + (i,)] for i in range(x.shape[dim]))


def _narrow(x: Any, dim: int, start: int, length: int) -> Any:
    return x[(slice(None),) * dim + (slice(start, start + length),)]


def _roll(x: Any, shifts: Any, dims: Any = None) -> Any:
    return np.roll(x, shifts, dims)


def _tril(x: Any, diagonal: int = 0) -> Any:
    return np.tril(x, diagonal)


def _triu(x: Any, diagonal: int = 0) -> Any:
    return np.triu(x, diagonal)


def _diagonal(x: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
    return np.diagonal(x, offset, dim1, dim2)


def _diagonal_scatter(x: Any, src: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
    out = np.array(x, copy=True)
    v = np.diagonal(out, offset, dim1, dim2)
    v.flags.writeable = True
    v[...] = src
    return out


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
    index_apply = staticmethod(_index_apply)
    index_backward = staticmethod(_index_backward)
    masked_fill = staticmethod(_masked_fill)
    flip = staticmethod(_flip)
    cumsum = staticmethod(_cumsum)
    cumprod = staticmethod(_cumprod)
    prod = staticmethod(_prod)
    cat = staticmethod(_cat)
    stack = staticmethod(_stack)
    unbind = staticmethod(_unbind)
    narrow = staticmethod(_narrow)
    roll = staticmethod(_roll)
    tril = staticmethod(_tril)
    triu = staticmethod(_triu)
    diagonal = staticmethod(_diagonal)
    diagonal_scatter = staticmethod(_diagonal_scatter)
    isnan = staticmethod(np.isnan)
    isfinite = staticmethod(np.isfinite)
    outer = staticmethod(np.outer)


class E:
    """ember side: filled with the ember functions of the same names by ``_core.register``."""
