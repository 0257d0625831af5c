"""Scans: cumsum, cumprod (running sum / product along a dim).

Re-exported by reduction.py (``ember.cumsum`` ...); helpers from _reduce_util.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._core import Node, Tensor, ns, register, wrap_dim
from ._reduce_util import _ARR, _c, _np_dtype, _raw, _wrap

__all__ = ["cumsum", "cumprod"]


# ---------------------------------------------------------------------------- scans
def _scan_in(input: Tensor, dim: Any, dtype: Any, name: str) -> tuple:
    if dim is None:
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
    d = input._data
    w = wrap_dim(dim, d.ndim)
    dt = _np_dtype(dtype, d)
    return d, w, (np.asarray(d) if d.ndim else np.asarray(d).reshape(1)), dt


class CumsumBackward0(Node):
    """out_k = sum_{i<=k} a_i;  da_k = sum_{j>=k} g_j (reversed cumsum)."""

    def backward(self, g: Any) -> tuple:
        xp = ns(g)
        if g.ndim == 0:
            return (g,)
        d = (self.dim,)
        return (xp.flip(xp.cumsum(xp.flip(g, d), self.dim), d),)


@register("cumsum")
def cumsum(input: Tensor, dim: Any = None, *, dtype: Any = None, axis: Any = None) -> Tensor:
    """out_k = sum_{i<=k} input_i along ``dim``; ints and bools give int64."""
    d, w, a, dt = _scan_in(input, axis if dim is None else dim, dtype, "cumsum")
    r = np.cumsum(a, axis=w, dtype=dt).reshape(d.shape)
    return _wrap(CumsumBackward0, input, r, d, dim=w)


def _cumprod_grad(a: Any, out: Any, g: Any, dim: int) -> Any:
    """First-order cumprod gradient on arrays, O(n), exact with zeros."""
    if not (a == 0).any():
        w = out * g
        return np.flip(np.cumsum(np.flip(w, dim), dim), dim) / a
    a, g = np.moveaxis(a, dim, -1), np.moveaxis(g, dim, -1)
    ones = np.ones(a.shape[:-1] + (1,), a.dtype)
    left = np.cumprod(np.concatenate([ones, a[..., :-1]], -1), -1)  # prod_{i<k} a_i
    right = np.empty_like(g)  # R_k = g_k + a_{k+1} R_{k+1}
    right[..., -1] = g[..., -1]
    for k in range(a.shape[-1] - 2, -1, -1):
        right[..., k] = g[..., k] + a[..., k + 1] * right[..., k + 1]
    return np.moveaxis(left * right, -1, dim)


class CumprodBackward0(Node):
    """out_k = prod_{i<=k} a_i;  da_k = sum_{j>=k} g_j prod_{i<=j, i!=k} a_i."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        ad = _raw(a)
        dim = self.dim
        if ad.ndim == 0 or ad.shape[dim] <= 1:
            return (g,)
        if type(g) in _ARR:
            return (_cumprod_grad(ad, self._out, g, dim),)
        xp = ns(g)
        if not (ad == 0).any():
            w = self._result(g) * g
            return (xp.flip(xp.cumsum(xp.flip(w, (dim,)), dim), (dim,)) / a,)
        n = ad.shape[dim]  # O(n^2) but differentiable: P[k, j] = prod_{i<=j, i!=k} a_i
        tail = (1,) * (ad.ndim - dim - 1)
        eye = np.eye(n, dtype=ad.dtype).reshape((n, n) + tail)
        p = xp.cumprod(xp.unsqueeze(a, dim) * _c(g, 1 - eye) + _c(g, eye), dim + 1)
        tri = np.triu(np.ones((n, n), ad.dtype)).reshape((n, n) + tail)
        return (xp.sum(p * (xp.unsqueeze(g, dim) * _c(g, tri)), dim + 1),)


@register("cumprod")
def cumprod(input: Tensor, dim: Any = None, *, dtype: Any = None, axis: Any = None) -> Tensor:
    """out_k = prod_{i<=k} input_i along ``dim``; ints and bools give int64."""
    d, w, a, dt = _scan_in(input, axis if dim is None else dim, dtype, "cumprod")
    r = np.cumprod(a, axis=w, dtype=dt).reshape(d.shape)
    return _wrap(CumprodBackward0, input, r, d, save_input=True, save_out=True, dim=w)

