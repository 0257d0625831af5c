"""User-defined differentiable operations: ``Function`` (torch's ``torch.autograd.Function``).

A subclass defines static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` (or the
newer ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``); ``Cls.apply(*args)`` runs
the forward under no_grad and, when an input requires grad, records one node of type
``<ClassName>Backward`` that is also the ``ctx``: arbitrary attributes set on ``ctx`` in forward
are there in backward.  The user's backward always sees Tensors: in first-order mode gradients
are wrapped (grad mode off, so nothing is recorded) and the results unwrapped to arrays; with
``create_graph=True`` it runs on Tensors with grad mode on, so its ember ops record a graph of
the backward itself (double backward).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from .anomaly_mode import REC, capture, mark_site
from .grad_mode import STATE
from .graph import ARRAY_TYPES, FREED, NOEDGE, AccumulateGrad, Node, _freed_msg, _ver, _version_msg

__all__ = ["Function", "FunctionCtx", "once_differentiable", "BackwardCFunction"]


class FunctionCtx:
    """The ``ctx`` API: what forward (or setup_context) tells backward."""

    to_save: tuple = ()
    dirty_tensors: tuple = ()
    non_differentiable: tuple = ()
    materialize_grads: bool = True

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors (or None) for backward; read them back with ``ctx.saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type "
                    f"{type(t).__name__}. Hint: store non-tensor values as ctx attributes "
                    "(ctx.value = ...)."
                )
        self.to_save = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        """Accepted for API compatibility (ember has no forward-mode custom rules here)."""
        self.saved_for_forward = tensors

    def mark_dirty(self, *args: Tensor) -> None:
        """The forward modified these inputs in place and returns them."""
        self.dirty_tensors = args

    def mark_non_differentiable(self, *args: Tensor) -> None:
        """These outputs get no gradient (requires_grad=False)."""
        self.non_differentiable = args

    def set_materialize_grads(self, value: bool) -> None:
        """Whether None output gradients reach backward as zeros (default True)."""
        self.materialize_grads = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """The node of one ``Function.apply`` call; it is also the call's ``ctx``."""

    _fn_cls: Any = None  # the Function subclass
    _is_tensor: tuple = ()  # per forward argument: was it a Tensor
    _out_meta: tuple = ()  # per output: (shape, np dtype) for materialised zero gradients
    _saved_out: tuple = ()  # per saved slot: output index when it saved an output, else -1
    needs_input_grad: tuple = ()

    def name(self) -> str:
        return type(self).__name__

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward`` (version-checked, freed after backward)."""
        s = self._saved
        if s is FREED:
            raise RuntimeError(_freed_msg())
        if s is None:
            return ()
        res = []
        for k, (t, v) in enumerate(zip(s, self._vers, strict=True)):
            if t is None:
                res.append(None)
                continue
            if _ver(t) != v:
                if self._saved_out[k] >= 0:
                    raise RuntimeError(_version_msg(None, v, self, _ver(t), t._data))
                raise RuntimeError(_version_msg(t, v, None))
            nr = self._saved_out[k]
            if nr >= 0:  # an output: rebuilt with this node as grad_fn (no stored cycle)
                o = _new(t._data, (self, nr))
                o._vc = t._vc
                t = o
            res.append(t)
        return tuple(res)

    saved_variables = saved_tensors

    def backward(self, g: Any) -> tuple:
        """Run the user's backward on Tensors, validate, and return one gradient per edge."""
        gs = list(g) if self._nout != 1 else [g]
        arr = any(type(x) in ARRAY_TYPES for x in gs)
        for i, x in enumerate(gs):
            if x is None:
                if self.materialize_grads:
                    shape, dtype = self._out_meta[i]
                    gs[i] = _new(np.zeros(shape, dtype), None)
            elif arr:
                gs[i] = _new(x, None)
        res = self._fn_cls.backward(self, *gs)
        return self._check(res, arr)

    def _check(self, res: Any, arr: bool) -> tuple:
        if not isinstance(res, tuple):
            res = (res,)
        n = len(self._is_tensor)
        if len(res) != n:
            if len(res) > n and all(r is None for r in res[n:]):
                res = res[:n]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients (expected "
                    f"{n}, got {len(res)}). Hint: backward must return one value per forward "
                    "argument (None for non-tensor arguments and inputs without a gradient)."
                )
        out = []
        for i, (r, is_t) in enumerate(zip(res, self._is_tensor, strict=True)):
            if not is_t:
                if r is not None:
                    raise RuntimeError(
                        f"function {self.name()} returned a gradient different than None at "
                        f"position {i + 1}, but the corresponding forward input was not a "
                        f"Variable. Hint: return None for forward argument {i}."
                    )
                continue
            if r is not None and not isinstance(r, Tensor):
                raise RuntimeError(
                    f"expected Variable or None (got {type(r).__name__}). Hint: backward of "
                    f"{self.name()} must return Tensors; wrap numbers with ember.tensor(...)."
                )
            if r is not None:
                dt = self._in_dtypes[len(out)]
                if r._data.dtype != dt:  # torch casts a gradient to its input's dtype
                    r = _new(np.asarray(r._data).astype(dt), None) if arr else _cast(r, dt)
            out.append(None if r is None else (r._data if arr else r))
        return tuple(out)


def _cast(t: Tensor, dt: np.dtype) -> Tensor:
    from ..ops._ns import E

    return E.cast(t, dt)


class _FunctionMeta(type):
    """Creates the ``<ClassName>Backward`` node class of each Function subclass."""

    def __init__(cls, name: str, bases: tuple, attrs: dict) -> None:
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_fn_cls": cls})
        super().__init__(name, bases, attrs)


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable operations (use ``Cls.apply(*args)``)."""

    generate_vmap_rule = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        import warnings

        warnings.warn(
            f"{type(self)} should not be instantiated. Methods on autograd functions are all "
            "static, so you should invoke them on the class itself. Instantiating an autograd "
            "function will raise an error in a future version of PyTorch.",
            DeprecationWarning,
            stacklevel=2,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` without recording and attach one ``<ClassName>Backward`` node."""
        ctx = cls._backward_cls()
        is_t = ctx._is_tensor = tuple(isinstance(a, Tensor) for a in args)
        grad_on = STATE.enabled
        edges = tuple(a._edge or NOEDGE for a, t in zip(args, is_t, strict=True) if t)
        ctx.needs_input_grad = tuple(
            bool(t and grad_on and a._edge is not None) for a, t in zip(args, is_t, strict=True)
        )
        custom_setup = cls.setup_context is not Function.setup_context  # type: ignore[comparison-overlap]
        STATE.enabled = False
        try:
            if custom_setup:
                out = cls.forward(*args, **kwargs)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        finally:
            STATE.enabled = grad_on
        if custom_setup:
            cls.setup_context(ctx, args, out)
        record = grad_on and any(e[0] is not None for e in edges)
        return _wrap_outputs(ctx, args, is_t, edges, out, record)


def _wrap_outputs(
    ctx: BackwardCFunction, args: tuple, is_t: tuple, edges: tuple, out: Any, record: bool
) -> Any:
    single = not isinstance(out, tuple)
    outs = [out] if single else list(out)
    dirty = {id(t) for t in ctx.dirty_tensors}
    inputs = {id(a) for a, t in zip(args, is_t, strict=True) if t}
    for t in ctx.dirty_tensors:
        if id(t) not in inputs:
            raise RuntimeError(
                "Some elements marked as dirty during the forward method were not passed as an "
                "input to it. Hint: mark_dirty only the inputs that forward changed in place."
            )
        if record and t._edge is not None and type(t._edge[0]) is AccumulateGrad:
            raise RuntimeError(
                "a leaf Variable that requires grad has been used in an in-place operation. "
                "Hint: clone the leaf before passing it, or run under ember.no_grad()."
            )
    for t in ctx.dirty_tensors:
        t._bump()
    if not record:
        ctx.to_save = ()
        return out
    nondiff = {id(t) for t in ctx.non_differentiable}
    ctx._next = edges
    if REC[0]:  # the user's line calling apply (backward errors name it); anomaly: the stack
        mark_site(ctx, 2)
        if REC[0] == 2:
            ctx._trace = capture()
    ctx._nout = len(outs)
    tens = [a for a, t in zip(args, is_t, strict=True) if t]
    ctx._meta = tuple((a._data.shape, None) for a in tens)
    ctx._in_dtypes = tuple(a._data.dtype for a in tens)
    meta = []
    res = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            meta.append(((), np.dtype(np.float32)))
            res.append(o)
            continue
        d = o._data
        meta.append((d.shape, d.dtype))
        diff = id(o) not in nondiff and d.dtype.kind in "fc"
        if id(o) in dirty:
            o._edge = (ctx, i) if diff else None
            if diff and o._base is not None:
                _rebase_view(o, ctx, i)
            res.append(o)
        elif id(o) in inputs:  # an input returned as-is: a view of it with this node as grad_fn
            v = _new(d, (ctx, i) if diff else None)
            v._vc = o._share_vc()
            v._base = o if o._base is None else o._base
            res.append(v)
        else:
            if o._edge is not None and diff:
                pass  # a tensor produced with grad on elsewhere: rewired to this node below
            o._edge = (ctx, i) if diff else None
            res.append(o)
    ctx._out_meta = tuple(meta)
    _save(ctx, res, outs)
    return res[0] if single else tuple(res)


def _rebase_view(o: Tensor, ctx: BackwardCFunction, i: int) -> None:
    """A dirty view: its base becomes the output of CopySlices(old base, this node)."""
    from ..ops.inplace import CopySlices

    base = o._base
    cs = CopySlices()
    cs._next = (base._edge or NOEDGE, (ctx, i))
    cs.view_fn = o._view_fn
    cs.shape = base._data.shape
    base._edge = (cs, 0)
    if o._view_fn is not None:
        o._edge = o._view_fn(base)._edge


def _save(ctx: BackwardCFunction, res: list, outs: list) -> None:
    to_save = ctx.to_save
    if not to_save:
        return
    out_ids = {id(o): i for i, o in enumerate(outs) if isinstance(o, Tensor)}
    saved, vers, souts = [], [], []
    for t in to_save:
        if t is None:
            saved.append(None)
            vers.append(False)
            souts.append(-1)
            continue
        nr = out_ids.get(id(t), -1)
        if nr >= 0 and res[nr]._edge is not None and res[nr]._edge[0] is ctx:
            r = res[nr]
            keep = _new(r._data, None)  # data + version cell only: no node -> tensor -> node cycle
            keep._vc = r._share_vc()
            saved.append(keep)
            vers.append(_ver(keep))
            souts.append(nr)
        else:
            saved.append(t)
            vers.append(_ver(t))
            souts.append(-1)
    ctx._saved = tuple(saved)
    ctx._vers = tuple(vers)
    ctx._saved_out = tuple(souts)
    ctx.to_save = ()


class DelayedError(Node):
    """Raises when differentiated: marks the output of a once-differentiable backward."""

    def __init__(self, msg: str, nout: int) -> None:
        self.msg = msg
        self._nout = nout
        self._next = tuple(NOEDGE for _ in range(nout))

    def backward(self, g: Any) -> tuple:
        raise RuntimeError(self.msg)


def once_differentiable(fn: Callable) -> Callable:
    """Decorate a backward that is not differentiable itself: it runs under no_grad and its
    results raise if one tries to differentiate them."""

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        prev = STATE.enabled
        STATE.enabled = False
        try:
            outputs = fn(ctx, *args)
        finally:
            STATE.enabled = prev
        if not prev:
            return outputs
        if not any(isinstance(a, Tensor) and a._edge is not None for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        err = DelayedError(
            "trying to differentiate twice a function that was marked with @once_differentiable",
            len(outs),
        )
        res = tuple(
            o if not isinstance(o, Tensor) else _new(o._data, (err, i)) for i, o in enumerate(outs)
        )
        return res[0] if single else res

    return wrapper
