"""Batching rules for products: matmul & co., einsum, tensordot, inner/outer, cross.

``matmul`` broadcasts leading dims, so batched operands only need their vmap dims in front and
their logical matrix dims last: 1-D operands get the unit dim torch adds (and it is removed
again).  A batched matrix times an unbatched 2-D weight folds the batch into the rows (one GEMM).
``einsum`` gets one fresh subscript letter per vmap level on every batched operand and output.
"""

from __future__ import annotations

from typing import Any

import ember

from .._tensor import Tensor
from ._core import BatchedTensor, bt, ldim, lndim, relayout, union, with_levels
from ._dispatch import bind


def _dims_error(name: str, what: str, x: Any) -> RuntimeError:
    return RuntimeError(f"{name}: {what}, got {lndim(x)}-D tensor inside vmap (per example). "
                        "Hint: check the per-example shapes of the operands.")


def bmatmul(a: Any, b: Any) -> Any:
    """Batched ``a @ b`` (any mix of batched and plain operands, torch's 1-D rules)."""
    na, nb = lndim(a), lndim(b)
    if na == 0 or nb == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    lvs = union([a, b])
    u = len(lvs)
    if type(b) is not BatchedTensor and nb == 2:  # fold the batch into the rows: one GEMM
        pa = with_levels(a, lvs, expand=False)
        lead = pa._data.shape[:-1]
        out = pa.reshape(-1, pa._data.shape[-1]).matmul(b)
        return bt(out.reshape(*lead, out._data.shape[-1]), lvs)
    pa, pb = relayout(a, lvs), relayout(b, lvs)
    if na == 1:
        pa = pa.unsqueeze(-2)
    if nb == 1:
        pb = pb.unsqueeze(-1)
    ra, rb = pa._data.ndim - u, pb._data.ndim - u
    if ra < rb:
        pa = relayout(bt(pa, lvs), lvs, rb - ra)
    elif rb < ra:
        pb = relayout(bt(pb, lvs), lvs, ra - rb)
    out = pa.matmul(pb)
    if na == 1:
        out = out.squeeze(-2)
    if nb == 1:
        out = out.squeeze(-1)
    return bt(out, lvs)


def _matmul(orig: Any, a: Any, b: Any, *, out: Any = None) -> Any:
    if out is not None:
        raise RuntimeError("vmap: matmul(out=...) is not supported inside vmap. Hint: drop out=.")
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        return NotImplemented if orig.__name__.startswith("_") else orig(a, b)
    return bmatmul(a, b)


def _rmatmul(orig: Any, self: Any, other: Any) -> Any:
    if not isinstance(other, Tensor):
        return NotImplemented
    return bmatmul(other, self)


def _checked(ranks: tuple, name: str, what: str) -> Any:
    def rule(orig: Any, a: Any, b: Any, *, out: Any = None) -> Any:
        for x, r in zip((a, b), ranks, strict=True):
            if lndim(x) != r:
                raise _dims_error(name, what, x)
        if name == "dot" and a.shape[0] != b.shape[0]:
            na, nb = a.shape[0], b.shape[0]
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{na}] and src [{nb}] to have the "
                f"same number of elements, but got {na} and {nb} elements respectively")
        return bmatmul(a, b)

    return rule


bind(_matmul, "matmul __matmul__", multi=True)
bind(_rmatmul, "__rmatmul__", ember=False)
bind(_checked((2, 2), "mm", "self must be a matrix"), "mm", multi=True)
bind(_checked((3, 3), "bmm", "batch1 must be a 3D tensor"), "bmm", multi=True)
bind(_checked((2, 1), "mv", "vector + matrix @ vector expected"), "mv", multi=True)
bind(_checked((1, 1), "dot", "1D tensors expected"), "dot", multi=True)


def _vdot(orig: Any, a: Any, b: Any) -> Any:
    return _checked((1, 1), "dot", "1D tensors expected")(orig, a.conj() if a.is_complex() else a,
                                                         b)


def _outer(orig: Any, a: Any, b: Any) -> Any:
    if lndim(a) != 1 or lndim(b) != 1:
        raise _dims_error("outer", "1D tensors expected", a if lndim(a) != 1 else b)
    return a.unsqueeze(-1) * b.unsqueeze(-2)


def _inner(orig: Any, a: Any, b: Any) -> Any:
    if lndim(a) == 0 or lndim(b) == 0:
        return a * b
    A, B = tuple(a.shape[:-1]), tuple(b.shape[:-1])
    r = bmatmul(a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1]).mT)
    return r.reshape(*A, *B)


def _addmm(orig: Any, input: Any, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1,
           out: Any = None) -> Any:
    r = _checked((2, 2), "mm", "self must be a matrix")(orig, mat1, mat2)
    if alpha != 1:
        r = r * alpha
    if beta == 0:
        return r
    return r + (input * beta if beta != 1 else input)


bind(_vdot, "vdot", multi=True)
bind(_outer, "outer ger", multi=True)
bind(_inner, "inner", multi=True)
bind(_addmm, "addmm", multi=True)


# ----------------------------------------------------------------------------- einsum
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum(orig: Any, *args: Any) -> Any:
    eq, ops = args[0], list(args[1:])
    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
        ops = list(ops[0])
    eq = eq.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ops):
        return orig(*args)  # ember's own error
    if not arrow:  # implicit output: ellipsis dims, then letters used once, sorted
        letters = [c for c in lhs if c.isalpha()]
        rhs = ("..." if "..." in lhs else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    lvs = union(ops)
    free = [c for c in _LETTERS if c not in eq]
    if len(free) < len(lvs):
        raise RuntimeError("vmap: einsum ran out of subscript letters for the vmap dims.")
    bl = "".join(free[:len(lvs)])
    new_terms, phys = [], []
    for t, x in zip(terms, ops, strict=True):
        if type(x) is BatchedTensor:
            new_terms.append(bl + t)
            phys.append(with_levels(x, lvs))
        else:
            new_terms.append(t)
            phys.append(x)
    new_eq = ",".join(new_terms) + "->" + bl + rhs
    return bt(orig(new_eq, *phys), lvs)


bind(_einsum, "einsum", tensor=False)


def _tensordot(orig: Any, a: Any, b: Any, dims: Any = 2, out: Any = None) -> Any:
    na, nb = lndim(a), lndim(b)
    if isinstance(dims, int):
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if isinstance(da, Tensor) or isinstance(db, Tensor):
            da, db = da.tolist(), db.tolist()
    da = [ldim(d, na) for d in da]
    db = [ldim(d, nb) for d in db]
    la = list(_LETTERS[:na])
    lb = list(_LETTERS[na:na + nb])
    for i, j in zip(da, db, strict=True):
        lb[j] = la[i]
    outl = [c for i, c in enumerate(la) if i not in da] + [c for j, c in enumerate(lb)
                                                            if j not in db]
    return _einsum(ember.einsum, f"{''.join(la)},{''.join(lb)}->{''.join(outl)}", a, b)


bind(_tensordot, "tensordot", tensor=False)


def _cross(orig: Any, input: Any, other: Any, dim: Any = None) -> Any:
    shape = ember.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    n = len(shape)
    if dim is None:
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    d = ldim(dim, n)
    lvs = union([input, other])
    pa = relayout(input, lvs, n - lndim(input), True)
    pb = relayout(other, lvs, n - lndim(other), True)
    full = tuple(pa._data.shape[:len(lvs)]) + tuple(shape)
    return bt(orig(pa.expand(*full), pb.expand(*full), d + len(lvs)), lvs)


bind(_cross, "cross", multi=True)

