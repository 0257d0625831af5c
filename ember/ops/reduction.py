"""Reductions: sum, mean, prod, max/min, amax/amin, argmax/argmin, aminmax, median, all/any ...

var/std/norms/logsumexp/softmax live in stats.py and cumsum/cumprod in scan.py; they are
re-exported here (``__all__`` below).  Dims and the shared helpers: see _reduce_util.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from ._core import STATE, Node, Tensor, new, ns, register, unary, wrap_dim
from ._reduce_util import (
    _ARR,
    _I64,
    _LEGACY,
    _axes,
    _c,
    _dims_alias,
    _empty_check,
    _kshape,
    _np_dtype,
    _raw,
    _restore,
    _two,
    _wrap,
    return_type,
    return_types,
)
from .scan import cumprod, cumsum
from .stats import log_softmax, logsumexp, norm, softmax, std, std_mean, var, var_mean, vector_norm

__all__ = ["sum", "nansum", "mean", "nanmean", "prod", "max", "min", "amax", "amin", "argmax",
           "argmin", "aminmax", "var", "std", "var_mean", "std_mean", "logsumexp", "norm",
           "vector_norm", "cumsum", "cumprod", "all", "any", "count_nonzero", "median",
           "softmax", "log_softmax", "return_types"]

_reduce = np.add.reduce


class _AllDims:
    """Default ``dim`` of sum/mean: torch names the node ...Backward0 only when dim is omitted."""

    def __repr__(self) -> str:
        return "None"


_ALL = _AllDims()
_MAX = return_type("max", ("values", "indices"))
_MIN = return_type("min", ("values", "indices"))
_MEDIAN = return_type("median", ("values", "indices"))
_AMINMAX = return_type("aminmax", ("min", "max"))


# ---------------------------------------------------------------------------- sum / mean
class SumBackward0(Node):
    """out = sum(a);  da = g broadcast to a's shape."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).expand(g, self.shape),)


class SumBackward1(Node):
    """out = sum(a, dims);  da = g with the dims restored, broadcast to a's shape."""

    kshape = None

    def backward(self, g: Any) -> tuple:
        xp = ns(g)
        return (xp.expand(_restore(xp, g, self.kshape), self.shape),)


@register("sum")
def sum(input: Tensor, dim: Any = _ALL, keepdim: bool = False, *,  # noqa: A001
        dtype: Any = None, axis: Any = None, keepdims: Any = None) -> Tensor:
    """sum_i input[i] over ``dim`` (all elements when None); ints and bools give int64."""
    d = input._data
    if dim is _ALL and axis is None and not keepdim and not keepdims:
        if dtype is None:
            r = _reduce(d, None, _I64) if d.dtype.kind in "biu" else _reduce(d, None)
            return unary(SumBackward0, input, r, shape=d.shape)
        return _wrap(SumBackward0, input, d.sum(dtype=D.to_np(dtype)), d, shape=d.shape)
    dim, keepdim = _dims_alias(None if dim is _ALL else dim, keepdim, axis, keepdims)
    axes = _axes(dim, d.ndim)
    r = d.sum(axis=axes, dtype=_np_dtype(dtype, d), keepdims=keepdim)
    return _wrap(SumBackward1, input, r, d, shape=d.shape, kshape=_kshape(d.shape, axes, keepdim))


class NansumBackward0(Node):
    """out = sum of non-nan a;  da = g where a is not nan, else 0."""

    kshape = None

    def backward(self, g: Any) -> tuple:
        xp = ns(g)
        (a,) = self._unpack(g)
        return (xp.where(_c(g, np.isnan(_raw(a))), 0.0,
                         xp.expand(_restore(xp, g, self.kshape), self.shape)),)


@register("nansum")
def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
           axis: Any = None, keepdims: Any = None) -> Tensor:
    """sum of input over ``dim`` treating nan as 0."""
    dim, keepdim = _dims_alias(dim, keepdim, axis, keepdims)
    d = input._data
    axes = _axes(dim, d.ndim)
    r = np.nansum(d, axis=axes, dtype=_np_dtype(dtype, d), keepdims=keepdim)
    return _wrap(NansumBackward0, input, r, d, save_input=True, shape=d.shape,
                 kshape=_kshape(d.shape, axes, keepdim))


class MeanBackward0(Node):
    """out = sum(a) / n;  da = g / n broadcast."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).expand(g / self.n, self.shape),)


class MeanBackward1(Node):
    """out = mean(a, dims);  da = g / n with the dims restored, broadcast."""

    kshape = None

    def backward(self, g: Any) -> tuple:
        xp = ns(g)
        return (xp.expand(_restore(xp, g / self.n, self.kshape), self.shape),)


def _mean_check(d: Any, dtype: Any) -> None:
    dt = d.dtype if dtype is None else D.to_np(dtype)
    if dt.kind not in "fc":
        raise RuntimeError(
            f"mean(): could not infer output dtype. {'Input' if dtype is None else 'Optional'} "
            "dtype must be either a floating point or complex dtype. Got: "
            f"{_LEGACY[str(dt)]}. Hint: pass dtype=ember.float32 or convert with x.float()."
        )


@register("mean")
def mean(input: Tensor, dim: Any = _ALL, keepdim: bool = False, *, dtype: Any = None,
         axis: Any = None, keepdims: Any = None) -> Tensor:
    """sum(input) / n over ``dim`` (float dtypes only, like torch)."""
    d = input._data
    whole = dim is _ALL and axis is None and not keepdim and not keepdims
    if whole and dtype is None:
        if d.dtype.kind not in "fc":
            _mean_check(d, None)
        r = _reduce(d, None) / d.size if d.dtype != np.float16 else d.mean()
        return unary(MeanBackward0, input, r, shape=d.shape, n=d.size)
    _mean_check(d, dtype)
    dim, keepdim = _dims_alias(None if dim is _ALL else dim, keepdim, axis, keepdims)
    axes = _axes(dim, d.ndim)
    src = d
    if dtype is not None:
        d = d.astype(D.to_np(dtype))
    r = d.sum(axis=axes, keepdims=keepdim)
    n = int(np.prod([d.shape[i] for i in axes])) if axes is not None else d.size
    r = r / n if n else r * np.nan
    r = r.astype(d.dtype, copy=False)
    return _wrap(MeanBackward0 if whole else MeanBackward1, input, r, src, shape=d.shape, n=n,
                 kshape=_kshape(d.shape, axes, keepdim))


@register("nanmean")
def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
            axis: Any = None, keepdims: Any = None) -> Tensor:
    """nansum(input) / (number of non-nan elements), over ``dim``."""
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            "nanmean(): expected input to have floating point or complex dtype but got "
            f"{_LEGACY[str(input._data.dtype)]}. Hint: convert it first with x.float()."
        )
    dim, keepdim = _dims_alias(dim, keepdim, axis, keepdims)
    cnt = np.sum(~np.isnan(input._data), axis=_axes(dim, input._data.ndim), keepdims=keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / new(np.asarray(cnt), None)


# ---------------------------------------------------------------------------- prod
def _others(a: Any, axis: int) -> Any:
    """Product of all other elements along ``axis`` (exact with zeros; exclusive scans)."""
    a = np.moveaxis(a, axis, -1)
    ones = np.ones(a.shape[:-1] + (1,), a.dtype)
    left = np.cumprod(np.concatenate([ones, a[..., :-1]], -1), -1)
    right = np.cumprod(np.concatenate([ones, a[..., :0:-1]], -1), -1)[..., ::-1]
    return np.moveaxis(left * right, -1, axis)


def _others_graph(xp: Any, g: Any, x: Any, axis: int) -> Any:
    """Differentiable product of the other elements along ``axis`` (O(n^2), create_graph)."""
    n = x.shape[axis]
    eye = np.eye(n, dtype=_raw(x).dtype).reshape((n, n) + (1,) * (x.ndim - axis - 1))
    mat = xp.unsqueeze(x, axis) * _c(g, 1 - eye) + _c(g, eye)
    return xp.prod(mat, axis + 1)


class ProdBackward0(Node):
    """out = prod(a);  da = g * prod of the other elements (out / a without zeros)."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        ad = _raw(a)
        if ad.ndim == 0:
            return (g,)
        if not (ad == 0).any():
            return (g * (self._result(g) / a),)
        if type(g) in _ARR:
            return (g * _others(ad.reshape(-1), 0).reshape(ad.shape),)
        xp = ns(g)
        return (g * xp.reshape(_others_graph(xp, g, xp.reshape(a, (-1,)), 0), ad.shape),)


class ProdBackward1(Node):
    """out = prod(a, dim);  da = g * prod of the other elements along dim."""

    kshape = None

    def backward(self, g: Any) -> tuple:
        xp = ns(g)
        (a,) = self._unpack(g)
        ad = _raw(a)
        if ad.ndim == 0:
            return (g,)
        g = _restore(xp, g, self.kshape)
        if not (ad == 0).any():
            return (g * (_restore(xp, self._result(g), self.kshape) / a),)
        if type(g) in _ARR:
            return (g * _others(ad, self.dim),)
        return (g * _others_graph(xp, g, a, self.dim),)


@register("prod")
def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None,
         axis: Any = None, keepdims: Any = None) -> Tensor:
    """prod_i input[i] (over one ``dim`` or all elements); ints and bools give int64."""
    dim, keepdim = _dims_alias(dim, keepdim, axis, keepdims)
    d = input._data
    dt = _np_dtype(dtype, d)
    if dim is None:
        return _wrap(ProdBackward0, input, d.prod(dtype=dt), d, save_input=True, save_out=True)
    w = wrap_dim(dim, d.ndim)
    r = d.prod(axis=w if d.ndim else (), dtype=dt, keepdims=keepdim)
    return _wrap(ProdBackward1, input, r, d, save_input=True, save_out=True, dim=w,
                 kshape=_kshape(d.shape, (w,), keepdim))


# ---------------------------------------------------------------------------- max / min
def _spread(d: Any, r: Any, axes: tuple | None, nan: bool = False) -> Any:
    """Weights sharing a gradient evenly among the elements equal to the result (ties).

    ``nan``: a nan result is shared among the nans (whole-tensor max/median); otherwise a nan
    result makes the slice's gradient nan (amax/amin, like torch).
    """
    rk = r if axes is None else np.expand_dims(r, axes) if np.ndim(r) < d.ndim else r
    m = (d == rk) | (np.isnan(d) & np.isnan(rk)) if nan and d.dtype.kind == "f" else d == rk
    return (m / m.sum(axis=axes, keepdims=True)).astype(d.dtype)


class _Spread(Node):
    """out = an extreme of a;  da = g shared evenly among the elements equal to out."""

    kshape = None
    axes = None
    nan = False  # see _spread

    def backward(self, g: Any) -> tuple:
        xp = ns(g)
        (a,) = self._unpack(g)
        ad = _raw(a)
        w = _spread(ad, _raw(self._result(g)), self.axes, self.nan)
        return (xp.expand(_restore(xp, g, self.kshape), ad.shape) * _c(g, w),)


class MaxBackward1(_Spread):
    nan = True


class MinBackward1(_Spread):
    nan = True


class AmaxBackward0(_Spread):
    pass


class AminBackward0(_Spread):
    pass


class MedianBackward0(_Spread):
    nan = True


class _Select(Node):
    """out = a at the returned indices along dim;  da = g routed to those indices."""

    kshape = None

    def backward(self, g: Any) -> tuple:
        idx, dim, shape = self.idx, self.dim, self.shape
        if idx is None:  # 0-d input
            return (g,)
        xp = ns(g)
        mask = np.arange(shape[dim]).reshape((-1,) + (1,) * (len(shape) - dim - 1)) == idx
        full = xp.expand(_restore(xp, g, self.kshape), shape)
        return (xp.where(_c(g, mask), full, 0.0),)


class MaxBackward0(_Select):
    pass


class MinBackward0(_Select):
    pass


class MedianBackward1(_Select):
    pass


def _select(cls: type, rt: type, input: Tensor, idx: Any, dim: int, keepdim: bool) -> Any:
    """Named tuple (values, indices) for ``idx`` (keepdim form) chosen along ``dim``."""
    d = input._data
    if d.ndim == 0:
        return rt(unary(cls, input, d, shape=(), idx=None, dim=0), new(np.int64(0), None))
    vals = np.take_along_axis(d, idx, dim)
    kidx = idx
    if not keepdim:
        vals, idx = vals.squeeze(dim), idx.squeeze(dim)
    return rt(unary(cls, input, vals, shape=d.shape, idx=kidx, dim=dim,
                    kshape=_kshape(d.shape, (dim,), keepdim)), new(idx.astype(_I64), None))


def _extreme(name: str, input: Tensor, dim: Any, keepdim: Any, other: Any, axis: Any,
             keepdims: Any) -> Any:
    is_max = name == "max"
    if isinstance(dim, Tensor) or other is not None:
        from . import pointwise

        fn = pointwise.maximum if is_max else pointwise.minimum  # type: ignore[attr-defined]
        return fn(input, dim if other is None else other)
    dim, keepdim = _dims_alias(dim, keepdim, axis, keepdims)
    d = input._data
    if dim is None:
        _empty_check(d, name, None)
        r = d.max() if is_max else d.min()
        cls = MaxBackward1 if is_max else MinBackward1
        return unary(cls, input, r, save_input=True, save_out=True)
    if not isinstance(dim, int):
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got (dim="
            f"{type(dim).__name__}, ), but expected one of: (), (Tensor other), (int dim, bool "
            f"keepdim = False). Hint: use ember.a{name}(x, dim) to reduce over several dims."
        )
    w = wrap_dim(dim, d.ndim)
    if d.ndim:
        _empty_check(d, name, (w,))
        idx = np.expand_dims((d.argmax if is_max else d.argmin)(axis=w), w)
    else:
        idx = None
    return _select(MaxBackward0 if is_max else MinBackward0, _MAX if is_max else _MIN, input,
                   idx, w, keepdim)


@register("max")
def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None,  # noqa: A001
        axis: Any = None, keepdims: Any = None) -> Any:
    """Largest element; with ``dim`` (values, indices); with a tensor, elementwise maximum."""
    return _extreme("max", input, dim, keepdim, other, axis, keepdims)


@register("min")
def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None,  # noqa: A001
        axis: Any = None, keepdims: Any = None) -> Any:
    """Smallest element; with ``dim`` (values, indices); with a tensor, elementwise minimum."""
    return _extreme("min", input, dim, keepdim, other, axis, keepdims)


def _amaxmin(cls: type, name: str, input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    d = input._data
    axes = _axes(dim, d.ndim)
    _empty_check(d, name, axes)
    r = (np.maximum if cls is AmaxBackward0 else np.minimum).reduce(d, axes, None, None, keepdim)
    return unary(cls, input, r, save_input=True, save_out=True, axes=axes,
                 kshape=_kshape(d.shape, axes, keepdim))


@register("amax")
def amax(input: Tensor, dim: Any = (), keepdim: bool = False, *, axis: Any = None,
         keepdims: Any = None) -> Tensor:
    """max over ``dim`` (all dims by default); ties share the gradient evenly."""
    dim, keepdim = _dims_alias(dim if dim != () else None, keepdim, axis, keepdims)
    return _amaxmin(AmaxBackward0, "amax", input, dim, keepdim)


@register("amin")
def amin(input: Tensor, dim: Any = (), keepdim: bool = False, *, axis: Any = None,
         keepdims: Any = None) -> Tensor:
    """min over ``dim`` (all dims by default); ties share the gradient evenly."""
    dim, keepdim = _dims_alias(dim if dim != () else None, keepdim, axis, keepdims)
    return _amaxmin(AminBackward0, "amin", input, dim, keepdim)


def _argext(name: str, input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    d = input._data
    if d.dtype == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input. Hint: convert with x.long().")
    f = np.argmax if name == "argmax" else np.argmin
    if dim is None:
        if d.size == 0:
            raise IndexError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        r = np.int64(f(d))
        return new(np.full((1,) * d.ndim, r) if keepdim else r, None)
    w = wrap_dim(dim, d.ndim)
    if not d.ndim:
        return new(np.int64(0), None)
    _empty_check(d, name, (w,))
    return new(f(d, axis=w, keepdims=keepdim).astype(_I64), None)


@register("argmax")
def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: Any = None,
           keepdims: Any = None) -> Tensor:
    """Index of the largest element (flattened when ``dim`` is None); int64."""
    dim, keepdim = _dims_alias(dim, keepdim, axis, keepdims)
    return _argext("argmax", input, dim, keepdim)


@register("argmin")
def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: Any = None,
           keepdims: Any = None) -> Tensor:
    """Index of the smallest element (flattened when ``dim`` is None); int64."""
    dim, keepdim = _dims_alias(dim, keepdim, axis, keepdims)
    return _argext("argmin", input, dim, keepdim)


class AminmaxBackward0(Node):
    """(min, max) = aminmax(a);  da = g_min, g_max each shared evenly among their ties."""

    kshape = None

    def backward(self, gs: Any) -> tuple:
        out = None
        for g, w in zip(gs, self.ws, strict=True):
            if g is not None:
                xp = ns(g)
                t = xp.expand(_restore(xp, g, self.kshape), self.shape) * _c(g, w)
                out = t if out is None else out + t
        return (out,)


@register("aminmax")
def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """(min, max) of input, over ``dim`` or all elements."""
    d = input._data
    axes = None if dim is None else (wrap_dim(dim, d.ndim),) if d.ndim else ()
    if d.size == 0 and (axes is None or 0 in [d.shape[a] for a in axes]):
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
            "identity. Hint: pass a dim whose size is not 0."
        )
    lo, hi = np.amin(d, axis=axes, keepdims=keepdim), np.amax(d, axis=axes, keepdims=keepdim)
    if input._edge is None or not STATE.enabled:
        return _AMINMAX(new(lo, None), new(hi, None))
    ws = (_spread(d, lo, axes), _spread(d, hi, axes))
    return _AMINMAX(*_two(AminmaxBackward0, input, lo, hi, shape=d.shape, ws=ws,
                          kshape=_kshape(d.shape, axes, keepdim)))


# ---------------------------------------------------------------------------- median
@register("median")
def median(input: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: Any = None,
           keepdims: Any = None) -> Any:
    """Lower median (nan if any); with ``dim`` a named tuple (values, indices)."""
    dim, keepdim = _dims_alias(dim, keepdim, axis, keepdims)
    d = input._data
    if dim is None:
        if d.size == 0:
            return new(np.array(np.nan, d.dtype) if d.dtype.kind == "f" else d.sum(), None)
        f = d.reshape(-1)
        r = f[np.argmax(np.isnan(f))] if d.dtype.kind == "f" and np.isnan(f).any() else \
            np.partition(f, (f.size - 1) // 2)[(f.size - 1) // 2]
        return unary(MedianBackward0, input, r, save_input=True, save_out=True)
    w = wrap_dim(dim, d.ndim)
    idx = None
    if d.ndim:
        _empty_check(d, "median", (w,))
        k = (d.shape[w] - 1) // 2
        idx = np.take(np.argsort(d, axis=w, kind="stable"), [k], axis=w)
        if d.dtype.kind == "f":
            nan = np.isnan(d)
            idx = np.where(nan.any(w, keepdims=True), np.argmax(nan, w, keepdims=True), idx)
    return _select(MedianBackward1, _MEDIAN, input, idx, w, keepdim)


# ---------------------------------------------------------------------------- logical
def _logical(f: Any, input: Tensor, dim: Any, keepdim: bool, axis: Any, keepdims: Any) -> Tensor:
    dim, keepdim = _dims_alias(dim, keepdim, axis, keepdims)
    d = input._data
    r = f(d, axis=_axes(dim, d.ndim), keepdims=keepdim)
    if d.dtype == np.uint8:
        r = np.asarray(r, np.uint8)[()] if np.ndim(r) == 0 else r.astype(np.uint8)
    return new(r, None)


@register("all")
def all(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: Any = None) -> Tensor:
    """True when every element (over ``dim``) is nonzero."""
    return _logical(np.all, input, dim, keepdim, axis, keepdims)


@register("any")
def any(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: Any = None) -> Tensor:
    """True when some element (over ``dim``) is nonzero."""
    return _logical(np.any, input, dim, keepdim, axis, keepdims)


@register("count_nonzero")
def count_nonzero(input: Tensor, dim: Any = None, *, axis: Any = None) -> Tensor:
    """Number of nonzero elements over ``dim`` (int64)."""
    d = input._data
    r = np.count_nonzero(d, axis=_axes(axis if dim is None else dim, d.ndim))
    return new(np.int64(r) if np.ndim(r) == 0 else r.astype(_I64), None)


# ---------------------------------------------------------------------------- sum_to
def sum_to(input: Tensor, shape: tuple) -> Tensor:
    """Sum the broadcast dims of ``input`` away so that it has ``shape`` (undo broadcasting)."""
    shape = tuple(shape)
    ds = input._data.shape
    if ds == shape:
        return input
    lead = len(ds) - len(shape)
    if lead < 0 or [s for s, t in zip(shape, ds[lead:], strict=True) if s != 1 and s != t]:
        raise RuntimeError(
            f"size {{[{', '.join(map(str, shape))}]}} is not expandable to size "
            f"{{[{', '.join(map(str, ds))}]}}. Hint: each target size must be 1 or equal the "
            "trailing size of the tensor."
        )
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and ds[i + lead] != 1)
    r = sum(input, axes, True)  # SumBackward1, then a view for leading dims (like torch)
    return r.view(shape) if lead else r  # type: ignore[attr-defined]


register(namespace=True)(sum_to)


@register("sum_to_size", namespace=False)
def sum_to_size(self: Tensor, *size: Any) -> Tensor:
    """Sum to ``size`` (which input must broadcast to); returns self when already that size."""
    if len(size) == 1 and not isinstance(size[0], int):
        size = tuple(size[0])
    return sum_to(self, size)
