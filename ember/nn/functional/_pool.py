"""Pooling: max/avg pool 1d/2d and adaptive average/max pooling.

Windows are visited by a loop over the ``kh * kw`` kernel offsets, each a strided view of the
padded input with the output's shape, so every step is one whole-array NumPy operation (no loop
over pixels or batch elements).  Max pooling keeps the first maximum in row-major window order
(a NaN wins and propagates, like torch); its backward writes each gradient at its argmax.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd.graph import ARRAY_TYPES
from ...ops._core import STATE, Node, Tensor, new, record, unary
from ._convutil import linear_apply, size_str

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "max_pool1d_with_indices", "max_pool2d_with_indices"]


def _two(x: Any, name: str, op: str, default: Any = None) -> tuple:
    if x is None or (isinstance(x, (list, tuple)) and len(x) == 0):
        return default
    if isinstance(x, (list, tuple)):
        if len(x) == 1:
            return (int(x[0]),) * 2
        if len(x) != 2:
            raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of two ints")
        return int(x[0]), int(x[1])
    return int(x), int(x)


def _out_size(n: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    """torch's pooling_output_shape."""
    num = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)
    o = num // s + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def _check_4d(x: Tensor, op: str) -> tuple:
    shp = tuple(x.shape)
    if len(shp) not in (3, 4) or any(s == 0 for s in shp[-3:]):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but "
            f"got:{size_str(shp)}. Hint: {op} takes [batch, channels, height, width] or "
            "[channels, height, width]."
        )
    return shp


def _geom(op: str, shp: tuple, k: tuple, s: tuple, p: tuple, d: tuple, ceil: bool) -> tuple:
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError("kernel size should be greater than zero, but got kH: "
                           f"{k[0]} kW: {k[1]}")
    if s[0] <= 0 or s[1] <= 0:
        raise RuntimeError("stride should not be zero")
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilationH: {d[0]} dilationW: {d[1]}")
    if p[0] < 0 or p[1] < 0 or p[0] > k[0] // 2 or p[1] > k[1] // 2:
        bad = 0 if (p[0] < 0 or p[0] > k[0] // 2) else 1
        raise RuntimeError(
            "pad should be at most half of effective kernel size, but got "
            f"pad={p[bad]}, kernel_size={k[bad]} and dilation={d[bad]}"
        )
    H, W = shp[-2:]
    OH = _out_size(H, k[0], s[0], p[0], d[0], ceil)
    OW = _out_size(W, k[1], s[1], p[1], d[1], ceil)
    if OH < 1 or OW < 1:
        C = shp[-3]
        raise RuntimeError(
            f"Given input size: ({C}x{H}x{W}). Calculated output size: ({C}x{OH}x{OW}). Output "
            f"size is too small. Hint: {op} with kernel_size={k} needs a larger input or a "
            "smaller kernel."
        )
    return OH, OW


def _pad_ext(x: np.ndarray, k: tuple, s: tuple, p: tuple, d: tuple, osz: tuple, fill: Any) -> Any:
    """Padded input large enough for every window (ceil_mode windows may run past it)."""
    H, W = x.shape[-2:]
    Hx = max(H + 2 * p[0], (osz[0] - 1) * s[0] + d[0] * (k[0] - 1) + 1)
    Wx = max(W + 2 * p[1], (osz[1] - 1) * s[1] + d[1] * (k[1] - 1) + 1)
    if Hx == H and Wx == W:
        return x
    xp = np.full(x.shape[:-2] + (Hx, Wx), fill, dtype=x.dtype)
    xp[..., p[0]:p[0] + H, p[1]:p[1] + W] = x
    return xp


def _views(xp: np.ndarray, k: tuple, s: tuple, d: tuple, osz: tuple) -> Any:
    eh, ew = s[0] * (osz[0] - 1) + 1, s[1] * (osz[1] - 1) + 1
    for a in range(k[0]):
        for b in range(k[1]):
            yield xp[..., a * d[0]:a * d[0] + eh:s[0], b * d[1]:b * d[1] + ew:s[1]]


# --------------------------------------------------------------------------- max pooling
class MaxPool2DWithIndicesBackward0(Node):
    """out = max over each window;  dx = g written at each window's first argmax."""

    def backward(self, g: Any) -> tuple:
        k, s, p, d, shp = self.k, self.s, self.p, self.d, self.shape
        if type(g) in ARRAY_TYPES:
            xp, best = self._saved[1], self.best
            self._unpack(g)  # version check of the input
            osz = best.shape[-2:]
            gxp = np.zeros(xp.shape, dtype=g.dtype)
            acc = s[0] < d[0] * (k[0] - 1) + 1 or s[1] < d[1] * (k[1] - 1) + 1  # overlap
            taken = None
            for v, gv in zip(_views(xp, k, s, d, osz), _views(gxp, k, s, d, osz), strict=True):
                eq = v == best
                if taken is None:
                    taken = eq.copy()
                else:
                    eq &= ~taken
                    taken |= eq
                if acc:
                    gv += g * eq
                else:
                    np.multiply(g, eq, out=gv)
            if xp.dtype.kind == "f" and np.isnan(np.max(best)):  # a NaN window: its last NaN
                which = _which(xp, best, k, s, d)
                nanw = np.isnan(best)
                for j, gv in enumerate(_views(gxp, k, s, d, osz)):
                    m = nanw & (which == j)
                    gv[m] += g[m]
            return (gxp[..., p[0]:p[0] + shp[-2], p[1]:p[1] + shp[-1]],)
        from ... import zeros

        idx = self.indices
        if idx is None:
            idx = new(_flat_indices(_which(self._saved[1], self.best, k, s, d), shp, k, s, p, d),
                      None)
        lead = shp[:-2]
        z = zeros(lead + (shp[-2] * shp[-1],), dtype=g.dtype)
        return (z.scatter_add(-1, idx.reshape(lead + (-1,)), g.reshape(lead + (-1,)))
                .reshape(shp),)


def _which(xp: np.ndarray, best: np.ndarray, k: tuple, s: tuple, d: tuple) -> np.ndarray:
    """Index of the winning kernel offset per window: the first maximum, or the last NaN."""
    osz = best.shape[-2:]
    which = np.zeros(best.shape, dtype=np.int16)
    taken = None
    nan = xp.dtype.kind == "f" and np.isnan(np.max(best))
    for j, v in enumerate(_views(xp, k, s, d, osz)):
        eq = v == best
        if taken is None:
            taken = eq.copy()
        else:
            eq &= ~taken
            taken |= eq
        if j:
            which[eq] = j
        if nan:
            which[np.isnan(v)] = j
    return which


def _max_pool(x: np.ndarray, k: tuple, s: tuple, p: tuple, d: tuple, osz: tuple) -> tuple:
    """(padded input, max over the windows); a NaN in a window gives NaN."""
    kind = x.dtype.kind
    fill = -np.inf if kind == "f" else (np.iinfo(x.dtype).min if kind in "iu" else False)
    xp = _pad_ext(x, k, s, p, d, osz, fill)
    views = _views(xp, k, s, d, osz)
    best = next(views).copy()
    for v in views:
        np.maximum(best, v, out=best)
    return xp, best


def _flat_indices(which: np.ndarray, shp: tuple, k: tuple, s: tuple, p: tuple, d: tuple) -> Any:
    W = shp[-1]
    OH, OW = which.shape[-2:]
    base = ((np.arange(OH) * s[0] - p[0])[:, None] * W + (np.arange(OW) * s[1] - p[1])[None, :])
    koff = (np.arange(k[0])[:, None] * d[0] * W + np.arange(k[1])[None, :] * d[1]).ravel()
    return (base + koff[which]).astype(np.int64)


def _max_pool2d_impl(input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                     ceil_mode: bool, return_indices: bool, op: str = "max_pool2d") -> Any:
    shp = _check_4d(input, op)
    k = _two(kernel_size, "kernel_size", op)
    s = _two(stride, "stride", op, k)
    p = _two(padding, "padding", op)
    d = _two(dilation, "dilation", op)
    osz = _geom(op, shp, k, s, p, d, ceil_mode)
    xp, best = _max_pool(input._data, k, s, p, d, osz)
    it = None
    if return_indices:
        it = new(_flat_indices(_which(xp, best, k, s, d), shp, k, s, p, d), None)
    if input._edge is None or not STATE.enabled:
        res = new(best, None)
    else:
        res = record(MaxPool2DWithIndicesBackward0, (input,), best, saved=(input, xp),
                     best=best.copy(), indices=it, k=k, s=s, p=p, d=d, shape=shp)
    if return_indices:
        return res, it
    return res


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """out[n, c, y, x] = max over the (dilated) window at (s*y - p, s*x - p) of the input."""
    return _max_pool2d_impl(input, kernel_size, stride, padding, dilation, ceil_mode,
                            return_indices)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = True) -> Any:
    """max_pool2d returning (values, flat indices into each input plane)."""
    return _max_pool2d_impl(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _one(x: Any, name: str, op: str, default: Any = None) -> int:
    if x is None or (isinstance(x, (list, tuple)) and len(x) == 0):
        return default
    if isinstance(x, (list, tuple)):
        if len(x) != 1:
            raise RuntimeError(f"{op}: {name} must be a single int, or a tuple of one int")
        return int(x[0])
    return int(x)


def _check_1d(input: Tensor, op: str) -> None:
    shp = tuple(input.shape)
    if len(shp) not in (2, 3) or shp[-1] == 0 or shp[-2] == 0:
        raise RuntimeError(
            f"{op}: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
            f"input, but got:{size_str(shp)}. Hint: {op} takes [batch, channels, length] or "
            "[channels, length]."
        )


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """out[n, c, t] = max over the (dilated) window at s*t - p of the input."""
    _check_1d(input, "max_pool1d")
    k = _one(kernel_size, "kernel_size", "max_pool1d")
    s = _one(stride, "stride", "max_pool1d", k)
    p = _one(padding, "padding", "max_pool1d")
    d = _one(dilation, "dilation", "max_pool1d")
    if s <= 0:
        raise RuntimeError("max_pool1d() stride must be greater than zero, but got " + str(s))
    if p < 0 or p > k // 2:
        raise RuntimeError("max_pool1d() padding should be at most half of kernel size, but got "
                           f"padding={p} and kernel_size={k}")
    if _out_size(input.shape[-1], k, s, p, d, ceil_mode) < 1:
        raise RuntimeError("max_pool1d() Invalid computed output size: "
                           f"{_out_size(input.shape[-1], k, s, p, d, ceil_mode)}")
    r = _max_pool2d_impl(input.unsqueeze(-2), (1, k), (1, s), (0, p), (1, d), ceil_mode,
                         return_indices, "max_pool1d")
    if return_indices:
        return r[0].squeeze(-2), r[1].squeeze(-2)
    return r.squeeze(-2)


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = True) -> Any:
    """max_pool1d returning (values, indices)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# --------------------------------------------------------------------------- average pooling
def _divisor(n: int, k: int, s: int, p: int, osz: int, include_pad: bool) -> np.ndarray:
    start = np.arange(osz) * s - p
    end = np.minimum(start + k, n + p)
    size = end - start
    if include_pad:
        return size
    return np.minimum(end, n) - np.maximum(start, 0)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """out[n, c, y, x] = sum of the window at (s*y - p, s*x - p) / its divisor."""
    return _avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override, "avg_pool2d")


def _avg_pool2d(input: Tensor, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
                count_include_pad: bool, divisor_override: Any, op: str) -> Tensor:
    shp = _check_4d(input, op)
    k = _two(kernel_size, "kernel_size", op)
    s = _two(stride, "stride", op, k)
    p = _two(padding, "padding", op)
    d = (1, 1)
    osz = _geom(op, shp, k, s, p, d, ceil_mode)
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        div = np.full(osz, float(divisor_override))
    else:
        dh = _divisor(shp[-2], k[0], s[0], p[0], osz[0], count_include_pad)
        dw = _divisor(shp[-1], k[1], s[1], p[1], osz[1], count_include_pad)
        div = np.outer(dh, dw).astype(np.float64)
    x = input._data
    integral = x.dtype.kind in "biu"
    dt = np.float64 if integral else x.dtype
    div = div.astype(dt)

    def fwd(a: np.ndarray) -> np.ndarray:
        ap = _pad_ext(a, k, s, p, d, osz, 0)
        views = _views(ap, k, s, d, osz)
        acc = next(views).astype(dt if integral else a.dtype, copy=True)
        for v in views:
            acc += v
        r = acc / div
        return np.trunc(r).astype(a.dtype) if integral else r

    def adj(g: np.ndarray) -> np.ndarray:
        gs = g / div.astype(g.dtype)
        Hx = max(shp[-2] + 2 * p[0], (osz[0] - 1) * s[0] + k[0])
        Wx = max(shp[-1] + 2 * p[1], (osz[1] - 1) * s[1] + k[1])
        gxp = np.zeros(shp[:-2] + (Hx, Wx), dtype=g.dtype)
        for v in _views(gxp, k, s, d, osz):
            v += gs
        return gxp[..., p[0]:p[0] + shp[-2], p[1]:p[1] + shp[-1]]

    return linear_apply(input, fwd, adj, "AvgPool2DBackward0", "AvgPool2DBackwardBackward0")


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """out[n, c, t] = mean of the window at s*t - p."""
    shp = tuple(input.shape)
    if len(shp) not in (2, 3):
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {len(shp)}-dimensional tensor for argument #1 "
            "'self' (while checking arguments for avg_pool1d)"
        )
    k = _one(kernel_size, "kernel_size", "avg_pool1d")
    s = _one(stride, "stride", "avg_pool1d", k)
    p = _one(padding, "padding", "avg_pool1d")
    r = _avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), ceil_mode, count_include_pad,
                    None, "avg_pool1d")
    return r.squeeze(-2)


# --------------------------------------------------------------------------- adaptive pooling
def _adaptive_sizes(shp: tuple, output_size: Any, n: int) -> tuple:
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != n:
            raise ValueError(f"output_size must be an int or a tuple of {n} ints")
        o = tuple(shp[-n + i] if v is None else int(v) for i, v in enumerate(output_size))
    else:
        o = (int(output_size),) * n
    return o


def _adaptive_matrix(n: int, o: int, dt: Any) -> np.ndarray:
    """(o, n) averaging matrix: row i averages [floor(i*n/o), ceil((i+1)*n/o))."""
    i = np.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    j = np.arange(n)
    m = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])
    return (m / (end - start)[:, None]).astype(dt)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """out[.., i, j] = mean of rows [floor(iH/oh), ceil((i+1)H/oh)) x the same for columns."""
    shp = tuple(input.shape)
    if len(shp) not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
                           f"{size_str(shp)}")
    o = _adaptive_sizes(shp, output_size, 2)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError('"adaptive_avg_pool2d" not implemented for \'Long\'')
    if o == (1, 1):
        return input.mean((-2, -1), keepdim=True)
    dt = input._data.dtype
    ph = _adaptive_matrix(shp[-2], o[0], dt)
    pw = _adaptive_matrix(shp[-1], o[1], dt)

    def fwd(a: np.ndarray) -> np.ndarray:
        return np.matmul(np.matmul(ph, a), pw.T)

    def adj(g: np.ndarray) -> np.ndarray:
        return np.matmul(np.matmul(ph.T.astype(g.dtype), g), pw.astype(g.dtype))

    return linear_apply(input, fwd, adj, "AdaptiveAvgPool2DBackward0",
                        "AdaptiveAvgPool2DBackwardBackward0")


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """out[.., i] = mean of [floor(iL/o), ceil((i+1)L/o))."""
    shp = tuple(input.shape)
    if len(shp) not in (2, 3):
        raise RuntimeError(f"adaptive_avg_pool1d(): Expected 2D or 3D tensor, but got "
                           f"{size_str(shp)}")
    o = _one(output_size, "output_size", "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, o)).squeeze(-2)


class AdaptiveMaxPool2DBackward0(Node):
    """out = max over each adaptive window;  dx = g written at each window's argmax."""

    def backward(self, g: Any) -> tuple:
        shp = self.shape
        lead = shp[:-2]
        idx = self.indices
        if type(g) in ARRAY_TYPES:
            rows = int(np.prod(lead))
            plane = shp[-2] * shp[-1]
            z = np.zeros(rows * plane, dtype=g.dtype)  # windows overlap: indices may repeat
            flat = idx._data.reshape(rows, -1) + (np.arange(rows) * plane)[:, None]
            np.add.at(z, flat.ravel(), np.reshape(g, -1))
            return (z.reshape(shp),)
        from ... import zeros

        z = zeros(lead + (shp[-2] * shp[-1],), dtype=g.dtype)
        return (z.scatter_add(-1, idx.reshape(lead + (-1,)), g.reshape(lead + (-1,)))
                .reshape(shp),)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """out[.., i, j] = max over rows [floor(iH/oh), ceil((i+1)H/oh)) x the same for columns."""
    shp = _check_4d(input, "adaptive_max_pool2d")
    o = _adaptive_sizes(shp, output_size, 2)
    H, W = shp[-2:]
    x = input._data
    out = np.empty(shp[:-2] + o, dtype=x.dtype)
    idx = np.empty(shp[:-2] + o, dtype=np.int64)
    for i in range(o[0]):
        h0, h1 = (i * H) // o[0], -((-(i + 1) * H) // o[0])
        for j in range(o[1]):
            w0, w1 = (j * W) // o[1], -((-(j + 1) * W) // o[1])
            win = x[..., h0:h1, w0:w1].reshape(shp[:-2] + (-1,))
            a = np.argmax(win, -1)
            if x.dtype.kind == "f":  # a NaN wins (the first one, like argmax)
                nan = np.isnan(win)
                a = np.where(nan.any(-1), np.argmax(nan, -1), a)
            out[..., i, j] = np.take_along_axis(win, a[..., None], -1)[..., 0]
            idx[..., i, j] = (h0 + a // (w1 - w0)) * W + w0 + a % (w1 - w0)
    it = new(idx, None)
    res = unary(AdaptiveMaxPool2DBackward0, input, out, indices=it, shape=shp)
    return (res, it) if return_indices else res


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """out[.., i] = max over [floor(iL/o), ceil((i+1)L/o))."""
    _check_1d(input, "adaptive_max_pool1d")
    o = _one(output_size, "output_size", "adaptive_max_pool1d")
    r = adaptive_max_pool2d(input.unsqueeze(-2), (1, o), return_indices)
    if return_indices:
        return r[0].squeeze(-2), r[1].squeeze(-2)
    return r.squeeze(-2)
