"""ember.func transforms (grad, vjp, jvp, jacrev ...) inside vmap: per-example derivatives.

``vmap(grad(f))`` runs ``grad`` on batched values.  Every differentiated input becomes a fresh
autograd leaf batched at *all* active vmap levels (an unbatched one is expanded, a view), so each
example owns its slice of the leaf; one backward pass of ``sum_b <out_b, ct_b>`` then yields
``d out_b / d x_b`` for every example at once, because batching rules never mix examples.
"""

from __future__ import annotations

from typing import Any

import ember

from .._tensor import Tensor
from ..autograd import grad as _agrad
from ._core import STACK, BatchedTensor, bt, parts, union, with_levels

__all__ = ["active", "lift", "agrad", "zeros_cotangent"]


def active() -> bool:
    """Whether a vmap is running."""
    return bool(STACK)


def _levels() -> tuple:
    return tuple(lv.id for lv in STACK)


def lift(leaves: list, keep: bool) -> list:
    """Fresh leaves batched at every active level, for a transform called inside vmap (see the
    module doc); ``keep``: an outer graph tracks them (ember.func's ``_fresh`` checked them)."""
    lvs = _levels()
    new = []
    for t in leaves:
        q = with_levels(t, lvs)
        q = q.view_as(q) if keep and q.requires_grad else q.detach().requires_grad_()
        new.append(bt(q, lvs))
    return new


def _seq(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def agrad(outputs: Any, inputs: Any, grad_outputs: Any = None, **kw: Any) -> Any:
    """``ember.autograd.grad`` for batched outputs/inputs/cotangents (physical tensors inside)."""
    outs, ins, cts = _seq(outputs), _seq(inputs), _seq(grad_outputs)
    if not any(type(x) is BatchedTensor for x in (*outs, *ins, *cts)):
        return _agrad(outputs, inputs, grad_outputs, **kw)
    if not cts:
        cts = [None] * len(outs)
    lvs = union([*outs, *ins, *cts])
    for x in ins:
        if parts(x)[1] != lvs:
            raise RuntimeError(
                "vmap: cannot take a per-example gradient with respect to a tensor that is not "
                "batched at every vmap level of the output. Hint: differentiate with "
                "ember.func.grad / vjp inside the vmapped function."
            )
    po = [with_levels(o, lvs) for o in outs]
    pc = [ember.ones_like(p) if c is None else with_levels(c, lvs).to(p.dtype)
          for p, c in zip(po, cts, strict=True)]
    gs = _agrad(po, [parts(x)[0] for x in ins], pc, **kw)
    return [None if g is None else bt(g, lvs) for g in gs]


def zeros_cotangent(o: Tensor) -> Tensor:
    """A zero dummy cotangent for ``o`` that requires grad, batched at every active level."""
    lvs = _levels()
    p = with_levels(o, lvs)
    return bt(ember.zeros(tuple(p.shape), dtype=p.dtype).requires_grad_(), lvs)
