"""Indexing: ``x[i]`` / ``x[i] = v``, gather/scatter, index_select/add/put, masks, take, nonzero.

``x[index]`` follows torch: ints select, slices slice and None unsqueezes (NumPy views, recorded as
ONE node named after torch's last step: SelectBackward0, SliceBackward0, UnsqueezeBackward0, or
AliasBackward0 when nothing changed); then tensor / list / bool indices are applied together as
one NumPy advanced index (IndexBackward0, a copy).  A parsed index is ``(basic, adv, name,
backward_name)``: ``basic`` a NumPy basic index ending in ``...`` (so always a view) or None,
``adv`` a NumPy advanced index applied to that view or None.

Every gradient here is one primitive, ``index_backward(g, shape, index)``: zeros with ``g`` added
at ``index`` (repeated indices accumulate).  Its own backward is ``index_apply`` (indexing again),
so higher orders work.  gather, index_select, take, take_along_dim and masked_select are such
indexings too (with their torch node names).

``torch.where(condition)`` (one argument) is ``nonzero(condition, as_tuple=True)``; the
three-argument ``where`` lives in pointwise.py.
"""

from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np

from ._core import (
    STATE,
    N,
    Node,
    Tensor,
    as_view,
    check_broadcast,
    needs,
    new,
    ns,
    record,
    register,
    wrap_dim,
)
from .inplace import check_inplace, inplace_update

__all__ = ["gather", "scatter", "scatter_add", "index_select", "masked_fill", "masked_select",
           "take", "take_along_dim", "index_add", "index_put", "nonzero", "argwhere"]

_E = Ellipsis
_ONE = np.zeros(1, np.int64)  # python True as an index: a new dim of size 1, taken whole
_NIL = np.zeros(0, np.int64)  # python False: a new dim of size 0
_BWD = {"SelectBackward0": "SelectBackwardBackward0", "SliceBackward0": "SliceBackwardBackward0",
        "UnsqueezeBackward0": "SqueezeBackward1", "AliasBackward0": "AliasBackward0"}
_TNAME = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
          "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
          "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
_CNAME = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
          "int16": "short int", "int8": "signed char", "uint8": "unsigned char"}
_amin, _amax = np.minimum.reduce, np.maximum.reduce
_ADV = "IndexBackward0", "IndexPutImplBackward0"
_GATHER = "GatherBackward0", "ScatterAddBackward0"


# ---------------------------------------------------------------------------- the two primitives
class IndexBackward0(Node):
    """out = x[index];  dx = index_backward(g, x.shape, index) (zeros, g added at index)."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).index_backward(g, self.shape, self.index),)


class AliasBackward0(Node):
    """out = x[...] (a view of all of x);  dx = g."""

    def backward(self, g: Any) -> tuple:
        return (g,)


class IndexPutImplBackward0(Node):
    """out = index_backward(g, shape, index);  dg = grad_out[index]."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).index_apply(g, self.index),)


def _record(t: Tensor, out: Any, index: tuple, shape: tuple, meta: Any = None) -> Tensor:
    """Wrap ``out = t[index]`` (``shape``: the shape indexed into), recording its node."""
    e = t._edge
    if e is None or not STATE.enabled:
        return new(out, None)
    name = index[2]
    if name == "AliasBackward0":
        n: Node = AliasBackward0()
    else:
        n = IndexBackward0()
        n.shape = shape
        n.index = index
        if name != "IndexBackward0":
            n._name = name
    n._next = (e,)
    if meta is not None:
        n._meta = meta
    return new(out, (n, 0))


def _apply(t: Tensor, index: tuple) -> Tensor:
    """``t[index]`` for a parsed index: a view (marked as such) or an advanced-index copy."""
    basic, adv = index[0], index[1]
    d = t._data
    if type(d) is not np.ndarray:
        d = t._array()
    v = d if basic is None else d[basic]
    if adv is not None:
        return _record(t, v[adv], index, d.shape)
    return as_view(_record(t, v, index, d.shape), t, lambda s: _apply(s, index))


@register()
def index_apply(input: Tensor, index: tuple) -> Tensor:
    """input[index] for an index parsed by this module (backward rules use it)."""
    return _apply(input, index)


@register()
def index_backward(grad: Tensor, shape: tuple, index: tuple) -> Tensor:
    """zeros(shape) with ``grad`` added at ``index`` (repeated indices accumulate)."""
    out = N.index_backward(grad._data, shape, index)
    e = grad._edge
    if e is None or not STATE.enabled:
        return new(out, None)
    n = IndexPutImplBackward0()
    if index[3] != "IndexPutImplBackward0":
        n._name = index[3]
    n.index = index
    n._next = (e,)
    return new(out, (n, 0))


# ---------------------------------------------------------------------------- parsing x[index]
def _classify(o: Any) -> tuple:
    """(kind, value): 0 int, 1 slice, 2 None, 3 Ellipsis, 4 bool, 5 mask, 6 integer array."""
    tp = type(o)
    if tp is int:
        return 0, o
    if tp is slice:
        return 1, o
    if o is None:
        return 2, None
    if o is _E:
        return 3, None
    if tp is bool:
        return 4, o
    if isinstance(o, Tensor):
        a = np.asarray(o._data)
    elif isinstance(o, (np.ndarray, np.generic)):
        a = np.asarray(o)
    elif isinstance(o, (list, tuple)):
        a = np.asarray(o)
        if a.dtype.kind in "iuf":  # torch: a list of numbers is a long index
            a = a.astype(np.int64)
    elif hasattr(o, "__index__"):
        return 0, operator.index(o)
    elif tp is str:
        raise TypeError(f"new(): invalid data type '{tp.__name__}'")
    else:
        a = None
    if a is None or tp is np.bool_:
        raise IndexError(
            "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
            f"valid indices (got {'numpy.bool' if tp is np.bool_ else tp.__name__})"
        )
    k = a.dtype.kind
    if a.ndim == 0:
        if k == "b" or a.dtype == np.uint8:
            return 4, bool(a)
        if k in "iu":
            return 0, int(a)
    elif k == "b":
        return 5, a
    elif a.dtype == np.uint8:
        warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                      "torch.bool instead.", UserWarning, stacklevel=4)
        return 5, a.astype(np.bool_)
    elif a.dtype == np.int64 or a.dtype == np.int32:
        return 6, a
    raise IndexError("tensors used as indices must be long, int, byte or bool tensors")


def _parse(shape: tuple, index: Any) -> tuple:
    """Turn a torch index into ``(basic, adv, name, backward_name)``, validating it."""
    ndim = len(shape)
    single = type(index) is not tuple
    if single:
        if type(index) is list and len(index) < 32 and any(
            isinstance(o, (Tensor, list, tuple, np.ndarray, slice)) or o is None or o is _E
            for o in index
        ):  # torch reads such a list as a tuple
            warnings.warn(
                "Using a non-tuple sequence for multidimensional indexing is deprecated and will "
                "be changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq].",
                UserWarning, stacklevel=3)
            index = tuple(index)
            single = False
        else:
            index = (index,)
    items = [_classify(o) for o in index]
    count = 0
    for c, v in items:
        if c == 0 or c == 1 or c == 6:
            count += 1
        elif c == 5:
            count += v.ndim
    if count > ndim:
        if ndim == 0 and single and items[0][0] == 0:
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
            )
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic: list = []
    adv: dict = {}
    dim = src = 0  # position in the result of the basic part / in the input
    last = first = "Alias"  # torch's first / last view op: names of the backward / the node
    ellipsis = False
    for c, v in items:
        if c == 0:
            n = shape[src]
            if v < -n or v >= n:
                raise _oob(v, src, n)
            basic.append(v)
            src += 1
            last = "Select"
            first = first if first != "Alias" else last
        elif c == 1:
            step = 1 if v.step is None else operator.index(v.step)
            if step <= 0:
                raise ValueError("step must be greater than zero" if step else
                                 "slice step cannot be zero")
            start = v.start if v.start is None or type(v.start) is int else operator.index(v.start)
            stop = v.stop if v.stop is None or type(v.stop) is int else operator.index(v.stop)
            if single or step != 1 or start or (stop is not None and stop < shape[src]):
                basic.append(slice(start, stop, step))
                last = "Slice"
                first = first if first != "Alias" else last
            else:  # torch skips a slice that keeps everything
                basic.append(slice(None))
            src += 1
            dim += 1
        elif c == 2:
            basic.append(None)
            dim += 1
            last = "Unsqueeze"
            first = first if first != "Alias" else last
        elif c == 3:
            k = 0 if ellipsis else ndim - count  # torch: a second ... takes nothing more
            ellipsis = True
            basic.extend([slice(None)] * k)
            src += k
            dim += k
        elif c == 4:
            basic.append(None)
            first = first if first != "Alias" else "Unsqueeze"
            adv[dim] = _ONE if v else _NIL
            dim += 1
        else:
            k = v.ndim if c == 5 else 1
            if c == 5 and v.shape != shape[src:src + k]:
                j = next(j for j in range(k) if v.shape[j] != shape[src + j])
                cur = np.broadcast_to(np.False_, shape)[(*basic, _E)].shape
                raise IndexError(
                    f"The shape of the mask {list(v.shape)} at index {j} does not match the shape "
                    f"of the indexed tensor {list(cur)} at index {dim + j}. Hint: a boolean mask "
                    "must have the shape of the dimensions it indexes."
                )
            adv[dim] = v
            basic.extend([slice(None)] * k)
            src += k
            dim += k
    if not adv:
        return ((*basic, _E), None, last + "Backward0", _BWD[first + "Backward0"])
    at: list = []
    pos, top = 0, max(adv)
    while pos <= top:
        a = adv.get(pos)
        at.append(slice(None) if a is None else a)
        pos += a.ndim if a is not None and a.dtype == np.bool_ else 1
    plain = last == "Alias" and not any(x is None for x in basic)
    bwd = _BWD[first + "Backward0"] if first != "Alias" else _ADV[1]
    return (None if plain else (*basic, _E), tuple(at), _ADV[0], bwd)


def _oob(v: int, dim: int, n: int) -> IndexError:
    return IndexError(f"index {v} is out of bounds for dimension {dim} with size {n}. Hint: "
                      f"valid indices are -{n}..{n - 1}." if n else
                      f"index {v} is out of bounds for dimension {dim} with size 0")


def _adv_error(shape: tuple, index: tuple) -> IndexError:
    """torch's message for an advanced index that NumPy rejected (broadcast or bounds)."""
    basic, adv = index[0], index[1]
    vshape = shape if basic is None else np.broadcast_to(np.False_, shape)[basic].shape
    arrays, sizes, pos = [], [], 0
    for a in adv:
        if type(a) is slice:
            pos += 1
            continue
        k = a.ndim if a.dtype == np.bool_ else 1
        arrays.extend(a.nonzero() if a.dtype == np.bool_ else [a])
        sizes.extend(vshape[pos:pos + k])
        pos += k
    try:
        bc = np.broadcast_arrays(*arrays)
    except ValueError:
        return IndexError(
            "shape mismatch: indexing tensors could not be broadcast together with shapes "
            f"{', '.join(str(list(a.shape)) for a in arrays)}"
        )
    bad = np.zeros(bc[0].shape, np.bool_)
    for a, n in zip(bc, sizes, strict=True):
        bad |= (a < -n) | (a >= n)
    for first in np.flatnonzero(bad.reshape(-1))[:1]:
        for k, (a, n) in enumerate(zip(bc, sizes, strict=True)):
            v = int(a.reshape(-1)[first])
            if v < -n or v >= n:
                return _oob(v, k, n)
    return IndexError("index out of range")  # pragma: no cover - NumPy saw a problem we did not


def _fast(d: Any, index: Any) -> tuple | None:
    """The parsed index for the hot cases ``x[int]`` and ``x[slice]`` (None otherwise)."""
    tp = type(index)
    if type(d) is not np.ndarray or not d.ndim:
        return None
    if tp is int:
        n = d.shape[0]
        if index < -n or index >= n:
            raise _oob(index, 0, n)
        return ((index, _E), None, "SelectBackward0", "SelectBackwardBackward0")
    if tp is slice and (index.step is None or (type(index.step) is int and index.step > 0)):
        return ((index, _E), None, "SliceBackward0", "SliceBackwardBackward0")
    if index is None:
        return ((None, _E), None, "UnsqueezeBackward0", "SqueezeBackward1")
    return None


@register("__getitem__")
def getitem(self: Tensor, index: Any) -> Tensor:
    """self[index]: ints, slices, None and ... give views; tensors, lists and bools copies."""
    d = self._data
    idx = _fast(d, index)
    if idx is not None:
        return as_view(_record(self, d[idx[0]], idx, d.shape), self, lambda s: _apply(s, idx))
    if type(index) is Tensor and type(d) is np.ndarray and d.ndim:
        a = index._data
        if a.dtype == np.int64 and a.ndim:  # x[long tensor]: one advanced index on dim 0
            try:
                return _record(self, d[a], (None, (a,), *_ADV), d.shape)
            except IndexError:
                raise _adv_error(d.shape, (None, (a,))) from None
    idx = _parse(d.shape, index)
    if idx[1] is None:
        return _apply(self, idx)
    try:
        return _apply(self, idx)
    except IndexError:
        raise _adv_error(d.shape, idx) from None


@register("__setitem__", namespace=False)
def setitem(self: Tensor, index: Any, value: Any) -> None:
    """self[index] = value in place: basic indices write through a view, others use index_put."""
    d = self._data
    vt = isinstance(value, Tensor)
    if not vt:
        if not isinstance(value, (int, float, complex, np.number, np.bool_)):
            tp = type(value)
            name = tp.__name__ if tp.__module__ == "builtins" else f"{tp.__module__}.{tp.__name__}"
            raise TypeError(
                f"can't assign a {name} to a ember.{_TNAME.get(str(d.dtype), '')}Tensor. Hint: "
                "assign a number or a tensor (ember.tensor(value)).")
        if d.dtype.kind != "c" and np.iscomplexobj(value):
            raise RuntimeError(
                f"value cannot be converted to type {_CNAME.get(str(d.dtype))} without overflow")
    if index is True:  # alone, torch writes through x.unsqueeze(0); False writes nothing
        index = None
    elif index is False:
        return
    elif type(index) is slice:  # unlike x[:], x[:] = v writes into x itself
        index = (index,)
    idx = _fast(d, index) or _parse(d.shape, index)
    if not vt:
        value = new(np.asarray(value, dtype=d.dtype), None)
    vs = value._data.shape
    if idx[1] is None:  # torch's copy_to(view, value)
        v = self if idx[2] == "AliasBackward0" else _apply(self, idx)
        ts = v._data.shape
        if vs != ts and not vs:
            v.fill_(value)
            return
        vs = _strip1(vs)
        if len(vs) > len(ts):
            raise RuntimeError(
                f"expand(ember.{_TNAME.get(str(value._data.dtype), '')}Tensor{{{list(vs)}}}, "
                f"size={list(ts)}): the number of sizes provided ({len(ts)}) must be greater or "
                f"equal to the number of dimensions in the tensor ({len(vs)})")
        for i in range(1, len(vs) + 1):
            if vs[-i] != ts[-i] and vs[-i] != 1:
                raise RuntimeError(
                    f"The expanded size of the tensor ({ts[-i]}) must match the existing size "
                    f"({vs[-i]}) at non-singleton dimension {len(ts) - i}.  Target sizes: "
                    f"{list(ts)}.  Tensor sizes: {list(vs)}")
        v.copy_(value if vs == value._data.shape else value.reshape(vs))
        return
    if _strip1(vs) != vs:
        value = value.reshape(_strip1(vs))
    if idx[0] is not None:  # torch: index_put_ on the view of the basic part (-> CopySlices)
        self = _apply(self, (idx[0], None, *_ADV))
        idx = (None, *idx[1:])
    check_inplace(self)
    inplace_update(self, _put(self, idx, value, False))


def _strip1(shape: tuple) -> tuple:
    """torch drops the leading size-1 dims of an assigned value."""
    k = 0
    while k < len(shape) and shape[k] == 1:
        k += 1
    return shape[k:]


# ---------------------------------------------------------------------------- helpers
def _arr(index: Any, op: str, arg: str = "index") -> np.ndarray:
    """The NumPy array of an index argument (an ember Tensor, or a NumPy array internally)."""
    if isinstance(index, Tensor):
        return np.asarray(index._data)
    if isinstance(index, (np.ndarray, np.generic)):
        return np.asarray(index)
    raise TypeError(f"{op}(): argument '{arg}' must be Tensor, not {type(index).__name__}")


def _tname(dt: np.dtype) -> str:
    return _TNAME.get(str(dt), str(dt))


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


def _hit(shape: tuple, basic: Any, adv: tuple) -> np.ndarray:
    """Boolean mask of the positions ``zeros(shape)[basic][adv]`` covers (what a put overwrote)."""
    hit = np.zeros(shape, np.bool_)
    (hit if basic is None else hit[basic])[adv] = True
    return hit


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


class IndexPutBackward0(Node):
    """out = input with values put at indices;  dinput = g (zeroed there unless accumulating),
    dvalues = g[indices] (summed to the values' shape)."""

    def backward(self, g: Any) -> tuple:
        xp = ns(g)
        gi = None
        if needs(self, 0):
            gi = g if self.hit is None else xp.masked_fill(g, self.hit, 0)
        return gi, (xp.index_apply(g, self.index) if needs(self, 1) else None)


def _put(input: Tensor, index: tuple, values: Tensor, accumulate: bool) -> Tensor:
    """``input`` with ``values`` written (or added) at a parsed index, recorded."""
    d, vd = input._data, values._data
    basic, adv = index[0], index[1]
    t = np.broadcast_to(np.False_, d.shape)[basic if basic is not None else ()]
    if adv is not None:
        try:
            t = t[adv]
        except IndexError:
            raise _adv_error(d.shape, index) from None
    try:
        ok = np.broadcast_shapes(vd.shape, t.shape) == t.shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(vd.shape)} cannot be "
                           f"broadcast to indexing result of shape {list(t.shape)}")
    if vd.dtype != d.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{_tname(d.dtype)} for the destination and {_tname(vd.dtype)} for the source.")
    out = np.array(d, copy=True)
    view = out if basic is None else out[basic]
    if adv is None:
        adv = (_E,)
    if accumulate:
        np.add.at(view, adv, vd)
    else:
        view[adv] = vd
    if not STATE.enabled or (input._edge is None and values._edge is None):
        return new(out, None)
    hit = _hit(d.shape, basic, adv) if not accumulate and input._edge is not None else None
    meta = None if vd.shape == t.shape else (None, (vd.shape, None))
    return record(IndexPutBackward0, (input, values), out, meta=meta, hit=hit,
                  index=(basic, adv, *_ADV))


@register("index_put")
def index_put(input: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    """out = input.clone(); out[indices] = values (``+=`` with accumulate=True)."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' (position 1) must be tuple of Tensors, "
                        f"not {type(indices).__name__}")
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError("index_put(): argument 'values' (position 2) must be Tensor, not "
                        f"{type(values).__name__}")
    nd = input._data.ndim
    count = sum(t._data.ndim if t._data.dtype in (np.bool_, np.uint8) else 1 for t in indices)
    if count > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd} (got {count})")
    return _put(input, _parse(input._data.shape, tuple(indices)), values, accumulate)


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
