"""Shape ops: views (reshape, view, permute, transpose, squeeze, unsqueeze, expand, narrow ...),
joins and splits (cat, stack, split, chunk, unbind), repeat/tile, flip, roll, tril/triu, diagonals.

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
from .._tensor import Size, _wrap_dim
from ..autograd.graph import ARRAY_TYPES, type_desc
from ._core import STATE, E, Node, Tensor, as_view, needs, new, ns, record, register, unary
from .conversion import CloneBackward0

__all__ = ["reshape", "permute", "transpose", "swapaxes", "swapdims", "t", "adjoint", "squeeze",
           "unsqueeze", "flatten", "unflatten", "broadcast_to", "broadcast_tensors",
           "broadcast_shapes", "tile", "cat", "concat", "concatenate", "stack", "hstack",
           "vstack", "atleast_1d", "atleast_2d", "split", "chunk", "unbind", "flip", "fliplr",
           "flipud", "roll", "tril", "triu", "narrow", "movedim", "moveaxis", "diagonal", "diag",
           "diag_embed", "diagonal_scatter"]

_nd = _ndarray = np.ndarray
_SEQ = (tuple, list)
_VIEW_MSG = (
    "view size is not compatible with input tensor's size and stride (at least one dimension "
    "spans across two contiguous subspaces). Use .reshape(...) instead."
)


def _arr(x: Tensor) -> np.ndarray:
    """``x``'s data as an ndarray (a 0-d NumPy scalar is turned into an array so views share it)."""
    d = x._data
    return d if d.__class__ is _nd else x._array()


def _mk(cls: type, x: Tensor, out: Any, fn: Any, attrs: dict | None = None) -> Tensor:
    """Wrap the view ``out`` of ``x``: node ``cls`` when ``x`` requires grad, then ``as_view``."""
    e = x._edge
    if e is None or not STATE.enabled:
        return as_view(new(out, None), x, fn)
    n = cls()
    n._next = (e,)
    if attrs:
        n.__dict__.update(attrs)
    return as_view(new(out, (n, 0)), x, fn)


def _zeros(g: Any, shape: tuple) -> Any:
    """Zeros of ``shape`` in ``g``'s mode and dtype (array, or a constant Tensor)."""
    if type(g) in ARRAY_TYPES:
        return np.zeros(shape, g.dtype)
    return new(np.zeros(shape, g._data.dtype), None)


def _ints(seq: Any, fname: str, arg: str) -> tuple:
    """A tuple of python ints (torch's TypeError for anything else)."""
    out = []
    for i, s in enumerate(seq):
        if s.__class__ is not int:
            try:
                s = operator.index(s)
            except TypeError:
                raise TypeError(
                    f"{fname}(): argument '{arg}' failed to unpack the object at pos {i + 1} with "
                    f'error "type must be tuple of ints,but got {type(s).__name__}"'
                ) from None
        out.append(s)
    return tuple(out)


def _infer(shape: tuple, numel: int, fname: str, arg: str) -> tuple:
    """Validate a view shape against ``numel`` and fill in its -1 (torch's errors)."""
    shape = _ints(shape, fname, arg)
    infer, prod = -1, 1
    for i, s in enumerate(shape):
        if s == -1:
            if infer >= 0:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
        else:
            prod *= s
    hint = f" Hint: the new shape must hold exactly {numel} elements."
    if infer >= 0:
        if prod == 0 and numel == 0:
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                "unspecified dimension size -1 can be any value and is ambiguous"
            )
        if prod == 0 or numel % prod:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}.{hint}")
        return shape[:infer] + (numel // prod,) + shape[infer + 1:]
    if prod != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}." + hint)
    return shape


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


_UNSQ = [(slice(None),) * k + (None,) for k in range(8)]


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
    return as_view(new(out, (n, 0)), input, fn)


def atleast_1d(*tensors: Any) -> Any:
    """Tensors with at least one dim (0-d ones reshaped to (1,))."""
    if len(tensors) == 1 and isinstance(tensors[0], _SEQ):
        return tuple(atleast_1d(x) for x in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_1d(x) for x in tensors)
    x = tensors[0]
    return reshape(x, (1,)) if x._data.ndim == 0 else x


def atleast_2d(*tensors: Any) -> Any:
    """Tensors with at least two dims (0-d -> (1, 1), 1-d -> (1, n))."""
    if len(tensors) == 1 and isinstance(tensors[0], _SEQ):
        return tuple(atleast_2d(x) for x in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_2d(x) for x in tensors)
    x = tensors[0]
    nd = x._data.ndim
    return reshape(x, (1, 1)) if nd == 0 else unsqueeze(x, 0) if nd == 1 else x


# ------------------------------------------------------------------------ broadcasting
class ExpandBackward0(Node):
    """out = a broadcast to a larger shape;  da = g summed over the broadcast dims."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).sum_to(g, self.shape),)


def _expand_shape(d: np.ndarray, size: tuple) -> tuple:
    """The target of ``expand(size)`` with -1 filled in (torch's errors)."""
    size = _ints(size, "expand", "size")
    shp = d.shape
    nd, n = len(shp), len(size)
    if n < nd:
        raise RuntimeError(
            f"expand({type_desc(d)[1:].split(' ')[0]}{{{list(shp)}}}, "
            f"size={list(size)}): the number of sizes provided ({n}) must be greater or equal to "
            f"the number of dimensions in the tensor ({nd})"
        )
    lead = n - nd
    out = list(size)
    for i, s in enumerate(size):
        if i < lead:
            if s < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                    f"non-existing dimension {i}"
                )
            continue
        cur = shp[i - lead]
        if s == -1:
            out[i] = cur
        elif cur != 1 and s != cur:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(size)}.  Tensor sizes: "
                f"{list(shp)}"
            )
        elif s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out}")
    return tuple(out)


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
    try:  # fast path: a strided view over d's buffer (4x cheaper than np.broadcast_to)
        st, lead = d.strides, len(size) - len(shp)
        if lead < 0:
            raise ValueError
        strides = [0] * lead
        for i in range(len(shp)):
            s, k = shp[i], size[lead + i]
            if k == s:
                strides.append(st[i])
            elif s == 1 and k >= 0:
                strides.append(0)
            else:
                raise ValueError
        out = _ndarray(size, d.dtype, d, 0, strides)
    except (ValueError, TypeError, BufferError):  # -1 entries, bad sizes, non-contiguous data
        size = _expand_shape(d, size)
        out = np.broadcast_to(d, size)
    else:
        out.flags.writeable = False  # like np.broadcast_to: elements alias each other
    return _mk(ExpandBackward0, input, out, lambda s: s.expand(size), {"shape": shp})


@register("expand_as")
def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """input.expand(other.shape)."""
    return expand(input, other._data.shape)


def broadcast_to(input: Tensor, size: Any) -> Tensor:
    """input.expand(size)."""
    return expand(input, tuple(size))


register("broadcast_to", namespace=False)(broadcast_to)


def _broadcast_pair(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    out = [1] * n
    for i in range(n - 1, -1, -1):
        off = n - 1 - i
        sa = a[len(a) - 1 - off] if off < len(a) else 1
        sb = b[len(b) - 1 - off] if off < len(b) else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                f"non-singleton dimension {i}. Hint: shapes {list(a)} and {list(b)} do not "
                "broadcast; align them with .unsqueeze() or .reshape()."
            )
        out[i] = sa if sb == 1 else sb
    return tuple(out)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """The tensors expanded to their common broadcast shape (unchanged ones returned as is)."""
    if len(tensors) == 1 and isinstance(tensors[0], _SEQ):
        tensors = tuple(tensors[0])
    shape: tuple = ()
    for x in tensors:
        shape = _broadcast_pair(shape, x._data.shape)
    return tuple(x if x._data.shape == shape else expand(x, shape) for x in tensors)


def broadcast_shapes(*shapes: Any) -> Size:
    """The shape that the given shapes broadcast to."""
    out: tuple = ()
    for i, s in enumerate(shapes):
        s = (s,) if isinstance(s, int) else tuple(s)
        try:
            out = _broadcast_pair(out, s)
        except RuntimeError:
            bad = next(k for k in range(1, min(len(out), len(s)) + 1)
                       if out[-k] != s[-k] and 1 not in (out[-k], s[-k]))
            raise RuntimeError(
                f"Attempting to broadcast a dimension of length {s[-bad]} at {-bad}! Mismatching "
                f"argument at index {i} had {tuple(s)}; but expected shape should be "
                f"broadcastable to {list(out)}"
            ) from None
    return Size(out)


class RepeatBackward0(Node):
    """out = a tiled ``repeats`` times per dim;  da = g summed over the tiles."""

    def backward(self, g: Any) -> tuple:
        r, shp = self.repeats, self.shape
        s = (1,) * (len(r) - len(shp)) + shp
        g2 = g.reshape(tuple(v for pair in zip(r, s, strict=True) for v in pair))
        return (ns(g).sum(g2, tuple(range(0, 2 * len(r), 2))).reshape(shp),)


@register("repeat")
def repeat(input: Tensor, *repeats: Any) -> Tensor:
    """The tensor tiled ``repeats[i]`` times along dim i (new leading dims as needed); a copy."""
    if len(repeats) == 1 and isinstance(repeats[0], _SEQ):
        repeats = tuple(repeats[0])
    elif not repeats:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    repeats = _ints(repeats, "repeat", "repeats")
    d = input._data
    if len(repeats) < d.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of "
            f"tensor. Hint: the tensor is {d.ndim}-D, got repeats={list(repeats)}."
        )
    shp = (1,) * (len(repeats) - d.ndim) + d.shape
    target = [s * r for s, r in zip(shp, repeats, strict=True)]
    for v in target:
        if v < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {v}: {target}")
    out = np.tile(d, repeats)
    return unary(RepeatBackward0, input, out, repeats=repeats, shape=d.shape)


@register("tile")
def tile(input: Tensor, *dims: Any) -> Tensor:
    """repeat() with ``dims`` left-padded with ones to the tensor's rank."""
    if len(dims) == 1 and isinstance(dims[0], _SEQ):
        dims = tuple(dims[0])
    nd = input._data.ndim
    if len(dims) < nd:
        dims = (1,) * (nd - len(dims)) + tuple(dims)
    return repeat(input, dims)


# ------------------------------------------------------------------------ joins
class CatBackward0(Node):
    """out = inputs joined along ``dim``;  each input's gradient is its slice of g."""

    def backward(self, g: Any) -> tuple:
        xp, dim, st, res = ns(g), self.dim, 0, []
        for i, ln in enumerate(self.sizes):
            if ln is None:  # a skipped 1-D empty tensor
                res.append(_zeros(g, (0,)) if needs(self, i) else None)
                continue
            res.append(xp.narrow(g, dim, st, ln) if needs(self, i) else None)
            st += ln
        return tuple(res)


def _tensor_list(tensors: Any, fname: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)):
        raise TypeError(
            f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
            f"{type(tensors).__name__}"
        )
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(x).__name__}"
            )
    return list(tensors)


def _promote(datas: list) -> np.dtype:
    rt = datas[0].dtype
    for a in datas[1:]:
        if a.dtype != rt:
            rt = D.promote_types(rt, a.dtype)
    return rt


def _meta(datas: list, rt: np.dtype) -> tuple | None:
    if all(a.dtype == rt for a in datas):
        return None
    return tuple(None if a.dtype == rt else (a.shape, a.dtype) for a in datas)


def _write_out(out: Tensor, r: np.ndarray) -> Tensor:
    if out._edge is not None and STATE.enabled:
        raise RuntimeError(
            "cat(): functions with out=... arguments don't support automatic differentiation, but "
            "one of the arguments requires grad."
        )
    if out._data.shape != r.shape:
        out._data = r.astype(out._data.dtype)
    else:
        out._array()[...] = r
    out._bump()
    return out


def cat(tensors: Any, dim: int = 0, *, axis: int | None = None, out: Any = None) -> Tensor:
    """The tensors joined along ``dim`` (dtypes promoted; 1-D empty tensors are skipped)."""
    if axis is not None:
        dim = axis
    if tensors.__class__ is list or tensors.__class__ is tuple:
        try:  # fast path: same dtypes and shapes NumPy accepts (torch accepts the same)
            datas = [x._data for x in tensors]
            dt = datas[0].dtype
            for a in datas:
                if a.dtype != dt:
                    raise TypeError
            r = np.concatenate(datas, dim)
        except (AttributeError, TypeError, ValueError, IndexError):
            pass
        else:
            if out is not None:
                return _write_out(out, r)
            if STATE.enabled:
                for x in tensors:
                    if x._edge is not None:
                        if dim < 0:
                            dim += r.ndim
                        return record(CatBackward0, tuple(tensors), r, dim=dim,
                                      sizes=[a.shape[dim] for a in datas])
            return new(r, None)
    return _cat(tensors, dim, out)


def _cat(tensors: Any, dim: int, out: Any) -> Tensor:
    """cat's general path: torch's checks, dtype promotion, skipping of 1-D empty tensors."""
    ts = _tensor_list(tensors, "cat")
    if not ts:
        raise ValueError("ember.cat(): expected a non-empty list of Tensors")
    datas = [x._data for x in ts]
    keep = [not (a.ndim == 1 and a.shape[0] == 0) for a in datas]
    ref = next((a for a, k in zip(datas, keep, strict=True) if k), datas[0])
    for i, a in enumerate(datas):
        if a.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    dim = _wrap_dim(dim, ref.ndim)
    rs = ref.shape
    for i, a in enumerate(datas):
        if not keep[i]:
            continue
        if a.ndim != ref.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {a.ndim}"
            )
        for k in range(a.ndim):
            if k != dim and a.shape[k] != rs[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{rs[k]} but got size {a.shape[k]} for tensor number {i} in the list."
                )
    rt = _promote(datas)
    parts = [a for a, k in zip(datas, keep, strict=True) if k] or [datas[0]]
    r = np.concatenate([a if a.dtype == rt else a.astype(rt) for a in parts], axis=dim)
    if out is not None:
        return _write_out(out, r)
    sizes = [a.shape[dim] if k else None for a, k in zip(datas, keep, strict=True)]
    return record(CatBackward0, tuple(ts), r, meta=_meta(datas, rt), dim=dim, sizes=sizes)


E.cat = cat


def concat(tensors: Any, dim: int = 0, *, out: Any = None) -> Tensor:
    """cat(tensors, dim)."""
    return cat(tensors, dim, out=out)


def concatenate(tensors: Any, axis: int = 0, *, out: Any = None) -> Tensor:
    """cat(tensors, axis)."""
    return cat(tensors, axis, out=out)


class StackBackward0(Node):
    """out = inputs stacked along a new dim;  each input's gradient is g unbound along it."""

    def backward(self, g: Any) -> tuple:
        gs = ns(g).unbind(g, self.dim)
        return tuple(gi if needs(self, i) else None for i, gi in enumerate(gs))


def stack(tensors: Any, dim: int = 0, *, out: Any = None) -> Tensor:
    """The (equally shaped) tensors joined along a new dim ``dim``."""
    ts = tensors
    if ts.__class__ is not list and ts.__class__ is not tuple:
        ts = _tensor_list(tensors, "stack")
    try:
        datas = [x._data for x in ts]
    except AttributeError:
        datas = [x._data for x in _tensor_list(ts, "stack")]
    if not datas:
        raise RuntimeError("stack expects a non-empty TensorList")
    s0, dt, mixed = datas[0].shape, datas[0].dtype, False
    for i, a in enumerate(datas):
        if a.shape != s0:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(s0)} at entry 0 and "
                f"{list(a.shape)} at entry {i}"
            )
        if a.dtype != dt:
            mixed = True
    nd = len(s0) + 1
    k = dim + nd if dim < 0 else dim
    if not 0 <= k < nd:
        k = _wrap_dim(dim, nd)
    idx = _UNSQ[k] if k < 8 else (slice(None),) * k + (None,)
    meta = None
    if mixed:
        rt = _promote(datas)
        meta = _meta(datas, rt)
        r = np.concatenate([(a if a.dtype == rt else a.astype(rt))[idx] for a in datas], k)
    else:
        r = np.concatenate([a[idx] for a in datas], k)
    if out is not None:
        return _write_out(out, r)
    if STATE.enabled:
        for x in ts:
            if x._edge is not None:
                return record(StackBackward0, tuple(ts), r, meta=meta, dim=k)
    return new(r, None)


E.stack = stack


def hstack(tensors: Any, *, out: Any = None) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    ts = atleast_1d(_tensor_list(tensors, "hstack"))
    return cat(ts, 0 if ts and ts[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors: Any, *, out: Any = None) -> Tensor:
    """Join along dim 0 after making every tensor at least 2-D."""
    return cat(atleast_2d(_tensor_list(tensors, "vstack")), 0, out=out)


# ------------------------------------------------------------------------ splits (multi-output)
class SplitBackward0(Node):
    """outs = a cut along ``dim`` into pieces;  da = the pieces' gradients joined (0 if none)."""

    def backward(self, gs: Any) -> tuple:
        if not isinstance(gs, list):
            return (gs,)
        ref = next(x for x in gs if x is not None)
        dim, shp = self.dim, self.shape
        parts = [x if x is not None else _zeros(ref, shp[:dim] + (ln,) + shp[dim + 1:])
                 for x, ln in zip(gs, self.sizes, strict=True)]
        return (ns(ref).cat(parts, dim),)


class SplitWithSizesBackward0(SplitBackward0):
    """split with a list of sizes;  da = the pieces' gradients joined."""


def _split(x: Tensor, d: np.ndarray, dim: int, sizes: list, cls: type) -> tuple:
    pre = (slice(None),) * dim
    datas, starts, st = [], [], 0
    for ln in sizes:
        datas.append(d[pre + (slice(st, st + ln),)])
        starts.append(st)
        st += ln
    e = x._edge
    if e is not None and STATE.enabled and sizes:
        n = cls()
        n._next = (e,)
        n._nout = len(sizes)
        n.dim, n.sizes, n.shape = dim, sizes, d.shape
        outs = [new(a, (n, i)) for i, a in enumerate(datas)]
    else:
        outs = [new(a, None) for a in datas]
    for o, a, ln in zip(outs, starts, sizes, strict=True):
        as_view(o, x, lambda s, a=a, ln=ln: s.narrow(dim, a, ln))
    return tuple(outs)


@register("split")
def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed sizes."""
    d = _arr(tensor)
    if d.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = _wrap_dim(dim, d.ndim)
    size = d.shape[dim]
    s = split_size_or_sections
    if isinstance(s, _SEQ):
        sizes = list(_ints(s, "split_with_sizes", "split_sizes"))
        if any(k < 0 for k in sizes):
            raise RuntimeError(
                "split_with_sizes expects split_sizes have only non-negative entries, but got "
                f"split_sizes={sizes}"
            )
        if sum(sizes) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                f"size at dimension {dim}), but got split_sizes={sizes}"
            )
        return _split(tensor, d, dim, sizes, SplitWithSizesBackward0)
    try:
        s = operator.index(s)
    except TypeError:
        raise TypeError(
            "split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, not "
            f"{type(s).__name__}"
        ) from None
    if s < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
    if s == 0 and size != 0:
        raise RuntimeError(
            f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}"
        )
    num = max((size + s - 1) // s, 1) if s else 1
    sizes = [s] * num
    sizes[-1] = s - (s * num - size)
    return _split(tensor, d, dim, sizes, SplitBackward0)


@register("chunk")
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """At most ``chunks`` pieces of ceil(size / chunks) along ``dim``."""
    d = _arr(input)
    if d.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = _wrap_dim(dim, d.ndim)
    size = d.shape[dim]
    step = (size + chunks - 1) // chunks
    if step == 0 and size == 0:
        return _split(input, d, dim, [0] * chunks, SplitWithSizesBackward0)
    return split(input, step, dim)


class UnbindBackward0(Node):
    """outs = the slices of a along ``dim``;  da = their gradients stacked (0 if none)."""

    def backward(self, gs: Any) -> tuple:
        if not isinstance(gs, list):
            gs = [gs]
        ref = next(x for x in gs if x is not None)
        shp = self.shape[:self.dim] + self.shape[self.dim + 1:]
        parts = [x if x is not None else _zeros(ref, shp) for x in gs]
        return (ns(ref).stack(parts, self.dim),)


@register("unbind")
def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim`` (each a view without that dim)."""
    d = _arr(input)
    if d.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = _wrap_dim(dim, d.ndim)
    pre = (slice(None),) * dim
    datas = [d[pre + (i, Ellipsis)] for i in range(d.shape[dim])]
    e = input._edge
    if e is not None and STATE.enabled and datas:
        n = UnbindBackward0()
        n._next = (e,)
        n._nout = len(datas)
        n.dim, n.shape = dim, d.shape
        outs = [new(a, (n, i)) for i, a in enumerate(datas)]
    else:
        outs = [new(a, None) for a in datas]
    for i, o in enumerate(outs):
        as_view(o, input, lambda s, i=i: s.narrow(dim, i, 1).squeeze(dim))
    return tuple(outs)


class SliceBackward0(Node):
    """out = a.narrow(dim, start, length);  da = zeros with g placed at the slice."""

    def backward(self, g: Any) -> tuple:
        shp, dim, st, ln = self.shape, self.dim, self.start, self.length
        if type(g) in ARRAY_TYPES:
            z = np.zeros(shp, g.dtype)
            z[(slice(None),) * dim + (slice(st, st + ln),)] = g
            return (z,)
        parts = [g]
        if st:
            parts.insert(0, _zeros(g, shp[:dim] + (st,) + shp[dim + 1:]))
        if st + ln < shp[dim]:
            parts.append(_zeros(g, shp[:dim] + (shp[dim] - st - ln,) + shp[dim + 1:]))
        return (E.cat(parts, dim) if len(parts) > 1 else g,)


@register("narrow")
def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """The view input[..., start:start + length, ...] along ``dim``."""
    d = _arr(input)
    if d.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = _wrap_dim(dim, d.ndim)
    start, length = operator.index(start), operator.index(length)
    size = d.shape[dim]
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    out = d[(slice(None),) * dim + (slice(start, start + length),)]
    return _mk(SliceBackward0, input, out, lambda s: s.narrow(dim, start, length),
               {"shape": d.shape, "dim": dim, "start": start, "length": length})


# ------------------------------------------------------------------------ flips, rolls, triangles
class FlipBackward0(Node):
    """out = a reversed along ``dims``;  da = g reversed along them."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).flip(g, self.dims) if self.dims else g,)


@register("flip")
def flip(input: Tensor, *args: Any, dims: Any = None) -> Tensor:
    """A copy reversed along ``dims``."""
    if dims is None:
        dims = tuple(args[0]) if len(args) == 1 and isinstance(args[0], _SEQ) else args
    d = input._data
    nd = d.ndim
    ws = [_wrap_dim(k, nd) for k in dims]
    for i, k in enumerate(ws):
        if k in ws[:i]:
            raise RuntimeError(f"dim {k} appears multiple times in the list of dims")
    ws = tuple(ws) if nd else ()
    return unary(FlipBackward0, input, np.flip(d, ws).copy(), dims=ws)


@register("fliplr")
def fliplr(input: Tensor) -> Tensor:
    """Reverse dim 1."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@register("flipud")
def flipud(input: Tensor) -> Tensor:
    """Reverse dim 0."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class RollBackward0(Node):
    """out = a rolled by ``shifts`` along ``dims``;  da = g rolled back."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).roll(g, tuple(-s for s in self.shifts), self.dims),)


@register("roll")
def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Elements shifted cyclically along ``dims`` (over the flattened tensor when None)."""
    sh = (shifts,) if not isinstance(shifts, _SEQ) else tuple(shifts)
    sh = tuple(operator.index(s) if not isinstance(s, float) else _bad_roll(s) for s in sh)
    if not sh:
        raise RuntimeError("`shifts` required")
    d = input._data
    if dims is None:
        if len(sh) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:0")
        return unary(RollBackward0, input, np.roll(d, sh[0]), shifts=sh, dims=None)
    ds = (dims,) if not isinstance(dims, _SEQ) else tuple(dims)
    if len(sh) != len(ds):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:{len(ds)}")
    if d.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    ds = tuple(_wrap_dim(k, d.ndim) for k in ds)
    return unary(RollBackward0, input, np.roll(d, sh, ds), shifts=sh, dims=ds)


def _bad_roll(s: Any) -> int:
    raise TypeError(
        f"roll(): argument 'shifts' (position 1) must be tuple of ints, not {type(s).__name__}"
    )


class TrilBackward0(Node):
    """out = lower triangle of a (on or below ``diagonal``);  da = tril(g)."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).tril(g, self.diagonal),)


class TriuBackward0(Node):
    """out = upper triangle of a;  da = triu(g)."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).triu(g, self.diagonal),)


def _tri(input: Tensor, diagonal: Any, name: str) -> Tensor:
    if isinstance(diagonal, float) or isinstance(diagonal, bool):
        raise TypeError(
            f"{name}(): argument 'diagonal' (position 1) must be int, not {type(diagonal).__name__}"
        )
    d = input._data
    if d.ndim < 2:
        raise RuntimeError(
            f"{name}: input tensor must have at least 2 dimensions. Hint: got a {d.ndim}-D tensor."
        )
    k = operator.index(diagonal)
    out = np.tril(d, k) if name == "tril" else np.triu(d, k)
    return unary(TrilBackward0 if name == "tril" else TriuBackward0, input, out, diagonal=k)


@register("tril")
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements above the ``diagonal``-th diagonal (last two dims)."""
    return _tri(input, diagonal, "tril")


@register("triu")
def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements below the ``diagonal``-th diagonal (last two dims)."""
    return _tri(input, diagonal, "triu")


# ------------------------------------------------------------------------ diagonals
def _diag_view(d: np.ndarray, offset: int, d1: int, d2: int) -> np.ndarray:
    v = np.diagonal(d, offset, d1, d2)
    if d.flags.writeable:
        v.flags.writeable = True  # NumPy hands out read-only diagonals; ours are writable views
    return v


class DiagonalBackward0(Node):
    """out = diagonal(a, offset, d1, d2);  da = zeros with g on that diagonal."""

    def backward(self, g: Any) -> tuple:
        z = _zeros(g, self.shape)
        return (ns(g).diagonal_scatter(z, g, self.offset, self.d1, self.d2),)


class DiagonalCopyBackward0(DiagonalBackward0):
    """out = a copy of a diagonal (torch.diag of a matrix);  da = zeros with g on it."""

    _name = "DiagonalBackward0_copy"


def _diag_dims(nd: int, dim1: int, dim2: int) -> tuple:
    a, b = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return a, b


@register("diagonal")
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The view of the ``offset`` diagonal of dims (dim1, dim2), appended as the last dim."""
    d = _arr(input)
    a, b = _diag_dims(d.ndim, dim1, dim2)
    out = _diag_view(d, offset, a, b)
    return _mk(DiagonalBackward0, input, out, lambda s: s.diagonal(offset, a, b),
               {"shape": d.shape, "offset": offset, "d1": a, "d2": b})


class DiagEmbedBackward0(Node):
    """out = zeros with a's last dim on the ``offset`` diagonal of (d1, d2);  da = that diagonal."""

    def backward(self, g: Any) -> tuple:
        return (ns(g).diagonal(g, self.offset, self.d1, self.d2),)


@register("diag_embed")
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor whose (dim1, dim2) matrices hold input's last dim on their ``offset`` diagonal."""
    d = input._data
    nd = d.ndim + 1
    a, b = _diag_dims(nd, dim1, dim2)
    m = d.shape[-1] + abs(offset)
    rest = iter(d.shape[:-1])
    shape = tuple(m if k in (a, b) else next(rest) for k in range(nd))
    z = np.zeros(shape, d.dtype)
    _diag_view(z, offset, a, b)[...] = d
    return unary(DiagEmbedBackward0, input, z, offset=offset, d1=a, d2=b)


@register("diag")
def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-D input: a square matrix with it on the ``diagonal``; 2-D input: a copy of a diagonal."""
    d = input._data
    if d.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if d.ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {d.ndim}D")
    out = np.diagonal(d, diagonal).copy()
    return unary(DiagonalCopyBackward0, input, out, shape=d.shape, offset=diagonal, d1=0, d2=1)


class DiagonalScatterBackward0(Node):
    """out = a with src written on a diagonal;  da = g with that diagonal zeroed, dsrc = it."""

    def backward(self, g: Any) -> tuple:
        xp, o, a, b = ns(g), self.offset, self.d1, self.d2
        ga = gs = None
        if needs(self, 1) or needs(self, 0):
            dg = xp.diagonal(g, o, a, b)
            gs = dg if needs(self, 1) else None
            if needs(self, 0):
                ga = xp.diagonal_scatter(g, _zeros(g, dg.shape), o, a, b)
        return ga, gs


@register("diagonal_scatter")
def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """A copy of input with ``src`` written onto the ``offset`` diagonal of (dim1, dim2)."""
    d = input._data
    a, b = _diag_dims(d.ndim, dim1, dim2)
    out = np.array(d, copy=True)
    v = _diag_view(out, offset, a, b)
    if v.shape != src._data.shape:
        raise RuntimeError(
            f"diagonal_scatter(): expected src to have a size equal to the slice of self. src "
            f"size = {list(src._data.shape)}, slice size = {list(v.shape)}"
        )
    v[...] = src._data
    return record(DiagonalScatterBackward0, (input, src), out, offset=offset, d1=a, d2=b)
