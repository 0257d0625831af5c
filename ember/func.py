"""torch.func for ember: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, vmap.

How these are computed (ember has reverse mode only):

* ``grad``/``vjp``/``jacrev`` run ``ember.autograd.grad`` on a fresh copy of the inputs. When an
  input already requires grad (an enclosing transform is tracking it) the graph is kept
  (``create_graph``), so transforms nest: ``grad(grad(f))``, ``jacfwd(jacrev(f))``.
* ``jvp`` is exact, by the double-vjp trick: ``g(u) = J^T u`` is linear in a dummy cotangent
  ``u``, and ``d<g(u), t>/du = J t``. No finite differences.
* ``jacfwd`` returns exactly the Jacobian ``jacrev`` does (computed by reverse mode, row by row);
  only the cost profile differs from torch's forward mode.
* ``vmap`` is vectorized: ``func`` runs ONCE on the whole batch, the mapped dimension moved to
  the front. That equals mapping ``func`` over examples only when ``func`` treats leading dims as
  batch (elementwise math, broadcasting, ``x @ W``, reductions over ``dim=-1`` ...). ember cannot
  intercept ops, so each call also runs ``func`` on the first and last example (no grad) and
  checks the batched result against them; a mismatch raises ``NotImplementedError`` instead of
  returning wrong values. Mark a function with :func:`batch_transparent` to skip that check.
  Random ops inside ``func`` are not supported (the check sees different values).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import ember

from ._tensor import Tensor
from .autograd import grad as _agrad
from .autograd.grad_mode import enable_grad, is_grad_enabled, no_grad

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap",
           "batch_transparent"]


# ----------------------------------------------------------------------------- pytrees
def _flatten(tree: Any) -> tuple:
    """(leaves, spec) for nested tuples / lists / dicts; anything else is a leaf."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for el in tree:
            lv, sp = _flatten(el)
            leaves += lv
            specs.append(sp)
        return leaves, (type(tree), None, specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for k in tree:
            lv, sp = _flatten(tree[k])
            leaves += lv
            specs.append(sp)
        return leaves, (dict, list(tree), specs)
    return [tree], None


def _unflatten(leaves: list, spec: Any) -> Any:
    it = iter(leaves)

    def build(sp: Any) -> Any:
        if sp is None:
            return next(it)
        kind, keys, subs = sp
        items = [build(s) for s in subs]
        if kind is dict:
            return dict(zip(keys, items, strict=True))
        return kind(items) if kind in (tuple, list) else kind(*items)

    return build(spec)


def _fresh(leaves: list) -> tuple:
    """Differentiable copies of ``leaves``; ``keep`` says whether an outer graph tracks them."""
    keep = is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad for t in leaves)
    new = []
    for t in leaves:
        if not isinstance(t, Tensor):
            raise RuntimeError(
                f"ember.func: expected the differentiated inputs to be Tensors, got {type(t)}. "
                "Hint: pass the non-tensor arguments at positions not listed in argnums."
            )
        new.append(t.view_as(t) if keep and t.requires_grad else t.detach().requires_grad_())
    return new, keep


def _zeros_if_none(gs: Any, refs: list) -> list:
    return [ember.zeros_like(r) if g is None else g for g, r in zip(gs, refs, strict=True)]


def _maybe_detach(tree: Any, keep: bool) -> Any:
    if keep:
        return tree
    leaves, spec = _flatten(tree)
    return _unflatten([t.detach() if isinstance(t, Tensor) else t for t in leaves], spec)


def _check_argnums(argnums: Any, nargs: int) -> tuple:
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    if not nums or not all(isinstance(a, int) and not isinstance(a, bool) for a in nums):
        raise RuntimeError(
            f"argnums must be int or Tuple[int, ...], got: {type(argnums)}"
        )
    for a in nums:
        if not -nargs <= a < nargs:
            raise RuntimeError(
                f"Got argnum={a}, but only {nargs} positional inputs. Hint: argnums indexes "
                "the positional arguments of the call."
            )
    return tuple(a % nargs for a in nums)


def _diff_call(func: Callable, argnums: Any, args: tuple, kwargs: dict) -> tuple:
    """Run func with the argnums inputs replaced by fresh leaves: (out, leaves, spec, keep)."""
    nums = _check_argnums(argnums, len(args))
    diff = tuple(args[a] for a in nums) if isinstance(argnums, tuple) else args[nums[0]]
    leaves, spec = _flatten(diff)
    with enable_grad():
        new, keep = _fresh(leaves)
        tree = _unflatten(new, spec)
        args = list(args)
        for k, a in enumerate(nums):
            args[a] = tree[k] if isinstance(argnums, tuple) else tree
        out = func(*args, **kwargs)
    return out, new, spec, keep


def _split_aux(out: Any, has_aux: bool, api: str) -> tuple:
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(
            f"{api}(f)(*args): output of function f should be a tuple: (output, aux) if "
            "has_aux is True"
        )
    return out


# ----------------------------------------------------------------------------- grad
def grad_and_value(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """f -> (d f / d args[argnums], f(args)) for a scalar-valued f."""

    def wrapper(*args: Any, **kwargs: Any) -> tuple:
        out, leaves, spec, keep = _diff_call(func, argnums, args, kwargs)
        out, aux = _split_aux(out, has_aux, "grad_and_value")
        if not isinstance(out, Tensor):
            raise RuntimeError(
                f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(out)}"
            )
        if out.dim() != 0:
            raise RuntimeError(
                "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                f"tensor with {out.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs "
                "instead?"
            )
        if out.requires_grad:
            with enable_grad():
                gs = _agrad(out, leaves, create_graph=keep, allow_unused=True)
        else:
            gs = [None] * len(leaves)
        g = _maybe_detach(_unflatten(_zeros_if_none(gs, leaves), spec), keep)
        value = _maybe_detach(out, keep)
        if has_aux:
            return g, (value, _maybe_detach(aux, keep))
        return g, value

    return wrapper


def grad(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """f -> d f / d args[argnums] for a scalar-valued f (with aux: (grad, aux))."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """(func(*primals), vjp_fn): vjp_fn(cotangents) = cotangents^T J, one entry per primal."""
    out, leaves, spec, keep = _diff_call(func, tuple(range(len(primals))), primals, {})
    out, aux = _split_aux(out, has_aux, "vjp")
    outs, ospec = _flatten(out)
    for o in outs:
        if not isinstance(o, Tensor):
            raise RuntimeError(
                f"vjp(f, *primals): Expected f to be a function that has only Tensors as "
                f"output, got {type(o)}"
            )

    def vjp_fn(cotangents: Any) -> tuple:
        """cotangents (same structure as the output) -> tuple of grads shaped like primals."""
        cts, cspec = _flatten(cotangents)
        if len(cts) != len(outs):
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of "
                f"outputs to the function. Hint: got {len(cts)} cotangents for {len(outs)} outputs."
            )
        pairs = [(o, c) for o, c in zip(outs, cts, strict=True) if o.requires_grad]
        for o, c in zip(outs, cts, strict=True):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {list(c.shape)} and "
                    f"output[0] has a shape of {list(o.shape)}."
                )
        create = keep or any(c.requires_grad for c in cts)
        if pairs:
            with enable_grad():
                gs = _agrad([p[0] for p in pairs], leaves, [p[1] for p in pairs],
                            retain_graph=True, create_graph=create, allow_unused=True)
        else:
            gs = [None] * len(leaves)
        return _maybe_detach(_unflatten(_zeros_if_none(gs, leaves), spec), create)

    value = _maybe_detach(out, keep)
    return (value, vjp_fn, _maybe_detach(aux, keep)) if has_aux else (value, vjp_fn)


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> tuple:
    """(func(*primals), J tangents), exact, by the double-vjp trick (reverse over reverse)."""
    if not isinstance(primals, tuple):
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be "
            "valid to call f(*primals)."
        )
    pl, pspec = _flatten(primals)
    tl, tspec = _flatten(tangents)
    if not isinstance(tangents, tuple) or pspec != tspec:
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals and tangents to have the same python "
            f"structure. For example, if primals is a tuple of 3 tensors, tangents also must "
            f"be. Got {len(pl)} primals and {len(tl)} tangents."
        )
    for p, t in zip(pl, tl, strict=True):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(
                "Trying to set a forward gradient that has a different size than that of the "
                f"original Tensor, this is not supported. Tensor is of size {list(p.shape)} "
                f"while the given forward gradient is of size {list(t.shape)}."
            )
    out, leaves, _, keep = _diff_call(func, tuple(range(len(primals))), primals, {})
    out, aux = _split_aux(out, has_aux, "jvp")
    outs, ospec = _flatten(out)
    keep = keep or any(t.requires_grad for t in tl)
    with enable_grad():
        live = [o for o in outs if o.requires_grad]
        us = [ember.zeros_like(o, requires_grad=True) for o in live]
        gi = _agrad(live, leaves, us, create_graph=True, allow_unused=True) if live else []
        pairs = [(g, t) for g, t in zip(gi, tl, strict=False) if g is not None and
                 g.requires_grad]
        if pairs:
            res = _agrad([p[0] for p in pairs], us, [p[1] for p in pairs], create_graph=keep,
                         allow_unused=True)
        else:
            res = [None] * len(us)
    got = dict(zip(map(id, live), res, strict=True))
    jv = [got.get(id(o)) for o in outs]
    jv = _unflatten(_zeros_if_none(jv, outs), ospec)
    res = (_maybe_detach(out, keep), _maybe_detach(jv, keep))
    return (*res, _maybe_detach(aux, keep)) if has_aux else res


# ----------------------------------------------------------------------------- jacobians
def _jac(func: Callable, argnums: Any, has_aux: bool, api: str) -> Callable:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out, leaves, spec, keep = _diff_call(func, argnums, args, kwargs)
        out, aux = _split_aux(out, has_aux, api)
        outs, ospec = _flatten(out)
        per_out = []
        with enable_grad():
            for o in outs:
                if not isinstance(o, Tensor):
                    raise RuntimeError(
                        f"{api}(f, ...)(*args): Expected f to be a function that has only "
                        f"Tensors as output, got {type(o)}"
                    )
                rows: list = [[] for _ in leaves]
                flat = o.reshape(-1)
                for j in range(flat.numel() if o.requires_grad else 0):
                    seed = ember.zeros_like(flat)
                    seed._data[j] = 1
                    gs = _agrad(flat, leaves, seed, retain_graph=True, create_graph=keep,
                                allow_unused=True)
                    for r, g in zip(rows, _zeros_if_none(gs, leaves), strict=True):
                        r.append(g)
                jl = []
                for r, x in zip(rows, leaves, strict=True):
                    shape = tuple(o.shape) + tuple(x.shape)
                    jl.append(ember.stack(r, 0).view(shape) if r else
                              ember.zeros(shape, dtype=x.dtype))
                per_out.append(_maybe_detach(_unflatten(jl, spec), keep))
        res = _unflatten(per_out, ospec)
        return (res, _maybe_detach(aux, keep)) if has_aux else res

    return wrapper


def jacrev(func: Callable, argnums: Any = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable:
    """f -> J_f (shape out.shape + in.shape), by reverse mode: one backward per output element."""
    return _jac(func, argnums, has_aux, "jacrev")


def jacfwd(func: Callable, argnums: Any = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """f -> J_f; the same exact Jacobian as jacrev (ember computes it by reverse mode)."""
    return _jac(func, argnums, has_aux, "jacfwd")


def hessian(func: Callable, argnums: Any = 0) -> Callable:
    """f -> d^2 f / d args[argnums]^2 = jacfwd(jacrev(f))."""
    return jacfwd(jacrev(func, argnums), argnums)


# ----------------------------------------------------------------------------- vmap
def batch_transparent(func: Callable) -> Callable:
    """Mark ``func`` as treating leading dims as batch: vmap then skips its per-example check."""
    func._ember_batch_transparent = True
    return func


def _name(func: Callable) -> str:
    return getattr(func, "__name__", repr(func))


def _leaf_dims(args: tuple, in_dims: Any, head: str) -> list:
    """One in_dim per flattened leaf of ``args`` (torch's broadcasting of in_dims)."""
    if isinstance(in_dims, int) and not isinstance(in_dims, bool):
        return [in_dims] * len(_flatten(args)[0])
    if not isinstance(in_dims, tuple):
        raise ValueError(
            f"{head}: expected `in_dims` to be int or a (potentially nested) tuple matching the "
            f"structure of inputs, got: {type(in_dims)}."
        )

    def match(a: Any, d: Any) -> list:
        if d is None or isinstance(d, int):
            return [d] * len(_flatten(a)[0])
        if isinstance(d, (tuple, list)) and isinstance(a, (tuple, list)) and len(a) == len(d):
            return [x for ai, di in zip(a, d, strict=True) for x in match(ai, di)]
        raise ValueError(
            f"{head}: in_dims is not compatible with the structure of `inputs`. Hint: "
            f"in_dims={in_dims!r} must give one entry per argument ({len(args)} given)."
        )

    return match(args, in_dims)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc":
        tol = 1e-9 if a.dtype.itemsize >= 8 else 1e-4
        return bool(np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True))
    return bool(np.array_equal(a, b))


def _not_transparent(func: Callable, detail: str) -> NotImplementedError:
    return NotImplementedError(
        f"vmap: {_name(func)} is not batch-transparent: {detail}; ember's vmap batches by "
        "running func on the batched tensor (mapped dim moved to the front), which works for "
        "elementwise/broadcasting functions (and x @ W, reductions over dim=-1). Hint: use a "
        "loop, or rewrite func with explicit batch dims (e.g. dim=-1 instead of dim=0, .mT "
        "instead of .T)."
    )


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """Vectorized map: func(x)[i] == func(x[i]) by one call of func on the whole batch.

    See the module docstring: the batched call is checked against the first and last example
    (unless func is marked :func:`batch_transparent`), and NotImplementedError is raised when
    func does not treat the leading dim as a batch dim. ``chunk_size`` is accepted and ignored.
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. Got "
            f"{randomness}"
        )

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        head = f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>)"
        leaves, spec = _flatten(args)
        dims = _leaf_dims(args, in_dims, head)
        norm, sizes = [], []
        for x, d in zip(leaves, dims, strict=True):
            if d is None:
                norm.append(None)
                continue
            if not isinstance(x, Tensor):
                raise ValueError(
                    f"{head}: Got in_dim={d} for an input but the input is of type {type(x)}. "
                    "We cannot vmap over non-Tensor arguments, please use None as the "
                    "respective in_dim"
                )
            n = x.dim()
            if not -n <= d < n:
                raise ValueError(
                    f"{head}: Got in_dim={d} for some input, but that input is a Tensor of "
                    f"dimensionality {n} so expected in_dim to satisfy -{n} <= in_dim < {n}."
                )
            norm.append(d % n)
            sizes.append(x.shape[d])
        if not sizes:
            raise ValueError(
                f"{head}: at least one input must be a Tensor mapped over. Hint: every in_dim "
                "is None; give the batched input an integer in_dim."
            )
        if len(set(sizes)) > 1:
            raise ValueError(
                "vmap: Expected all tensors to have the same size in the mapped dimension, got "
                f"sizes {sizes} for the mapped dimension"
            )
        bsz = sizes[0]
        moved = [x if d is None else x.movedim(d, 0) for x, d in zip(leaves, norm, strict=True)]
        try:
            out = func(*_unflatten(moved, spec), **kwargs)
            err = None
        except Exception as e:  # noqa: BLE001 - re-raised below with the reason
            out, err = None, e
        outs, ospec = _flatten(out) if err is None else ([], None)
        for o in outs:
            if not isinstance(o, Tensor):
                raise ValueError(
                    f"vmap({_name(func)}, ...): `{_name(func)}` must only return Tensors, got "
                    f"type {type(o)}. Did you mean to set out_dims= to None for output?"
                )
        batched = [True] * len(outs)
        if err is not None or not getattr(func, "_ember_batch_transparent", False):
            batched = _probe(func, moved, norm, spec, kwargs, bsz, outs, ospec, err)
        odims = out_dims if isinstance(out_dims, tuple) else (out_dims,) * len(outs)
        if len(odims) != len(outs):
            raise ValueError(
                f"vmap({_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                "compatible with the structure of `outputs`. Hint: give one out_dim per output."
            )
        res = []
        for o, b, od in zip(outs, batched, odims, strict=True):
            if od is None:
                if b:
                    raise ValueError(
                        f"vmap({_name(func)}, ..., out_dims={out_dims}): can not return a "
                        "BatchedTensor when out_dim is None. Hint: that output depends on the "
                        "mapped input; give it an integer out_dim."
                    )
                res.append(o)
                continue
            if not b:
                o = o.unsqueeze(0).expand(bsz, *o.shape)
            n = o.dim()
            if not -n <= od < n:
                raise IndexError(
                    f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but "
                    f"got {od})"
                )
            res.append(o.movedim(0, od))
        return _unflatten(res, ospec)

    return wrapped


def _probe(func: Callable, leaves: list, norm: list, spec: Any, kwargs: dict, bsz: int,
           outs: list, ospec: Any, err: Exception | None) -> list:
    """Check the batched outputs against func on single examples; say which are batched."""
    batched = [True] * len(outs)
    for i in sorted({0, bsz - 1}):
        ex = [x if d is None else x[i] for x, d in zip(leaves, norm, strict=True)]
        with no_grad():
            single = func(*_unflatten(ex, spec), **kwargs)
        if err is not None:
            raise _not_transparent(
                func, f"calling it on the whole batch failed ({type(err).__name__}: {err}) "
                "while a single example works") from err
        sl, sspec = _flatten(single)
        if sspec != ospec or len(sl) != len(outs):
            raise _not_transparent(func, "its output structure changes with the batch")
        for k, (o, s) in enumerate(zip(outs, sl, strict=True)):
            want = (bsz, *s.shape)
            od, sd = np.asarray(o._data), np.asarray(s._data)
            if tuple(o.shape) == want and _close(od[i], sd):
                continue
            if tuple(o.shape) == tuple(s.shape) and _close(od, sd):
                batched[k] = False  # does not depend on the mapped inputs
                continue
            if tuple(o.shape) != want:
                raise _not_transparent(
                    func, f"output {k} for the full batch has shape {list(o.shape)} but "
                    f"per-example outputs stack to {list(want)}")
            raise _not_transparent(
                func, f"output {k} for the full batch differs from func on example {i} (it "
                "mixes examples, e.g. reduces or transposes over the batch dim, or calls a "
                "random op)")
    return batched
