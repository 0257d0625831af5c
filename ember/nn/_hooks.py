"""Module full backward hooks: identity nodes around a module's inputs and outputs.

The node on the outputs sees the gradients w.r.t. the outputs (and runs backward pre-hooks);
the node on the inputs sees the gradients w.r.t. the inputs and calls
``hook(module, grad_input, grad_output)``, which may replace ``grad_input``.
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor, _new
from ..autograd.grad_mode import STATE
from ..autograd.graph import ARRAY_TYPES, Node


def _wrap(x: Any) -> Any:
    if x is None or isinstance(x, Tensor):
        return x
    return _new(x, None)


class BackwardHookFunctionBackward(Node):
    """Identity on several tensors; calls back with their gradients."""

    def backward(self, grads: Any) -> tuple:
        gs = list(grads) if isinstance(grads, list) else [grads]
        arrays = any(type(g) in ARRAY_TYPES for g in gs if g is not None)
        res = self.callback(tuple(_wrap(g) for g in gs))
        if res is None:
            return tuple(gs)
        return tuple((r._data if (arrays and r is not None) else r) for r in res)


def _identity(tensors: list, callback: Any) -> list:
    """Route the tensors that require grad through one identity node."""
    idx = [i for i, t in enumerate(tensors) if isinstance(t, Tensor) and t._edge is not None]
    if not idx or not STATE.enabled:
        return tensors
    n = BackwardHookFunctionBackward()
    n._nout = len(idx)
    n._next = tuple(tensors[i]._edge for i in idx)
    n.callback = callback
    out = list(tensors)
    for k, i in enumerate(idx):
        t = _new(tensors[i]._data, (n, k))
        t._vc = tensors[i]._share_vc()
        out[i] = t
    return out


class BackwardHook:
    """Connects a module's full backward (pre-)hooks to one forward call."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.grad_outputs: tuple | None = None
        self.n_inputs = 0
        self.inputs_require_grad = False

    def setup_input_hook(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        self.inputs_require_grad = any(
            isinstance(a, Tensor) and a._edge is not None for a in args
        )
        return tuple(_identity(list(args), self._on_inputs))

    def setup_output_hook(self, out: Any) -> Any:
        single = isinstance(out, Tensor)
        outs = [out] if single else list(out) if isinstance(out, (tuple, list)) else None
        if outs is None:
            return out
        res = _identity(outs, self._on_outputs)
        if single:
            return res[0]
        return type(out)(res) if isinstance(out, tuple) else res

    def _on_outputs(self, grads: tuple) -> tuple | None:
        m = self.module
        for hook in list(m._backward_pre_hooks.values()):
            r = hook(m, grads)
            if r is not None:
                grads = tuple(r) if isinstance(r, (tuple, list)) else (r,)
        self.grad_outputs = grads
        if not self.inputs_require_grad:
            if m._backward_hooks:
                import warnings

                warnings.warn(
                    "Full backward hook is firing when gradients are computed with respect to "
                    "module outputs since no inputs require gradients. See "
                    "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                    "#torch.nn.Module.register_full_backward_hook for more details.",
                    UserWarning,
                    stacklevel=2,
                )
            self._call_hooks((None,) * max(self.n_inputs, 1))
        return grads

    def _on_inputs(self, grads: tuple) -> tuple | None:
        return self._call_hooks(grads)

    def _call_hooks(self, grad_input: tuple) -> tuple | None:
        m = self.module
        changed = None
        for hook in list(m._backward_hooks.values()):
            r = hook(m, grad_input, self.grad_outputs)
            if r is not None:
                grad_input = tuple(r) if isinstance(r, (tuple, list)) else (r,)
                changed = grad_input
        return changed
