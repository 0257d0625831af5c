"""Shape ops, joins and splits: cat, stack, hstack, vstack, split, chunk, unbind, narrow, and
the broadcasting helpers broadcast_tensors / broadcast_shapes (re-exported by shape.py).

Joins promote dtypes like torch (``meta=`` lets the engine cast gradients back); splits are
multi-output nodes whose outputs (like narrow's) are views of the input.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Size, _wrap_dim
from ..autograd.graph import ARRAY_TYPES
from ._core import STATE, E, Node, Tensor, as_view, mark, needs, new, ns, record, register
from ._shapeutil import _SEQ, _UNSQ, _arr, _ints, _mk, _zeros

__all__ = ["broadcast_tensors", "broadcast_shapes", "cat", "concat", "concatenate", "stack",
           "hstack", "vstack", "atleast_1d", "atleast_2d", "split", "chunk", "unbind", "narrow"]


# ------------------------------------------------------------------------ broadcasting
def _broadcast_pair(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    out = [1] * n
    for i in range(n - 1, -1, -1):
        off = n - 1 - i
        sa = a[len(a) - 1 - off] if off < len(a) else 1
        sb = b[len(b) - 1 - off] if off < len(b) else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                f"non-singleton dimension {i}. Hint: shapes {list(a)} and {list(b)} do not "
                "broadcast; align them with .unsqueeze() or .reshape()."
            )
        out[i] = sa if sb == 1 else sb
    return tuple(out)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """The tensors expanded to their common broadcast shape (unchanged ones returned as is)."""
    if len(tensors) == 1 and isinstance(tensors[0], _SEQ):
        tensors = tuple(tensors[0])
    shape: tuple = ()
    for x in tensors:
        shape = _broadcast_pair(shape, x._data.shape)
    return tuple(x if x._data.shape == shape else E.expand(x, shape) for x in tensors)


def broadcast_shapes(*shapes: Any) -> Size:
    """The shape that the given shapes broadcast to."""
    out: tuple = ()
    for i, s in enumerate(shapes):
        s = (s,) if isinstance(s, int) else tuple(s)
        try:
            out = _broadcast_pair(out, s)
        except RuntimeError:
            bad = next(k for k in range(1, min(len(out), len(s)) + 1)
                       if out[-k] != s[-k] and 1 not in (out[-k], s[-k]))
            raise RuntimeError(
                f"Attempting to broadcast a dimension of length {s[-bad]} at {-bad}! Mismatching "
                f"argument at index {i} had {tuple(s)}; but expected shape should be "
                f"broadcastable to {list(out)}"
            ) from None
    return Size(out)


# ------------------------------------------------------------------------ joins
class CatBackward0(Node):
    """out = inputs joined along ``dim``;  each input's gradient is its slice of g."""

    def backward(self, g: Any) -> tuple:
        xp, dim, st, res = ns(g), self.dim, 0, []
        for i, ln in enumerate(self.sizes):
            if ln is None:  # a skipped 1-D empty tensor
                res.append(_zeros(g, (0,)) if needs(self, i) else None)
                continue
            res.append(xp.narrow(g, dim, st, ln) if needs(self, i) else None)
            st += ln
        return tuple(res)


def _tensor_list(tensors: Any, fname: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)):
        raise TypeError(
            f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
            f"{type(tensors).__name__}"
        )
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(x).__name__}"
            )
    return list(tensors)


def _promote(datas: list) -> np.dtype:
    rt = datas[0].dtype
    for a in datas[1:]:
        if a.dtype != rt:
            rt = D.promote_types(rt, a.dtype)
    return rt


def _meta(datas: list, rt: np.dtype) -> tuple | None:
    if all(a.dtype == rt for a in datas):
        return None
    return tuple(None if a.dtype == rt else (a.shape, a.dtype) for a in datas)


def _write_out(out: Tensor, r: np.ndarray) -> Tensor:
    if out._edge is not None and STATE.enabled:
        raise RuntimeError(
            "cat(): functions with out=... arguments don't support automatic differentiation, but "
            "one of the arguments requires grad."
        )
    if out._data.shape != r.shape:
        out._data = r.astype(out._data.dtype)
    else:
        out._array()[...] = r
    out._bump()
    return out


def cat(tensors: Any, dim: int = 0, *, axis: int | None = None, out: Any = None) -> Tensor:
    """The tensors joined along ``dim`` (dtypes promoted; 1-D empty tensors are skipped)."""
    if axis is not None:
        dim = axis
    if tensors.__class__ is list or tensors.__class__ is tuple:
        try:  # fast path: same dtypes and shapes NumPy accepts (torch accepts the same)
            datas = [x._data for x in tensors]
            dt = datas[0].dtype
            for a in datas:
                if a.dtype != dt:
                    raise TypeError
            r = np.concatenate(datas, dim)
        except (AttributeError, TypeError, ValueError, IndexError):
            pass
        else:
            if out is not None:
                return _write_out(out, r)
            if STATE.enabled:
                for x in tensors:
                    if x._edge is not None:
                        if dim < 0:
                            dim += r.ndim
                        return record(CatBackward0, tuple(tensors), r, dim=dim,
                                      sizes=[a.shape[dim] for a in datas])
            return new(r, None)
    return _cat(tensors, dim, out)


def _cat(tensors: Any, dim: int, out: Any) -> Tensor:
    """cat's general path: torch's checks, dtype promotion, skipping of 1-D empty tensors."""
    ts = _tensor_list(tensors, "cat")
    if not ts:
        raise ValueError("ember.cat(): expected a non-empty list of Tensors")
    datas = [x._data for x in ts]
    keep = [not (a.ndim == 1 and a.shape[0] == 0) for a in datas]
    ref = next((a for a, k in zip(datas, keep, strict=True) if k), datas[0])
    for i, a in enumerate(datas):
        if a.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    dim = _wrap_dim(dim, ref.ndim)
    rs = ref.shape
    for i, a in enumerate(datas):
        if not keep[i]:
            continue
        if a.ndim != ref.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {a.ndim}"
            )
        for k in range(a.ndim):
            if k != dim and a.shape[k] != rs[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{rs[k]} but got size {a.shape[k]} for tensor number {i} in the list."
                )
    rt = _promote(datas)
    parts = [a for a, k in zip(datas, keep, strict=True) if k] or [datas[0]]
    r = np.concatenate([a if a.dtype == rt else a.astype(rt) for a in parts], axis=dim)
    if out is not None:
        return _write_out(out, r)
    sizes = [a.shape[dim] if k else None for a, k in zip(datas, keep, strict=True)]
    return record(CatBackward0, tuple(ts), r, meta=_meta(datas, rt), dim=dim, sizes=sizes)


E.cat = cat


def concat(tensors: Any, dim: int = 0, *, out: Any = None) -> Tensor:
    """cat(tensors, dim)."""
    return cat(tensors, dim, out=out)


def concatenate(tensors: Any, axis: int = 0, *, out: Any = None) -> Tensor:
    """cat(tensors, axis)."""
    return cat(tensors, axis, out=out)


class StackBackward0(Node):
    """out = inputs stacked along a new dim;  each input's gradient is g unbound along it."""

    def backward(self, g: Any) -> tuple:
        gs = ns(g).unbind(g, self.dim)
        return tuple(gi if needs(self, i) else None for i, gi in enumerate(gs))


def stack(tensors: Any, dim: int = 0, *, out: Any = None) -> Tensor:
    """The (equally shaped) tensors joined along a new dim ``dim``."""
    ts = tensors
    if ts.__class__ is not list and ts.__class__ is not tuple:
        ts = _tensor_list(tensors, "stack")
    try:
        datas = [x._data for x in ts]
    except AttributeError:
        datas = [x._data for x in _tensor_list(ts, "stack")]
    if not datas:
        raise RuntimeError("stack expects a non-empty TensorList")
    s0, dt, mixed = datas[0].shape, datas[0].dtype, False
    for i, a in enumerate(datas):
        if a.shape != s0:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(s0)} at entry 0 and "
                f"{list(a.shape)} at entry {i}"
            )
        if a.dtype != dt:
            mixed = True
    nd = len(s0) + 1
    k = dim + nd if dim < 0 else dim
    if not 0 <= k < nd:
        k = _wrap_dim(dim, nd)
    idx = _UNSQ[k] if k < 8 else (slice(None),) * k + (None,)
    meta = None
    if mixed:
        rt = _promote(datas)
        meta = _meta(datas, rt)
        r = np.concatenate([(a if a.dtype == rt else a.astype(rt))[idx] for a in datas], k)
    else:
        r = np.concatenate([a[idx] for a in datas], k)
    if out is not None:
        return _write_out(out, r)
    if STATE.enabled:
        for x in ts:
            if x._edge is not None:
                return record(StackBackward0, tuple(ts), r, meta=meta, dim=k)
    return new(r, None)


E.stack = stack



def atleast_1d(*tensors: Any) -> Any:
    """Tensors with at least one dim (0-d ones reshaped to (1,))."""
    if len(tensors) == 1 and isinstance(tensors[0], _SEQ):
        return tuple(atleast_1d(x) for x in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_1d(x) for x in tensors)
    x = tensors[0]
    return E.reshape(x, (1,)) if x._data.ndim == 0 else x


def atleast_2d(*tensors: Any) -> Any:
    """Tensors with at least two dims (0-d -> (1, 1), 1-d -> (1, n))."""
    if len(tensors) == 1 and isinstance(tensors[0], _SEQ):
        return tuple(atleast_2d(x) for x in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_2d(x) for x in tensors)
    x = tensors[0]
    nd = x._data.ndim
    return E.reshape(x, (1, 1)) if nd == 0 else E.unsqueeze(x, 0) if nd == 1 else x


def hstack(tensors: Any, *, out: Any = None) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    ts = atleast_1d(_tensor_list(tensors, "hstack"))
    return cat(ts, 0 if ts and ts[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors: Any, *, out: Any = None) -> Tensor:
    """Join along dim 0 after making every tensor at least 2-D."""
    return cat(atleast_2d(_tensor_list(tensors, "vstack")), 0, out=out)


# ------------------------------------------------------------------------ splits (multi-output)
class SplitBackward0(Node):
    """outs = a cut along ``dim`` into pieces;  da = the pieces' gradients joined (0 if none)."""

    def backward(self, gs: Any) -> tuple:
        if not isinstance(gs, list):
            return (gs,)
        ref = next(x for x in gs if x is not None)
        dim, shp = self.dim, self.shape
        parts = [x if x is not None else _zeros(ref, shp[:dim] + (ln,) + shp[dim + 1:])
                 for x, ln in zip(gs, self.sizes, strict=True)]
        return (ns(ref).cat(parts, dim),)


class SplitWithSizesBackward0(SplitBackward0):
    """split with a list of sizes;  da = the pieces' gradients joined."""


def _split(x: Tensor, d: np.ndarray, dim: int, sizes: list, cls: type) -> tuple:
    pre = (slice(None),) * dim
    datas, starts, st = [], [], 0
    for ln in sizes:
        datas.append(d[pre + (slice(st, st + ln),)])
        starts.append(st)
        st += ln
    e = x._edge
    if e is not None and STATE.enabled and sizes:
        n = cls()
        n._next = (e,)
        n._nout = len(sizes)
        n.dim, n.sizes, n.shape = dim, sizes, d.shape
        mark(n)
        outs = [new(a, (n, i)) for i, a in enumerate(datas)]
    else:
        outs = [new(a, None) for a in datas]
    for o, a, ln in zip(outs, starts, sizes, strict=True):
        as_view(o, x, lambda s, a=a, ln=ln: s.narrow(dim, a, ln))
    return tuple(outs)


@register("split")
def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed sizes."""
    d = _arr(tensor)
    if d.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = _wrap_dim(dim, d.ndim)
    size = d.shape[dim]
    s = split_size_or_sections
    if isinstance(s, _SEQ):
        sizes = list(_ints(s, "split_with_sizes", "split_sizes"))
        if any(k < 0 for k in sizes):
            raise RuntimeError(
                "split_with_sizes expects split_sizes have only non-negative entries, but got "
                f"split_sizes={sizes}"
            )
        if sum(sizes) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                f"size at dimension {dim}), but got split_sizes={sizes}"
            )
        return _split(tensor, d, dim, sizes, SplitWithSizesBackward0)
    try:
        s = operator.index(s)
    except TypeError:
        raise TypeError(
            "split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, not "
            f"{type(s).__name__}"
        ) from None
    if s < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
    if s == 0 and size != 0:
        raise RuntimeError(
            f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}"
        )
    num = max((size + s - 1) // s, 1) if s else 1
    sizes = [s] * num
    sizes[-1] = s - (s * num - size)
    return _split(tensor, d, dim, sizes, SplitBackward0)


@register("chunk")
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """At most ``chunks`` pieces of ceil(size / chunks) along ``dim``."""
    d = _arr(input)
    if d.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = _wrap_dim(dim, d.ndim)
    size = d.shape[dim]
    step = (size + chunks - 1) // chunks
    if step == 0 and size == 0:
        return _split(input, d, dim, [0] * chunks, SplitWithSizesBackward0)
    return split(input, step, dim)


class UnbindBackward0(Node):
    """outs = the slices of a along ``dim``;  da = their gradients stacked (0 if none)."""

    def backward(self, gs: Any) -> tuple:
        if not isinstance(gs, list):
            gs = [gs]
        ref = next(x for x in gs if x is not None)
        shp = self.shape[:self.dim] + self.shape[self.dim + 1:]
        parts = [x if x is not None else _zeros(ref, shp) for x in gs]
        return (ns(ref).stack(parts, self.dim),)


@register("unbind")
def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim`` (each a view without that dim)."""
    d = _arr(input)
    if d.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = _wrap_dim(dim, d.ndim)
    pre = (slice(None),) * dim
    datas = [d[pre + (i, Ellipsis)] for i in range(d.shape[dim])]
    e = input._edge
    if e is not None and STATE.enabled and datas:
        n = UnbindBackward0()
        n._next = (e,)
        n._nout = len(datas)
        n.dim, n.shape = dim, d.shape
        mark(n)
        outs = [new(a, (n, i)) for i, a in enumerate(datas)]
    else:
        outs = [new(a, None) for a in datas]
    for i, o in enumerate(outs):
        as_view(o, input, lambda s, i=i: s.narrow(dim, i, 1).squeeze(dim))
    return tuple(outs)


class SliceBackward0(Node):
    """out = a.narrow(dim, start, length);  da = zeros with g placed at the slice."""

    def backward(self, g: Any) -> tuple:
        shp, dim, st, ln = self.shape, self.dim, self.start, self.length
        if type(g) in ARRAY_TYPES:
            z = np.zeros(shp, g.dtype)
            z[(slice(None),) * dim + (slice(st, st + ln),)] = g
            return (z,)
        parts = [g]
        if st:
            parts.insert(0, _zeros(g, shp[:dim] + (st,) + shp[dim + 1:]))
        if st + ln < shp[dim]:
            parts.append(_zeros(g, shp[:dim] + (shp[dim] - st - ln,) + shp[dim + 1:]))
        return (E.cat(parts, dim) if len(parts) > 1 else g,)


@register("narrow")
def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """The view input[..., start:start + length, ...] along ``dim``."""
    d = _arr(input)
    if d.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = _wrap_dim(dim, d.ndim)
    start, length = operator.index(start), operator.index(length)
    size = d.shape[dim]
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    out = d[(slice(None),) * dim + (slice(start, start + length),)]
    return _mk(SliceBackward0, input, out, lambda s: s.narrow(dim, start, length),
               {"shape": d.shape, "dim": dim, "start": start, "length": length})
