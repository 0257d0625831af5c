"""Reductions and scans: sum, mean, prod, max/min, var/std, norms, logsumexp, softmax, cumsum ...

Dims follow torch: an int, a tuple/list (``()``/``[]`` = all), or None; negative dims wrap.
Backward rules restore the reduced dims of ``g`` (``_restore``) and broadcast with ``xp.expand``.
Masks (argmax positions, ties, zeros) are NumPy constants computed from the saved data; ``_c``
turns them into Tensors when the rule runs on Tensors (``create_graph=True``).
"""

from __future__ import annotations

import sys
import types
import warnings
from collections import namedtuple
from typing import Any

import numpy as np

from .. import _dtype as D
from ._core import STATE, Node, Tensor, new, ns, record, register, unary, wrap_dim

__all__ = ["sum", "nansum", "mean", "nanmean", "prod", "max", "min", "amax", "amin", "argmax",
           "argmin", "aminmax", "var", "std", "var_mean", "std_mean", "logsumexp", "norm",
           "vector_norm", "cumsum", "cumprod", "all", "any", "count_nonzero", "median",
           "softmax", "log_softmax", "return_types"]

_ARR = (np.ndarray, np.generic)
_I64 = np.dtype(np.int64)
_INF = float("inf")
_reduce = np.add.reduce


class _AllDims:
    """Default ``dim`` of sum/mean: torch names the node ...Backward0 only when dim is omitted."""

    def __repr__(self) -> str:
        return "None"


_ALL = _AllDims()
_LEGACY = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
           "bool": "Bool"}

# ---------------------------------------------------------------------------- return types
return_types = types.ModuleType("ember.return_types", "Named tuples returned by ops (torch's).")
sys.modules["ember.return_types"] = return_types


def return_type(name: str, fields: tuple) -> type:
    """The named-tuple class ``ember.return_types.<name>`` (created once, printed like torch)."""
    cls = getattr(return_types, name, None)
    if cls is None:
        base = namedtuple(name, fields)  # noqa: PYI024

        def __repr__(self: Any) -> str:  # noqa: N807
            body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self, strict=True))
            return f"ember.return_types.{name}(\n{body})"

        cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                                   "__module__": "ember.return_types"})
        setattr(return_types, name, cls)
    return cls


_MAX = return_type("max", ("values", "indices"))
_MIN = return_type("min", ("values", "indices"))
_MEDIAN = return_type("median", ("values", "indices"))
_AMINMAX = return_type("aminmax", ("min", "max"))


# ---------------------------------------------------------------------------- helpers
def _axes(dim: Any, ndim: int) -> tuple | None:
    """Normalised reduction axes (None = all); torch's errors for bad or repeated dims."""
    if dim is None:
        return None
    if isinstance(dim, int):
        if -ndim <= dim < ndim:
            return (dim + ndim if dim < 0 else dim,)
        wrap_dim(dim, ndim)  # raises when out of range
        return ()
    dims = tuple(dim)
    if not dims:
        return None
    out: list = []
    for x in dims:
        w = wrap_dim(x, ndim)
        if w in out:
            raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
        out.append(w)
    return tuple(out) if ndim else ()


def _kshape(shape: tuple, axes: tuple | None, keepdim: bool) -> tuple | None:
    """Shape of ``g`` with the reduced dims put back as 1 (None when ``g`` already broadcasts)."""
    if keepdim or axes is None or not shape:
        return None
    s = list(shape)
    for a in axes:
        s[a] = 1
    return tuple(s)


def _restore(xp: Any, g: Any, kshape: tuple | None) -> Any:
    return g if kshape is None else xp.reshape(g, kshape)


def _c(g: Any, a: Any) -> Any:
    """A NumPy constant in the mode of ``g`` (an array, or a Tensor without grad)."""
    return a if type(g) in _ARR else new(np.asarray(a), None)


def _raw(v: Any) -> Any:
    return v._data if isinstance(v, Tensor) else v


def _dims_alias(dim: Any, keepdim: Any, axis: Any, keepdims: Any) -> tuple:
    """torch's numpy-style aliases ``axis=`` / ``keepdims=``."""
    return (axis if dim is None else dim), bool(keepdim or keepdims)


def _np_dtype(dtype: Any, d: Any) -> Any:
    """Accumulation dtype: ``dtype=`` if given; integers and bools sum in int64 (torch)."""
    if dtype is not None:
        return D.to_np(dtype)
    return _I64 if d.dtype.kind in "biu" else None


def _wrap(cls: type, input: Tensor, r: Any, src: Any, **attrs: Any) -> Tensor:
    """``unary`` that, for ``dtype=`` reductions, casts the gradient back to the input dtype."""
    if src.dtype != r.dtype and input._edge is not None and STATE.enabled:
        if r.dtype.kind not in "fc":
            raise RuntimeError(
                f"Autograd not support dtype: {_LEGACY[str(r.dtype)]}. Hint: reduce in a float "
                "dtype, or call .detach() first."
            )
        attrs["_meta"] = ((src.shape, src.dtype),)
    return unary(cls, input, r, **attrs)


def _two(cls: type, input: Tensor, o0: Any, o1: Any, save_out: bool = False,
         **attrs: Any) -> tuple:
    """Two differentiable outputs of one node (var_mean, aminmax ...)."""
    t0 = record(cls, (input,), o0, saved=(input,), save_out=save_out, **attrs)
    e = t0._edge
    if e is None:
        return t0, new(o1, None)
    e[0]._nout = 2
    return t0, new(o1, (e[0], 1))


def _float_only(input: Tensor, what: str) -> None:
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"{what}: Expected a floating point or complex tensor as input. Got "
            f"{_LEGACY.get(str(input._data.dtype), input._data.dtype)}. Hint: convert it first, "
            "e.g. x.float()."
        )


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
def _empty_check(d: Any, name: str, axes: tuple | None) -> None:
    if d.size:
        return
    if axes is None:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            "the reduction dim with the 'dim' argument."
        )
    for a in axes:
        if d.shape[a] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size.")


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

