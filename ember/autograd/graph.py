"""Graph nodes: ``Node`` (the ctx of one recorded op) and ``AccumulateGrad`` (a leaf's sink).

A node keeps ``_next``: one edge ``(node, output_nr)`` per differentiable input, exactly torch's
``next_functions`` (``(None, 0)`` for inputs that need no gradient).  Leaves that require grad own
one ``AccumulateGrad`` node, so every edge points at a node and the engine has a single case.

Backward rules are written once and run in two modes: on raw NumPy arrays (first order, fast) or
on Tensors (``create_graph=True``, which records a graph of the backward itself).  ``_unpack``
hands a rule its saved values in the mode of the incoming gradient.
"""

from __future__ import annotations

import re
import sys
import weakref
from typing import Any

import numpy as np

FREED = ("<freed>",)  # sentinel for released saved values
NOEDGE = (None, 0)
# shared ``_vers`` tuples for the common cases (saved tensors at version 0; False: a plain value),
# recognised by identity in ``Node._unpack``
ZERO1, ZERO2, ZERO_F = (0,), (0, 0), (0, False)
# Concrete types of first-order gradients: an ndarray or a NumPy scalar (0-d results).  Checked
# with ``type(g) in ARRAY_TYPES`` (a set lookup) to tell the array mode from the Tensor mode.
ARRAY_TYPES = frozenset(
    [np.ndarray, np.float16, np.float32, np.float64, np.complex64, np.complex128, np.int8,
     np.int16, np.int32, np.int64, np.uint8, np.bool_, np.uint16, np.uint32, np.uint64]
)
_ARRAY_TYPES = ARRAY_TYPES
_ndarray = np.ndarray


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
WEAK = {_F32: {}, _F64: {}}  # dtype -> {python number: read-only 0-d array holding it exactly}


def weak(v: Any, dt: Any) -> Any:
    """A python number ``v`` as a cached read-only 0-d array of dtype ``dt`` when it converts
    exactly (float32/float64, not zero), else ``v`` itself.

    NumPy's math of an array with a 0-d array of its own dtype costs about half of that with a
    python scalar (NEP 50's weak-scalar handling), and gives the same bits: the python scalar is
    converted to ``dt`` before the math either way, here without rounding.  ops/arith.py uses it
    for ``tensor * 2`` and the like; saved in a node, ``Node._unpack`` gives rules on Tensors the
    number back (``unweak``)."""
    cache = WEAK[_F32] if dt is _F32 else WEAK[_F64] if dt is _F64 else None
    if cache is None:
        return v
    z = cache.get(v)
    if z is None:
        if not v:  # 0.0 and -0.0 are equal keys but differ in sign: leave zeros alone
            return v
        try:
            z = np.array(v, dt)
            exact = float(z) == v  # compared exactly, in python
        except (OverflowError, ValueError, TypeError):
            return v
        if not exact or len(cache) >= 1024:
            return v
        z.flags.writeable = False
        cache[v] = z
    return z


def unweak(x: Any) -> Any:
    """The python number behind a ``weak`` array (anything else unchanged)."""
    if type(x) is _ndarray and x.ndim == 0 and not x.flags.writeable:
        cache = WEAK.get(x.dtype)
        if cache is not None:
            v = x.item()
            if cache.get(v) is x:
                return v
    return x


def _ver(t: Any) -> Any:
    vc = t._vc
    return vc[0] if vc else 0


def link_out(t: Any, cell: list, version: int) -> None:
    """``t`` just got its first version counter ``cell`` (its value before was ``version``):
    when ``t``'s node saved ``t`` as its output, let the node watch that counter."""
    e = t._edge
    if e is not None:
        n = e[0]
        if n._out is not None and n._outvc is None and e[1] == 0:
            n._outvc = (cell, version)


class Node:
    """One recorded operation: its backward rule, its edges to inputs and what it saved.

    Subclasses implement ``backward(self, grad) -> tuple`` (one entry per edge in ``_next``).
    Instances use a ``__dict__`` with class-level defaults so creating one sets only what it needs.
    """

    _nout = 1  # number of differentiable outputs
    _next: tuple = ()
    _saved: tuple | None = None  # saved Tensors (or plain values), FREED after release
    _vers: tuple | None = None  # versions of the saved Tensors at save time
    _out: Any = None  # saved output data (for rules that use the result), FREED after release
    _outvc: Any = None  # (version cell, version) of the saved output; None: no cell yet
    _meta: tuple | None = None  # per input: (shape, np dtype) when broadcasting or promotion
    _hooks: Any = None  # _NodeHooks, created on first use
    _name: str | None = None  # torch's node name when it differs from the class name
    _trace: Any = None  # the user's stack when the node was created (anomaly mode)
    _at: Any = None  # (code, instruction offset) of the line that created it (creation lines)

    def name(self) -> str:
        """torch's name for this node, e.g. ``MulBackward0``."""
        return self._name or type(self).__name__

    @property
    def next_functions(self) -> tuple:
        """Edges to the nodes of this node's inputs, ``((node, output_nr), ...)``."""
        return self._next

    @property
    def metadata(self) -> dict:
        h = self._get_hooks()
        if h.metadata is None:
            h.metadata = {}
        return h.metadata

    def __repr__(self) -> str:
        return f"<{type_name(self)} object at {hex(id(self))}>"

    def backward(self, grad: Any) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError(f"{self.name()} has no backward rule")

    def __call__(self, *grads: Any) -> Any:
        """Apply the backward rule to output gradients (torch's ``grad_fn(grad)``)."""
        from .._tensor import Tensor

        g = grads[0] if self._nout == 1 else list(grads)
        with _enable_grad():
            res = self.backward(g)
        res = tuple(r if r is None or isinstance(r, Tensor) else _wrap(r) for r in res)
        return res[0] if len(res) == 1 else res

    # ---------------------------------------------------------------- saved values
    def _unpack(self, g: Any) -> Any:
        """The saved values, as arrays (``g`` an array) or Tensors (``g`` a Tensor)."""
        s = self._saved
        if s is FREED:
            raise RuntimeError(_freed_msg())
        vers = self._vers
        if vers is ZERO2:  # the common case, unrolled: two tensors saved at version 0
            a, b = s
            vc = a._vc
            if vc is not None and vc[0]:
                raise RuntimeError(_version_msg(a, 0, None))
            vc = b._vc
            if vc is not None and vc[0]:
                raise RuntimeError(_version_msg(b, 0, None))
            tg = type(g)
            if tg is _ndarray:
                return (a._data, b._data)
            if tg in _ARRAY_TYPES:  # a NumPy scalar: 0-d saved arrays become scalars (cheaper)
                ad, bd = a._data, b._data
                return (ad[()] if type(ad) is _ndarray and not ad.shape else ad,
                        bd[()] if type(bd) is _ndarray and not bd.shape else bd)
            return s
        if vers is ZERO1:
            a = s[0]
            vc = a._vc
            if vc is not None and vc[0]:
                raise RuntimeError(_version_msg(a, 0, None))
            return (a._data,) if type(g) in _ARRAY_TYPES else s
        if vers is ZERO_F:
            a, b = s
            vc = a._vc
            if vc is not None and vc[0]:
                raise RuntimeError(_version_msg(a, 0, None))
            tg = type(g)
            if tg is _ndarray:
                # a number saved as a 0-d array (``weak``) serves arrays of its dtype
                if type(b) is _ndarray and b.dtype is not g.dtype:
                    b = unweak(b)
                return (a._data, b)
            if tg in _ARRAY_TYPES:
                return (a._data, unweak(b))
            return (a, unweak(b)) if type(b) is _ndarray else s
        for t, v in zip(s, vers, strict=False):
            if v is not False:  # False marks a plain value (scalar, shape...), not a Tensor
                vc = t._vc
                if (0 if vc is None else vc[0]) != v:
                    raise RuntimeError(_version_msg(t, v, None))
        if type(g) in _ARRAY_TYPES:
            return [t if v is False else t._data for t, v in zip(s, vers, strict=False)]
        # Tensor mode: numbers saved as 0-d arrays go back to numbers
        return tuple(unweak(t) if v is False else t for t, v in zip(s, vers, strict=False))

    def _result(self, g: Any) -> Any:
        """The saved output, as an array or as a Tensor whose grad_fn is this node.

        ``_outvc`` is None while the output has no version counter (it was never changed in
        place nor shared with a view): ``Tensor._share_vc``/``_bump`` link the counter they create
        to the node (``link_out``), so nothing is allocated for the common case."""
        out = self._out
        if out is FREED:
            raise RuntimeError(_freed_msg())
        ov = self._outvc
        cell = None
        if ov is not None:
            cell, v = ov
            if cell[0] != v:
                raise RuntimeError(_version_msg(None, v, self, cell[0], out))
        if type(g) in _ARRAY_TYPES:
            return out
        t = _wrap(out)
        t._edge = (self, 0)
        t._vc = [0] if cell is None else cell  # a private counter: never linked to this node
        return t

    def _release(self) -> None:
        """Free saved values (after a backward without retain_graph).  The engine's main walk
        does the same inline (``_saved``/``_out`` become FREED) without calling this."""
        if self._saved is not None:
            self._saved = FREED
        if self._out is not None:
            self._out = FREED

    # ---------------------------------------------------------------- hooks (torch API)
    def _get_hooks(self) -> _NodeHooks:
        h = self._hooks
        if h is None:
            h = self._hooks = _NodeHooks()
        return h

    def register_hook(self, fn: Any) -> Any:
        """``fn(grad_inputs, grad_outputs)`` after this node ran; may return new grad_inputs."""
        return self._get_hooks().add("post", fn)

    def register_prehook(self, fn: Any) -> Any:
        """``fn(grad_outputs)`` before this node runs; may return new grad_outputs."""
        return self._get_hooks().add("pre", fn)


class _NodeHooks:
    """Hooks of one node: tensor hooks per output, node pre/post hooks, retained grads."""

    __slots__ = ("tensor", "pre", "post", "retain", "post_acc", "metadata", "_next_id")

    def __init__(self) -> None:
        self.tensor: dict[int, dict[int, Any]] = {}  # output_nr -> {id: fn}
        self.pre: dict[int, Any] = {}
        self.post: dict[int, Any] = {}
        self.retain: dict[int, Any] = {}  # output_nr -> weakref to the tensor
        self.post_acc: dict[int, Any] = {}
        self.metadata: dict | None = None
        self._next_id = 0

    def add(self, kind: str, fn: Any, nr: int | None = None) -> RemovableHandle:
        self._next_id += 1
        hid = self._next_id
        d = getattr(self, kind)
        if nr is not None:
            d = d.setdefault(nr, {})
        d[hid] = fn
        return RemovableHandle(d, hid)


class RemovableHandle:
    """Handle returned by ``register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("_d", "id")

    def __init__(self, d: dict, hid: int) -> None:
        self._d = d
        self.id = hid

    def remove(self) -> None:
        self._d.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class AccumulateGrad(Node):
    """Sink for a leaf tensor: adds the incoming gradient into ``variable.grad``."""

    def __init__(self, variable: Any) -> None:
        self._var = weakref.ref(variable)
        self._next = ()

    @property
    def variable(self) -> Any:
        return self._var()

    def backward(self, g: Any) -> tuple:
        var = self._var()
        if var is None:
            return ()
        accumulate_into(var, g, _STEAL_REFS)
        h = self._hooks
        if h is not None and h.post_acc:
            for fn in list(h.post_acc.values()):
                fn(var)
        return ()


# references to a gradient array that only the engine holds, seen from accumulate_into when
# called by AccumulateGrad.backward from the walk: the walk's local, backward's and
# accumulate_into's arguments, and getrefcount's own.  Anything more means someone else holds it.
_STEAL_REFS = 4


def accumulate_into(var: Any, g: Any, steal_refs: int = 0) -> None:
    """``var.grad += g`` the torch way: the first gradient is kept (stolen when nothing else can
    see it, else copied), later ones are added in place."""
    if type(g) in _ARRAY_TYPES:
        old = var._grad
        if old is None:
            if (steal_refs and type(g) is np.ndarray and g.base is None and g.flags.writeable
                    and g.dtype == var._data.dtype and sys.getrefcount(g) <= steal_refs):
                var._grad = _wrap(g)  # a fresh buffer only the engine held: no copy (as torch)
            else:
                var._grad = _wrap(np.array(g, dtype=var._data.dtype, copy=True))
        elif old._edge is None and isinstance(old._data, np.ndarray):
            old._data += g
        else:
            var._grad = _wrap(old._data + g)
    else:  # create_graph: the gradient is a Tensor that carries its own graph
        old = var._grad
        var._grad = g if old is None else old + g


_TENSOR: list = []  # [Tensor], filled on first use (ember._tensor imports this module)


def _tensor_cls() -> Any:
    if not _TENSOR:
        from .._tensor import Tensor

        _TENSOR.append(Tensor)
    return _TENSOR[0]


def _wrap(a: Any) -> Any:
    """A Tensor around ``a`` with no autograd history (``_tensor._new(a, None)``)."""
    t = _object_new(_TENSOR[0] if _TENSOR else _tensor_cls())
    t._data = a
    t._edge = None
    return t


_object_new = object.__new__


def _enable_grad() -> Any:
    from .grad_mode import enable_grad

    return enable_grad()


# -------------------------------------------------------------------- messages
def _freed_msg() -> str:
    return (
        "Trying to backward through the graph a second time (or directly access saved tensors "
        "after they have already been freed). Saved intermediate values of the graph are freed "
        "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
        "backward through the graph a second time or if you need to access saved tensors after "
        "calling backward."
    )


_LEGACY = {
    "float16": "HalfTensor",
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "int8": "CharTensor",
    "int16": "ShortTensor",
    "int32": "IntTensor",
    "int64": "LongTensor",
    "uint8": "ByteTensor",
    "bool": "BoolTensor",
    "complex64": "ComplexFloatTensor",
    "complex128": "ComplexDoubleTensor",
}


def type_desc(data: Any) -> str:
    """torch's ``[torch.FloatTensor [3, 4]]`` description of a tensor."""
    a = np.asarray(data)
    dims = ", ".join(str(s) for s in a.shape)
    return f"[ember.{_LEGACY.get(str(a.dtype), 'Tensor')} [{dims}]]"


def type_name(node: Node) -> str:
    """The node's type name as torch prints it (``CopySlices`` for ``torch::autograd::...``)."""
    return node.name().rpartition("::")[2]


def short_name(node: Node) -> str:
    """Node name without the ``Backward0`` suffix, as torch prints it in version errors."""
    return re.sub(r"Backward\d*$", "", node.name())


def _version_msg(
    t: Any, expected: Any, owner: Node | None, current: Any = None, data: Any = None
) -> str:
    if t is not None:
        data, current = t._data, _ver(t)
        fn = t.grad_fn
        which = f", which is output {t._edge[1]} of {short_name(fn)}," if fn is not None else ""
    else:
        which = f", which is output 0 of {short_name(owner)},"
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {type_desc(data)}{which} is at version {current or 0}; expected version "
        f"{expected or 0} instead. Hint: the tensor was changed in place (e.g. `+=`, `add_`, "
        "`x[i] = ...`) after it was used; use an out-of-place op (`x = x + 1`) or `.clone()` it "
        "before modifying."
    )
