"""Shape ops, views: reshape, view, flatten, permute, transpose, t, .T/.mT/.mH/.H, movedim,
squeeze, unsqueeze, expand, broadcast_to.

Joins and splits (and narrow, a one-piece split) live in join.py, copying rearrangements
(repeat, flip, roll, tril, diagonals) in rearrange.py; this module re-exports them so
``ember.ops.shape`` keeps its full ``__all__``.

View ops return tensors whose ``_data`` is a NumPy view of the input's and register themselves
with ``as_view`` (so in-place writes through a view reach the base).  Hot ops (reshape, view,
permute, transpose, unsqueeze, expand) build their node inline; first-order backward rules call
ndarray methods directly where a Tensor method of the same name and meaning exists
(``g.reshape``, ``g.squeeze``, ``g.swapaxes``), so they run unchanged on Tensors.
"""

from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import _wrap_dim
from ._core import STATE, E, Node, Tensor, as_view, mark, new, ns, register
from ._ns import strided_broadcast
from ._shapeutil import (
    _SEQ,
    _UNSQ,
    _VIEW_MSG,
    _arr,
    _expand_shape,
    _infer,
    _ints,
    _mk,
    _nd,
)
from .conversion import CloneBackward0
from .join import (
    atleast_1d,
    atleast_2d,
    broadcast_shapes,
    broadcast_tensors,
    cat,
    chunk,
    concat,
    concatenate,
    hstack,
    narrow,
    split,
    stack,
    unbind,
    vstack,
)
from .rearrange import (
    diag,
    diag_embed,
    diagonal,
    diagonal_scatter,
    flip,
    fliplr,
    flipud,
    roll,
    tile,
    tril,
    triu,
)

__all__ = ["reshape", "permute", "transpose", "swapaxes", "swapdims", "t", "adjoint", "squeeze",
           "unsqueeze", "flatten", "unflatten", "broadcast_to", "broadcast_tensors",
           "broadcast_shapes", "tile", "cat", "concat", "concatenate", "stack", "hstack",
           "vstack", "atleast_1d", "atleast_2d", "split", "chunk", "unbind", "flip", "fliplr",
           "flipud", "roll", "tril", "triu", "narrow", "movedim", "moveaxis", "diagonal", "diag",
           "diag_embed", "diagonal_scatter"]


# ------------------------------------------------------------------------ reshape / view
class ViewBackward0(Node):
    """out = a viewed in a new shape;  da = g reshaped to a's shape."""

    def backward(self, g: Any) -> tuple:
        return (g.reshape(self.shape),)


class UnsafeViewBackward0(ViewBackward0):
    """out = copy of a in a new shape (reshape of a non-viewable tensor);  da = g reshaped."""


class ReshapeAliasBackward0(ViewBackward0):
    """out = reshape of a non-contiguous a that strides allow as a view;  da = g reshaped."""


def _reshape(x: Tensor, shape: tuple, view: bool, fname: str, arg: str) -> Tensor:
    d = x._data
    if d.__class__ is not _nd:
        d = x._array()
    contig = d.flags.c_contiguous
    try:
        out = d.reshape(shape) if contig else d.reshape(shape, copy=False)
    except (ValueError, TypeError):
        shape = _infer(shape, d.size, fname, arg)  # raises torch's error for a bad shape
        if view:
            raise RuntimeError(
                _VIEW_MSG + f" Hint: the input (shape {list(d.shape)}, strides "
                f"{list(x.stride())}) is not contiguous; call .contiguous() first."
            ) from None
        out = d.reshape(shape)  # a copy: torch records clone + _unsafe_view
        e = x._edge
        if e is None or not STATE.enabled:
            return new(out, None)
        c = CloneBackward0()
        c._next = (e,)
        n = UnsafeViewBackward0()
        n._next = ((c, 0),)
        n.shape = d.shape
        mark(n)
        return new(out, (n, 0))
    if out.shape != shape:
        _infer(shape, d.size, fname, arg)  # -1 was inferred (or odd entries): check like torch
    oshape = out.shape
    e = x._edge
    if view:
        fn = lambda s: s.view(oshape)  # noqa: E731
    else:
        fn = lambda s: s.reshape(oshape)  # noqa: E731
    if e is None or not STATE.enabled:
        return as_view(new(out, None), x, fn)
    n = ViewBackward0() if contig or view else ReshapeAliasBackward0()
    n._next = (e,)
    n.shape = d.shape
    mark(n)
    return as_view(new(out, (n, 0)), x, fn)


@register("reshape")
def reshape(input: Tensor, *size: Any, shape: Any = None) -> Tensor:
    """The same elements in a new shape (-1 inferred): a view when strides allow, else a copy."""
    if shape is None:
        shape = size
        if len(size) == 1 and isinstance(size[0], _SEQ):
            shape = tuple(size[0])
        elif not size:
            raise TypeError('reshape() missing 1 required positional arguments: "shape"')
    return _reshape(input, tuple(shape), False, "reshape", "shape")


@register("view")
def view(input: Tensor, *size: Any) -> Tensor:
    """A view with a new shape (-1 inferred); errors when the strides do not allow one."""
    if len(size) == 1:
        s = size[0]
        if isinstance(s, _SEQ):
            size = tuple(s)
        elif isinstance(s, D.dtype) or (isinstance(s, type) and s in (float, int, bool)):
            return _view_dtype(input, D.to_np(s))
    elif not size:
        raise TypeError("view() received an invalid combination of arguments - got ()")
    return _reshape(input, size, True, "view", "size")


def _view_dtype(x: Tensor, npd: np.dtype) -> Tensor:
    d = _arr(x)
    try:
        out = d.view(npd)
    except ValueError as err:
        raise RuntimeError(
            f"view(dtype): cannot view {x.dtype} of shape {list(d.shape)} as {D.from_np(npd)}: "
            f"{err}. Hint: the last dimension must be contiguous and divisible by the size ratio."
        ) from None
    return as_view(new(out, None), x, lambda s: s.view(D.from_np(npd)))


@register("view_as")
def view_as(input: Tensor, other: Tensor) -> Tensor:
    """input.view(other.shape)."""
    return _reshape(input, other._data.shape, True, "view", "size")


@register("reshape_as")
def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """input.reshape(other.shape)."""
    return _reshape(input, other._data.shape, False, "reshape", "shape")


@register("flatten")
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one (the input itself when there is nothing to merge)."""
    d = input._data
    nd = d.ndim
    if start_dim == 0 and end_dim == -1 and nd > 1:
        return _reshape(input, (d.size,), False, "reshape", "shape")
    s, e = _wrap_dim(start_dim, nd), _wrap_dim(end_dim, nd)
    if nd == 0:
        return _reshape(input, (1,), False, "reshape", "shape")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shp = d.shape
    n = 1
    for k in shp[s:e + 1]:
        n *= k
    return _reshape(input, shp[:s] + (n,) + shp[e + 1:], False, "reshape", "shape")


@register("unflatten")
def unflatten(input: Tensor, dim: int, sizes: Any) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one -1 inferred); a view."""
    d = input._data
    if d.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = _wrap_dim(dim, d.ndim)
    sizes = _ints(sizes, "unflatten", "sizes")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = d.shape[dim]
    try:
        new_sizes = _infer(sizes, n, "unflatten", "sizes")
    except RuntimeError as err:
        if "inferred" in str(err):
            raise
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({n}) in the input tensor"
        ) from None
    return _reshape(input, d.shape[:dim] + new_sizes + d.shape[dim + 1:], True, "view", "size")


# ------------------------------------------------------------------------ permutations
class PermuteBackward0(Node):
    """out = a with dims permuted;  da = g permuted back (inverse permutation)."""

    def backward(self, g: Any) -> tuple:
        dims = self.dims
        n = len(dims)
        inv = [0] * n
        for i, p in enumerate(dims):
            inv[p if p >= 0 else p + n] = i
        if g.__class__ is _nd:
            return (g.transpose(inv),)
        return (ns(g).permute(g, inv),)


@register("permute")
def permute(input: Tensor, *args: Any, dims: Any = None) -> Tensor:
    """The tensor with its dimensions reordered as ``dims`` (a view)."""
    if dims is None:
        dims = args
        if len(args) == 1 and isinstance(args[0], _SEQ):
            dims = tuple(args[0])
        elif not args:
            raise TypeError('permute() missing 1 required positional arguments: "dims"')
    d = input._data
    if d.__class__ is not _nd:
        d = input._array()
    nd = d.ndim
    if len(dims) != nd:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            "length of the desired ordering of dimensions i.e. input.dim() = "
            f"{nd} is not equal to len(dims) = {len(dims)}"
        )
    try:
        out = d.transpose(dims)
    except (ValueError, TypeError, IndexError):
        dims = _ints(dims, "permute", "dims")
        w = [_wrap_dim(k, nd) for k in dims]
        raise RuntimeError(
            f"permute(): duplicate dims are not allowed. Hint: got dims {list(dims)} "
            f"(normalised {w}); each dimension must appear exactly once."
        ) from None
    dims = tuple(dims)
    e = input._edge
    fn = lambda s: s.permute(dims)  # noqa: E731
    if e is None or not STATE.enabled:
        return as_view(new(out, None), input, fn)
    n = PermuteBackward0()
    n._next = (e,)
    n.dims = dims
    mark(n)
    return as_view(new(out, (n, 0)), input, fn)


class TransposeBackward0(Node):
    """out = a with dims d0, d1 swapped;  da = g with them swapped back."""

    def backward(self, g: Any) -> tuple:
        d0, d1 = self.d0, self.d1
        return (g if d0 == d1 else g.swapaxes(d0, d1),)


@register("transpose")
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """The tensor with dims ``dim0`` and ``dim1`` swapped (a view)."""
    d = input._data
    if d.__class__ is not _nd:
        d = input._array()
    try:
        out = d.swapaxes(dim0, dim1)
    except (ValueError, TypeError, IndexError):
        nd = d.ndim
        _wrap_dim(operator.index(dim0), nd), _wrap_dim(operator.index(dim1), nd)  # IndexError
        if nd:
            raise
        out = d.view()  # 0-d: transpose(0, -1) is allowed and does nothing
        dim0 = dim1 = 0
    e = input._edge
    fn = lambda s: s.transpose(dim0, dim1)  # noqa: E731
    if e is None or not STATE.enabled:
        return as_view(new(out, None), input, fn)
    n = TransposeBackward0()
    n._next = (e,)
    n.d0, n.d1 = dim0, dim1
    mark(n)
    return as_view(new(out, (n, 0)), input, fn)


@register("swapaxes")
def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """transpose(input, axis0, axis1)."""
    return transpose(input, axis0, axis1)


@register("swapdims")
def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """transpose(input, dim0, dim1)."""
    return transpose(input, dim0, dim1)


class TBackward0(Node):
    """out = a.t() (2-D transpose; identity for < 2 dims);  da = g.t()."""

    def backward(self, g: Any) -> tuple:
        return (g.swapaxes(0, 1) if g.ndim == 2 else g,)


@register("t")
def t(input: Tensor) -> Tensor:
    """Transpose of a matrix (<= 2-D; 0-D and 1-D tensors come back as views of themselves)."""
    d = _arr(input)
    nd = d.ndim
    if nd > 2:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 dimensions, but self is {nd}D. Hint: use "
            ".transpose(dim0, dim1) or .mT for batches of matrices."
        )
    return _mk(TBackward0, input, d.T if nd == 2 else d.view(), lambda s: s.t())


def _conj(x: Tensor) -> Tensor:
    return x.conj() if x._data.dtype.kind == "c" else x  # type: ignore[attr-defined]


def _T(self: Tensor) -> Tensor:  # noqa: N802
    nd = self._data.ndim
    if nd == 2:
        return permute(self, (1, 0))
    if nd == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in "
                      "these cases.", UserWarning, stacklevel=2)
    else:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to "
            "reverse the dimensions of a tensor.", UserWarning, stacklevel=2)
    return permute(self, tuple(range(nd - 1, -1, -1)))


def _matrix_t(self: Tensor, name: str, conj: bool) -> Tensor:
    nd = self._data.ndim
    if nd >= 2:
        r = transpose(self, -2, -1)
        return _conj(r) if conj else r
    if nd == 0:
        tail = ("Consider using x.conj()." if conj
                else "This function is the identity in these cases.")
        warnings.warn(f"Tensor.{name} is deprecated on 0-D tensors. {tail}", UserWarning,
                      stacklevel=3)
        return self
    what = "tensor.adjoint()" if name == "adjoint" else f"tensor.{name}"
    raise RuntimeError(
        f"{what} is only supported on matrices or batches of matrices. Got 1-D tensor."
    )


def _mT(self: Tensor) -> Tensor:  # noqa: N802
    return _matrix_t(self, "mT", False)


def _mH(self: Tensor) -> Tensor:  # noqa: N802
    return _matrix_t(self, "mH", True)


def _H(self: Tensor) -> Tensor:  # noqa: N802
    nd = self._data.ndim
    if nd == 2 or nd == 0:
        return _matrix_t(self, "H", True)
    raise RuntimeError(
        f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D tensor. For batches "
        "of matrices, consider using tensor.mH"
    )


@register("adjoint")
def adjoint(input: Tensor) -> Tensor:
    """Conjugate transpose of the last two dims (input.mH)."""
    return _matrix_t(input, "adjoint", True)


Tensor.T = property(_T)  # type: ignore[attr-defined]
Tensor.mT = property(_mT)  # type: ignore[attr-defined]
Tensor.mH = property(_mH)  # type: ignore[attr-defined]
Tensor.H = property(_H)  # type: ignore[attr-defined]
E.mT = _mT


@register("movedim", "moveaxis")
def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """Move dims ``source`` to positions ``destination``, keeping the others in order."""
    nd = input._data.ndim
    src = (source,) if not isinstance(source, _SEQ) else tuple(source)
    dst = (destination,) if not isinstance(destination, _SEQ) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)"
        )
    ws = [_wrap_dim(k, nd) for k in src]
    wd = [_wrap_dim(k, nd) for k in dst]
    for name, orig, w in (("source", src, ws), ("destination", dst, wd)):
        if len(set(w)) != len(w):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(orig)})")
    perm = [-1] * nd
    for s, d in zip(ws, wd, strict=True):
        perm[d] = s
    rest = iter(k for k in range(nd) if k not in ws)
    return permute(input, tuple(p if p >= 0 else next(rest) for p in perm))


moveaxis = movedim


# ------------------------------------------------------------------------ squeeze / unsqueeze
class SqueezeBackward0(Node):
    """out = a without its size-1 dims;  da = g reshaped to a's shape."""

    def backward(self, g: Any) -> tuple:
        return (g.reshape(self.shape),)


class SqueezeBackward1(SqueezeBackward0):
    """out = a.squeeze(dim);  da = g reshaped to a's shape."""


class SqueezeBackward2(SqueezeBackward0):
    """out = a.squeeze(dims);  da = g reshaped to a's shape."""


@register("squeeze")
def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """Remove size-1 dims (all, or those among ``dim``); a view."""
    d = _arr(input)
    shp = d.shape
    nd = d.ndim
    if dim is None:
        out, cls = d.squeeze(), SqueezeBackward0
    elif isinstance(dim, _SEQ):
        ws = [_wrap_dim(k, nd) for k in dim]
        for i, k in enumerate(ws):
            if k in ws[:i]:
                raise RuntimeError(f"dim {k} appears multiple times in the list of dims")
        axes = tuple(k for k in ws if nd and shp[k] == 1)
        out, cls = (d.squeeze(axes) if axes else d.view()), SqueezeBackward2
        dim = tuple(dim)
    else:
        k = _wrap_dim(dim, nd)
        out, cls = (d.squeeze(k) if nd and shp[k] == 1 else d.view()), SqueezeBackward1
    return _mk(cls, input, out, lambda s: s.squeeze(dim), {"shape": shp})


class UnsqueezeBackward0(Node):
    """out = a with a size-1 dim inserted at ``dim``;  da = g.squeeze(dim)."""

    def backward(self, g: Any) -> tuple:
        return (g.squeeze(self.dim),)



@register("unsqueeze")
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at position ``dim`` (a view)."""
    d = input._data
    if d.__class__ is not _nd:
        d = input._array()
    nd = d.ndim + 1
    k = dim + nd if dim < 0 else dim
    if not 0 <= k < nd or dim.__class__ is not int:
        if isinstance(dim, float):
            raise TypeError("unsqueeze(): argument 'dim' (position 1) must be int, not float")
        k = _wrap_dim(operator.index(dim), nd)
    dim = k
    out = d[_UNSQ[dim] if dim < 8 else (slice(None),) * dim + (None,)]
    e = input._edge
    fn = lambda s: s.unsqueeze(dim)  # noqa: E731
    if e is None or not STATE.enabled:
        return as_view(new(out, None), input, fn)
    n = UnsqueezeBackward0()
    n._next = (e,)
    n.dim = dim
    mark(n)
    return as_view(new(out, (n, 0)), input, fn)


# ------------------------------------------------------------------------ broadcasting
class ExpandBackward0(Node):
    """out = a broadcast to a larger shape;  da = g summed over the broadcast dims."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).sum_to(g, self.shape),)



@register("expand")
def expand(input: Tensor, *sizes: Any, size: Any = None) -> Tensor:
    """A view broadcasting size-1 dims (and new leading dims) to ``size``; -1 keeps a dim."""
    if size is None:
        size = sizes
        if len(sizes) == 1 and isinstance(sizes[0], _SEQ):
            size = tuple(sizes[0])
    d = input._data
    if d.__class__ is not _nd:
        d = input._array()
    shp = d.shape
    out = strided_broadcast(d, tuple(size))  # fast path: a strided read-only view of d
    if out is None:  # -1 entries, bad sizes (torch's errors), non-contiguous data
        size = _expand_shape(d, size)
        out = np.broadcast_to(d, size)
    return _mk(ExpandBackward0, input, out, lambda s: s.expand(size), {"shape": shp})


@register("expand_as")
def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """input.expand(other.shape)."""
    return expand(input, other._data.shape)


def broadcast_to(input: Tensor, size: Any) -> Tensor:
    """input.expand(size)."""
    return expand(input, tuple(size))


register("broadcast_to", namespace=False)(broadcast_to)
