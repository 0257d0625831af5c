"""Shape ops that copy while rearranging: repeat, tile, flip, fliplr, flipud, roll, tril,
triu, and the diagonals (diagonal, diag, diag_embed, diagonal_scatter); re-exported by shape.py.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .._tensor import _wrap_dim
from ._core import Node, Tensor, needs, ns, record, register, unary
from ._shapeutil import _SEQ, _arr, _ints, _mk, _zeros

__all__ = ["repeat", "tile", "flip", "fliplr", "flipud", "roll", "tril", "triu", "diagonal",
           "diag", "diag_embed", "diagonal_scatter"]


# ------------------------------------------------------------------------ repeat / tile
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
