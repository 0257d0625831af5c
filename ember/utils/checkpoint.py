"""Activation checkpointing: drop a region's intermediates in forward, recompute them in backward.

``checkpoint(fn, *args)`` runs ``fn`` and keeps only its inputs; one ``CheckpointFunctionBackward``
node stands for the whole region.  In backward it restores the RNG state of the forward (so
dropout draws the same mask), recomputes ``fn`` with grad enabled on detached inputs and
differentiates the recomputed outputs.

* ``use_reentrant=True`` (torch's default, with a warning when not passed): the node's edges are
  the tensor inputs; parameters used inside get their ``.grad`` from the inner backward, and
  ``autograd.grad`` through the region is refused, as in torch.
* ``use_reentrant=False``: the forward is recorded once to find every leaf the region reaches
  (parameters included), then dropped; those leaves become edges too, so ``autograd.grad`` and
  ``backward(inputs=...)`` see parameters exactly like an uncheckpointed graph.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ..autograd.grad_mode import STATE, enable_grad, no_grad
from ..autograd.graph import FREED, NOEDGE, AccumulateGrad, Node

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError"]


class CheckpointError(RuntimeError):
    """The recomputed forward differs from the original one (torch's name)."""


_WARN_REENTRANT = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
    "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
    "use_reentrant=False is recommended, but if you need to preserve the current default "
    "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
    "differences between the two variants."
)


def _tensor_cls() -> type:
    from .._tensor import Tensor

    return Tensor


def _is_tensor(x: Any) -> bool:
    return isinstance(x, _tensor_cls())


def _flat(out: Any) -> tuple[list, bool]:
    return (list(out), True) if isinstance(out, tuple) else ([out], False)


class CheckpointFunctionBackward(Node):
    """Stands for a checkpointed region: recompute it, then differentiate it (one call)."""

    _nout = 1

    def backward(self, g: Any) -> tuple:
        gs = g if isinstance(g, list) else [g]
        return self._run(gs)

    def _run(self, gs: list) -> tuple:
        from .._tensor import Tensor, _new
        from ..autograd import backward as ag_backward
        from ..autograd import grad as ag_grad
        from ..autograd.graph import ARRAY_TYPES

        if self._saved is None or self._saved is FREED:  # the engine frees with FREED
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Hint: checkpointed regions are "
                "recomputed once; pass retain_graph=True to backward through them again."
            )
        fn, args, kwargs, rng, shapes = self._saved
        arr = any(type(x) in ARRAY_TYPES for x in gs)
        detached = [
            (a.detach().requires_grad_(a.requires_grad) if _is_tensor(a) else a) for a in args
        ]
        from .. import _generator as G

        cur_rng = G.get_rng_state() if rng is not None else None
        try:
            if rng is not None:
                G.set_rng_state(rng)
            with enable_grad():
                outs, _ = _flat(fn(*detached, **kwargs))
        finally:
            if cur_rng is not None:
                G.set_rng_state(cur_rng)
        outs = [o for o in outs if _is_tensor(o)]
        if [tuple(o.shape) for o in outs] != shapes and self.determinism_check == "default":
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values have different metadata than during the "
                f"forward pass. Hint: shapes {shapes} in forward, "
                f"{[tuple(o.shape) for o in outs]} when recomputed; make the function "
                "deterministic (no data-dependent shapes)."
            )
        pairs = [
            (o, _new(gi, None) if arr else gi)
            for o, gi in zip(outs, gs, strict=False)
            if gi is not None and o._edge is not None
        ]
        if not pairs:
            raise RuntimeError(
                "none of output has requires_grad=True, this checkpoint() is not necessary"
            )
        o_list, g_list = [p[0] for p in pairs], [p[1] for p in pairs]
        create = not arr
        targets = [d for d in detached if _is_tensor(d) and d.requires_grad]
        if self.reentrant:
            ag_backward(o_list, g_list, create_graph=create)
            res = [d.grad for d in targets]
        else:
            res = list(ag_grad(o_list, targets + self.leaves, g_list, create_graph=create,
                               allow_unused=True))
        out = []
        for r in res:
            if r is None or not arr:
                out.append(r)
            else:
                out.append(r._data if isinstance(r, Tensor) else r)
        return tuple(out)

    def _release(self) -> None:
        self._saved = None


def _reachable_leaves(outs: list, skip: set) -> list:
    """AccumulateGrad nodes reached from ``outs`` (iterative), minus the ``skip`` ones."""
    seen: set = set()
    found: list = []
    stack = [o._edge[0] for o in outs if o._edge is not None]
    while stack:
        n = stack.pop()
        if n is None or n in seen:
            continue
        seen.add(n)
        if type(n) is AccumulateGrad:
            if n not in skip:
                found.append(n)
            continue
        stack.extend(e[0] for e in n._next)
    return found


def checkpoint(
    function: Callable,
    *args: Any,
    use_reentrant: bool | None = None,
    context_fn: Any = None,
    determinism_check: str = "default",
    debug: bool = False,
    preserve_rng_state: bool = True,
    **kwargs: Any,
) -> Any:
    """``function(*args, **kwargs)`` whose intermediates are recomputed in backward."""
    if use_reentrant is None:
        warnings.warn(_WARN_REENTRANT, UserWarning, stacklevel=2)
        use_reentrant = True
    if determinism_check not in ("default", "none"):
        raise ValueError(
            "determinism_check should be one of ['default', 'none'], but got "
            f"{determinism_check}"
        )
    if use_reentrant and kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if not callable(function):
        raise TypeError(
            f"checkpoint(): 'function' must be callable, got {type(function).__name__}. Hint: "
            "pass the function itself, e.g. checkpoint(block, x)."
        )
    from .. import _generator as G
    from .._tensor import _new

    rng = G.get_rng_state() if preserve_rng_state else None
    needs_grad = STATE.enabled and any(_is_tensor(a) and a.requires_grad for a in args)
    if use_reentrant:
        if STATE.enabled and not needs_grad:
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          UserWarning, stacklevel=2)
        with no_grad():
            out = function(*args, **kwargs)
        leaves: list = []
        if not needs_grad:
            return out
    else:
        if not STATE.enabled:
            return function(*args, **kwargs)
        detached = [
            (a.detach().requires_grad_(a.requires_grad) if _is_tensor(a) else a) for a in args
        ]
        own = {d._edge[0] for d in detached if _is_tensor(d) and d._edge is not None}
        out = function(*detached, **kwargs)  # recorded once to find the leaves it reaches
        flat0, _ = _flat(out)
        leaves = _reachable_leaves([o for o in flat0 if _is_tensor(o)], own)
        if not needs_grad and not leaves:
            return out
        with no_grad():  # drop the recorded graph: keep plain data only
            flat = [(_new(o._data, None) if _is_tensor(o) else o) for o in flat0]
        out = tuple(flat) if isinstance(out, tuple) else flat[0]
        del flat0
    flat, is_tuple = _flat(out)
    touts = [o for o in flat if _is_tensor(o)]
    if not touts:
        return out  # torch returns non-tensor results unchanged (nothing to differentiate)
    n = CheckpointFunctionBackward()
    n._nout = len(touts)
    edges = [a._edge or NOEDGE for a in args if _is_tensor(a) and a.requires_grad]
    n._next = tuple(edges) + tuple((leaf, 0) for leaf in leaves)
    n._saved = (function, args, kwargs, rng, [tuple(o.shape) for o in touts])
    n.reentrant = use_reentrant
    n.leaves = [leaf.variable for leaf in leaves]
    n.determinism_check = determinism_check
    res, k = [], 0
    for o in flat:
        if _is_tensor(o):
            if o._data.dtype.kind in "fc":
                o = _new(o._data, (n, k))
            k += 1
        res.append(o)
    return tuple(res) if is_tuple else res[0]


def checkpoint_sequential(
    functions: Any,
    segments: int,
    input: Any,  # noqa: A002 - torch's argument name
    use_reentrant: bool | None = None,
    **kwargs: Any,
) -> Any:
    """Run ``functions`` (a Sequential or list) in ``segments`` checkpointed chunks; the last
    chunk runs normally."""
    if use_reentrant is None:
        warnings.warn(_WARN_REENTRANT, UserWarning, stacklevel=2)
        use_reentrant = True
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)
    segment_size = len(functions) // segments
    if segment_size == 0:
        raise ValueError("range() arg 3 must not be zero")

    def run_function(start: int, end: int, fns: list) -> Callable:
        def forward(x: Any) -> Any:
            for j in range(start, end + 1):
                x = fns[j](x)
            return x

        return forward

    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(  # noqa: A001
            run_function(start, end, functions),
            input,
            use_reentrant=use_reentrant,
            **kwargs,
        )
    return run_function(end + 1, len(functions) - 1, functions)(input)

