"""gather/scatter, take_along_dim, index_select/index_add, masked_fill/masked_select, take,
nonzero/argwhere.

Each is an indexing in disguise: the forward builds a parsed index (see _index.py) and the
gradients are ``index_apply`` / ``index_backward`` with these ops' torch node names.  gather,
index_select, take, take_along_dim and masked_select are such indexings (via ``_apply``).

``torch.where(condition)`` (one argument) is ``nonzero(condition, as_tuple=True)``; the
three-argument ``where`` lives in pointwise.py.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._core import STATE, Node, Tensor, check_broadcast, needs, new, ns, record, register, wrap_dim
from ._index import _CNAME, _E, _GATHER, _apply, _hit, _record, _tname

__all__ = ["gather", "scatter", "scatter_add", "index_select", "masked_fill", "masked_select",
           "take", "take_along_dim", "index_add", "nonzero", "argwhere"]

_amin, _amax = np.minimum.reduce, np.maximum.reduce


# ---------------------------------------------------------------------------- helpers
def _arr(index: Any, op: str, arg: str = "index") -> np.ndarray:
    """The NumPy array of an index argument (an ember Tensor, or a NumPy array internally)."""
    if isinstance(index, Tensor):
        return np.asarray(index._data)
    if isinstance(index, (np.ndarray, np.generic)):
        return np.asarray(index)
    raise TypeError(f"{op}(): argument '{arg}' must be Tensor, not {type(index).__name__}")


def _dim(dim: int, nd: int) -> int:
    if -nd <= dim < nd:
        return dim + nd if dim < 0 else dim
    return wrap_dim(dim, nd)  # raises torch's IndexError


def _neg(idx: np.ndarray) -> bool:
    return bool(idx.size) and _amin(idx, axis=None) < 0


def _range_error(idx: np.ndarray, n: int, dim: int) -> RuntimeError:
    """torch's error for an index outside [0, n) (these ops do not wrap negative indices);
    NumPy itself rejects the too-large ones, so callers check only for negatives up front."""
    bad = idx[(idx < 0) | (idx >= n)].reshape(-1)[0]
    return RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {n}. "
                        f"Hint: these indices must lie in 0..{n - 1} (no wrapping).")


_MESH: dict = {}


def _mesh(idx: np.ndarray, dim: int) -> tuple:
    """The advanced index taking ``x[i][idx[i][j]]`` (dim=1): aranges on the other dims."""
    nd = idx.ndim
    if nd <= 1:
        return (idx,)
    key = (idx.shape, dim)
    m = _MESH.get(key)
    if m is None:
        if len(_MESH) > 256:
            _MESH.clear()
        m = _MESH[key] = [np.arange(s).reshape([s if j == k else 1 for j in range(nd)])
                          for k, s in enumerate(idx.shape)]
    return (*m[:dim], idx, *m[dim + 1:])


def _gather_args(d: Any, dim: int, idx: np.ndarray, op: str, src: Any = None) -> tuple:
    """Validate gather/scatter arguments; return (basic, adv) of the positions they touch."""
    if idx.dtype != np.int64 and idx.dtype != np.int32:
        raise RuntimeError(f"{'gather' if op == 'gather' else 'scatter'}(): Expected dtype "
                           "int32/int64 for index")
    nd = d.ndim or 1
    dim = _dim(dim, nd)
    if (idx.ndim or 1) != nd:
        raise RuntimeError(
            f"Index tensor must have the same number of dimensions as "
            f"{'input' if op == 'gather' else 'self'} tensor. Hint: index has {idx.ndim} "
            f"dimension(s), {op} needs {nd}; unsqueeze or reshape the index.")
    if src is not None and (src.ndim or 1) != nd:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    shape, ishape = d.shape or (1,), idx.shape or (1,)
    for k in range(nd):
        if k != dim and ishape[k] > shape[k] and op == "gather":
            raise RuntimeError(
                f"Size does not match at dimension {k} expected index {list(ishape)} to be no "
                f"larger than self {list(shape)} apart from dimension {dim}")
        if op != "gather" and ((k != dim and ishape[k] > shape[k]) or (
                src is not None and ishape[k] > (src.shape or (1,))[k])):
            extra = "" if src is None else f" and to be no larger size than src {list(src.shape)}"
            raise RuntimeError(f"Expected index {list(ishape)} to be no larger than self "
                               f"{list(shape)} apart from dimension {dim}{extra}")
    if _neg(idx):
        raise _range_error(idx, shape[dim], dim)
    return (None if d.ndim else (None, _E)), _mesh(idx, dim), shape[dim], dim


# ---------------------------------------------------------------------------- gather & scatter
@register("gather")
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """out[i][j][k] = input[i][index[i][j][k]][k] (for dim=1); out has index's shape."""
    idx = _arr(index, "gather")
    basic, adv, n, dim = _gather_args(input._data, dim, idx, "gather")
    try:
        return _apply(input, (basic, adv, *_GATHER))
    except IndexError:
        raise _range_error(idx, n, dim) from None


class ScatterBackward0(Node):
    """out = input with src written at index;  dinput = g zeroed there, dsrc = g.gather(index)."""

    def backward(self, g: Any) -> tuple:
        xp = ns(g)
        return (xp.masked_fill(g, self.hit, 0) if needs(self, 0) else None,
                xp.index_apply(g, self.index) if needs(self, 1) else None)


class ScatterBackward1(Node):
    """out = input with a number written at index;  dinput = g zeroed there."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).masked_fill(g, self.hit, 0),)


class ScatterReduceNotImplemented(Node):
    """scatter(..., reduce=) has no derivative in torch."""

    _name = "torch::autograd::NotImplemented"

    def backward(self, g: Any) -> tuple:
        raise RuntimeError("derivative for aten::scatter is not implemented")


def _scatter(input: Tensor, dim: int, index: Any, src: Any, op: str, how: str | None) -> Tensor:
    """Shared body of scatter / scatter_add: out = input, src written (or reduced) at index."""
    d = input._data
    idx = _arr(index, op)
    is_t = isinstance(src, Tensor)
    s = src._data if is_t else None
    basic, adv, n, dim = _gather_args(d, dim, idx, op, s)
    if is_t:
        if s.dtype != d.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype. Hint: "
                               f"convert src with .to({input.dtype}).")
        if s.shape != idx.shape:  # only the leading index-shaped block of src is read
            s = s.reshape(-1)[0] if not idx.ndim else s[tuple(slice(0, k) for k in idx.shape)]
    else:
        s = src
    out = np.array(d, copy=True)
    view = out if basic is None else out[basic]
    try:
        if how == "add":
            np.add.at(view, adv, s)
        elif how == "multiply":
            np.multiply.at(view, adv, s)
        else:
            view[adv] = s
    except IndexError:
        raise _range_error(idx, n, dim) from None
    inputs = (input, src) if is_t else (input,)
    if not STATE.enabled or (input._edge is None and (not is_t or src._edge is None)):
        return new(out, None)
    gidx = (basic, adv, *_GATHER)
    meta = None if not is_t or src._data.shape == idx.shape else (None, (src._data.shape, None))
    if op == "scatter_add":
        return record(ScatterAddBackward0, inputs, out, meta=meta, index=gidx)
    if how is not None:
        return record(ScatterReduceNotImplemented, inputs, out)
    hit = _hit(d.shape, basic, adv) if input._edge is not None else None
    if is_t:
        return record(ScatterBackward0, inputs, out, meta=meta, hit=hit, index=gidx)
    return record(ScatterBackward1, inputs, out, hit=hit)


@register("scatter")
def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """out = input with out[i][index[i][j]] = src[i][j] (dim=1); ``src`` a tensor or number."""
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if reduce is not None and isinstance(src, Tensor):
        warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and "
                      "will be removed in a future PyTorch release. Use torch.scatter_reduce "
                      "instead for more reduction options.", UserWarning, stacklevel=2)
    return _scatter(input, dim, index, value if src is None else src, "scatter", reduce)


class ScatterAddBackward0(Node):
    """out = input + src added at index;  dinput = g, dsrc = g.gather(index)."""

    def backward(self, g: Any) -> tuple:
        return g, (ns(g).index_apply(g, self.index) if needs(self, 1) else None)


@register("scatter_add")
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """out = input; out[i][index[i][j]] += src[i][j] (dim=1; repeated indices accumulate)."""
    if not isinstance(src, Tensor):
        raise TypeError("scatter_add(): argument 'src' (position 3) must be Tensor, not "
                        f"{type(src).__name__}")
    return _scatter(input, dim, index, src, "scatter_add", "add")


@register("take_along_dim")
def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """input.gather(dim, indices) after broadcasting both (on the flattened input if dim=None)."""
    d = input._data
    idx = _arr(indices, "take_along_dim", "indices")
    if idx.dtype != np.int64:
        raise RuntimeError("torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_tname(idx.dtype)}")
    if dim is None or d.ndim == 0:
        flat = idx.reshape(-1)
        if flat.size and (_neg(flat) or _amax(flat, axis=None) >= d.size):
            raise _range_error(flat, d.size, 0)
        adv = np.unravel_index(flat, d.shape) if d.ndim else (flat,)
        return _apply(input, (None if d.ndim else (None, _E), tuple(adv), *_GATHER))
    if d.ndim != idx.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {d.ndim} dimensions for input, and {idx.ndim} dimensions for "
            "indices")
    dim = _dim(dim, d.ndim)
    ss = list(d.shape)
    ss[dim] = idx.shape[dim]
    check_broadcast(tuple(ss), idx.shape)
    ib = np.broadcast_to(idx, np.broadcast_shapes(tuple(ss), idx.shape))
    ss = list(ib.shape)
    ss[dim] = d.shape[dim]
    ss = tuple(ss)
    if d.shape[dim]:
        ib = np.mod(ib, d.shape[dim])  # torch wraps these indices around
    index = (None, _mesh(ib, dim), *_GATHER)
    return _record(input, np.broadcast_to(d, ss)[index[1]], index, ss,
                   meta=None if ss == d.shape else ((d.shape, None),))


# ---------------------------------------------------------------------------- index_* ops
def _vector_index(index: Any, op: str) -> np.ndarray:
    idx = _arr(index, op)
    if idx.dtype != np.int64 and idx.dtype != np.int32:
        raise RuntimeError(
            f"{op}(): Expected dtype int32/int64 for index but got: {_tname(idx.dtype)}"
            if op == "index_add_" else f"{op}(): Expected dtype int32 or int64 for index")
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector" + (
            f", but got dim: {idx.ndim} with type: {_tname(idx.dtype)} and size: "
            f"{list(idx.shape)}" if op == "index_add_" else ""))
    return idx.reshape(-1) if idx.ndim == 0 else idx


@register("index_select")
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """out = input[..., index, ...] with ``index`` (a vector or 0-d) at position ``dim``."""
    d = input._data
    idx = _vector_index(index, "index_select")
    if d.ndim == 0:
        _dim(dim, 1)
        if idx.size != 1:
            raise RuntimeError(
                f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
        if idx[0] != 0:
            raise IndexError("index out of range in self")
        return _record(input, np.array(d, copy=True),
                       ((_E,), None, "IndexSelectBackward0", "IndexAddBackward0"), ())
    dim = _dim(dim, d.ndim)
    n = d.shape[dim]
    try:
        if _neg(idx):
            raise IndexError
        out = d.take(idx, axis=dim)
    except IndexError:
        raise RuntimeError(
            f"INDICES element is out of DATA bounds, id={idx[(idx < 0) | (idx >= n)][0]} "
            f"axis_dim={n}. Hint: index_select needs indices in 0..{n - 1}.") from None
    index_ = (None, (slice(None),) * dim + (idx,), "IndexSelectBackward0", "IndexAddBackward0")
    return _record(input, out, index_, d.shape)


class IndexAddBackward0(Node):
    """out = input; out[index] += alpha * source along dim;  dsource = alpha * g[index]."""

    def backward(self, g: Any) -> tuple:
        gs = None
        if needs(self, 1):
            gs = ns(g).index_apply(g, self.index)
            if self.alpha != 1:
                gs = gs * self.alpha
        return g, gs


@register("index_add")
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """out = input; out.select(dim, index[i]) += alpha * source.select(dim, i)."""
    d, s = input._data, source._data
    idx = _vector_index(index, "index_add_")
    if s.dtype != d.dtype:
        raise RuntimeError(f"index_add_(): self ({_tname(d.dtype)}) and source "
                           f"({_tname(s.dtype)}) must have the same scalar type")
    dim = _dim(dim, d.ndim or 1)
    ds, ss = d.shape or (1,), s.shape or (1,)
    if d.ndim and s.ndim and ss[dim] != idx.size:
        raise RuntimeError(f"index_add_(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim): ({ss[dim]}), for dim: {dim}")
    if d.ndim != s.ndim or any(a != b for k, (a, b) in enumerate(zip(ds, ss, strict=True))
                               if k != dim):
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified "
            f"dimension. Got self.shape = {list(d.shape)} source.shape = {list(s.shape)}")
    out = np.array(d, copy=True)
    basic = None if d.ndim else (None, _E)
    adv = (slice(None),) * dim + (idx,)
    try:
        if _neg(idx):
            raise IndexError
        np.add.at(out if basic is None else out[basic], adv,
                  np.reshape(s if alpha == 1 else s * alpha, ss))
    except IndexError:
        raise _range_error(idx, ds[dim], dim) from None
    return record(IndexAddBackward0, (input, source), out, alpha=alpha,
                  index=(basic, adv, "IndexSelectBackward0", "IndexAddBackward0"))


# ---------------------------------------------------------------------------- masks & take
class MaskedFillBackward0(Node):
    """out = where(mask, value, input);  dinput = g zeroed at mask."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).masked_fill(g, self.mask, 0),)


class MaskedFillBackward1(Node):
    """out = where(mask, value, input), value a 0-d tensor;  dvalue = sum of g at mask."""

    def backward(self, g: Any) -> tuple:
        xp = ns(g)
        return (xp.masked_fill(g, self.mask, 0) if needs(self, 0) else None,
                xp.masked_fill(g, ~self.mask, 0) if needs(self, 1) else None)


def _mask(mask: Any, op: str) -> np.ndarray:
    m = _arr(mask, op, "mask")
    if m.dtype != np.bool_:
        if op == "masked_select":
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        raise RuntimeError(
            "masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{_CNAME.get(str(m.dtype), str(m.dtype))}. Hint: compare to get a mask (x > 0).")
    return m


@register("masked_fill")
def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """out = value where mask else input (mask broadcasts; value a number or a 0-d tensor)."""
    d = input._data
    m = _mask(mask, "masked_fill")
    vt = isinstance(value, Tensor)
    v = value._data if vt else value
    if vt and v.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {v.ndim} dimension(s).")
    if d.dtype.kind != "c" and np.iscomplexobj(v):
        raise RuntimeError(
            f"value cannot be converted to type {_CNAME.get(str(d.dtype))} without overflow")
    if m.shape != d.shape:
        check_broadcast(m.shape, d.shape)
    out = np.where(m, np.asarray(v).astype(d.dtype), d)
    if out.shape != m.shape:
        m = np.broadcast_to(m, out.shape)
    meta_in = None if d.shape == out.shape else (d.shape, None)
    if vt:
        meta = (meta_in, ((), v.dtype if v.dtype != out.dtype else None))
        return record(MaskedFillBackward1, (input, value), out, meta=meta, mask=m)
    return record(MaskedFillBackward0, (input,), out, meta=meta_in and (meta_in,), mask=m)


@register("masked_select")
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The 1-D tensor of input's elements where mask is True (the two broadcast)."""
    d = input._data
    m = _mask(mask, "masked_select")
    bshape = d.shape
    if m.shape != d.shape:
        check_broadcast(m.shape, d.shape)
        bshape = np.broadcast_shapes(m.shape, d.shape)
        m = np.broadcast_to(m, bshape)
    names = "MaskedSelectBackward0", "MaskedScatterBackward0"
    if not bshape:  # 0-d: index it as a 1-element vector
        return _apply(input, ((None, _E), (m.reshape(1),), *names))
    index = (None, (m,), *names)
    return _record(input, np.broadcast_to(d, bshape)[m], index, bshape,
                   meta=None if d.shape == bshape else ((d.shape, None),))


@register("take")
def take(input: Tensor, index: Tensor) -> Tensor:
    """input.flatten()[index] (negative indices wrap); out has index's shape."""
    d = input._data
    idx = _arr(index, "take")
    if idx.dtype != np.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {_tname(idx.dtype)}")
    n = d.size
    if idx.size and (_amin(idx, axis=None) < -n or _amax(idx, axis=None) >= n):
        raise IndexError(
            f"out of range: tried to access index {idx[(idx < -n) | (idx >= n)].reshape(-1)[0]} "
            f"on a tensor of {n} elements. Hint: take indexes the flattened tensor.")
    names = "TakeBackward0", "PutBackward0"
    if d.ndim == 0:
        return _apply(input, ((None, _E), (idx,), *names))
    adv = np.unravel_index(np.where(idx < 0, idx + n, idx), d.shape)
    return _apply(input, (None, tuple(adv), *names))


# ---------------------------------------------------------------------------- nonzero
@register("nonzero")
def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dim."""
    d = np.asarray(input._data)
    if as_tuple:
        return tuple(new(a.astype(np.int64, copy=False), None)
                     for a in np.nonzero(d if d.ndim else d.reshape(1)))
    return new(np.argwhere(d).astype(np.int64, copy=False), None)


@register("argwhere")
def argwhere(input: Tensor) -> Tensor:
    """Indices of the non-zero elements as an (n, ndim) int64 tensor (= nonzero)."""
    return nonzero(input)
