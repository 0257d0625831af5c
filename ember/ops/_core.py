"""Shared machinery for ops: recording a node, argument promotion, installing methods.

Every op module follows one pattern: a ``Node`` subclass holding the backward rule, and right
below it the public function that computes the forward with NumPy and calls ``unary``/``binary``/
``record`` to attach the node.  Backward rules receive ``g`` as a NumPy array (first order) or as
a Tensor (``create_graph=True``) and pick the matching namespace with ``xp = ns(g)``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FunctionType
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _new
from ..autograd.anomaly_mode import REC, _outside, add_record_listener, capture
from ..autograd.grad_mode import STATE
from ..autograd.graph import ARRAY_TYPES as _ARR
from ..autograd.graph import NOEDGE, ZERO1, ZERO2, ZERO_F, Node, _ver, weak
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
    "mark",
    "weak",
    "pair",
    "specialized",
]

new = _new
_object_new = object.__new__
_getframe = sys._getframe
# What node creation records (anomaly_mode keeps these in step, see _on_record): ``_REC`` 0
# nothing, 1 the creation line, 2 the line and the user's stack (anomaly mode).  ``_LAST`` is
# (code object of the last user function that created a node, its sites: offset -> (code,
# offset)), one tuple so that threads read a consistent pair; (None, {}) in anomaly mode.  In a
# loop no tuple is allocated per op (every allocation that outlives a gen-0 collection brings
# the next full collection closer).
_REC = 1
_LAST: tuple = (None, {})
_SITES_OF: dict = {}  # code object -> its sites dict, for the user functions seen (bounded)


def _on_record(mode: int) -> None:
    global _REC, _LAST
    _REC = mode
    if mode == 2:  # anomaly mode takes the slow path for every node (it captures the stack)
        _LAST = (None, {})


def _site(n: Node, f: Any) -> None:
    """Record where ``n`` was created, ``f`` being the frame that called the op (or a deeper
    one): the first frame outside ember; remember its code when ``f`` is that frame."""
    global _LAST
    u = _outside(f)
    if u is not None:
        c, i = u.f_code, u.f_lasti
        if u is f and _REC == 1:
            d = _SITES_OF.get(c)
            if d is None:
                if len(_SITES_OF) >= 256:
                    _SITES_OF.clear()
                d = _SITES_OF[c] = {}
            _LAST = (c, d)
            w = d.get(i)
            if w is None:
                w = d[i] = (c, i)
            n._at = w
        else:
            n._at = (c, i)
    if _REC == 2:
        n._trace = capture()


_on_record(REC[0])
add_record_listener(_on_record)
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


def specialized(fn: Callable) -> Callable:
    """A copy of ``fn`` with its own code object, for one op to call.

    CPython 3.11 specialises attribute stores per bytecode and per class: in the one ``pair`` or
    ``unary`` that every op shares, ``n._next = ...`` sees dozens of node classes and stays on
    the slow generic path; an op's own copy sees one class and gets the fast inline store."""
    return FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__,
                        fn.__closure__)


def needs(node: Node, i: int) -> bool:
    """Whether input ``i`` of ``node`` needs a gradient (skip work for the others)."""
    return node._next[i][0] is not None


# The recorders below run once per recorded op: they are written for speed (no helper calls on
# the common path, ``_new`` inlined).  A saved output gets no version counter here: the node
# watches the output's counter only once one exists (``graph.link_out``).  With creation lines
# on, ``n._at`` keeps the code object and instruction offset of the first frame outside ember
# (never the frame itself: nothing of the caller stays alive); an error in backward names that
# line (``anomaly_mode.annotate``).  The common case, an op called by the same user function as
# the last one, costs one frame lookup, two frame attributes and a dict lookup.
def unary(cls: type, a: Tensor, out: Any, save_input: bool = False, save_out: bool = False,
          **attrs: Any) -> Tensor:
    """Wrap ``out`` = f(a); record ``cls`` when ``a`` requires grad and grad mode is on."""
    e = a._edge
    t = _object_new(Tensor)
    t._data = out
    if e is None or not STATE.enabled:
        t._edge = None
        return t
    n = cls()
    n._next = (e,)
    if save_input:
        n._saved = (a,)
        n._vers = ZERO1 if a._vc is None else (_ver(a),)
    if save_out:
        n._out = out
    if attrs:
        for k in attrs:
            setattr(n, k, attrs[k])
    if _REC:
        f = _getframe(2)
        c, d = _LAST
        if f.f_code is c:  # the same user function as the last op's
            i = f.f_lasti
            try:
                n._at = d[i]
            except KeyError:
                n._at = d[i] = (c, i)
        else:
            _site(n, f)
    t._edge = (n, 0)
    return t


def binary(cls: type, a: Tensor, b: Any, out: Any, save: int = 0, save_out: bool = False,
           **attrs: Any) -> Tensor:
    """Wrap ``out`` = f(a, b) where ``b`` is a Tensor or a python scalar.

    ``save``: 0 nothing, 1 both inputs, 2 only ``a``, 3 only ``b``.  Records the input shapes and
    dtypes when they differ from the output's, so the engine can undo broadcasting centrally.
    """
    ea = a._edge
    t = _object_new(Tensor)
    t._data = out
    if type(b) is Tensor or isinstance(b, Tensor):
        eb = b._edge
        if (ea is None and eb is None) or not STATE.enabled:
            t._edge = None
            return t
        n = cls()
        n._next = (ea or NOEDGE, eb or NOEDGE)
        if save:
            if save == 1:
                n._saved = (a, b)
                n._vers = ZERO2 if (a._vc is None and b._vc is None) else (_ver(a), _ver(b))
            elif save == 2:
                n._saved = (a,)
                n._vers = ZERO1 if a._vc is None else (_ver(a),)
            else:
                n._saved = (b,)
                n._vers = ZERO1 if b._vc is None else (_ver(b),)
        ad, bd = a._data, b._data
        oshape, odt = out.shape, out.dtype
        if ad.shape != oshape or bd.shape != oshape or ad.dtype != odt or bd.dtype != odt:
            n._meta = (_m(ad, oshape, odt), _m(bd, oshape, odt))
    else:
        if ea is None or not STATE.enabled:
            t._edge = None
            return t
        n = cls()
        n._next = (ea, NOEDGE)
        if save:
            if save == 1:
                n._saved = (a, b)
                n._vers = ZERO_F if a._vc is None else (_ver(a), False)
            elif save == 2:
                n._saved = (a,)
                n._vers = ZERO1 if a._vc is None else (_ver(a),)
            else:
                n._saved = (b,)
                n._vers = (False,)
        ad = a._data
        if ad.shape != out.shape or ad.dtype != out.dtype:
            n._meta = (_m(ad, out.shape, out.dtype), None)
    if save_out:
        n._out = out
    if attrs:
        for k in attrs:
            setattr(n, k, attrs[k])
    if _REC:
        f = _getframe(2)
        c, d = _LAST
        if f.f_code is c:  # the same user function as the last op's
            i = f.f_lasti
            try:
                n._at = d[i]
            except KeyError:
                n._at = d[i] = (c, i)
        else:
            _site(n, f)
    t._edge = (n, 0)
    return t


def pair(cls: type, a: Tensor, b: Any, out: Any, save: int) -> Tensor:
    """``binary`` for the fast paths of ops/arith.py: ``b`` is a Tensor (exactly) of ``a``'s shape
    and dtype, or a number with a floating ``a`` (a weak scalar); so no promotion and no
    broadcasting to undo.  ``save`` 1 saves both operands, 0 nothing."""
    ea = a._edge
    t = _object_new(Tensor)
    t._data = out
    if type(b) is Tensor:
        eb = b._edge
        if (ea is None and eb is None) or not STATE.enabled:
            t._edge = None
            return t
        n = cls()
        n._next = (ea or NOEDGE, eb or NOEDGE)
        if save:
            n._saved = (a, b)
            n._vers = ZERO2 if (a._vc is None and b._vc is None) else (_ver(a), _ver(b))
    else:
        if ea is None or not STATE.enabled:
            t._edge = None
            return t
        n = cls()
        n._next = (ea, NOEDGE)
        if save:
            n._saved = (a, b)
            n._vers = ZERO_F if a._vc is None else (_ver(a), False)
    if _REC:
        f = _getframe(2)
        c, d = _LAST
        if f.f_code is c:  # the same user function as the last op's
            i = f.f_lasti
            try:
                n._at = d[i]
            except KeyError:
                n._at = d[i] = (c, i)
        else:
            _site(n, f)
    t._edge = (n, 0)
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
    n._next = edges
    if saved:
        n._saved = saved
        n._vers = tuple(_ver(x) if isinstance(x, Tensor) else False for x in saved)
    if meta is not None:
        n._meta = meta
    if save_out:
        n._out = out
    if attrs:
        for k in attrs:
            setattr(n, k, attrs[k])
    if _REC:
        _site(n, _getframe(2))
    return _new(out, (n, 0))


def mark(n: Node, depth: int = 2) -> None:
    """Record the creation line (and, in anomaly mode, the stack) of a node made by hand: call it
    from the op function (``depth`` frames below the user's call)."""
    if _REC:
        _site(n, _getframe(depth))


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
