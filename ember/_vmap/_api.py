"""``vmap``: in_dims/out_dims over pytrees, levels, chunking and torch's error messages."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

from .._tensor import Tensor, _wrap_dim
from . import _dispatch
from ._core import LIVE, STACK, Level, bt, check_live, parts
from .rules_random import sync_guard

__all__ = ["vmap"]

_IDS = itertools.count(1)
_NONE = object()  # spec of a None node (a container without leaves, like torch's pytree)


# ----------------------------------------------------------------------------- pytrees
def flatten(tree: Any, none_is_leaf: bool = False) -> tuple:
    """(leaves, spec): tuples, lists, dicts and named tuples are nodes; None has no leaves
    (vmap's in_dims/out_dims) unless ``none_is_leaf`` (ember.func's gradients, where None is a
    missing gradient)."""
    if tree is None and not none_is_leaf:
        return [], _NONE
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for el in tree:
            lv, sp = flatten(el, none_is_leaf)
            leaves += lv
            specs.append(sp)
        return leaves, (type(tree), None, specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for k in tree:
            lv, sp = flatten(tree[k], none_is_leaf)
            leaves += lv
            specs.append(sp)
        return leaves, (dict, list(tree), specs)
    return [tree], None


def unflatten(leaves: list, spec: Any) -> Any:
    """Inverse of :func:`flatten`."""
    it = iter(leaves)

    def build(sp: Any) -> Any:
        if sp is None:
            return next(it)
        if sp is _NONE:
            return None
        kind, keys, subs = sp
        items = [build(s) for s in subs]
        if kind is dict:
            return dict(zip(keys, items, strict=True))
        return kind(items) if kind in (tuple, list) else kind(*items)

    return build(spec)


def spec_repr(spec: Any, indent: int = 0) -> str:
    """torch's ``TreeSpec`` repr of a spec."""
    if spec is None:
        return "*"
    if spec is _NONE:
        return "TreeSpec(NoneType, None, [])"
    kind, keys, subs = spec
    out = f"TreeSpec({kind.__name__}, {keys}, ["
    indent += 2
    parts_ = [spec_repr(s, indent) for s in subs]
    if parts_:
        out += parts_[0] + ("," if len(parts_) > 1 else "")
        out += ",".join("\n" + " " * indent + p for p in parts_[1:])
    return out + "])"


def _dims_spec(dims: Any) -> Any:
    """Spec of an in_dims/out_dims tree (ints and None are leaves there)."""
    if isinstance(dims, (tuple, list)):
        return (type(dims), None, [_dims_spec(d) for d in dims])
    if isinstance(dims, dict):
        return (dict, list(dims), [_dims_spec(d) for d in dims.values()])
    return None


def broadcast(dims: Any, spec: Any) -> list | None:
    """One dim per leaf of ``spec``: a dims leaf applies to its whole subtree (None if the
    structures do not match)."""
    if spec is _NONE:
        return []
    if not isinstance(dims, (tuple, list, dict)):
        return [dims] * _count(spec)
    if spec is None:
        return None
    kind, keys, subs = spec
    if isinstance(dims, dict):
        if kind is not dict or list(dims) != keys:
            return None
        vals = list(dims.values())
    else:
        if type(dims) is not kind and not (kind not in (tuple, list, dict) and
                                           isinstance(dims, tuple)):
            return None
        vals = list(dims)
    if len(vals) != len(subs):
        return None
    out: list = []
    for d, s in zip(vals, subs, strict=True):
        r = broadcast(d, s)
        if r is None:
            return None
        out += r
    return out


def _count(spec: Any) -> int:
    if spec is None:
        return 1
    if spec is _NONE:
        return 0
    return sum(_count(s) for s in spec[2])


def _name(func: Any) -> str:
    if isinstance(func, functools.partial):
        return f"functools.partial({_name(func.func)}, ...)"
    return getattr(func, "__name__", repr(func))


# ----------------------------------------------------------------------------- vmap
def _check_out_dims(out_dims: Any, name: str) -> None:
    leaves = [out_dims] if not isinstance(out_dims, (tuple, list, dict)) else flatten(
        out_dims)[0]
    if not all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in leaves):
        raise ValueError(
            f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a python "
            "collection of ints representing where in the outputs the vmapped dimension should "
            "appear."
        )


def _batch_size(leaves: list, dims: list, head: str) -> int:
    sizes = []
    for x, d in zip(leaves, dims, strict=True):
        if d is None:
            continue
        if not isinstance(d, int) or isinstance(d, bool):
            raise ValueError(
                f"{head}: Got in_dim={d} for an input but in_dim must be either an integer "
                "dimension or None."
            )
        if not isinstance(x, Tensor):
            raise ValueError(
                f"{head}: Got in_dim={d} for an input but the input is of type {type(x)}. We "
                "cannot vmap over non-Tensor arguments, please use None as the respective in_dim"
            )
        n = x.dim()
        if not -n <= d < n:
            raise ValueError(
                f"{head}: Got in_dim={d} for some input, but that input is a Tensor of "
                f"dimensionality {n} so expected in_dim to satisfy -{n} <= in_dim < {n}."
            )
        sizes.append(x.shape[d])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
            f"{sizes} for the mapped dimension"
        )
    return sizes[0]


def _wrap_input(x: Any, d: Any, level: Level) -> Any:
    if d is None:
        return x
    p, lv = parts(x)
    check_live(lv)
    k = len(lv)
    d = d % (p.dim() - k)
    if d:
        p = p.movedim(k + d, k)
    return bt(p, (*lv, level.id))


def _unwrap(o: Any, od: Any, level: Level, name: str) -> Any:
    if not isinstance(o, Tensor):
        if od is None:
            return o
        raise ValueError(
            f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(o)}. Did you "
            "mean to set out_dims= to None for output?"
        )
    p, lv = parts(o)
    check_live(lv)
    mine = level.id in lv
    if od is None:
        if mine:
            raise ValueError(
                f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None"
            )
        return o
    if mine:
        j = lv.index(level.id)
        rest = lv[:j] + lv[j + 1:]
    else:
        j, rest = len(lv), lv
        p = p.unsqueeze(j)
        sizes = [-1] * p.dim()
        sizes[j] = level.size
        p = p.expand(*sizes)
    n = p.dim() - len(lv) - (0 if mine else 1)
    target = len(rest) + _wrap_dim(od, n + 1)
    if target != j:
        p = p.movedim(j, target)
    return bt(p, rest)


def _run(func: Callable, leaves: list, dims: list, spec: Any, kwargs: dict, bsz: int,
         out_dims: Any, randomness: str, name: str) -> tuple:
    """One vectorized call of ``func``: (flat outputs, output spec, flat out_dims)."""
    level = Level(next(_IDS), bsz, randomness)
    _dispatch.enter()
    STACK.append(level)
    LIVE[level.id] = level
    try:
        sync_guard()
        args = unflatten([_wrap_input(x, d, level) for x, d in zip(leaves, dims, strict=True)],
                         spec)
        out = func(*args, **kwargs)
        outs, ospec = flatten(out)
        ods = broadcast(out_dims, ospec)
        if ods is None:
            raise ValueError(
                f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible "
                f"with the structure of `outputs`. out_dims has structure "
                f"{spec_repr(_dims_spec(out_dims))} but outputs has structure "
                f"{spec_repr(ospec)}."
            )
        return [_unwrap(o, d, level, name) for o, d in zip(outs, ods, strict=True)], ospec, ods
    finally:
        STACK.pop()
        del LIVE[level.id]
        sync_guard()
        _dispatch.leave()


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """Vectorized map: ``vmap(f)(x)[i] == f(x[i])``, computed by ONE call of ``f`` on the batch.

    Each mapped input is seen by ``f`` as a batched tensor of per-example shape; every op
    inside dispatches to a batching rule that runs the op once for the whole batch (see
    ``ember/_vmap``).  ``in_dims``/``out_dims`` follow torch (ints, None, nested tuples);
    ``randomness`` is 'error', 'different' or 'same'; ``chunk_size`` runs the batch in chunks.
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. Got "
            f"{randomness}"
        )
    if chunk_size is not None and not chunk_size > 0:
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    name = _name(func)

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _check_out_dims(out_dims, name)
        if not args:
            raise ValueError(
                f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you "
                "are trying to vmap over a function with no inputs. The latter is unsupported."
            )
        head = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
        if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
            raise ValueError(
                f"{head}: expected `in_dims` to be int or a (potentially nested) tuple matching "
                f"the structure of inputs, got: {type(in_dims)}."
            )
        leaves, spec = flatten(args)
        dims = broadcast(in_dims, spec)
        if dims is None:
            raise ValueError(
                f"{head}: in_dims is not compatible with the structure of `inputs`. in_dims has "
                f"structure {spec_repr(_dims_spec(in_dims))} but inputs has structure "
                f"{spec_repr(spec)}."
            )
        bsz = _batch_size(leaves, dims, head)
        if chunk_size is None or chunk_size >= bsz:
            outs, ospec, _ = _run(func, leaves, dims, spec, kwargs, bsz, out_dims, randomness,
                                  name)
            return unflatten(outs, ospec)
        return _chunked(func, leaves, dims, spec, kwargs, bsz, out_dims, randomness, name,
                        chunk_size)

    return wrapped


def _chunked(func: Callable, leaves: list, dims: list, spec: Any, kwargs: dict, bsz: int,
             out_dims: Any, randomness: str, name: str, chunk: int) -> Any:
    """``chunk_size``: vmap over consecutive chunks of the batch, outputs concatenated."""
    import ember

    pieces, ospec, ods = [], None, []
    for start in range(0, bsz, chunk):
        m = min(chunk, bsz - start)
        sub = [x if d is None else x.narrow(d, start, m) for x, d in zip(leaves, dims, strict=True)]
        outs, ospec, ods = _run(func, sub, dims, spec, kwargs, m, out_dims, randomness, name)
        pieces.append(outs)
    res = []
    for i, d in enumerate(ods):
        first = pieces[0][i]
        res.append(first if d is None or not isinstance(first, Tensor) else
                   ember.cat([p[i] for p in pieces], d))
    return unflatten(res, ospec)
