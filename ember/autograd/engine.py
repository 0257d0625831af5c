"""The backward walk: dependency counts, a ready stack, central un-broadcasting, graph release.

Iterative throughout (a chain of a million nodes backpropagates without recursion), linear in the
graph's size.  Each gradient buffer is popped as soon as its node runs, so memory falls as the walk
proceeds; without ``retain_graph`` each node's saved values are freed right after it runs.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np

from . import anomaly_mode as _anomaly
from .anomaly_mode import ANOMALY
from .grad_mode import STATE
from .graph import ARRAY_TYPES as _ARRAYS
from .graph import FREED, AccumulateGrad, Node, _wrap, accumulate_into


def _ns(g: Any) -> Any:
    from ..ops._ns import E, N

    return N if type(g) in _ARRAYS else E


def _invalid_grad(fn: Node, i: int, got: tuple, want: tuple) -> RuntimeError:
    return RuntimeError(
        f"Function {fn.name()} returned an invalid gradient at index {i} - got "
        f"[{', '.join(map(str, got))}] but expected shape compatible with "
        f"[{', '.join(map(str, want))}]"
    )


def _fix(fn: Node, grads: tuple, meta: tuple) -> list:
    """Sum each gradient back to its input's shape and cast it to its input's dtype."""
    out = list(grads)
    for i, m in enumerate(meta):
        g = out[i]
        if m is None or g is None:
            continue
        shape, dtype = m
        gs = g.shape
        if gs != shape:
            if not _broadcastable_to(shape, gs):
                raise _invalid_grad(fn, i, gs, shape)
            g = _ns(g).sum_to(g, shape)
        if dtype is not None and g.dtype != dtype:
            g = _ns(g).cast(g, dtype)
        out[i] = g
    return out


def _broadcastable_to(small: tuple, big: tuple) -> bool:
    if len(small) > len(big):
        return all(s == 1 for s in small[: len(small) - len(big)]) and _broadcastable_to(
            small[len(small) - len(big) :], big
        )
    return all(s == 1 or s == b for s, b in zip(small, big[len(big) - len(small) :], strict=True))


def _add(a: Any, b: Any) -> Any:
    return a + b


def _run_pre_hooks(fn: Node, h: Any, g: Any) -> Any:
    """Tensor hooks (may replace the gradient), retained grads, then node pre-hooks."""
    multi = fn._nout != 1
    gs = list(g) if multi else [g]
    for nr, hooks in h.tensor.items():
        if not hooks or gs[nr] is None:
            continue
        for hook in list(hooks.values()):
            arr = type(gs[nr]) in _ARRAYS
            cur = _wrap(gs[nr]) if arr else gs[nr]
            r = hook(cur)
            if r is not None:
                rd = r._data if arr else r
                if tuple(rd.shape) != tuple(cur._data.shape if arr else cur.shape):
                    raise RuntimeError(
                        f"hook '{getattr(hook, '__name__', hook)}' has changed the size of value: "
                        f"expected {list(cur.shape)} but got {list(rd.shape)}"
                    )
                gs[nr] = rd
    for nr, ref in h.retain.items():
        t = ref()
        if t is None or gs[nr] is None:
            continue
        v = gs[nr]
        if type(v) in _ARRAYS:
            t._grad = _wrap(np.array(v, copy=True)) if t._grad is None else _wrap(t._grad._data + v)
        else:
            t._grad = v if t._grad is None else t._grad + v
    if h.pre:
        for hook in list(h.pre.values()):
            arr = any(type(x) in _ARRAYS for x in gs)
            r = hook(tuple(_wrap(x) if type(x) in _ARRAYS else x for x in gs))
            if r is not None:
                gs = [x._data if (arr and x is not None) else x for x in r]
    return gs if multi else gs[0]


def _run_post_hooks(fn: Node, h: Any, grads: Any, g: Any) -> Any:
    if not h.post:
        return grads
    arr = type(g) in _ARRAYS or (isinstance(g, list) and any(type(x) in _ARRAYS for x in g))

    def w(x: Any) -> Any:
        return _wrap(x) if (x is not None and type(x) in _ARRAYS) else x

    outs = tuple(w(x) for x in (g if isinstance(g, list) else [g]))
    ins = tuple(w(x) for x in grads)
    for hook in list(h.post.values()):
        r = hook(ins, outs)
        if r is not None:
            r = tuple(r)
            _check_hook_result(hook, ins, r)
            ins = r
    return [x._data if (arr and x is not None) else x for x in ins]


def _check_hook_result(hook: Any, before: tuple, after: tuple) -> None:
    """torch's checks of the grad_inputs a node post-hook returned: as many, same sizes."""
    name = getattr(hook, "__name__", hook)
    if len(after) != len(before):
        raise RuntimeError(
            f"hook '{name}' has returned an incorrect number of values (got {len(after)}, but "
            f"expected {len(before)})"
        )
    for old, new in zip(before, after, strict=True):
        if old is not None and new is not None and tuple(old.shape) != tuple(new.shape):
            raise RuntimeError(
                f"hook '{name}' has changed the size of value: expected {list(old.shape)} but "
                f"got {list(new.shape)}"
            )


def execute(
    roots: list,
    grads: list,
    keep_graph: bool,
    create_graph: bool,
    capture: list | None = None,
    accumulate: bool = True,
) -> list | None:
    """Run backward from ``roots`` (edges) seeded with ``grads``.

    ``capture`` (edges): return the total gradient reaching each of them instead of (or, with
    ``accumulate``, as well as) accumulating into leaves; only nodes on paths to them run.
    """
    # 1. count, for every reachable node, the edges pointing at it (iterative DFS); note the
    #    nodes with several outputs (their gradient is a list)
    deps: dict[Node, int] = {}
    multi: set = set()
    stack = []
    for node, _ in roots:
        if node is not None and node not in deps:
            deps[node] = 0
            stack.append(node)
            if node._nout != 1:
                multi.add(node)
    pop, push, get = stack.pop, stack.append, deps.get
    while stack:
        for nxt, _ in pop()._next:
            if nxt is not None:
                d = get(nxt)
                if d is None:
                    deps[nxt] = 1
                    push(nxt)
                    if nxt._nout != 1:
                        multi.add(nxt)
                else:
                    deps[nxt] = d + 1

    needed = None
    cap_at: dict[Node, list] = {}
    captured: list = []
    if capture is not None:
        captured = [None] * len(capture)
        for i, (node, nr) in enumerate(capture):
            if node is not None:
                cap_at.setdefault(node, []).append((i, nr))
        needed = _needed(roots, deps, cap_at)

    # 2. seed the buffers
    bufs: dict[Node, Any] = {}
    for (node, nr), g in zip(roots, grads, strict=True):
        if node is not None:
            _accum(bufs, node, nr, g)
    ready = []
    for node, _ in roots:
        if node is not None and deps.get(node) == 0 and node not in ready:
            ready.append(node)

    prev = STATE.enabled
    STATE.enabled = create_graph
    gc_was = gc.isenabled()
    gc.disable()  # the walk allocates many short-lived objects; cyclic GC would rescan the graph
    try:
        # 3. run nodes whose gradients are all in
        if capture is None:
            # a seeded root that other roots also reach keeps its seed in bufs: never pass it
            # a gradient directly (nor a node with several outputs)
            slow = multi | {n for n in bufs if deps.get(n)}
            _walk(ready, [bufs.pop(n, None) for n in ready], bufs, deps, slow, keep_graph)
        else:
            _walk_capture(ready, bufs, deps, keep_graph, cap_at, captured, needed, accumulate)
    finally:
        STATE.enabled = prev
        if gc_was:
            gc.enable()
    return captured if capture is not None else None


def _walk_capture(ready: list, bufs: dict, deps: dict, keep_graph: bool, cap_at: dict,
                  captured: list, needed: set, accumulate: bool) -> None:
    """The walk for autograd.grad / backward(inputs=): record the gradients reaching the
    captured edges; run only the nodes that lead to them."""
    fn = None
    try:
        while ready:
            fn = ready.pop()
            g = bufs.pop(fn, None)
            grads_in: Any = None
            if g is not None and not (fn._nout != 1 and all(x is None for x in g)):
                h = fn._hooks
                if h is not None:
                    g = _run_pre_hooks(fn, h, g)
                if fn in cap_at:
                    for i, nr in cap_at[fn]:
                        gi = g if fn._nout == 1 else g[nr]
                        captured[i] = gi if captured[i] is None else _add(captured[i], gi)
                is_acc = type(fn) is AccumulateGrad
                if is_acc:
                    run = accumulate and (needed is None or fn in cap_at)
                else:  # a captured non-leaf runs only when it leads to another captured node
                    run = needed is None or any(c in needed for c, _ in fn._next)
                if run:
                    grads_in = fn.backward(g)
                    if ANOMALY[0]:
                        _anomaly.check_output(fn, grads_in)
                    if not keep_graph:
                        fn._release()
                    if h is not None and not is_acc:
                        grads_in = _run_post_hooks(fn, h, grads_in, g)
                    meta = fn._meta
                    if meta is not None:
                        grads_in = _fix(fn, grads_in, meta)
            nxts = fn._next
            for k in range(len(nxts)):
                nxt, nr = nxts[k]
                if nxt is None or (needed is not None and nxt not in needed):
                    continue
                if grads_in is not None:
                    gi = grads_in[k]
                    if gi is not None:
                        _accum(bufs, nxt, nr, gi)
                d = deps[nxt] - 1
                deps[nxt] = d
                if d == 0:
                    ready.append(nxt)

    except Exception as e:  # zero-cost unless raised: name the failing node's origin
        _anomaly.annotate(fn, e)
        raise


def _walk(ready: list, gready: list, bufs: dict, deps: dict, slow: set,
          keep_graph: bool) -> None:
    """The common walk (no captured inputs): run each node once all its gradients are in.

    ``ready`` holds the nodes that can run and ``gready`` their gradients.  A node with one
    consumer (the common case) gets its gradient pushed with it; only nodes with several
    consumers (or outputs, or a seed: ``slow``) sum their gradients in ``bufs``, their count in
    ``deps`` stored negated once touched (so that a last pending 1 is not taken for a single
    consumer).  Each rule returns one gradient (or None) per edge in ``_next``.  The hot loop of
    every backward: few bytecodes per node, no helper calls unless a node has hooks or meta."""
    pop, gpop, push, gpush = ready.pop, gready.pop, ready.append, gready.append
    bufs_get, bufs_pop = bufs.get, bufs.pop
    release = not keep_graph
    anomaly = ANOMALY
    fn = None
    try:
        while ready:
            fn = pop()
            g = gpop()
            gi = grads_in = prev = None  # drop references: AccumulateGrad may steal a buffer
            if g is None or (type(g) is list and all(x is None for x in g)):
                grads_in = (None,) * len(fn._next)  # no gradient here: only release the inputs
            else:
                h = fn._hooks
                if h is not None:
                    g = _run_pre_hooks(fn, h, g)
                grads_in = fn.backward(g)
                if anomaly[0]:
                    _anomaly.check_output(fn, grads_in)
                if release:  # Node._release, inlined
                    if fn._saved is not None:
                        fn._saved = FREED
                    if fn._out is not None:
                        fn._out = FREED
                if h is not None and type(fn) is not AccumulateGrad:
                    grads_in = _run_post_hooks(fn, h, grads_in, g)
                meta = fn._meta
                if meta is not None:
                    grads_in = _fix(fn, grads_in, meta)
                g = None
            k = 0
            for nxt, nr in fn._next:
                if nxt is not None:
                    gi = grads_in[k]
                    d = deps[nxt]
                    if d == 1 and (not slow or nxt not in slow):
                        push(nxt)  # its only consumer: no buffer, no count to keep
                        gpush(gi)
                    else:  # sum in bufs; the count left goes negative once it is touched
                        if gi is not None:
                            if nxt in slow and nxt._nout != 1:
                                _accum(bufs, nxt, nr, gi)
                            else:
                                prev = bufs_get(nxt)
                                bufs[nxt] = gi if prev is None else prev + gi
                                prev = None
                        d = d - 1 if d > 0 else -d - 1
                        if d == 0:
                            push(nxt)
                            gpush(bufs_pop(nxt, None))
                        else:
                            deps[nxt] = -d
                k += 1
    except Exception as e:  # zero-cost unless raised: name the failing node's origin
        _anomaly.annotate(fn, e)
        raise


def _accum(bufs: dict, node: Node, nr: int, g: Any) -> None:
    """Add ``g`` into the buffer of ``node``'s output ``nr`` (never mutating arrays we got)."""
    if node._nout == 1:
        prev = bufs.get(node)
        bufs[node] = g if prev is None else prev + g
    else:
        lst = bufs.get(node)
        if lst is None:
            lst = bufs[node] = [None] * node._nout
        lst[nr] = g if lst[nr] is None else lst[nr] + g


def _needed(roots: list, deps: dict, cap_at: dict) -> set:
    """Nodes from which a captured node can be reached (only those need to run)."""
    left = dict(deps)
    order = []
    ready = [n for n, _ in roots if n is not None and left.get(n) == 0]
    seen = set(ready)
    while ready:
        n = ready.pop()
        order.append(n)
        for c, _ in n._next:
            if c is None:
                continue
            left[c] -= 1
            if left[c] == 0 and c not in seen:
                seen.add(c)
                ready.append(c)
    needed: set = set()
    for n in reversed(order):
        if n in cap_at or any(c in needed for c, _ in n._next if c is not None):
            needed.add(n)
    return needed


_ = accumulate_into
