"""Batching rules for reductions, scans and softmax: logical dims shift past the vmap dims.

``x.sum(d)`` per example is ``p.sum(d + k)`` on the physical tensor (``k`` vmap dims in front);
``dim=None`` (reduce everything) means every *logical* dim, never the vmap dims.  Ops that take
one dim only reduce a reshaped ``(*batch, -1)`` view instead.  A logical 0-d tensor is treated as
shape ``(1,)`` so that dim 0 / -1 exist physically.
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from ._core import bt as _bt
from ._core import ldim, parts
from ._dispatch import bind
from .rules_pointwise import pointwise

_MISSING = object()


def take(args: tuple, kwargs: dict, pos: int, names: tuple, default: Any = _MISSING) -> tuple:
    """(value, setter) of an argument given by position ``pos`` or keyword ``names``."""
    for n in names:
        if n in kwargs:
            def put(v: Any, n: str = n) -> tuple:
                kw = dict(kwargs)
                kw[n] = v
                return args, kw

            return kwargs[n], put
    if len(args) > pos:
        def put(v: Any) -> tuple:
            a = list(args)
            a[pos] = v
            return tuple(a), kwargs

        return args[pos], put

    def put(v: Any) -> tuple:
        kw = dict(kwargs)
        kw[names[0]] = v
        return args, kw

    return default, put


def _alias(kwargs: dict) -> dict:
    if "axis" in kwargs or "keepdims" in kwargs:
        kwargs = dict(kwargs)
        if "axis" in kwargs:
            kwargs["dim"] = kwargs.pop("axis")
        if "keepdims" in kwargs:
            kwargs["keepdim"] = kwargs.pop("keepdims")
    return kwargs


def wrap(r: Any, lv: tuple) -> Any:
    """Batch every tensor in an op's result (a tensor, a tuple or a named tuple)."""
    if isinstance(r, Tensor):
        return _bt(r, lv)
    if isinstance(r, tuple):
        items = [wrap(x, lv) for x in r]
        return type(r)(*items) if hasattr(r, "_fields") else type(r)(items)
    if isinstance(r, list):
        return [wrap(x, lv) for x in r]
    return r


def map_dims(dim: Any, n: int, k: int) -> Any:
    """Physical dims for logical ``dim`` (an int or a sequence) of a rank-``n`` tensor."""
    if isinstance(dim, (tuple, list)):
        return tuple(ldim(d, n) + k for d in dim)
    return ldim(dim, n) + k


def _keepdim(args: tuple, kwargs: dict, pos: int) -> bool:
    v, _ = take(args, kwargs, pos, ("keepdim",), False)
    return bool(v)


def reduce_rule(dim_pos: int = 0, tuple_dims: bool = True, keep_pos: int = 1) -> Any:
    """A rule for ``op(x, dim, keepdim, ...)``; ``dim_pos``/``keep_pos`` count from after x."""

    def rule(orig: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs = _alias(kwargs)
        p, lv = parts(x)
        k = len(lv)
        n = p._data.ndim - k
        dim, put = take(args, kwargs, dim_pos, ("dim",))
        if isinstance(dim, Tensor) or "other" in kwargs:  # max(x, other) & co.: elementwise
            return pointwise(orig, x, *args, **kwargs)
        if dim is _MISSING or dim is None or (isinstance(dim, (tuple, list)) and not dim):
            keep = _keepdim(args, kwargs, keep_pos)
            if tuple_dims and n:
                a, kw = put(tuple(range(k, k + n)))
                return wrap(orig(p, *a, **kw), lv)
            q = p.reshape(*p._data.shape[:k], -1)
            a, kw = put(k)
            if keep:
                a, kw = take(a, kw, keep_pos, ("keepdim",))[1](False)
            r = orig(q, *a, **kw)
            if hasattr(r, "_fields") and orig.__name__ in ("max", "min", "median"):
                r = r[0]
            if keep:
                r = wrap(r, ())
                shape = tuple(p._data.shape[:k]) + (1,) * n
                r = type(r)(*[t.reshape(shape) for t in r]) if hasattr(r, "_fields") else \
                    r.reshape(shape)
            return wrap(r, lv)
        if n == 0:  # logical 0-d: dims 0 / -1 are the one element
            ldim(dim if not isinstance(dim, (tuple, list)) else (dim or [0])[0], 0)
            a, kw = put(k)
            r = orig(p.unsqueeze(-1), *a, **kw)
            if _keepdim(args, kwargs, keep_pos):
                r = wrap(r, ())
                r = type(r)(*[t.squeeze(-1) for t in r]) if hasattr(r, "_fields") else \
                    r.squeeze(-1)
            return wrap(r, lv)
        a, kw = put(map_dims(dim, n, k))
        return wrap(orig(p, *a, **kw), lv)

    return rule


bind(reduce_rule(), "sum nansum mean nanmean logsumexp all any count_nonzero amax amin")
bind(reduce_rule(tuple_dims=False), "prod argmax argmin median")
bind(reduce_rule(tuple_dims=False), "max min", multi=True)


def _std_var(orig: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
    if args and isinstance(args[0], bool):  # legacy std(unbiased)
        kwargs = dict(kwargs, unbiased=args[0])
        args = args[1:]
    return _STD(orig, x, *args, **kwargs)


_STD = reduce_rule(keep_pos=2)
bind(_std_var, "std var")
bind(reduce_rule(keep_pos=2), "var_mean std_mean", tensor=False)


def _norm(orig: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
    ordv, _ = take(args, kwargs, 0, ("p",), "fro")
    dim, _ = take(args, kwargs, 1, ("dim",), None)
    if ordv == "nuc" and dim is None:
        args, kwargs = take(args, kwargs, 1, ("dim",))[1]((0, 1))
    return _NORM(orig, x, *args, **kwargs)


_NORM = reduce_rule(dim_pos=1, keep_pos=2)
bind(_norm, "norm")
bind(reduce_rule(dim_pos=1, keep_pos=2), "vector_norm", tensor=False)


def _aminmax(orig: Any, x: Any, *, dim: Any = None, keepdim: bool = False) -> Any:
    return _AMM(orig, x, dim=dim, keepdim=keepdim)


_AMM = reduce_rule(tuple_dims=False)
bind(_aminmax, "aminmax")


def _scan_rule(orig: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
    """cumsum/cumprod/softmax/log_softmax: one logical dim, shape kept."""
    kwargs = _alias(kwargs)
    p, lv = parts(x)
    k = len(lv)
    n = p._data.ndim - k
    dim, put = take(args, kwargs, 0, ("dim",))
    if dim is _MISSING or dim is None:
        if orig.__name__ in ("softmax", "log_softmax"):
            dim = 0 if n in (0, 1, 3) else 1
        else:
            return wrap(orig(p, *args, **kwargs), lv)  # ember's own error for a missing dim
    if n == 0:
        ldim(dim, 0)
        a, kw = put(k)
        return wrap(orig(p.unsqueeze(-1), *a, **kw).squeeze(-1), lv)
    a, kw = put(map_dims(dim, n, k))
    return wrap(orig(p, *a, **kw), lv)


bind(_scan_rule, "cumsum cumprod softmax log_softmax")
