"""Matrix functions: det, inverse (and its LinAlgError), cross (re-exported by linalg.py)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..autograd.graph import ARRAY_TYPES as _ARR
from ._core import Node, Tensor, check_broadcast, needs, ns, record, register, unary, wrap_dim
from ._linalg_common import _err, _st

__all__ = ["det", "inverse", "cross"]


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
        xp = ns(g)
        c = xp.unsqueeze(xp.unsqueeze(g * out, -1), -1)
        return (c * xp.mT(inverse(a)),)


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
