"""Batching rules for indexing: ``x[i]``, ``x[i] = v``, gather/scatter and the index_* ops.

``x[idx]`` per example is ``p[(:,) * k + idx]`` on the physical tensor.  torch places the dims of
*separated* advanced indices first, in front of the vmap dims, so those are moved back.  Index
tensors that are themselves batched become advanced indices paired with ``arange`` over each
vmap dim (one gather for the whole batch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import ember

from .._tensor import Tensor
from ._core import BatchedTensor, bt, ldim, lndim, parts, relayout, union, with_levels
from ._dispatch import bind
from .rules_pointwise import INPLACE_MSG, dynamic_shape


# ----------------------------------------------------------------------------- index parsing
def _kind(c: Any) -> str:
    if c is None:
        return "none"
    if c is Ellipsis:
        return "ell"
    if isinstance(c, bool):
        return "none"  # x[True] adds a dim of size 1 like None
    if isinstance(c, (int, np.integer)):
        return "int"
    if isinstance(c, slice):
        return "slice"
    return "adv"


def _adv_info(c: Any) -> tuple:
    """(dims consumed, logical shape of the index, is a mask) of an advanced index."""
    if isinstance(c, Tensor):
        if c.dtype == ember.bool:
            if type(c) is BatchedTensor:
                raise RuntimeError(
                    "vmap: We do not support batching operators that can support dynamic shape. "
                    "Attempting to batch over indexing with a boolean mask. Hint: use "
                    "ember.where(mask, x, other) to keep the shape fixed.")
            return lndim(c), (None,), True
        return 1, tuple(c.shape), False
    a = np.asarray(c)
    if a.dtype == np.bool_:
        return a.ndim, (None,), True
    return 1, a.shape, False


def _parse(index: Any, n: int) -> tuple:
    """(components with Ellipsis expanded, kinds, adv infos, logical rank of the adv result)."""
    idx = index if isinstance(index, tuple) else (index,)
    kinds = [_kind(c) for c in idx]
    infos = [(_adv_info(c) if k == "adv" else None) for c, k in zip(idx, kinds, strict=True)]
    used = sum(1 if k in ("int", "slice") else (inf[0] if k == "adv" else 0)
               for k, inf in zip(kinds, infos, strict=True))
    if "ell" in kinds:
        i = kinds.index("ell")
        fill = max(n - used, 0)
        idx = idx[:i] + (slice(None),) * fill + idx[i + 1:]
        kinds = kinds[:i] + ["slice"] * fill + kinds[i + 1:]
        infos = infos[:i] + [None] * fill + infos[i + 1:]
    shapes = [inf[1] for inf in infos if inf is not None]
    r = max((len(s) for s in shapes), default=0)
    return tuple(idx), kinds, infos, r


def _layout(kinds: list) -> tuple:
    """(advanced indices adjacent?, result dims before the first advanced index) per torch
    (integers select first, so they neither separate advanced indices nor add dims)."""
    ks = [k for k in kinds if k != "int"]
    pos = [i for i, k in enumerate(ks) if k == "adv"]
    if not pos:
        return True, 0
    adjacent = pos[-1] - pos[0] + 1 == len(pos)
    return adjacent, pos[0]


# ----------------------------------------------------------------------------- x[idx]
def _arange_index(lvs: tuple, extra: int) -> list:
    """One arange per vmap level, shaped to broadcast as the leading advanced indices."""
    from ._core import LIVE

    out = []
    u = len(lvs)
    for j, lid in enumerate(lvs):
        shape = [1] * (u + extra)
        shape[j] = LIVE[lid].size
        out.append(ember.arange(LIVE[lid].size).reshape(shape))
    return out


def _batched_index(idx: tuple, kinds: list, lvs: tuple, r: int) -> tuple:
    """The physical index for batched index tensors: aranges + relaid index tensors."""
    comps = []
    for c, k in zip(idx, kinds, strict=True):
        if k != "adv":
            comps.append(c)
            continue
        t = c if isinstance(c, Tensor) else ember.tensor(np.asarray(c))
        if t.dtype == ember.bool:
            raise RuntimeError(
                "vmap: indexing with a boolean mask together with a batched index tensor has no "
                "batching rule. Hint: turn the mask into integer indices outside vmap.")
        m = lndim(t)
        comps.append(relayout(t, lvs, r - m, False))
    return (*_arange_index(lvs, r), *comps)


def _getitem(orig: Any, self: Any, index: Any) -> Any:
    n = lndim(self)
    idx, kinds, infos, r = _parse(index, n)
    adjacent, npre = _layout(kinds)
    tensors = [c for c in idx if isinstance(c, Tensor)]
    if not any(type(c) is BatchedTensor for c in tensors):
        p, lv = parts(self)
        k = len(lv)
        out = orig(p, (slice(None),) * k + idx)
        if "adv" in kinds and not adjacent:  # advanced dims went in front of the vmap dims
            out = out.movedim(list(range(r, r + k)), list(range(k)))
        return bt(out, lv)
    lvs = union([self, *tensors])
    u = len(lvs)
    p = with_levels(self, lvs)
    out = orig(p, _batched_index(idx, kinds, lvs, r))
    if adjacent and npre:  # torch keeps adjacent advanced dims where they were
        out = out.movedim(list(range(u, u + r)), list(range(u + npre, u + npre + r)))
    return bt(out, lvs)


def _setitem(orig: Any, self: Any, index: Any, value: Any) -> None:
    p, lv = parts(self)
    n = lndim(self)
    idx, kinds, infos, r = _parse(index, n)
    tensors = [c for c in idx if isinstance(c, Tensor)]
    lvs = union([self, value, *tensors])
    if lvs != lv:
        raise RuntimeError(INPLACE_MSG)
    adjacent, npre = _layout(kinds)
    k = len(lv)
    if any(type(c) is BatchedTensor for c in tensors):
        if adjacent and npre:
            raise RuntimeError(
                "vmap: x[index] = value with batched index tensors after a slice has no batching "
                "rule. Hint: move the indexed dims to the front (movedim) first.")
        pidx = _batched_index(idx, kinds, lvs, r)
        moved = False
    else:
        pidx = (slice(None),) * k + idx
        moved = "adv" in kinds and not adjacent
    if type(value) is BatchedTensor:
        region = p[pidx]  # the per-example target is region's logical part
        rr = region._data.ndim - k
        v = relayout(value, lv, max(rr - lndim(value), 0))
        if moved:  # region is (adv dims, vmap dims, rest): lay the value out the same way
            v = v.movedim(list(range(k)), list(range(r, r + k)))
        value = v
    orig(p, pidx, value)


bind(_getitem, "__getitem__", ember=False, multi=True)
bind(_setitem, "__setitem__", ember=False, multi=True)


# ----------------------------------------------------------------------------- gather family
def _expanded(*xs: Any) -> tuple:
    lvs = union(xs)
    return lvs, [with_levels(x, lvs) if isinstance(x, Tensor) else x for x in xs]


def _gather(orig: Any, input: Any, dim: int, index: Any, **kw: Any) -> Any:
    lvs, (pi, px) = _expanded(input, index)
    return bt(orig(pi, ldim(dim, lndim(input)) + len(lvs), px, **kw), lvs)


def _scatter(orig: Any, input: Any, dim: int, index: Any, *args: Any, **kwargs: Any) -> Any:
    """scatter / scatter_add (and their in-place forms): everything expanded over the batch."""
    inplace = orig.__name__.endswith("_")
    src = args[0] if args else kwargs.get("src")
    if type(src) is BatchedTensor and lndim(src) == 0 and lndim(index) > 0:
        src = src.expand_as(index)
        args = (src, *args[1:]) if args else args
        if not args:
            kwargs = dict(kwargs, src=src)
    extra = list(args) + list(kwargs.values())
    lvs = union([input, index, *extra])
    p, lv = parts(input)
    if inplace and lvs != lv:
        raise RuntimeError(INPLACE_MSG)
    k = len(lvs)
    args = tuple(with_levels(a, lvs) if isinstance(a, Tensor) else a for a in args)
    kwargs = {kk: (with_levels(a, lvs) if isinstance(a, Tensor) else a) for kk, a in kwargs.items()}
    pin = p if inplace else with_levels(input, lvs)
    r = orig(pin, ldim(dim, lndim(input)) + k, with_levels(index, lvs), *args, **kwargs)
    return input if inplace else bt(r, lvs)


bind(_gather, "gather", multi=True)
bind(_scatter, "scatter scatter_add", multi=True)
bind(_scatter, "scatter_ scatter_add_", ember=False, multi=True)


def _index_select(orig: Any, input: Any, dim: int, index: Any) -> Any:
    n = lndim(input)
    d = ldim(dim, n)
    if type(index) is not BatchedTensor:
        p, lv = parts(input)
        return bt(orig(p, d + len(lv), index), lv)
    if lndim(index) > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    lvs = union([input, index])
    u = len(lvs)
    p = with_levels(input, lvs)
    m = 1 if lndim(index) == 0 else index.shape[0]
    ix = relayout(index, lvs, 0, True).reshape(
        *p._data.shape[:u], *([1] * d), m, *([1] * (n - d - 1)))
    shape = list(p._data.shape)
    shape[u + d] = m
    return bt(p.gather(u + d, ix.expand(*shape)), lvs)


bind(_index_select, "index_select", multi=True)


def _index_add(orig: Any, input: Any, dim: int, index: Any, source: Any, *,
               alpha: Any = 1) -> Any:
    inplace = orig.__name__.endswith("_")
    n = lndim(input)
    d = ldim(dim, n)
    lvs = union([input, index, source])
    p, lv = parts(input)
    if inplace and lvs != lv:
        raise RuntimeError(INPLACE_MSG)
    u = len(lvs)
    pin = p if inplace else with_levels(input, lvs)
    ps = with_levels(source, lvs)
    if type(index) is not BatchedTensor:
        r = orig(pin, u + d, index, ps, alpha=alpha)
        return input if inplace else bt(r, lvs)
    m = ps._data.shape[u + d] if lndim(source) else 1
    ix = relayout(index, lvs, 0, True).reshape(
        *ps._data.shape[:u], *([1] * d), m, *([1] * (n - d - 1))).expand(*ps._data.shape)
    if alpha != 1:
        ps = ps * alpha
    if inplace:
        pin.scatter_add_(u + d, ix, ps)
        return input
    return bt(pin.scatter_add(u + d, ix, ps), lvs)


bind(_index_add, "index_add", multi=True)
bind(_index_add, "index_add_", ember=False, multi=True)


def _take_along_dim(orig: Any, input: Any, indices: Any, dim: Any = None) -> Any:
    lvs, (pi, px) = _expanded(input, indices)
    u = len(lvs)
    if dim is None:
        pi = pi.reshape(*pi._data.shape[:u], -1)
        px = px.reshape(*px._data.shape[:u], -1)
        return bt(pi.gather(u, px), lvs)
    return bt(orig(pi, px, ldim(dim, lndim(input)) + u), lvs)


def _take(orig: Any, input: Any, index: Any) -> Any:
    lvs, (pi, px) = _expanded(input, index)
    u = len(lvs)
    flat = pi.reshape(*pi._data.shape[:u], -1)
    N = flat._data.shape[u]
    ix = px.reshape(*px._data.shape[:u], -1)
    ix = ember.where(ix < 0, ix + N, ix)
    return bt(flat.gather(u, ix).reshape(px.shape), lvs)


bind(_take_along_dim, "take_along_dim", multi=True)
bind(_take, "take", multi=True)


def _dynamic(orig: Any, *args: Any, **kwargs: Any) -> Any:
    raise dynamic_shape(f"aten::{orig.__name__}")


bind(_dynamic, "masked_select nonzero argwhere", multi=True)


def _index_put(orig: Any, input: Any, indices: Any, values: Any, accumulate: bool = False) -> Any:
    inplace = orig.__name__.endswith("_")
    idx = tuple(indices)
    if any(isinstance(c, Tensor) and c.dtype == ember.bool for c in idx):
        raise RuntimeError(
            "vmap: index_put with boolean masks has no batching rule. Hint: use "
            "ember.where(mask, values, input).")
    lvs = union([input, values, *idx])
    p, lv = parts(input)
    if inplace and lvs != lv:
        raise RuntimeError(INPLACE_MSG)
    n = lndim(input)
    r = max((lndim(c) if isinstance(c, Tensor) else np.asarray(c).ndim for c in idx), default=0)
    kinds = ["adv"] * len(idx)
    pidx = _batched_index(idx, kinds, lvs, r)
    pin = p if inplace else with_levels(input, lvs)
    rest = n - len(idx)
    pv = relayout(values, lvs, max(r + rest - lndim(values), 0), False) if isinstance(
        values, Tensor) else values
    out = orig(pin, pidx, pv, accumulate)
    return input if inplace else bt(out, lvs)


bind(_index_put, "index_put", multi=True)
bind(_index_put, "index_put_", ember=False, multi=True)
