"""Shared machinery for ops: recording a node, argument promotion, installing methods.

Every op module follows one pattern: a ``Node`` subclass holding the backward rule, and right
below it the public function that computes the forward with NumPy and calls ``unary``/``binary``/
``record`` to attach the node.  Backward rules receive ``g`` as a NumPy array (first order) or as
a Tensor (``create_graph=True``) and pick the matching namespace with ``xp = ns(g)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _new
from ..autograd.anomaly_mode import ANOMALY, capture
from ..autograd.grad_mode import STATE
from ..autograd.graph import ARRAY_TYPES as _ARR
from ..autograd.graph import NOEDGE, Node, _ver
from ._ns import E, N

__all__ = [
    "Tensor",
    "Node",
    "NOEDGE",
    "STATE",
    "E",
    "N",
    "ns",
    "register",
    "unary",
    "binary",
    "record",
    "new",
    "as_tensor_arg",
    "as_view",
    "write_out",
    "binary_args",
    "check_broadcast",
    "float_data",
    "wrap_dim",
    "needs",
]

new = _new
_pyfloat, _pyint, _pybool = float, int, bool


def ns(g: Any) -> Any:
    """The namespace (NumPy ``N`` or ember ``E``) matching the gradient's type."""
    return N if type(g) in _ARR else E


def register(*method_names: str, namespace: bool = True) -> Callable:
    """Install a function as ``Tensor`` methods and in the ember namespace ``E`` for rules."""

    def deco(fn: Callable) -> Callable:
        for m in method_names:
            setattr(Tensor, m, fn)
        if namespace:
            setattr(E, fn.__name__, fn)
        return fn

    return deco


# shared version tuples for the common case: saved tensors never modified in place (version 0)
_ZERO1, _ZERO2, _ZERO_F = (0,), (0, 0), (0, False)


def needs(node: Node, i: int) -> bool:
    """Whether input ``i`` of ``node`` needs a gradient (skip work for the others)."""
    return node._next[i][0] is not None


def _out_cell(n: Node, t: Tensor, out: Any) -> None:
    cell = [0]
    t._vc = cell
    n._out = out
    n._outvc = (cell, 0)


def unary(cls: type, a: Tensor, out: Any, save_input: bool = False, save_out: bool = False,
          **attrs: Any) -> Tensor:
    """Wrap ``out`` = f(a); record ``cls`` when ``a`` requires grad and grad mode is on."""
    e = a._edge
    if e is None or not STATE.enabled:
        return _new(out, None)
    n = cls()
    if ANOMALY[0]:
        n._trace = capture()
    n._next = (e,)
    if save_input:
        n._saved = (a,)
        n._vers = _ZERO1 if a._vc is None else (_ver(a),)
    if attrs:
        n.__dict__.update(attrs)
    t = _new(out, (n, 0))
    if save_out:
        _out_cell(n, t, out)
    return t


def binary(cls: type, a: Tensor, b: Any, out: Any, save: int = 0, save_out: bool = False,
           **attrs: Any) -> Tensor:
    """Wrap ``out`` = f(a, b) where ``b`` is a Tensor or a python scalar.

    ``save``: 0 nothing, 1 both inputs, 2 only ``a``, 3 only ``b``.  Records the input shapes and
    dtypes when they differ from the output's, so the engine can undo broadcasting centrally.
    """
    ea = a._edge
    bt = isinstance(b, Tensor)
    eb = b._edge if bt else None
    if (ea is None and eb is None) or not STATE.enabled:
        return _new(out, None)
    n = cls()
    if ANOMALY[0]:
        n._trace = capture()
    n._next = (ea or NOEDGE, eb or NOEDGE)
    if save:
        if save == 1:
            n._saved = (a, b)
            if bt:
                n._vers = _ZERO2 if (a._vc is None and b._vc is None) else (_ver(a), _ver(b))
            else:
                n._vers = _ZERO_F if a._vc is None else (_ver(a), False)
        elif save == 2:
            n._saved = (a,)
            n._vers = (_ver(a),)
        else:
            n._saved = (b,)
            n._vers = (_ver(b) if bt else False,)
    if attrs:
        n.__dict__.update(attrs)
    ad = a._data
    oshape, odt = out.shape, out.dtype
    if bt:
        bd = b._data
        if ad.shape != oshape or bd.shape != oshape or ad.dtype != odt or bd.dtype != odt:
            n._meta = (_m(ad, oshape, odt), _m(bd, oshape, odt))
    elif ad.shape != oshape or ad.dtype != odt:
        n._meta = (_m(ad, oshape, odt), None)
    t = _new(out, (n, 0))
    if save_out:
        _out_cell(n, t, out)
    return t


def _m(d: Any, oshape: tuple, odt: Any) -> tuple | None:
    if d.shape == oshape and d.dtype == odt:
        return None
    return (d.shape, d.dtype if d.dtype != odt else None)


def record(cls: type, inputs: tuple, out: Any, saved: tuple = (), save_out: bool = False,
           meta: tuple | None = None, **attrs: Any) -> Tensor:
    """General form: ``inputs`` are Tensors (or None/scalars); ``saved`` values to keep."""
    if not STATE.enabled:
        return _new(out, None)
    edges = tuple((x._edge or NOEDGE) if isinstance(x, Tensor) else NOEDGE for x in inputs)
    for e in edges:
        if e[0] is not None:
            break
    else:
        return _new(out, None)
    n = cls()
    if ANOMALY[0]:
        n._trace = capture()
    n._next = edges
    if saved:
        n._saved = saved
        n._vers = tuple(_ver(x) if isinstance(x, Tensor) else False for x in saved)
    if meta is not None:
        n._meta = meta
    if attrs:
        n.__dict__.update(attrs)
    t = _new(out, (n, 0))
    if save_out:
        _out_cell(n, t, out)
    return t


def write_out(fn: str, out: Tensor, r: Any, *inputs: Any) -> Tensor:
    """Write ``r`` into a user-given ``out=`` tensor (torch refuses it when grads are needed)."""
    if STATE.enabled and any(isinstance(t, Tensor) and t._edge is not None for t in inputs):
        raise RuntimeError(
            f"{fn}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad. Hint: drop out= or run under "
            "ember.no_grad()."
        )
    r = np.asarray(r)
    if out._data.shape != r.shape:
        out._data = np.array(r, dtype=out._data.dtype)
    else:
        out._array()[...] = r
    out._bump()
    return out


def as_view(t: Tensor, src: Tensor, fn: Callable[[Tensor], Tensor]) -> Tensor:
    """Mark ``t`` (whose data is a NumPy view of ``src``'s) as a view of ``src``.

    It shares ``src``'s version counter and base; ``fn(base_like) -> view`` replays the view op so
    that an in-place change of ``t`` can be written back into its base's graph (CopySlices).
    """
    t._vc = src._share_vc()
    base = src._base
    if base is None:
        t._base = src
        t._view_fn = fn
    else:
        t._base = base
        prev = src._view_fn
        t._view_fn = lambda b: fn(prev(b))
    return t


def as_tensor_arg(x: Any, like: Any = None) -> Tensor:
    """A Tensor for a tensor-or-number argument (numbers become 0-d tensors)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, (_pyint, _pyfloat, _pybool)):
        return _new(np.asarray(x, dtype=D.scalar_result(like._data.dtype, x)), None)
    from .._creation import tensor

    return tensor(x)


def binary_args(a: Any, b: Any) -> tuple:
    """NumPy operands for ``a op b`` with torch's promotion (python scalars are weak)."""
    ad = a._data
    if isinstance(b, Tensor):
        bd = b._data
        if ad.shape != bd.shape:
            check_broadcast(ad.shape, bd.shape)
        if ad.dtype is not bd.dtype:
            rt = D.result_type(ad, bd)
            if ad.dtype != rt:
                ad = ad.astype(rt)
            if bd.dtype != rt:
                bd = bd.astype(rt)
        return ad, bd
    tb = type(b)
    if tb is _pyfloat:
        if ad.dtype.kind in "biu":
            ad = ad.astype(D.default_np())
        return ad, b
    if tb is _pyint or tb is _pybool:
        return ad, b
    if isinstance(b, (np.generic, complex)):
        rt = D.scalar_result(ad.dtype, b)
        return (ad if ad.dtype == rt else ad.astype(rt)), (b.item() if isinstance(b, np.generic)
                                                           else b)
    raise TypeError(
        f"unsupported operand type: expected a Tensor or a number, got {type(b).__name__}"
    )


def check_broadcast(sa: tuple, sb: tuple) -> None:
    """Raise torch's RuntimeError when two shapes do not broadcast."""
    na, nb = len(sa), len(sb)
    for i in range(1, min(na, nb) + 1):
        x, y = sa[na - i], sb[nb - i]
        if x != y and x != 1 and y != 1:
            raise RuntimeError(
                f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                f"non-singleton dimension {max(na, nb) - i}. Hint: shapes {list(sa)} and "
                f"{list(sb)} do not broadcast; dimensions are matched from the right and must be "
                "equal or 1 (reshape or unsqueeze one of them)."
            )


def float_data(a: Tensor) -> Any:
    """The data, cast to the default float dtype when it is integral (torch's unary math)."""
    d = a._data
    if d.dtype.kind in "biu":
        return d.astype(D.default_np())
    return d


def wrap_dim(dim: int, ndim: int) -> int:
    """Normalise a possibly negative dim (torch's IndexError when out of range)."""
    from .._tensor import _wrap_dim

    return _wrap_dim(dim, ndim)
