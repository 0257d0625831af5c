"""``ember.nn.functional.pad``: constant, reflect, replicate and circular padding.

Constant padding is one node (``ConstantPadNdBackward0``) whose gradient is the same padding
with negated sizes (it crops).  The other modes gather along each padded dim with an index map;
their gradient is a product with the one-hot matrix of that map per dim (sums repeated reads).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd.graph import ARRAY_TYPES as _ARR
from ...ops._core import Node, Tensor, new, unary

__all__ = ["pad"]


def _const_np(d: Any, pads: tuple, value: Any) -> Any:
    """``d`` padded (negative sizes crop) on its last len(pads)//2 dims with ``value``."""
    nd = d.ndim
    shape, src, dst = list(d.shape), [slice(None)] * nd, [slice(None)] * nd
    for i in range(len(pads) // 2):
        ax = nd - 1 - i
        lo, hi = pads[2 * i], pads[2 * i + 1]
        n = d.shape[ax]
        m = n + lo + hi
        if m < 0:
            raise RuntimeError(
                f"The input size {n}, plus negative padding {min(lo, 0)} and {min(hi, 0)} "
                f"resulted in a negative output size, which is invalid. Check dimension {ax} of "
                "your input.")
        shape[ax] = m
        src[ax] = slice(max(-lo, 0), n - max(-hi, 0))
        dst[ax] = slice(max(lo, 0), m - max(hi, 0))
    out = np.full(shape, value, dtype=d.dtype)
    if out.size:
        s = d[tuple(src)]
        if s.size:
            out[tuple(dst)] = s
    return out


class ConstantPadNdBackward0(Node):
    """out = a padded with a constant;  da = g cropped (padded with the negated sizes)."""

    def backward(self, g: Any) -> tuple:
        neg = tuple(-p for p in self.pads)
        if type(g) in _ARR:
            return (_const_np(g, neg, 0),)
        return (pad(g, neg),)


def _maps(shape: tuple, pads: tuple, mode: str) -> list:
    """Per padded dim: (axis, index map from output positions to input positions)."""
    res = []
    nd = len(shape)
    for i in range(len(pads) // 2):
        ax = nd - 1 - i
        lo, hi = pads[2 * i], pads[2 * i + 1]
        n = shape[ax]
        j = np.arange(-lo, n + hi)
        if mode == "reflect":
            if lo >= n or hi >= n:
                raise RuntimeError(
                    f"Argument #4: Padding size should be less than the corresponding input "
                    f"dimension, but got: padding ({lo}, {hi}) at dimension {ax} of input "
                    f"{list(shape)}. Hint: reflect padding needs pad < size; use "
                    "mode='replicate' or 'constant' for larger pads.")
            j = np.abs(j)
            j = np.where(j >= n, 2 * (n - 1) - j, j)
        elif mode == "replicate":
            if n == 0:
                raise RuntimeError(f"padding: input dimension {ax} must be non-empty")
            j = np.clip(j, 0, n - 1)
        else:
            if lo > n or hi > n:
                raise RuntimeError("Padding value causes wrapping around more than once. Hint: "
                                   "circular padding needs pad <= size.")
            j = j % n
        res.append((ax, j))
    return res


class _GatherPadBackward(Node):
    """out = a gathered per dim by index maps;  da = sum of g over the positions read from."""

    def backward(self, g: Any) -> tuple:
        arr = type(g) in _ARR
        for ax, j, n in reversed(self.maps):
            m = np.zeros((j.size, n), dtype=(g.dtype if arr else g._data.dtype))
            m[np.arange(j.size), j] = 1
            if arr:
                g = np.moveaxis(np.moveaxis(g, ax, -1) @ m, -1, ax)
            else:
                from ...ops.linalg import matmul

                g = matmul(g.movedim(ax, -1), new(m, None)).movedim(-1, ax)
        return (g,)


_NODES = {}
for _mode, _pre in (("reflect", "ReflectionPad"), ("replicate", "ReplicationPad"),
                    ("circular", "CopySlices")):
    for _k in (1, 2, 3):
        _n = "torch::autograd::CopySlices" if _mode == "circular" else f"{_pre}{_k}DBackward0"
        _NODES[_mode, _k] = type(f"{_pre}{_k}DBackward0", (_GatherPadBackward,),
                                 {"_name": _n, "__module__": __name__})


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad)//2 dims: pad = (left, right, top, bottom, ...) from the last dim."""
    pads = tuple(int(p) for p in pad)
    d = input._data
    if len(pads) % 2:
        raise RuntimeError("Padding length must be divisible by 2. Hint: give (before, after) "
                           "pairs, starting from the last dimension.")
    if len(pads) // 2 > d.ndim:
        raise RuntimeError(
            f"Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pads)} and input of dimension {d.ndim}")
    if mode == "constant":
        v = 0 if value is None else value
        return unary(ConstantPadNdBackward0, input, _const_np(d, pads, v), pads=pads)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument. Hint: drop '
                           "value= (only mode='constant' uses it).")
    k = len(pads) // 2
    if k not in (1, 2, 3) or d.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pads)} is not supported for {d.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    maps = _maps(d.shape, pads, mode)
    r = d
    for ax, j in maps:
        r = np.take(r, j, axis=ax)
    return unary(_NODES[mode, k], input, r, maps=[(ax, j, d.shape[ax]) for ax, j in maps])
