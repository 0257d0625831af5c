"""Matrix products: matmul (``@``), mm, bmm, mv, dot, vdot, outer, addmm, trace (and mT).

Forward passes are one BLAS call (``ndarray.dot`` for matrices, the fastest NumPy entry point, or
``np.matmul``); N-D @ matrix is folded into one matrix product like torch does.  Backward rules
compute only the gradients whose inputs need them and work on arrays or Tensors (double backward).
torch decomposes ``matmul`` into several nodes (view, mm, unsafe_view ...); ember records a single
node named like torch's outermost one.  einsum, tensordot and inner live in einsum.py; det,
inverse and cross in linalg_extra.py; this module re-exports them (its ``__all__`` is unchanged).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import _dtype as D
from ..autograd.graph import ARRAY_TYPES as _ARR
from ..autograd.graph import _ver
from ._core import (
    NOEDGE,
    STATE,
    Node,
    Tensor,
    as_view,
    check_broadcast,
    mark,
    needs,
    new,
    ns,
    record,
    register,
    unary,
)
from ._linalg_common import _I64, _err, _out, _st
from .einsum import einsum, inner, tensordot
from .linalg_extra import LinAlgError, cross, det, inv, inverse, linalg_cross  # noqa: F401

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "inner", "einsum",
           "tensordot", "addmm", "trace", "det", "inverse", "cross"]

_CPP = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char",
        "complex64": "c10::complex<float>", "complex128": "c10::complex<double>",
        "int16": "short int", "int32": "int", "int64": "long int", "uint8": "unsigned char",
        "bool": "bool"}


def _x(s: tuple) -> str:
    return "x".join(map(str, s))


def _tensor_arg(fn: str, x: Any, name: str, pos: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _fail(kind: str, sa: tuple, sb: tuple, da: np.dtype, db: np.dtype) -> None:
    """Raise torch's error for kernel ``kind`` seeing operand shapes ``sa``, ``sb`` (or return)."""
    if kind == "dot":
        if da != db:
            raise _err(f"dot : expected both vectors to have same dtype, but found {_st(da)} and "
                       f"{_st(db)}", "matmul does not promote: convert one, e.g. b.to(a.dtype)")
        if sa != sb:
            raise _err(f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to "
                       f"have the same number of elements, but got {sa[0]} and {sb[0]} elements "
                       "respectively", "both vectors need the same length")
        op = "dot"
    elif kind == "mv":
        if sa[1] != sb[0]:
            raise _err(f"size mismatch, got input ({sa[0]}), mat ({_x(sa)}), vec ({sb[0]})",
                       "the vector's length must equal the matrix's last dimension")
        if da != db:
            raise _err(f"addmv input tensors must have the same dtype, but got {_st(db)}, "
                       f"{_st(da)}, and {_st(db)}", "matmul does not promote: convert one first")
        op = "addmv_impl_cpu"
    elif kind == "mm":
        if sa[1] != sb[0]:
            raise _err(f"mat1 and mat2 shapes cannot be multiplied ({_x(sa)} and {_x(sb)})",
                       "(n x k) @ (k x p) needs equal inner sizes; transpose one (x.mT) or fix the "
                       "layer sizes")
        if da != db:
            raise _err(f"expected m1 and m2 to have the same dtype, but got: {_CPP[da.name]} != "
                       f"{_CPP[db.name]}", "matmul does not promote: convert one, e.g. .float()")
        op = "addmm_impl_cpu_"
    else:
        if sa[0] != sb[0] or sa[2] != sb[1]:
            raise _err(f"Expected size for first two dimensions of batch2 tensor to be: "
                       f"[{sa[0]}, {sa[2]}] but got: [{sb[0]}, {sb[1]}].",
                       "batches of (n x k) @ (k x p) need equal k (and batch sizes)")
        if da != db:
            raise _err(f"expected scalar type {_st(da)} but found {_st(db)}",
                       "matmul does not promote: convert one, e.g. b.to(a.dtype)")
        op = "bmm"
    if da.kind == "b":
        raise NotImplementedError(f"\"{op}\" not implemented for 'Bool'")


def _rec(cls: type, x: Tensor, y: Tensor, out: Any, **attrs: Any) -> Tensor:
    """Record ``out = x (op) y``: saves ``y`` if ``x`` needs a gradient and ``x`` if ``y`` does."""
    ex, ey = x._edge, y._edge
    if (ex is None and ey is None) or not STATE.enabled:
        return new(out, None)
    n = cls()
    n._next = (ex or NOEDGE, ey or NOEDGE)
    n._saved = (x if ey is not None else None, y if ex is not None else None)
    n._vers = (_ver(x) if ey is not None else False, _ver(y) if ex is not None else False)
    if attrs:
        n.__dict__.update(attrs)
    mark(n)
    return new(out, (n, 0))


def _mm(x: Any, y: Any) -> Any:
    """x @ y for arrays (``ndarray.dot``: BLAS, least overhead) or Tensors (recorded)."""
    return x.dot(y) if type(x) in _ARR else matmul(x, y)


# ------------------------------------------------------------------------------ mT
class TransposeBackward0(Node):
    """out = a.mT (last two dims swapped);  da = g.mT."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).mT(g),)


@register()
def mT(input: Tensor) -> Tensor:  # noqa: N802 - torch's name
    """input with its last two dimensions swapped (a view; ``x.mT``)."""
    d = input._data
    if d.ndim < 2:
        if d.ndim == 0:
            warnings.warn("Tensor.mT is deprecated on 0-D tensors. This function is the identity "
                          "in these cases.", UserWarning, stacklevel=2)
            return input
        raise _err("tensor.mT is only supported on matrices or batches of matrices. Got 1-D "
                   "tensor.", "use x.unsqueeze(0) or x.unsqueeze(1) to make a matrix first")
    return as_view(unary(TransposeBackward0, input, np.swapaxes(d, -1, -2)), input, mT)


# ------------------------------------------------------------------------------ products
class DotBackward0(Node):
    """out = sum_i a_i b_i;  da = g * b, db = g * a."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        return (None if b is None else g * b), (None if a is None else g * a)


class VdotBackward0(DotBackward0):
    """out = sum_i conj(a_i) b_i (real: same as dot);  da = g * b, db = g * a."""


class MvBackward0(Node):
    """out = A @ v;  dA = outer(g, v), dv = A^T @ g."""

    def backward(self, g: Any) -> tuple:
        a, v = self._unpack(g)
        xp = ns(g)
        return (None if v is None else xp.outer(g, v)), (None if a is None else _mm(xp.mT(a), g))


class MmBackward0(Node):
    """out = A @ B (matrices);  dA = g @ B^T, dB = A^T @ g."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        if type(g) in _ARR:
            return (None if b is None else g.dot(b.T)), (None if a is None else a.T.dot(g))
        return (None if b is None else matmul(g, mT(b))), (None if a is None else matmul(mT(a), g))


class BmmBackward0(Node):
    """out = A @ B (batches of matrices);  dA = g @ B^T, dB = A^T @ g (per batch)."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        return ((None if b is None else xp.matmul(g, xp.mT(b))),
                (None if a is None else xp.matmul(xp.mT(a), g)))


class SqueezeBackward4(Node):
    """out = v @ B (vector @ matrix);  dv = B @ g, dB = outer(v, g)."""

    def backward(self, g: Any) -> tuple:
        v, b = self._unpack(g)
        return (None if b is None else _mm(b, g)), (None if v is None else ns(g).outer(v, g))


class MatmulBackward(Node):
    """out = a @ b with N-D operands (batch dims broadcast, 1-D operands promoted);
    da = g @ b^T, db = a^T @ g, each summed back to its input's shape.  Named like torch's root.
    """

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        sa, sb = self.sa, self.sb
        rows = math.prod(sa[:-1])  # a's leading dims folded (no -1: sizes may be 0)
        ga = gb = None
        if b is not None:
            if len(sa) == 1:  # (batch.., 1, p) @ (batch.., p, k) -> summed to (k,)
                ga = xp.sum_to(xp.matmul(xp.unsqueeze(g, -2), xp.mT(b)), sa)
            elif len(sb) == 1:
                ga = xp.unsqueeze(g, -1) * b
            elif len(sb) == 2:  # fold the batch into rows: one matrix product
                ga = xp.reshape(_mm(xp.reshape(g, (rows, sb[1])), xp.mT(b)), sa)
            else:
                ga = xp.matmul(g, xp.mT(b))
                if ga.shape != sa:
                    ga = xp.sum_to(ga, sa)
        if a is not None:
            if len(sb) == 1:
                gb = xp.matmul(xp.reshape(g, (rows,)), xp.reshape(a, (rows, sa[-1])))
            elif len(sa) == 1:
                gb = xp.unsqueeze(a, -1) * xp.unsqueeze(g, -2)
            elif len(sa) >= 3 and len(sb) == 2:
                gb = _mm(xp.mT(xp.reshape(a, (rows, sa[-1]))), xp.reshape(g, (rows, sb[1])))
            else:
                gb = xp.matmul(xp.mT(a), g)
                if gb.shape != sb:
                    gb = xp.sum_to(gb, sb)
        return ga, gb


def _rows_contig(shape: tuple, strides: tuple) -> bool:
    """torch's should_fold test: can the leading dims be flattened without a copy?"""
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(len(shape) - 1))


def _nd_fail(x: Tensor, y: Tensor, a: Any, b: Any) -> None:
    """Raise the error torch's matmul raises for N-D operands (it depends on torch's path)."""
    na, nb, sa, sb = a.ndim, b.ndim, a.shape, b.shape
    it = a.itemsize
    if na >= 3 and nb <= 2 and (y._edge is not None or a.size == 0 or _rows_contig(
            sa, tuple(s // it for s in a.strides))):
        rows = int(np.prod(sa[:-1]))
        _fail("mm" if nb == 2 else "mv", (rows, sa[-1]), sb, a.dtype, b.dtype)
    if nb >= 3 and na <= 2:
        st = tuple(s // b.itemsize for s in b.strides)
        t_shape, t_st = sb[:-2] + (sb[-1], sb[-2]), st[:-2] + (st[-1], st[-2])
        if x._edge is not None or (na == 1 and (b.size == 0 or _rows_contig(t_shape, t_st))):
            rows = int(np.prod(t_shape[:-1]))
            if na == 1:
                _fail("mv", (rows, sb[-2]), sa, b.dtype, a.dtype)
            _fail("mm", (rows, sb[-2]), (sa[1], sa[0]), b.dtype, a.dtype)
    ba, bb = sa[:-2], sb[:-2]
    if na > 2 and nb > 2:
        check_broadcast(ba, bb)
    bsz = int(np.prod(np.broadcast_shapes(ba, bb)))
    _fail("bmm", (bsz, sa[-2] if na > 1 else 1, sa[-1]),
          (bsz, sb[-2] if nb > 1 else sb[0], sb[-1] if nb > 1 else 1), a.dtype, b.dtype)


def _matmul_nd(x: Tensor, y: Tensor, a: Any, b: Any) -> Tensor:
    na, nb, sa, sb = a.ndim, b.ndim, a.shape, b.shape
    if na == 0 or nb == 0:
        raise _err(f"both arguments to matmul need to be at least 1D, but they are {na}D and "
                   f"{nb}D", "use * for products with scalars")
    if na > 2 and nb > 2 and sa[:-2] != sb[:-2]:
        check_broadcast(sa[:-2], sb[:-2])
    if sa[-1] != (sb[-2] if nb > 1 else sb[0]) or a.dtype != b.dtype or a.dtype.kind == "b":
        _nd_fail(x, y, a, b)
    if na >= 3 and nb <= 2 and a.flags.c_contiguous:  # fold the batch: one BLAS call
        r = a.reshape(math.prod(sa[:-1]), sa[-1]).dot(b).reshape(sa[:-1] + sb[1:])
    else:
        r = np.matmul(a, b)
    name = "UnsafeViewBackward0"
    if na == 2 and nb >= 3 and x._edge is not None:
        name = "TransposeBackward0" if (sa[0] == 1 or sb[-1] == 1 or r.size == 0) else \
            "CloneBackward0"
    return _rec(MatmulBackward, x, y, r, _name=name, sa=sa, sb=sb)


@register("matmul")
def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with torch's rules: dot, mv, mm, or batched with broadcast batch dims."""
    if type(input) is not Tensor or type(other) is not Tensor:
        _tensor_arg("matmul", input, "input", 1)
        _tensor_arg("matmul", other, "other", 2)
    a, b = input._data, other._data
    na, nb = a.ndim, b.ndim
    if na == 2 and nb == 2:
        if a.shape[1] != b.shape[0] or a.dtype != b.dtype or a.dtype.kind == "b":
            _fail("mm", a.shape, b.shape, a.dtype, b.dtype)
        if out is not None:
            return _out("matmul", out, a.dot(b), input, other)
        return _rec(MmBackward0, input, other, a.dot(b))
    if na == 1 and nb == 1:
        r = dot(input, other)
    elif na == 2 and nb == 1:
        r = mv(input, other)
    elif na == 1 and nb == 2:
        if a.shape[0] != b.shape[0] or a.dtype != b.dtype or a.dtype.kind == "b":
            _fail("mm", (1, a.shape[0]), b.shape, a.dtype, b.dtype)
        r = _rec(SqueezeBackward4, input, other, a.dot(b))
    else:
        r = _matmul_nd(input, other, a, b)
    return r if out is None else _out("matmul", out, r._data, input, other)


def _matmul_op(self: Tensor, other: Any) -> Any:
    return matmul(self, other) if isinstance(other, Tensor) else NotImplemented


def _rmatmul_op(self: Tensor, other: Any) -> Any:
    return matmul(other, self) if isinstance(other, Tensor) else NotImplemented


Tensor.__matmul__ = _matmul_op  # type: ignore[attr-defined]
Tensor.__rmatmul__ = _rmatmul_op  # type: ignore[attr-defined]


@register("mm")
def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product of two matrices: out_ij = sum_k input_ik mat2_kj."""
    _tensor_arg("mm", mat2, "mat2", 2)
    a, b = input._data, mat2._data
    if a.ndim != 2 or b.ndim != 2:
        raise _err(f"{'self' if a.ndim != 2 else 'mat2'} must be a matrix",
                   "mm takes 2-D tensors; use matmul (@) for other shapes")
    if a.shape[1] != b.shape[0] or a.dtype != b.dtype or a.dtype.kind == "b":
        _fail("mm", a.shape, b.shape, a.dtype, b.dtype)
    if out is not None:
        return _out("mm", out, a.dot(b), input, mat2)
    return _rec(MmBackward0, input, mat2, a.dot(b))


@register("bmm")
def bmm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Batched matrix product: out_b = input_b @ mat2_b (3-D tensors, no broadcasting)."""
    _tensor_arg("bmm", mat2, "mat2", 2)
    a, b = input._data, mat2._data
    if a.ndim != 3 or b.ndim != 3:
        raise _err(f"batch{1 if a.ndim != 3 else 2} must be a 3D tensor",
                   "bmm takes (b, n, k) and (b, k, p); use matmul (@) to broadcast")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1] or a.dtype != b.dtype or \
            a.dtype.kind == "b":
        _fail("bmm", a.shape, b.shape, a.dtype, b.dtype)
    r = np.matmul(a, b)
    if out is not None:
        return _out("bmm", out, r, input, mat2)
    return _rec(BmmBackward0, input, mat2, r)


@register("mv")
def mv(input: Tensor, vec: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix-vector product: out_i = sum_k input_ik vec_k."""
    _tensor_arg("mv", vec, "vec", 2)
    a, b = input._data, vec._data
    if a.ndim != 2 or b.ndim != 1:
        raise _err(f"vector + matrix @ vector expected, got 1, {a.ndim}, {b.ndim}",
                   "mv takes a 2-D matrix and a 1-D vector")
    if a.shape[1] != b.shape[0] or a.dtype != b.dtype or a.dtype.kind == "b":
        _fail("mv", a.shape, b.shape, a.dtype, b.dtype)
    if out is not None:
        return _out("mv", out, a.dot(b), input, vec)
    return _rec(MvBackward0, input, vec, a.dot(b))


def _dot_check(a: Any, b: Any) -> None:
    if a.ndim != 1 or b.ndim != 1:
        raise _err(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors",
                   "dot takes two vectors; use matmul (@) or (a * b).sum() otherwise")
    if a.shape != b.shape or a.dtype != b.dtype or a.dtype.kind == "b":
        _fail("dot", a.shape, b.shape, a.dtype, b.dtype)


@register("dot")
def dot(input: Tensor, tensor: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inner product of two vectors: sum_i input_i tensor_i."""
    _tensor_arg("dot", tensor, "tensor", 2)
    a, b = input._data, tensor._data
    _dot_check(a, b)
    if out is not None:
        return _out("dot", out, a.dot(b), input, tensor)
    return _rec(DotBackward0, input, tensor, a.dot(b))


@register("vdot")
def vdot(input: Tensor, other: Tensor) -> Tensor:
    """Conjugated inner product of two vectors: sum_i conj(input_i) other_i."""
    _tensor_arg("vdot", other, "other", 2)
    a, b = input._data, other._data
    _dot_check(a, b)
    return _rec(VdotBackward0, input, other, np.vdot(a, b)[()])


class OuterBackward(Node):
    """out = outer(a, b) = a_i b_j;  da = g @ b, db = a @ g (torch records MulBackward0)."""

    _name = "MulBackward0"

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        return (None if b is None else _mm(g, b)), (None if a is None else _mm(a, g))


@register("outer", "ger")
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two vectors: out_ij = input_i vec2_j (dtypes promote)."""
    _tensor_arg("outer", vec2, "vec2", 2)
    a, b = input._data, vec2._data
    for nm, d in (("self", a), ("vec2", b)):
        if d.ndim != 1:
            raise _err(f"outer: Expected 1-D argument {nm}, but got {d.ndim}-D",
                       "flatten it first (x.reshape(-1))")
    dt = D.result_type(a, b)
    r = np.multiply.outer(a, b).astype(dt, copy=False)
    meta = None
    if a.dtype != dt or b.dtype != dt:
        meta = tuple(None if d.dtype == dt else (d.shape, d.dtype) for d in (a, b))
    return record(OuterBackward, (input, vec2), r, saved=(input, vec2), meta=meta)


ger = outer


class AddmmBackward0(Node):
    """out = beta*c + alpha*(A @ B);  dc = beta*g, dA = alpha*g @ B^T, dB = alpha*A^T @ g."""

    alpha = beta = 1

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        al, be = self.alpha, self.beta
        g2 = g if al == 1 else g * al
        gc = (g if be == 1 else g * be) if needs(self, 0) else None
        if type(g) in _ARR:
            return gc, (None if b is None else g2.dot(b.T)), (None if a is None else a.T.dot(g2))
        return gc, (None if b is None else matmul(g2, mT(b))), (
            None if a is None else matmul(mT(a), g2))


@register("addmm")
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1,
          out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2) (input broadcast to the product's shape)."""
    _tensor_arg("addmm", mat1, "mat1", 2)
    _tensor_arg("addmm", mat2, "mat2", 3)
    c, a, b = input._data, mat1._data, mat2._data
    for x, nm in ((c, "self"), (a, "mat1")):
        if x.dtype != b.dtype:
            raise _err(f"{nm} and mat2 must have the same dtype, but got {_st(x.dtype)} and "
                       f"{_st(b.dtype)}", "addmm does not promote: convert first")
    for x, nm in ((a, "mat1"), (b, "mat2")):
        if x.ndim != 2:
            raise _err(f"{nm} must be a matrix, got {x.ndim}-D tensor", "addmm takes matrices")
    if a.shape[1] != b.shape[0] or a.dtype.kind == "b":
        _fail("mm", a.shape, b.shape, a.dtype, b.dtype)
    oshape = (a.shape[0], b.shape[1])
    if c.ndim > 2:
        raise _err(f"expand(ember.{_st(c.dtype)}Tensor{{{list(c.shape)}}}, size="
                   f"{list(oshape)}): the number of sizes provided (2) must be greater or equal to "
                   f"the number of dimensions in the tensor ({c.ndim})", "input must be <= 2-D")
    for i in (1, 0):
        j = i - 2 + c.ndim
        if j >= 0 and c.shape[j] not in (1, oshape[i]):
            raise _err(f"The expanded size of the tensor ({oshape[i]}) must match the existing "
                       f"size ({c.shape[j]}) at non-singleton dimension {i}.  Target sizes: "
                       f"{list(oshape)}.  Tensor sizes: {list(c.shape)}",
                       "input must broadcast to (mat1.shape[0], mat2.shape[1])")
    if a.dtype.kind in "iu":
        alpha, beta = int(alpha), int(beta)
    r = a.dot(b)
    if alpha != 1:
        r *= alpha
    if beta != 0:
        r += c if beta == 1 else c * beta
    if out is not None:
        return _out("addmm", out, r, input, mat1, mat2)
    meta = None if c.shape == oshape else ((c.shape, None), None, None)
    ea, eb = mat1._edge, mat2._edge
    saved = (mat1 if eb is not None else None, mat2 if ea is not None else None)
    if alpha == 1 and beta == 1:
        return record(AddmmBackward0, (input, mat1, mat2), r, saved=saved, meta=meta)
    return record(AddmmBackward0, (input, mat1, mat2), r, saved=saved, meta=meta, alpha=alpha,
                  beta=beta)


class TraceBackward0(Node):
    """out = sum_i a_ii;  da = g * I (g on the diagonal, zeros elsewhere)."""

    def backward(self, g: Any) -> tuple:
        arr = type(g) in _ARR
        eye = np.eye(*self.shape, dtype=g.dtype if arr else g._data.dtype)
        return (g * (eye if arr else new(eye, None)),)


@register("trace")
def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix (integers sum in int64)."""
    a = input._data
    if a.ndim != 2:
        raise _err(f"trace: expected a matrix, but got tensor with dim {a.ndim}",
                   "trace takes a 2-D tensor; use x.diagonal(dim1=-2, dim2=-1).sum(-1) for batches")
    if a.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    r = np.trace(a, dtype=_I64 if a.dtype.kind in "iu" else a.dtype)
    return unary(TraceBackward0, input, r, shape=a.shape)
