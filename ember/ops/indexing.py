"""Indexing: ``x[i]`` / ``x[i] = v`` and index_put (the parser of torch's indices lives here).

``x[index]`` follows torch: ints select, slices slice and None unsqueezes (NumPy views, recorded as
ONE node named after torch's last step: SelectBackward0, SliceBackward0, UnsqueezeBackward0, or
AliasBackward0 when nothing changed); then tensor / list / bool indices are applied together as
one NumPy advanced index (IndexBackward0, a copy).  A parsed index is ``(basic, adv, name,
backward_name)``: ``basic`` a NumPy basic index ending in ``...`` (so always a view) or None,
``adv`` a NumPy advanced index applied to that view or None.

The primitives (``index_apply``, ``index_backward`` and their nodes) live in _index.py; gather,
scatter, index_select/index_add, masks, take and nonzero live in gather.py and are re-exported
here.
"""

from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np

from ._core import STATE, Node, Tensor, as_view, needs, new, ns, record, register
from ._index import _ADV, _CNAME, _E, _TNAME, _apply, _hit, _record, _tname
from .gather import (
    argwhere,
    gather,
    index_add,
    index_select,
    masked_fill,
    masked_select,
    nonzero,
    scatter,
    scatter_add,
    take,
    take_along_dim,
)
from .inplace import check_inplace, inplace_update

__all__ = ["gather", "scatter", "scatter_add", "index_select", "masked_fill", "masked_select",
           "take", "take_along_dim", "index_add", "index_put", "nonzero", "argwhere"]

_ONE = np.zeros(1, np.int64)  # python True as an index: a new dim of size 1, taken whole
_NIL = np.zeros(0, np.int64)  # python False: a new dim of size 0
_BWD = {"SelectBackward0": "SelectBackwardBackward0", "SliceBackward0": "SliceBackwardBackward0",
        "UnsqueezeBackward0": "SqueezeBackward1", "AliasBackward0": "AliasBackward0"}


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
