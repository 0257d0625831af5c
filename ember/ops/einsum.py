"""Einstein summation: einsum, tensordot and inner (re-exported by linalg.py).

The equation is parsed into integer labels; the forward contracts with per-operand reductions
(diagonals, sums) and pairwise (batched) BLAS products.  ``einsum`` records one node named like
torch's root node; its backward is again an einsum (with identity matrices for repeated labels),
so it works on arrays and on Tensors (double backward).  tensordot and inner are einsums.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from ..autograd.graph import ARRAY_TYPES as _ARR
from ._core import Node, Tensor, as_view, needs, new, ns, record, register
from ._linalg_common import _I64, _err, _out, _st

__all__ = ["einsum", "tensordot", "inner"]

_ND = np.ndarray


def _lab(c: str) -> int:
    return ord(c) - 65 if c <= "Z" else ord(c) - 71  # 'A'..'Z' -> 0..25, 'a'..'z' -> 26..51


def _chr(k: int) -> str:
    return chr(65 + k) if k < 26 else chr(71 + k)


def _einsum_err(msg: str, hint: str = "check the equation against the operands' shapes") -> Any:
    return _err(f"einsum(): {msg}", hint)


def _parse(eq: str, shapes: list) -> tuple:
    """Subscripts per operand and of the output as label ints (ellipsis dims: 52, 53, ...)."""
    terms: list = []
    cur: list = []
    out: list | None = None
    i, n = 0, len(eq)
    while i < n:
        c = eq[i]
        k = len(terms) if out is None else "output"
        if c == " ":
            i += 1
        elif c == ".":
            if eq[i:i + 3] != "...":
                raise _einsum_err(f"found '.' for operand {k} that is not part of any ellipsis")
            if -1 in cur:
                raise _einsum_err(f"found '.' for operand {k} for which an ellipsis was already "
                                  "found")
            cur.append(-1)
            i += 3
        elif c == "," and out is None:
            terms.append(cur)
            cur = []
            i += 1
        elif c == "-" and eq[i + 1:i + 2] == ">" and out is None:
            terms.append(cur)
            cur = out = []
            i += 2
        elif c.isascii() and c.isalpha():
            cur.append(_lab(c))
            i += 1
        else:
            raise _einsum_err(f"invalid subscript given at index {i} in the equation string, "
                              "subscripts must be in [a-zA-Z]")
    if out is None:
        terms.append(cur)
    if len(terms) != len(shapes):
        raise _einsum_err(f"{'fewer' if len(terms) > len(shapes) else 'more'} operands were "
                          "provided than specified in the equation",
                          "one comma-separated term per operand")
    ell = 0
    for k, (t, s) in enumerate(zip(terms, shapes, strict=True)):
        nl = len(t) - (-1 in t)
        if -1 not in t and nl != len(s):
            raise _einsum_err(f"the number of subscripts in the equation ({nl}) does not match "
                              f"the number of dimensions ({len(s)}) for operand {k} and no "
                              "ellipsis was given")
        if nl > len(s):
            raise _einsum_err(f"the number of subscripts in the equation ({nl}) is more than the "
                              f"number of dimensions ({len(s)}) for operand {k}")
        ell = max(ell, len(s) - nl)
    subs, sizes = [], {}
    for k, (t, s) in enumerate(zip(terms, shapes, strict=True)):
        e = len(s) - len(t) + 1
        sub = []
        for lab in t:
            sub.extend(range(52 + ell - e, 52 + ell) if lab == -1 else (lab,))
        for j, (lab, sz) in enumerate(zip(sub, s, strict=True)):
            if lab in sub[:j] and s[sub.index(lab)] != sz:
                raise _einsum_err(f"subscript {_chr(lab)} is repeated for operand {k} but the "
                                  f"sizes don't match, {sz} != {s[sub.index(lab)]}")
            prev = sizes.get(lab, 1)
            if sz != prev and sz != 1 and prev != 1:
                if lab >= 52:
                    raise _einsum_err(f"dimension {lab - 52} covered by ellipsis in operand {k}"
                                      f"has size {sz} which does not broadcast with previously "
                                      "seen ellipsis with size "
                                      f"{prev} for the respective dimension")
                raise _einsum_err(f"subscript {_chr(lab)} has size {sz} for operand {k} which "
                                  f"does not broadcast with previously seen size {prev}")
            if prev == 1:
                sizes[lab] = sz
        subs.append(sub)
    if out is None:
        flat = [x for s in subs for x in s if x < 52]
        out = list(range(52, 52 + ell)) + sorted(x for x in set(flat) if flat.count(x) == 1)
    else:
        res = []
        for lab in out:
            if lab == -1:
                res.extend(range(52, 52 + ell))
                continue
            if lab in res:
                raise _einsum_err(f"output subscript {_chr(lab)} appears more than once in the "
                                  "output")
            if lab not in sizes:
                raise _einsum_err(f"output subscript {_chr(lab)} does not appear in the equation "
                                  "for any input operand")
            res.append(lab)
        out = res
    return subs, out, sizes


def _single(a: Any, s: list, keep: list) -> Any:
    """One operand: take diagonals of repeated labels, sum labels not in ``keep``, order."""
    if s == keep:
        return a
    if len(set(s)) == len(s) and len(keep) == len(s):
        return np.transpose(a, [s.index(x) for x in keep])
    ids = {x: i for i, x in enumerate(dict.fromkeys(s))}
    return np.einsum(a, [ids[x] for x in s], [ids[x] for x in keep])


def _pair(a: Any, la: list, b: Any, lb: list, needed: set) -> tuple:
    """Contract two operands with one (batched) matrix product; returns (array, labels)."""
    batch = [x for x in la if x in lb and x in needed]
    con = [x for x in la if x in lb and x not in needed]
    left = [x for x in la if x not in lb]
    right = [x for x in lb if x not in la]
    for x in con:  # a contracted label of size 1 on one side: sum the other side first
        i, j = la.index(x), lb.index(x)
        if a.shape[i] != b.shape[j]:
            if a.shape[i] == 1:
                b = b.sum(axis=j, keepdims=True)
            else:
                a = a.sum(axis=i, keepdims=True)
    A = np.transpose(a, [la.index(x) for x in batch + left + con])
    B = np.transpose(b, [lb.index(x) for x in batch + con + right])
    nb, nl, nc = len(batch), len(left), len(con)
    ls, rs = A.shape[nb:nb + nl], B.shape[nb + nc:]
    k = int(np.prod(A.shape[nb + nl:]))
    A = A.reshape(A.shape[:nb] + (int(np.prod(ls)), k))
    B = B.reshape(B.shape[:nb] + (k, int(np.prod(rs))))
    if k == 1 and not con:
        r = A * B
    else:
        r = A.dot(B) if nb == 0 else np.matmul(A, B)
    return r.reshape(r.shape[:nb] + ls + rs), batch + left + right


def _contract(arrs: list, subs: list, out: list) -> Any:
    """einsum on NumPy arrays: per-operand reductions, then pairwise BLAS contractions."""
    arrs = [np.asarray(x) for x in arrs]
    n = len(arrs)
    if n == 1:
        return _single(arrs[0], subs[0], out)
    subs = [list(s) for s in subs]
    for i in range(n):
        s = subs[i]
        others = set(out).union(*(subs[j] for j in range(n) if j != i))
        keep = [x for x in dict.fromkeys(s) if x in others]
        if keep != s:
            arrs[i], subs[i] = _single(arrs[i], s, keep), keep
    a, la = arrs[0], subs[0]
    for i in range(1, n):
        a, la = _pair(a, la, arrs[i], subs[i], set(out).union(*subs[i + 1:]))
    return a if la == out else np.transpose(a, [la.index(x) for x in out])


class EinsumBackward(Node):
    """out = einsum(subs -> out);  d(op_i) = einsum(g, other operands -> subs_i), with identity
    matrices for repeated labels and ones for labels summed in op_i alone (named like torch).
    """

    def backward(self, g: Any) -> tuple:
        ops = self._unpack(g)
        return tuple(_ein_grad(g, ops, self.subs, self.osub, i) if needs(self, i) else None
                     for i in range(len(ops)))


def _ein_grad(g: Any, ops: list, subs: list, out: list, i: int) -> Any:
    arr = type(g) in _ARR
    s, shape, dt = subs[i], tuple(ops[i].shape), g.dtype if arr else g._data.dtype
    arrs = [g] + [ops[j] for j in range(len(ops)) if j != i]
    ss = [out] + [subs[j] for j in range(len(ops)) if j != i]
    sz: dict = {}
    for a, sub in zip(arrs, ss, strict=True):
        for x, d in zip(sub, a.shape, strict=True):
            if d != 1 or x not in sz:
                sz[x] = d
    fresh = max([*sz, *s, 0]) + 1
    target = []
    for pos, x in enumerate(s):
        const, n = None, shape[pos]
        if x in target:  # repeated label: the gradient lives on the diagonal
            const, sub, x = np.eye(n, dtype=dt), [x, fresh], fresh
            fresh += 1
        elif x not in sz or (sz[x] == 1 and n != 1):  # summed here alone, or broadcast: expand
            const, sub = np.ones(n, dtype=dt), [x]
            sz[x] = n
        if const is not None:
            arrs.append(const if arr else new(const, None))
            ss.append(sub)
        target.append(x)
    r = _contract(arrs, ss, target) if arr else _einsum_rec(arrs, ss, target, None)
    return r if tuple(r.shape) == shape else ns(g).sum_to(r, shape)


def _einsum_rec(ts: list, subs: list, out: list, name: str | None) -> Tensor:
    """Compute and record an einsum over Tensors (no checks; used by einsum and its backward)."""
    ds = [t._data for t in ts]
    dt = ds[0].dtype
    if any(d.dtype != dt for d in ds):
        dt = D.result_type(ds[0], ds[1]) if len(ds) == 2 else np.result_type(*ds)
        ds = [d if d.dtype == dt else d.astype(dt) for d in ds]
    r = _contract(ds, subs, out)
    if name is None:
        summed = set().union(*subs) - set(out)
        name = ("SumBackward1" if summed else "PermuteBackward0") if len(ts) == 1 else (
            "ViewBackward0" if summed else "MulBackward0")
    meta = None
    if any(t._data.dtype != r.dtype for t in ts):
        meta = tuple(None if t._data.dtype == r.dtype else (t._data.shape, t._data.dtype)
                     for t in ts)
    view = len(ts) == 1 and isinstance(r, _ND) and np.may_share_memory(r, ds[0])
    res = record(EinsumBackward, tuple(ts), r, saved=tuple(ts), meta=meta, _name=name,
                 subs=subs, osub=out)
    if view:
        as_view(res, ts[0], lambda base: _einsum_rec([base], subs, out, name))
    return res


def _einsum_args(args: tuple) -> tuple:
    if args and isinstance(args[0], str):
        ops = args[1:]
        if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
            ops = tuple(ops[0])
        return args[0], list(ops)
    n = len(args) // 2 * 2
    ops, terms = list(args[0:n:2]), []
    for sub in [*args[1:n:2], *args[n:]]:
        t = ""
        for x in sub:
            if x is Ellipsis:
                t += "..."
            elif not 0 <= int(x) < 52:
                raise ValueError("einsum(): subscript in subscript list is not within the valid "
                                 "range [0, 52)")
            else:
                t += _chr(int(x))
        terms.append(t)
    eq = ",".join(terms[:len(ops)])
    if len(terms) > len(ops):
        eq += "->" + terms[len(ops)]
    return eq, ops


def einsum(*args: Any) -> Tensor:
    """Einstein summation: einsum('ij,jk->ik', a, b) sums products over repeated labels."""
    eq, ops = _einsum_args(args)
    for k, t in enumerate(ops):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 1, but got "
                            f"{type(t).__name__}")
    subs, out, sizes = _parse(eq, [t._data.shape for t in ops])
    dts = [t._data.dtype for t in ops]
    summed = set().union(*subs) - set(out)
    if len(ops) > 1 and any(d != dts[0] for d in dts):
        big = [x for x in summed if sum(x in s and t._data.shape[s.index(x)] > 1
                                        for s, t in zip(subs, ops, strict=True)) >= 2]
        if big:
            bad = next(d for d in dts if d != dts[0])
            raise _err(f"expected scalar type {_st(dts[0])} but found {_st(bad)}",
                       "einsum does not promote when it contracts: convert the operands first")
    elif len(ops) == 1 and summed and dts[0].kind in "biu":
        ops = [new(ops[0]._data.astype(_I64), None)]
    if len(ops) > 1 and summed and dts[0].kind == "b":
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    return _einsum_rec(ops, subs, out, None)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Tensor | None = None) -> Tensor:
    """Contract the last ``dims`` dims of a with the first of b (or the listed dim pairs)."""
    na, nb = a.dim(), b.dim()
    if isinstance(dims, int):
        if dims < 0:
            raise _err(f"tensordot expects dims >= 0, but got dims={dims}", "pass dims >= 0")
        if dims > min(na, nb):
            raise _err(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}",
                       "dims counts the contracted trailing/leading dimensions")
        ua, ub = list(range(-dims, 0)), list(range(dims))
    else:
        ua, ub = ([d] if isinstance(d, int) else list(d) for d in dims)
        if len(ua) != len(ub):
            raise _err("both dimension lists should have same length", "pair the dims up")
    da, db = [d % na for d in ua], [d % nb for d in ub]
    if a._data.dtype != b._data.dtype:
        raise _err("both inputs should have same dtype", "convert one first")
    sa, sb = a._data.shape, b._data.shape
    for x, y, u, v in zip(da, db, ua, ub, strict=True):
        if sa[x] != sb[y] and sa[x] != 1 and sb[y] != 1:
            raise _err(f"contracted dimensions need to match, but first has size {sa[x]} in dim "
                       f"{u} and second has size {sb[y]} in dim {v}", "fix dims or the shapes")
    la = list(range(na))
    lb = [la[da[db.index(j)]] if j in db else na + j for j in range(nb)]
    res = _einsum_rec([a, b], [la, lb], [x for x in la if x not in da] +
                      [x for x in lb if x >= na], "ViewBackward0")
    return res if out is None else _out("tensordot", out, res._data, a, b)


@register("inner")
def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dimension of both (a number times a tensor if one is 0-d)."""
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    if input._data.shape[-1] != other._data.shape[-1]:
        raise _err(f"inner() the last dimension must match on both input tensors but got shapes "
                   f"{list(input.shape)} and {list(other.shape)}", "the last sizes must agree")
    return tensordot(input, other, ([-1], [-1]))

