"""torch.func for ember: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, vmap.

How these are computed (ember has reverse mode only):

* ``grad``/``vjp``/``jacrev`` run ``ember.autograd.grad`` on a fresh copy of the inputs. When an
  input already requires grad (an enclosing transform is tracking it) the graph is kept
  (``create_graph``), so transforms nest: ``grad(grad(f))``, ``jacfwd(jacrev(f))``.
* ``jvp`` is exact, by the double-vjp trick: ``g(u) = J^T u`` is linear in a dummy cotangent
  ``u``, and ``d<g(u), t>/du = J t``. No finite differences.
* ``jacfwd`` returns exactly the Jacobian ``jacrev`` does (computed by reverse mode, row by row);
  only the cost profile differs from torch's forward mode.
* ``vmap`` is genuinely vectorized: ``func`` runs ONCE on batched tensors that report their
  per-example shape; every op dispatches to a batching rule computing it for the whole batch
  with ordinary ember ops (so autograd records it).  Ops without a rule raise a RuntimeError
  naming the op.  See ``ember/_vmap``.  Transforms nest: ``vmap(grad(f))`` gives per-example
  gradients, ``grad(vmap(f))``, ``vmap(vmap(f))``, ``vmap(jacrev(f))`` ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ember

from ._tensor import Tensor
from ._vmap import _autodiff as _B
from ._vmap import vmap
from ._vmap._api import flatten, unflatten
from ._vmap._autodiff import agrad as _agrad
from .autograd.grad_mode import enable_grad, is_grad_enabled

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap",
           "functional_call"]


# ----------------------------------------------------------------------------- pytrees
def _flatten(tree: Any) -> tuple:
    """(leaves, spec) for nested tuples / lists / dicts; anything else, None included, is a leaf."""
    return flatten(tree, none_is_leaf=True)


def _fresh(leaves: list) -> tuple:
    """Differentiable copies of ``leaves``; ``keep`` says whether an outer graph tracks them."""
    for t in leaves:
        if not isinstance(t, Tensor):
            raise RuntimeError(
                f"ember.func: expected the differentiated inputs to be Tensors, got {type(t)}. "
                "Hint: pass the non-tensor arguments at positions not listed in argnums."
            )
    keep = is_grad_enabled() and any(t.requires_grad for t in leaves)
    if _B.active():
        return _B.lift(leaves, keep), keep
    return [t.view_as(t) if keep and t.requires_grad else t.detach().requires_grad_()
            for t in leaves], keep


def _zeros_if_none(gs: Any, refs: list) -> list:
    return [ember.zeros_like(r) if g is None else g for g, r in zip(gs, refs, strict=True)]


def _maybe_detach(tree: Any, keep: bool) -> Any:
    if keep:
        return tree
    leaves, spec = _flatten(tree)
    return unflatten([t.detach() if isinstance(t, Tensor) else t for t in leaves], spec)


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
        tree = unflatten(new, spec)
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
        g = _maybe_detach(unflatten(_zeros_if_none(gs, leaves), spec), keep)
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
        return _maybe_detach(unflatten(_zeros_if_none(gs, leaves), spec), create)

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
        us = [_B.zeros_cotangent(o) if _B.active() else ember.zeros_like(o, requires_grad=True)
              for o in live]
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
    jv = unflatten(_zeros_if_none(jv, outs), ospec)
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
                    seed = ember.zeros(flat.numel(), dtype=flat.dtype)
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
                per_out.append(_maybe_detach(unflatten(jl, spec), keep))
        res = unflatten(per_out, ospec)
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




# ----------------------------------------------------------------------------- functional_call
def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None,
                    kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """module(*args, **kwargs) with its parameters/buffers replaced by the given tensors.

    out = f(args; theta) where theta comes from the dicts ("layer.weight" -> tensor) instead of
    the module's state; the module is restored afterwards.  Tied parameters (one tensor under
    several names) follow the value given for any of their names when ``tie_weights``.
    """
    dicts = parameter_and_buffer_dicts
    dicts = dicts if isinstance(dicts, (tuple, list)) else (dicts,)
    values: dict = {}
    for d in dicts:
        for k, v in d.items():
            if k in values:
                raise ValueError(
                    f"{k} appeared in multiple dictionaries; behavior of functional call is "
                    "ambiguous"
                )
            values[k] = v
    named = list(module.named_parameters(remove_duplicate=False)) + list(
        module.named_buffers(remove_duplicate=False))
    if tie_weights:
        by_id: dict = {}
        for k, t in named:
            by_id.setdefault(id(t), []).append(k)
        for names in by_id.values():
            given = [n for n in names if n in values]
            for n in names:
                if given and n not in values:
                    values[n] = values[given[0]]
    if strict:
        known = {k for k, _ in named}
        missing = sorted(known - set(values))
        unexpected = sorted(set(values) - known)
        if missing or unexpected:
            msg = f"Error(s) in reparametrizing for {type(module).__name__}:"
            if unexpected:
                msg += "\n\tUnexpected key(s): " + ", ".join(repr(k) for k in unexpected) + "."
            if missing:
                msg += "\n\tMissing key(s): " + ", ".join(repr(k) for k in missing) + "."
            raise RuntimeError(msg)
    saved = []
    try:
        for name, value in values.items():
            prefix, _, leaf = name.rpartition(".")
            mod = module.get_submodule(prefix) if prefix else module
            for store in ("_parameters", "_buffers"):
                table = mod.__dict__[store]
                if leaf in table:
                    saved.append((table, leaf, table[leaf]))
                    table[leaf] = value
                    break
            else:
                saved.append((mod.__dict__, leaf, mod.__dict__.get(leaf, _MISSING)))
                mod.__dict__[leaf] = value
        args = () if args is None else (args if isinstance(args, tuple) else (args,))
        return module(*args, **(kwargs or {}))
    finally:
        for table, leaf, old in reversed(saved):
            if old is _MISSING:
                table.pop(leaf, None)
            else:
                table[leaf] = old


_MISSING = object()
