"""Matrix products: matmul (``@``), mm, bmm, mv, dot, outer, einsum, addmm, trace, det, inverse.

Forward passes are one BLAS call (``ndarray.dot`` for matrices, the fastest NumPy entry point, or
``np.matmul``); N-D @ matrix is folded into one matrix product like torch does.  Backward rules
compute only the gradients whose inputs need them and work on arrays or Tensors (double backward).
torch decomposes ``matmul`` into several nodes (view, mm, unsafe_view ...); ember records a single
node named like torch's outermost one.  ``einsum`` is one node as well, named like torch's root.
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
    needs,
    new,
    ns,
    record,
    register,
    unary,
    wrap_dim,
)

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "inner", "einsum",
           "tensordot", "addmm", "trace", "det", "inverse", "cross"]

_ND = np.ndarray
_ST = {"float16": "Half", "float32": "Float", "float64": "Double", "complex64": "ComplexFloat",
       "complex128": "ComplexDouble", "int8": "Char", "int16": "Short", "int32": "Int",
       "int64": "Long", "uint8": "Byte", "bool": "Bool"}
_CPP = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char",
        "complex64": "c10::complex<float>", "complex128": "c10::complex<double>",
        "int16": "short int", "int32": "int", "int64": "long int", "uint8": "unsigned char",
        "bool": "bool"}
_I64 = np.dtype(np.int64)


def _st(d: np.dtype) -> str:
    return _ST.get(d.name, d.name)


def _err(msg: str, hint: str, cls: type = RuntimeError) -> Exception:
    return cls(f"{msg}{'' if msg.endswith('.') else '.'} Hint: {hint}")


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
    return new(out, (n, 0))


def _mm(x: Any, y: Any) -> Any:
    """x @ y for arrays (``ndarray.dot``: BLAS, least overhead) or Tensors (recorded)."""
    return x.dot(y) if type(x) in _ARR else matmul(x, y)


def _out(fn: str, out: Tensor, r: Any, *inputs: Tensor) -> Tensor:
    if STATE.enabled and any(t._edge is not None for t in inputs):
        raise _err(f"{fn}(): functions with out=... arguments don't support automatic "
                   "differentiation, but one of the arguments requires grad.",
                   "drop out= or run under ember.no_grad()")
    r = np.asarray(r)
    if out._data.shape != r.shape:
        out._data = np.array(r, dtype=out._data.dtype)
    else:
        out._array()[...] = r
    out._bump()
    return out


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


# ------------------------------------------------------------------------------ einsum
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
    if view:
        ts[0]._share_vc()  # before saving it: the saved version must be the shared counter's
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


# ------------------------------------------------------------------------------ linalg
class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a matrix that the factorisation cannot handle."""


def _square(fn: str, a: Any) -> None:
    if a.ndim < 2:
        raise _err(f"{fn}: The input tensor A must have at least 2 dimensions.",
                   "pass a matrix or a batch of matrices")
    if a.shape[-1] != a.shape[-2]:
        raise _err(f"{fn}: A must be batches of square matrices, but they are {a.shape[-2]} by "
                   f"{a.shape[-1]} matrices", "pass square matrices")
    if a.dtype.kind not in "fc":
        raise _err(f"{fn}: Expected a floating point or complex tensor as input. Got "
                   f"{_st(a.dtype)}", "convert first, e.g. A.double()")


def _zero_pivot(m: Any) -> int:
    """1-based index of the first zero pivot of LU with partial pivoting (LAPACK getrf's info)."""
    u = np.array(m, dtype=m.dtype)
    for j in range(u.shape[0]):
        p = j + int(np.argmax(np.abs(u[j:, j])))
        if u[p, j] == 0:
            return j + 1
        u[[j, p]] = u[[p, j]]
        u[j + 1:] -= np.outer(u[j + 1:, j] / u[j, j], u[j])
    return 0


class LinalgInvExBackward0(Node):
    """out = A^-1;  dA = -out^T @ g @ out^T."""

    def backward(self, g: Any) -> tuple:
        xp = ns(g)
        it = xp.mT(self._result(g))
        return (-xp.matmul(xp.matmul(it, g), it),)


@register("inverse")
def inverse(input: Tensor) -> Tensor:
    """The inverse A^-1 of a square matrix (or of each matrix of a batch)."""
    a = input._data
    _square("linalg.inv", a)
    try:
        r = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        flat = a.reshape(-1, *a.shape[-2:])
        piv = [_zero_pivot(m) for m in flat]
        k = next((i for i, p in enumerate(piv) if p), 0)
        pre = f"(Batch element {k}): " if a.ndim > 2 else ""
        raise _err(f"linalg.inv: {pre}The diagonal element {piv[k] or 1} is zero, the inversion "
                   "could not be completed because the input matrix is singular.",
                   "the matrix has no inverse; regularise it (A + eps * I) or use a "
                   "pseudo-inverse", LinAlgError) from None
    return unary(LinalgInvExBackward0, input, r, save_out=True)


inv = inverse


class LinalgDetBackward0(Node):
    """out = det(A);  dA = g * det(A) * A^-T (the cofactor matrix)."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        out = self._result(g)
        if type(g) in _ARR:
            try:
                cof = out[..., None, None] * np.swapaxes(np.linalg.inv(a), -1, -2)
            except np.linalg.LinAlgError:  # singular: cofactors from the SVD
                u, s, vh = np.linalg.svd(a)
                p = np.stack([np.prod(np.delete(s, i, -1), -1) for i in range(s.shape[-1])], -1)
                sign = np.linalg.det(u) * np.linalg.det(vh)
                cof = (sign[..., None, None] * u * p[..., None, :]) @ vh
            return (np.asarray(g)[..., None, None] * cof,)
        c = (g * out).unsqueeze(-1).unsqueeze(-1)  # type: ignore[attr-defined]
        return (c * mT(inverse(a)),)


@register("det")
def det(input: Tensor) -> Tensor:
    """Determinant of a square matrix (or of each matrix of a batch)."""
    a = input._data
    _square("linalg.det", a)
    return unary(LinalgDetBackward0, input, np.linalg.det(a)[()], save_input=True, save_out=True)


class LinalgCrossBackward0(Node):
    """out = a x b along dim;  da = b x g, db = g x a."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        d = self.dim
        f = _np_cross if type(g) in _ARR else linalg_cross
        return ((f(b, g, dim=d) if needs(self, 0) else None),
                (f(g, a, dim=d) if needs(self, 1) else None))


def _np_cross(a: Any, b: Any, dim: int) -> Any:
    return np.cross(a, b, axis=dim)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (torch.linalg.cross; inputs broadcast)."""
    a, b = input._data, other._data
    if a.ndim != b.ndim:
        raise _err("linalg.cross: inputs must have the same number of dimensions.",
                   "unsqueeze the smaller one")
    if a.dtype != b.dtype:
        raise _err(f"expected scalar type {_st(a.dtype)} but found {_st(b.dtype)}",
                   "cross does not promote: convert one first")
    d = wrap_dim(dim, a.ndim) - a.ndim
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise _err(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                   f"{a.shape[d]} and {b.shape[d]}", "cross is defined for 3-vectors")
    check_broadcast(a.shape, b.shape)
    r = np.cross(a, b, axis=d)
    meta = None
    if a.shape != r.shape or b.shape != r.shape:
        meta = (None if a.shape == r.shape else (a.shape, None),
                None if b.shape == r.shape else (b.shape, None))
    return record(LinalgCrossBackward0, (input, other), r, saved=(input, other), meta=meta,
                  dim=d)


@register("cross")
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """Cross product along ``dim`` (default: the first dimension of size 3, with a warning)."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                      "default value of dim will change to agree with that of linalg.cross in a "
                      "future release.", UserWarning, stacklevel=2)
        shape = np.broadcast_shapes(input._data.shape, other._data.shape)
        if 3 not in shape:
            raise _err("no dimension of size 3 in input", "pass dim= explicitly")
        dim = shape.index(3)
    return linalg_cross(input, other, dim=dim)
