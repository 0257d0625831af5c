"""The indexing primitives shared by indexing.py and gather.py.

A parsed index is ``(basic, adv, name, backward_name)``: ``basic`` a NumPy basic index ending in
``...`` (so always a view) or None, ``adv`` a NumPy advanced index applied to that view or None;
``name`` / ``backward_name`` are torch's node names for the indexing and for its gradient.

Every gradient here is one primitive, ``index_backward(g, shape, index)``: zeros with ``g`` added
at ``index`` (repeated indices accumulate).  Its own backward is ``index_apply`` (indexing again),
so higher orders work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._core import STATE, N, Node, Tensor, as_view, mark, new, ns, register

_E = Ellipsis
_TNAME = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
          "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
          "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
_CNAME = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
          "int16": "short int", "int8": "signed char", "uint8": "unsigned char"}
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
    mark(n)
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
    mark(n)
    return new(out, (n, 0))


# ---------------------------------------------------------------------------- shared helpers
def _tname(dt: np.dtype) -> str:
    return _TNAME.get(str(dt), str(dt))


def _hit(shape: tuple, basic: Any, adv: tuple) -> np.ndarray:
    """Boolean mask of the positions ``zeros(shape)[basic][adv]`` covers (what a put overwrote)."""
    hit = np.zeros(shape, np.bool_)
    (hit if basic is None else hit[basic])[adv] = True
    return hit
