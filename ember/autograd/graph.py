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
# Concrete types of first-order gradients: an ndarray or a NumPy scalar (0-d results).  Checked
# with ``type(g) in ARRAY_TYPES`` (a set lookup) to tell the array mode from the Tensor mode.
ARRAY_TYPES = frozenset(
    [np.ndarray, np.float16, np.float32, np.float64, np.complex64, np.complex128, np.int8,
     np.int16, np.int32, np.int64, np.uint8, np.bool_, np.uint16, np.uint32, np.uint64]
)
_ARRAY_TYPES = ARRAY_TYPES


def _ver(t: Any) -> Any:
    vc = t._vc
    return vc[0] if vc else 0


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
    _outvc: Any = None  # (version cell, version) of the saved output
    _meta: tuple | None = None  # per input: (shape, np dtype) when broadcasting or promotion
    _hooks: Any = None  # _NodeHooks, created on first use
    _name: str | None = None  # torch's node name when it differs from the class name
    _trace: Any = None  # where the node was created (anomaly mode)

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
        for t, v in zip(s, vers, strict=False):
            if v is not False:  # False marks a plain value (scalar, shape...), not a Tensor
                vc = t._vc
                if (0 if vc is None else vc[0]) != v:
                    raise RuntimeError(_version_msg(t, v, None))
        if type(g) in _ARRAY_TYPES:
            return [t if v is False else t._data for t, v in zip(s, vers, strict=False)]
        return s

    def _result(self, g: Any) -> Any:
        """The saved output, as an array or as a Tensor whose grad_fn is this node."""
        out = self._out
        if out is FREED:
            raise RuntimeError(_freed_msg())
        cell, v = self._outvc
        if cell is not None and cell[0] != v:
            raise RuntimeError(_version_msg(None, v, self, cell[0], out))
        if type(g) in _ARRAY_TYPES:
            return out
        from .._tensor import _new

        t = _new(out, (self, 0))
        t._vc = cell
        return t

    def _release(self) -> None:
        """Free saved values (after a backward without retain_graph)."""
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


def _wrap(a: Any) -> Any:
    from .._tensor import _new

    return _new(a, None)


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
