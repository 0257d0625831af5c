"""Batching rules for views and joins: logical shapes/dims are mapped to physical ones.

With ``k`` vmap dims in front, a logical shape ``S`` is the physical shape ``(*batch, *S)`` and a
logical dim ``d`` (normalised against the logical rank) is the physical dim ``d + k``; joins
expand unbatched operands over the batch (``with_levels``) before calling the op once.
"""

from __future__ import annotations

from typing import Any

import ember

from .._tensor import Size, Tensor
from ._core import bt, ldim, lndim, parts, union, with_levels
from ._dispatch import bind
from .rules_reduce import map_dims, take, wrap

_SEQ = (tuple, list, Size)


def _sizes(args: tuple, kw: Any = None) -> tuple:
    """Varargs or one sequence (``x.view(2, 3)`` / ``x.view((2, 3))``) as a tuple."""
    if kw is not None:
        return tuple(kw)
    if len(args) == 1 and isinstance(args[0], _SEQ):
        return tuple(args[0])
    return tuple(args)


def _bshape(p: Tensor, lv: tuple) -> tuple:
    return tuple(p._data.shape[:len(lv)])


def _reshape(orig: Any, x: Any, *size: Any, shape: Any = None) -> Any:
    p, lv = parts(x)
    return bt(p.reshape(*_bshape(p, lv), *_sizes(size, shape)), lv)


def _view(orig: Any, x: Any, *size: Any) -> Any:
    p, lv = parts(x)
    if len(size) == 1 and not isinstance(size[0], (int, *_SEQ)):  # view(dtype)
        return bt(p.view(size[0]), lv)
    shape = (*_bshape(p, lv), *_sizes(size))
    try:
        return bt(p.view(*shape), lv)
    except RuntimeError:
        if p.is_contiguous():
            raise
        return bt(p.reshape(*shape), lv)  # the vmap dim moved in: per example it is a view


bind(_reshape, "reshape")
bind(_view, "view", ember=False)


def _as(orig: Any, x: Any, other: Any) -> Any:
    shape = tuple(other.shape)
    name = orig.__name__
    if name == "expand_as":
        return _expand(None, x, *shape)
    return (_view if name == "view_as" else _reshape)(None, x, *shape)


bind(_as, "view_as reshape_as expand_as", ember=False, multi=True)


def _expand(orig: Any, x: Any, *sizes: Any, size: Any = None) -> Any:
    p, lv = parts(x)
    S = _sizes(sizes, size)
    n = lndim(x)
    if len(S) < n:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(x.shape)}}}, size={list(S)}): the number of sizes "
            f"provided ({len(S)}) must be greater or equal to the number of dimensions in the "
            f"tensor ({n})"
        )
    k = len(lv)
    if len(S) > n:
        p = p.reshape(*_bshape(p, lv), *([1] * (len(S) - n)), *p._data.shape[k:])
    return bt(p.expand(*([-1] * k), *S), lv)


bind(_expand, "expand", ember=False)
bind(lambda orig, x, size: _expand(None, x, *_sizes((size,))), "broadcast_to")


def _flatten(orig: Any, x: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
    p, lv = parts(x)
    n, k = lndim(x), len(lv)
    if n == 0:
        ldim(start_dim, 0)
        ldim(end_dim, 0)
        return bt(p.reshape(*_bshape(p, lv), 1), lv)
    return bt(orig(p, ldim(start_dim, n) + k, ldim(end_dim, n) + k), lv)


bind(_flatten, "flatten")


def _unflatten(orig: Any, x: Any, dim: int, sizes: Any) -> Any:
    p, lv = parts(x)
    return bt(orig(p, ldim(dim, lndim(x)) + len(lv), sizes), lv)


bind(_unflatten, "unflatten")


def _permute(orig: Any, x: Any, *args: Any, dims: Any = None) -> Any:
    p, lv = parts(x)
    n, k = lndim(x), len(lv)
    ds = _sizes(args, dims)
    if len(ds) != n:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
            f"to len(dims) = {len(ds)}"
        )
    return bt(p.permute(*range(k), *(ldim(d, n) + k for d in ds)), lv)


bind(_permute, "permute")


def _transpose(orig: Any, x: Any, d0: int, d1: int) -> Any:
    p, lv = parts(x)
    n, k = lndim(x), len(lv)
    if n == 0:
        ldim(d0, 0)
        ldim(d1, 0)
        return bt(p.view_as(p), lv)
    return bt(orig(p, ldim(d0, n) + k, ldim(d1, n) + k), lv)


bind(_transpose, "transpose swapaxes swapdims")


def _t(orig: Any, x: Any) -> Any:
    n = lndim(x)
    if n > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    p, lv = parts(x)
    k = len(lv)
    return bt(p.transpose(k, k + 1) if n == 2 else p.view_as(p), lv)


bind(_t, "t")


def _T(fget: Any, x: Any) -> Any:  # noqa: N802
    p, lv = parts(x)
    n, k = lndim(x), len(lv)
    return bt(p.permute(*range(k), *range(k + n - 1, k - 1, -1)), lv)


def _matrix_prop(fget: Any, x: Any) -> Any:
    """mT / mH / H / adjoint on the last two dims (needs a logical matrix)."""
    p, lv = parts(x)
    n = lndim(x)
    name = fget.__name__.lstrip("_")
    if name == "H" and n not in (0, 2):
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {n}-D tensor. For "
            "batches of matrices, consider using tensor.mH")
    if n < 2:
        if name == "H":
            return bt(p.view_as(p), lv)
        raise RuntimeError(
            f"tensor.{name} is only supported on matrices or batches of matrices. Got {n}-D "
            "tensor.")
    return bt(fget(p), lv)


bind(_T, "T", ember=False)
bind(_matrix_prop, "mT mH H adjoint", ember=False)
bind(lambda orig, x: _matrix_prop(orig, x), "adjoint", tensor=False)


def _movedim(orig: Any, x: Any, source: Any, destination: Any) -> Any:
    p, lv = parts(x)
    n, k = lndim(x), len(lv)
    return bt(orig(p, map_dims(source, n, k), map_dims(destination, n, k)), lv)


bind(_movedim, "movedim moveaxis")


def _squeeze(orig: Any, x: Any, dim: Any = None) -> Any:
    p, lv = parts(x)
    n, k = lndim(x), len(lv)
    if dim is None:
        keep = [s for s in p._data.shape[k:] if s != 1]
        return bt(p.reshape(*_bshape(p, lv), *keep), lv)
    if n == 0:
        for d in (dim if isinstance(dim, _SEQ) else (dim,)):
            ldim(d, 0)
        return bt(p.view_as(p), lv)
    return bt(orig(p, map_dims(dim, n, k)), lv)


def _unsqueeze(orig: Any, x: Any, dim: int) -> Any:
    p, lv = parts(x)
    return bt(orig(p, ldim(dim, lndim(x) + 1) + len(lv)), lv)


bind(_squeeze, "squeeze")
bind(_unsqueeze, "unsqueeze")


def _narrow(orig: Any, x: Any, dim: int, start: Any, length: int) -> Any:
    p, lv = parts(x)
    return bt(orig(p, ldim(dim, lndim(x)) + len(lv), start, length), lv)


bind(_narrow, "narrow")


def _split_like(orig: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
    """unbind / split / chunk: the dim argument maps, the pieces stay batched."""
    p, lv = parts(x)
    n, k = lndim(x), len(lv)
    pos = 0 if orig.__name__ == "unbind" else 1
    dim, put = take(args, kwargs, pos, ("dim",), 0)
    if n == 0:
        ldim(dim, 0)  # raises: these ops need a dim
    a, kw = put(ldim(dim, n) + k)
    return wrap(orig(p, *a, **kw), lv)


bind(_split_like, "unbind split chunk")


def _join_inputs(tensors: Any, who: str) -> tuple:
    ts = list(tensors)
    if not ts:
        raise RuntimeError(f"{who}(): expected a non-empty list of Tensors")
    lvs = union(ts)
    return lvs, [with_levels(t, lvs) for t in ts], lndim(ts[0])


def _cat(orig: Any, tensors: Any, dim: int = 0, *, axis: Any = None, out: Any = None) -> Any:
    if axis is not None:
        dim = axis
    lvs, ps, n = _join_inputs(tensors, "cat")
    if out is not None:
        raise RuntimeError("vmap: cat(out=...) is not supported inside vmap. Hint: drop out=.")
    if n == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    return bt(orig(ps, ldim(dim, n) + len(lvs)), lvs)


def _concatenate(orig: Any, tensors: Any, axis: int = 0, *, out: Any = None) -> Any:
    return _cat(orig, tensors, axis, out=out)


def _stack(orig: Any, tensors: Any, dim: int = 0, *, out: Any = None) -> Any:
    lvs, ps, n = _join_inputs(tensors, "stack")
    if out is not None:
        raise RuntimeError("vmap: stack(out=...) is not supported inside vmap. Hint: drop out=.")
    return bt(orig(ps, ldim(dim, n + 1) + len(lvs)), lvs)


bind(_cat, "cat concat", tensor=False)
bind(_concatenate, "concatenate", tensor=False)
bind(_stack, "stack", tensor=False)


def _atleast(orig: Any, *tensors: Any) -> Any:
    m = 1 if orig.__name__ == "atleast_1d" else 2
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], _SEQ) else tensors
    out = []
    for t in ts:
        while t.dim() < m:
            t = t.unsqueeze(0)
        out.append(t)
    return out[0] if len(tensors) == 1 and not isinstance(tensors[0], _SEQ) else tuple(out)


bind(_atleast, "atleast_1d atleast_2d", tensor=False)


def _hstack(orig: Any, tensors: Any, *, out: Any = None) -> Any:
    ts = _atleast(ember.atleast_1d, tensors)
    return ember.cat(ts, 0 if ts[0].dim() == 1 else 1)


def _vstack(orig: Any, tensors: Any, *, out: Any = None) -> Any:
    return ember.cat(_atleast(ember.atleast_2d, tensors), 0)


bind(_hstack, "hstack", tensor=False)
bind(_vstack, "vstack", tensor=False)


def _broadcast_tensors(orig: Any, *tensors: Any) -> Any:
    shape = ember.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(_expand(None, t, *shape) for t in tensors)


bind(_broadcast_tensors, "broadcast_tensors", tensor=False)


def _repeat(orig: Any, x: Any, *repeats: Any) -> Any:
    p, lv = parts(x)
    R = _sizes(repeats)
    n, k = lndim(x), len(lv)
    if len(R) < n:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor")
    if len(R) > n:
        p = p.reshape(*_bshape(p, lv), *([1] * (len(R) - n)), *p._data.shape[k:])
    return bt(p.repeat(*([1] * k), *R), lv)


def _tile(orig: Any, x: Any, *dims: Any) -> Any:
    R = _sizes(dims)
    n = lndim(x)
    return _repeat(orig, x, *((1,) * (n - len(R)) + R))


bind(_repeat, "repeat", ember=False)
bind(_tile, "tile")


def _flip(orig: Any, x: Any, *args: Any, dims: Any = None) -> Any:
    p, lv = parts(x)
    ds = _sizes(args, dims)
    return bt(p.flip(map_dims(ds, lndim(x), len(lv))), lv)


def _flip2(orig: Any, x: Any) -> Any:
    p, lv = parts(x)
    n, k = lndim(x), len(lv)
    lr = orig.__name__ == "fliplr"
    if n < (2 if lr else 1):
        raise RuntimeError(f"Input must be >= {2 if lr else 1}-d.")
    return bt(p.flip(k + 1 if lr else k), lv)


bind(_flip, "flip")
bind(_flip2, "fliplr flipud")


def _roll(orig: Any, x: Any, shifts: Any, dims: Any = None) -> Any:
    p, lv = parts(x)
    n, k = lndim(x), len(lv)
    if dims is None:
        q = p.reshape(*_bshape(p, lv), -1)
        return bt(orig(q, shifts, k).reshape(p.shape), lv)
    return bt(orig(p, shifts, map_dims(dims, n, k)), lv)


bind(_roll, "roll")


def _need_matrix(name: str, x: Any) -> None:
    n = lndim(x)
    if n < 2:
        raise RuntimeError(
            f"{name.strip('_')}: input tensor must have at least 2 dimensions (got {n}-D per "
            "example inside vmap).")


def _matrix_op(orig: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
    """Ops on the last two dims that treat leading dims as a batch (tril, triu, det ...)."""
    _need_matrix(orig.__name__, x)
    p, lv = parts(x)
    return bt(orig(p, *args, **kwargs), lv)


def _matrix_inplace(orig: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
    _need_matrix(orig.__name__, x)
    orig(parts(x)[0], *args, **kwargs)
    return x


bind(_matrix_op, "tril triu det inverse")
bind(_matrix_inplace, "tril_ triu_", ember=False)


def _diagonal(orig: Any, x: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
    p, lv = parts(x)
    n, k = lndim(x), len(lv)
    return bt(orig(p, offset, ldim(dim1, n) + k, ldim(dim2, n) + k), lv)


def _diag_embed(orig: Any, x: Any, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Any:
    p, lv = parts(x)
    n, k = lndim(x), len(lv)
    return bt(orig(p, offset, ldim(dim1, n + 1) + k, ldim(dim2, n + 1) + k), lv)


def _diag(orig: Any, x: Any, diagonal: int = 0) -> Any:
    p, lv = parts(x)
    n, k = lndim(x), len(lv)
    if n == 1:
        return bt(p.diag_embed(diagonal, k, k + 1), lv)
    if n == 2:
        return bt(p.diagonal(diagonal, k, k + 1), lv)
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{n}D")


def _trace(orig: Any, x: Any) -> Any:
    p, lv = parts(x)
    n, k = lndim(x), len(lv)
    if n != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {n}")
    return bt(p.diagonal(0, k, k + 1).sum(-1), lv)


def _diagonal_scatter(orig: Any, x: Any, src: Any, offset: int = 0, dim1: int = 0,
                      dim2: int = 1) -> Any:
    lvs = union([x, src])
    n, k = lndim(x), len(lvs)
    return bt(orig(with_levels(x, lvs), with_levels(src, lvs), offset, ldim(dim1, n) + k,
                   ldim(dim2, n) + k), lvs)


bind(_diagonal, "diagonal")
bind(_diag_embed, "diag_embed")
bind(_diag, "diag")
bind(_trace, "trace")
bind(_diagonal_scatter, "diagonal_scatter", multi=True)


def _sum_to_size(orig: Any, x: Any, *size: Any) -> Any:
    S = _sizes(size)
    n = lndim(x)
    lead = n - len(S)
    dims = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(S)
                                      if s == 1 and x.shape[i + lead] != 1)
    r = x.sum(dims, keepdim=True) if dims else x
    return r.reshape(*S) if lead or tuple(r.shape) != S else r


bind(_sum_to_size, "sum_to_size", ember=False)

