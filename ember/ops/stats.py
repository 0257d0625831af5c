"""Statistics and normalisers: var, std, var_mean, std_mean, vector_norm/norm, logsumexp,
softmax, log_softmax.

Re-exported by reduction.py (``ember.var`` ...); dims and helpers as in _reduce_util.py.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import _dtype as D
from ._core import Node, Tensor, ns, register, unary, wrap_dim
from ._reduce_util import (
    _INF,
    _LEGACY,
    _axes,
    _c,
    _dims_alias,
    _empty_check,
    _float_only,
    _kshape,
    _raw,
    _restore,
    _two,
    _wrap,
)

__all__ = ["var", "std", "var_mean", "std_mean", "vector_norm", "norm", "logsumexp", "softmax",
           "log_softmax"]


# ---------------------------------------------------------------------------- var / std
def _var_args(name: str, input: Tensor, dim: Any, unbiased: Any, keepdim: Any, correction: Any,
              axis: Any, keepdims: Any) -> tuple:
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    dim, keepdim = _dims_alias(dim, keepdim, axis, keepdims)
    d = input._data
    if d.dtype.kind not in "fc":
        raise RuntimeError(
            "std and var only support floating point and complex dtypes. Hint: convert with "
            "x.float()."
        )
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = _axes(dim, d.ndim)
    n = d.size if axes is None else int(np.prod([d.shape[i] for i in axes]))
    dev = d - d.mean(axis=axes, keepdims=True) if d.size else d
    dof = n - correction
    if dof <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    v = (dev * dev).sum(axis=axes, keepdims=keepdim) / np.array(dof if dof > 0 else 0, d.dtype)
    return d, axes, keepdim, n, dof, np.asarray(v, d.dtype)[()] if np.ndim(v) == 0 else v


def _var_grad(xp: Any, g: Any, a: Any, node: Any) -> Any:
    """d var / da = 2 (a - mean(a)) / dof, times g with the reduced dims restored."""
    mu = xp.sum(a, node.axes, True) / node.n
    if node.dof <= 0 and (node.axes is None or a.ndim == 0):  # torch: nan where a == mean
        ad = _raw(a)
        return g * _c(g, np.where(ad == ad.mean(), np.nan, _INF).astype(ad.dtype))
    scale = 2.0 / node.dof if node.dof else _INF
    return (_restore(xp, g, node.kshape) * scale) * (a - mu)


class VarBackward0(Node):
    """out = sum((a - mean)^2) / (n - correction);  da = g * 2 (a - mean) / (n - correction)."""

    kshape = None

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        return (_var_grad(ns(g), g, a, self),)


def _std_g(xp: Any, g: Any, out: Any) -> Any:
    """g / (2 std), 0 where std is 0."""
    return xp.where(_c(g, _raw(out) == 0), 0.0, g / (out * 2))


class StdBackward0(Node):
    """out = sqrt(var(a));  da = var's rule applied to g / (2 out)."""

    kshape = None

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        xp = ns(g)
        return (_var_grad(xp, _std_g(xp, g, self._result(g)), a, self),)


@register("var")
def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, axis: Any = None, keepdims: Any = None) -> Tensor:
    """sum((input - mean)^2) / (n - correction) over ``dim`` (correction=1 by default)."""
    d, axes, keepdim, n, dof, v = _var_args("var", input, dim, unbiased, keepdim, correction,
                                            axis, keepdims)
    return unary(VarBackward0, input, v, save_input=True, axes=axes, n=n, dof=dof,
                 kshape=_kshape(d.shape, axes, keepdim))


@register("std")
def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, axis: Any = None, keepdims: Any = None) -> Tensor:
    """sqrt(var(input, dim, correction))."""
    d, axes, keepdim, n, dof, v = _var_args("std", input, dim, unbiased, keepdim, correction,
                                            axis, keepdims)
    return unary(StdBackward0, input, np.sqrt(v), save_input=True, save_out=True, axes=axes,
                 n=n, dof=dof, kshape=_kshape(d.shape, axes, keepdim))


class VarMeanBackward0(Node):
    """(var, mean) of a;  da = var's rule on g_var + g_mean / n broadcast."""

    kshape = None
    _std = False

    def backward(self, gs: Any) -> tuple:
        gv, gm = gs
        g = gv if gv is not None else gm
        xp = ns(g)
        (a,) = self._unpack(g)
        out = None
        if gv is not None:
            if self._std:
                gv = _std_g(xp, gv, self._result(gv))
            out = _var_grad(xp, gv, a, self)
        if gm is not None:
            t = xp.expand(_restore(xp, gm / self.n, self.kshape), self.shape)
            out = t if out is None else out + t
        return (out,)


class StdMeanBackward0(VarMeanBackward0):
    _std = True


def _var_mean(cls: type, input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any,
              axis: Any, keepdims: Any) -> tuple:
    name = "std_mean" if cls is StdMeanBackward0 else "var_mean"
    d, axes, keepdim, n, dof, v = _var_args(name, input, dim, unbiased, keepdim, correction,
                                            axis, keepdims)
    if cls is StdMeanBackward0:
        v = np.sqrt(v)
    m = d.mean(axis=axes, keepdims=keepdim) if d.size else d.sum(axes, keepdims=keepdim) * np.nan
    m = np.asarray(m, d.dtype)[()] if np.ndim(m) == 0 else m
    return _two(cls, input, v, m, save_out=cls is StdMeanBackward0, axes=axes, n=n, dof=dof,
                shape=d.shape,
                kshape=_kshape(d.shape, axes, keepdim))


def var_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None, axis: Any = None, keepdims: Any = None) -> tuple:
    """(var(input, dim), mean(input, dim))."""
    return _var_mean(VarMeanBackward0, input, dim, unbiased, keepdim, correction, axis, keepdims)


def std_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None, axis: Any = None, keepdims: Any = None) -> tuple:
    """(std(input, dim), mean(input, dim))."""
    return _var_mean(StdMeanBackward0, input, dim, unbiased, keepdim, correction, axis, keepdims)


# ---------------------------------------------------------------------------- norms
class LinalgVectorNormBackward0(Node):
    """out = (sum |a|^p)^(1/p);  da = g * sign(a) |a|^(p-1) / out^(p-1) (torch's special cases)."""

    kshape = None

    def backward(self, g: Any) -> tuple:
        p = self.p
        if p == 0:
            return (None,)
        xp = ns(g)
        (a,) = self._unpack(g)
        g = _restore(xp, g, self.kshape)
        if p == 1:
            return (xp.sign(a) * g,)
        out = _restore(xp, self._result(g), self.kshape)
        zero = _c(g, _raw(out) == 0)
        if p == 2:
            return (g * xp.where(zero, 0.0, a / out),)
        if p in (_INF, -_INF):
            ad = np.abs(_raw(a))
            m = (ad == _raw(out)) | np.isnan(ad)
            w = (m / m.sum(axis=self.axes, keepdims=True)).astype(ad.dtype)
            return (xp.sign(a) * (g * _c(g, w)),)
        if p < 1:
            scaled = xp.sign(a) * xp.where(_c(g, _raw(a) == 0), 0.0, xp.pow(xp.abs(a), p - 1))
            return (scaled * g * xp.pow(out, 1 - p),)
        scaled = xp.sign(a) * xp.pow(xp.abs(a), p - 1) if p < 2 else a * xp.pow(xp.abs(a), p - 2)
        return (scaled * xp.where(zero, 0.0, g / xp.pow(out, p - 1)),)


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
                dtype: Any = None, axis: Any = None, keepdims: Any = None) -> Tensor:
    """(sum_i |x_i|^ord)^(1/ord) over ``dim``; ord inf/-inf: max/min |x|, ord 0: count of x != 0."""
    _float_only(x, "linalg.vector_norm")
    dim, keepdim = _dims_alias(dim, keepdim, axis, keepdims)
    src = d = x._data
    if dtype is not None:
        d = d.astype(D.to_np(dtype))
    axes = _axes(dim, d.ndim)
    p = float(ord)
    a = np.abs(d)
    if p == _INF or p == -_INF:
        if a.size == 0:
            _empty_check(a, "linalg.vector_norm", axes)
        r = (np.amax if p > 0 else np.amin)(a, axis=axes, keepdims=keepdim)
    elif p == 0:
        r = (d != 0).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
    elif p == 1:
        r = a.sum(axis=axes, keepdims=keepdim)
    elif p == 2:
        r = np.sqrt((a * a).sum(axis=axes, keepdims=keepdim))
    else:
        r = (a**p).sum(axis=axes, keepdims=keepdim) ** (1 / p)
    r = np.asarray(r, a.dtype)[()] if np.ndim(r) == 0 else r.astype(a.dtype, copy=False)
    return _wrap(LinalgVectorNormBackward0, x, r, src, save_input=True, save_out=True, p=p,
                 axes=axes, kshape=_kshape(d.shape, axes, keepdim))


@register("norm")
def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """Vector p-norm over ``dim`` (``'fro'``/None = 2); see vector_norm."""
    if p == "nuc":
        raise NotImplementedError("norm(p='nuc') is not supported by ember. Hint: use "
                                  "ember.linalg.svdvals(x).sum().")
    return vector_norm(input, 2 if p is None or p == "fro" else p, dim, keepdim, dtype=dtype)


# ---------------------------------------------------------------------------- logsumexp
class LogsumexpBackward0(Node):
    """out = log(sum(exp(a)));  da = g * exp(a - out)."""

    kshape = None

    def backward(self, g: Any) -> tuple:
        xp = ns(g)
        (a,) = self._unpack(g)
        out = _restore(xp, self._result(g), self.kshape)
        return (_restore(xp, g, self.kshape) * xp.exp(a - out),)


@register("logsumexp")
def logsumexp(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
              keepdims: Any = None) -> Tensor:
    """log(sum(exp(input))) over ``dim``, computed stably (shifted by the finite max)."""
    if dim is None and axis is None:
        raise TypeError('logsumexp() missing 1 required positional arguments: "dim"')
    dim, keepdim = _dims_alias(dim, keepdim, axis, keepdims)
    d = input._data
    if d.dtype.kind in "biu":
        d = d.astype(D.default_np())
    axes = _axes(dim, d.ndim)
    if d.size:
        m = np.amax(d, axis=axes, keepdims=True)
        m = np.where(np.isinf(m), 0, m).astype(d.dtype)
        r = np.log(np.exp(d - m).sum(axis=axes, keepdims=keepdim))
        r = r + (m if keepdim else m.reshape(np.shape(r)))
    else:
        r = np.log(np.exp(d).sum(axis=axes, keepdims=keepdim))
    r = np.asarray(r, d.dtype)[()] if np.ndim(r) == 0 else r
    return unary(LogsumexpBackward0, input, r, save_input=True, save_out=True,
                 kshape=_kshape(d.shape, axes, keepdim))


# ---------------------------------------------------------------------------- softmax
class SoftmaxBackward0(Node):
    """out = exp(a) / sum(exp(a));  da = out * (g - sum(g * out))."""

    def backward(self, g: Any) -> tuple:
        out = self._result(g)
        return (out * (g - ns(g).sum(g * out, self.dim, True)),)


class LogSoftmaxBackward0(Node):
    """out = a - logsumexp(a);  da = g - exp(out) * sum(g)."""

    def backward(self, g: Any) -> tuple:
        xp = ns(g)
        return (g - xp.exp(self._result(g)) * xp.sum(g, self.dim, True),)


def _softmax_in(input: Tensor, dim: Any, dtype: Any, kernel: str) -> tuple:
    if dim is None:
        raise TypeError(f'{kernel}() missing 1 required positional arguments: "dim"')
    if dtype is not None:
        input = input.to(dtype)  # type: ignore[attr-defined]
    d = input._data
    w = wrap_dim(dim, d.ndim)
    if d.dtype.kind not in "fc":
        kind = "_lastdim" if w >= d.ndim - 1 else ""
        raise NotImplementedError(
            f'"{kernel}{kind}_kernel_impl" not implemented for \'{_LEGACY[str(d.dtype)]}\'. Hint: '
            "convert the input with x.float() or pass dtype=ember.float32."
        )
    return input, (d if d.ndim else np.reshape(d, (1,))), w


@register("softmax")
def softmax(input: Tensor, dim: Any = None, dtype: Any = None, *, axis: Any = None) -> Tensor:
    """exp(input) / sum(exp(input)) along ``dim`` (shifted by the max: stable)."""
    input, d, w = _softmax_in(input, axis if dim is None else dim, dtype, "softmax")
    e = np.exp(d - d.max(axis=w, keepdims=True)) if d.size else d.copy()
    r = e / e.sum(axis=w, keepdims=True)
    if input._data.ndim:
        return unary(SoftmaxBackward0, input, r, save_out=True, dim=w)
    return unary(SoftmaxBackward0, input, r[0], save_out=True, dim=None)


@register("log_softmax")
def log_softmax(input: Tensor, dim: Any = None, dtype: Any = None, *, axis: Any = None) -> Tensor:
    """input - log(sum(exp(input))) along ``dim`` (shifted by the max: stable)."""
    input, d, w = _softmax_in(input, axis if dim is None else dim, dtype, "log_softmax")
    s = d - d.max(axis=w, keepdims=True) if d.size else d.copy()
    r = s - np.log(np.exp(s).sum(axis=w, keepdims=True))
    if input._data.ndim:
        return unary(LogSoftmaxBackward0, input, r, save_out=True, dim=w)
    return unary(LogSoftmaxBackward0, input, r[0], save_out=True, dim=None)

