"""Convolutions: conv1d, conv2d, conv_transpose1d/2d as ONE node (``ConvolutionBackward0``).

All spatial work is 2-D (1-D ops add a height of 1).  The forward builds the im2col matrix from
strided windows of the padded input with one copy and does ONE batched BLAS product.  For
stride 1 it uses "wide rows": each window row of the flattened image is a contiguous run of
``(OH - 1) * Wp + OW`` elements (the output computed for every padded column, the extra columns
dropped), so the copy moves long runs.  The backward: weight grad by one batched product with
the saved columns; input grad by the transposed product and ``kh * kw`` strided adds (col2im).
Double backward (``create_graph=True``) goes through the same functions as ember ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ...autograd.graph import ARRAY_TYPES
from ...ops._core import Node, Tensor, needs, record
from ._convutil import ntuple, size_str
from ._pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool1d_with_indices,
    max_pool2d,
    max_pool2d_with_indices,
)

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "avg_pool1d",
           "avg_pool2d", "max_pool1d", "max_pool1d_with_indices", "max_pool2d",
           "max_pool2d_with_indices"]


# --------------------------------------------------------------------------- array kernels
# geo = (kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, groups); upper-case locals are sizes
def _out_hw(h: int, w: int, geo: tuple) -> tuple:
    kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, _ = geo
    return (h + pt + pb - dh * (kh - 1) - 1) // sh + 1, (w + pl + pr - dw * (kw - 1) - 1) // sw + 1


def _padded(x: np.ndarray, geo: tuple) -> np.ndarray:
    """The zero-padded input, C-contiguous."""
    pt, pb, pl, pr = geo[6:10]
    if not (pt or pb or pl or pr):
        return np.ascontiguousarray(x)
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + pt + pb, W + pl + pr), dtype=x.dtype)
    xp[:, :, pt:pt + H, pl:pl + W] = x
    return xp


def _im2col(x: np.ndarray, geo: tuple) -> tuple:
    """Columns (N, G, C/G*kh*kw, L) of the padded input, and (OH, OW, wide row length or 0)."""
    kh, kw, sh, sw, dh, dw = geo[:6]
    G = geo[10]
    N, C = x.shape[:2]
    OH, OW = _out_hw(x.shape[2], x.shape[3], geo)
    xp = _padded(x, geo)
    _, _, Hp, Wp = xp.shape
    i = xp.itemsize
    if sh == 1 and sw == 1:
        L = (OH - 1) * Wp + OW
        v = as_strided(xp, (N, C, kh, kw, L), (C * Hp * Wp * i, Hp * Wp * i, dh * Wp * i, dw * i,
                                               i), writeable=False)
        wide = Wp
    else:
        L = OH * OW
        v = as_strided(xp, (N, C, kh, kw, OH, OW), (C * Hp * Wp * i, Hp * Wp * i, dh * Wp * i,
                                                    dw * i, sh * Wp * i, sw * i), writeable=False)
        wide = 0
    return v.reshape(N, G, C // G * kh * kw, L), OH, OW, wide


def _spread(g: np.ndarray, groups: int, wide: int, per: int = 0) -> np.ndarray:
    """``g`` (N, O, OH, OW) laid out like the columns' L axis: (N, G, O/G, L), zeros between
    rows when ``wide``; ``per`` > 0 fixes L (for col2im)."""
    N, CO, OH, OW = g.shape
    if not wide:
        return np.ascontiguousarray(g).reshape(N, groups, CO // groups, OH * OW)
    L = per or (OH - 1) * wide + OW
    buf = np.zeros((N, CO, L), dtype=g.dtype)
    i = buf.itemsize
    as_strided(buf, g.shape, (CO * L * i, L * i, wide * i, i))[...] = g
    return buf.reshape(N, groups, CO // groups, L)


def _gather(out: np.ndarray, co: int, oh: int, ow: int, wide: int, bias: Any) -> np.ndarray:
    """The (N, O, OH, OW) result from the product (N, G, O/G, L), plus the bias, contiguous."""
    N = out.shape[0]
    if wide:
        L = out.shape[-1]
        i = out.itemsize
        v = as_strided(out, (N, co, oh, ow), (co * L * i, L * i, wide * i, i), writeable=False)
        if bias is None:
            return np.ascontiguousarray(v)
        return np.add(v, bias.reshape(co, 1, 1))
    out = out.reshape(N, co, oh, ow)
    if bias is not None:
        out += bias.reshape(co, 1, 1).astype(out.dtype, copy=False)
    return out


def _conv_fwd(x: np.ndarray, w: np.ndarray, bias: Any, geo: tuple) -> tuple:
    """conv(x, w) + bias on arrays; returns (out, cols, wide)."""
    G = geo[10]
    CO = w.shape[0]
    cols, OH, OW, wide = _im2col(x, geo)
    out = np.matmul(w.reshape(G, CO // G, -1), cols)
    return _gather(out, CO, OH, OW, wide, bias), cols, wide


def _conv_gw(g: np.ndarray, cols: np.ndarray, wshape: tuple, geo: tuple, wide: int) -> Any:
    """d conv / d weight: sum_n g[n] @ cols[n]^T (one batched BLAS call)."""
    gl = _spread(g, geo[10], wide)
    if cols.shape[2] >= gl.shape[2]:  # the taller product is the faster one for OpenBLAS
        return np.matmul(cols, gl.swapaxes(-1, -2)).sum(0).swapaxes(1, 2).reshape(wshape)
    return np.matmul(gl, cols.swapaxes(-1, -2)).sum(0).reshape(wshape)


def _conv_gx(g: np.ndarray, w: np.ndarray, xshape: tuple, geo: tuple) -> np.ndarray:
    """d conv / d input (also the transposed convolution): w^T @ g, then col2im."""
    kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, G = geo
    N, C, H, W = xshape
    OH, OW = g.shape[2:]
    Hp, Wp = H + pt + pb, W + pl + pr
    CO = w.shape[0]
    Og, Cg = CO // G, C // G
    if sh == 1 and sw == 1:
        # wide rows of the full padded image (P each): every kernel offset is then ONE long
        # shifted add; the products in the gaps between rows are zeros and land harmlessly.
        P = Hp * Wp
        gl = _spread(g, G, Wp, P)
        wt = w.reshape(G, Og, Cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(G, kh * kw * Cg, Og)
        gc = np.matmul(wt, gl).reshape(N, G, kh, kw, Cg * P)
        M = N * C * P
        flat = np.zeros(M + (kh - 1) * dh * Wp + (kw - 1) * dw, dtype=gc.dtype)
        for a in range(kh):
            for b in range(kw):
                o = a * dh * Wp + b * dw
                v = flat[o:o + M].reshape(N, G, Cg * P)
                v += gc[:, :, a, b]
        gxp = flat[:M].reshape(N, C, Hp, Wp)
    else:
        gl = _spread(g, G, 0)
        gc = np.matmul(w.reshape(G, Og, -1).swapaxes(1, 2), gl)  # (N, G, Cg*kh*kw, L)
        gc = gc.reshape(N, C, kh, kw, OH, OW)
        gxp = np.zeros((N, C, Hp, Wp), dtype=gc.dtype)
        eh, ew = sh * (OH - 1) + 1, sw * (OW - 1) + 1
        for a in range(kh):
            for b in range(kw):
                gxp[:, :, a * dh:a * dh + eh:sh, b * dw:b * dw + ew:sw] += gc[:, :, a, b]
    if pt or pb or pl or pr:
        return gxp[:, :, pt:pt + H, pl:pl + W]
    return gxp


# --------------------------------------------------------------------------- the node
class ConvolutionBackward0(Node):
    """out = conv(x, w) + b (or its transpose);  dx, dw by the transposed products, db = sum g."""

    def backward(self, g: Any) -> tuple:
        x, w, cols = self._unpack(g)
        geo, tr = self.geo, self.transposed
        if self.one_d:
            g = g.reshape(g.shape[:2] + (1,) + g.shape[2:])
        if type(g) not in ARRAY_TYPES:
            return self._tensor_backward(g, x, w)
        if self.one_d:
            x = x.reshape(x.shape[:2] + (1,) + x.shape[2:])
            w = w.reshape(w.shape[:2] + (1,) + w.shape[2:])
        gx = gw = gb = None
        if not tr:
            if needs(self, 0):
                gx = _conv_gx(g, w, x.shape, geo)
            if needs(self, 1):
                gw = _conv_gw(g, cols, w.shape, geo, self.wide)
        else:
            need_w = needs(self, 1)
            if needs(self, 0) or need_w:
                gx, gcols, wide = _conv_fwd(g, w, None, geo)
            if need_w:
                gw = _conv_gw(x, gcols, w.shape, geo, wide)
            if not needs(self, 0):
                gx = None
        if self._next[2][0] is not None:
            gb = g.sum((0, 2, 3))
        if self.one_d:
            gx = None if gx is None else gx.reshape(gx.shape[:2] + gx.shape[3:])
            gw = None if gw is None else gw.reshape(gw.shape[:2] + gw.shape[3:])
        return gx, gw, gb

    def _tensor_backward(self, g: Tensor, x: Tensor, w: Tensor) -> tuple:
        """Gradients as ember ops (so they can be differentiated again)."""
        geo, one_d = self.geo, self.one_d
        if one_d:
            x = x.unsqueeze(2)
            w = w.unsqueeze(2)
        gx = gw = gb = None
        if not self.transposed:
            if needs(self, 0):
                gx = _convolution(g, w, None, geo, True, x.shape[2:])
            if needs(self, 1):
                gw = _weight_grad(x, g, geo)
        else:
            if needs(self, 0):
                gx = _convolution(g, w, None, geo, False, None)
            if needs(self, 1):
                gw = _weight_grad(g, x, geo)
        if self._next[2][0] is not None:
            gb = g.sum((0, 2, 3))
        if one_d:
            gx = None if gx is None else gx.squeeze(2)
            gw = None if gw is None else gw.squeeze(2)
        return gx, gw, gb


def _weight_grad(inp: Tensor, gout: Tensor, geo: tuple) -> Tensor:
    """d conv(inp, w) / d w as a convolution of ``inp`` with ``gout`` (differentiable)."""
    kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, G = geo
    N, C, H, W = inp.shape
    CO, OH, OW = gout.shape[1:]
    Cg, Og = C // G, CO // G
    xi = inp.reshape(N, G, Cg, H, W).permute(2, 1, 0, 3, 4).reshape(Cg, G * N, H, W)
    wi = gout.reshape(N, G, Og, OH, OW).permute(1, 2, 0, 3, 4).reshape(CO, N, OH, OW)
    r = _convolution(xi, wi, None, (OH, OW, dh, dw, sh, sw, pt, pb, pl, pr, G), False, None)
    return r[:, :, :kh, :kw].permute(1, 0, 2, 3)


def _convolution(x: Tensor, w: Tensor, b: Any, geo: tuple, transposed: bool, out_hw: Any,
                 one_d: bool = False) -> Tensor:
    """The recorded op on 4-D tensors (3-D for ``one_d``, reshaped around the 2-D kernels)."""
    xd, wd = x._data, w._data
    bd = None if b is None else b._data
    if one_d:
        xd = xd.reshape(xd.shape[:2] + (1,) + xd.shape[2:])
        wd = wd.reshape(wd.shape[:2] + (1,) + wd.shape[2:])
    cols, wide = None, 0
    if not transposed:
        out, cols, wide = _conv_fwd(xd, wd, bd, geo)
    else:
        N = xd.shape[0]
        C = wd.shape[1] * geo[10]
        out = _conv_gx(xd, wd, (N, C) + tuple(out_hw), geo)
        if bd is not None:
            out = out + bd.reshape(C, 1, 1)
        else:
            out = np.ascontiguousarray(out)
    if one_d:
        out = out.reshape(out.shape[:2] + out.shape[3:])
    need_cols = not transposed and w._edge is not None
    return record(ConvolutionBackward0, (x, w, b), out,
                  saved=(x, w, cols if need_cols else None), geo=geo, transposed=transposed,
                  one_d=one_d, wide=wide)


# --------------------------------------------------------------------------- argument checks
def _geometry(op: str, x: Tensor, w: Tensor, b: Any, stride: Any, padding: Any, dilation: Any,
              groups: int, nd: int, transposed: bool) -> tuple:
    """Validate like torch; return (geo, unbatched)."""
    if not isinstance(x, Tensor) or not isinstance(w, Tensor):
        bad = x if not isinstance(x, Tensor) else w
        raise TypeError(f"{op}() argument 'input'/'weight' must be Tensor, not "
                        f"{type(bad).__name__}")
    shp = tuple(x.shape)
    if len(shp) not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got input "
            f"of size: {size_str(shp)}. Hint: a batch of images should be [batch, channels"
            f"{', height, width' if nd == 2 else ', length'}]; add missing dims with unsqueeze()."
        )
    ws = tuple(w.shape)
    if len(ws) != nd + 2:
        raise RuntimeError(
            f"weight should have at least three dimensions. Hint: {op} expects a weight of "
            f"{nd + 2} dims, got {size_str(ws)}."
        )
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    C = shp[-nd - 1]
    if not transposed:
        if C != ws[1] * groups:
            full = ((1,) if len(shp) == nd + 1 else ()) + shp
            raise RuntimeError(
                f"Given groups={groups}, weight of size {size_str(ws)}, expected input"
                f"{size_str(full)} to have {ws[1] * groups} channels, but got {C} channels "
                f"instead. Hint: the layer was built for {ws[1] * groups} input channels; check "
                "the previous layer's out_channels or the data's channel dim (dim -3 for images)."
            )
        if ws[0] % groups:
            raise RuntimeError(
                f"Given groups={groups}, expected weight to be divisible by {groups} at dimension "
                f"0, but got weight of size {size_str(ws)} instead"
            )
        nout = ws[0]
    else:
        if C != ws[0]:
            full = ((1,) if len(shp) == nd + 1 else ()) + shp
            raise RuntimeError(
                f"Given transposed=1, weight of size {size_str(ws)}, expected input"
                f"{size_str(full)} to have {ws[0]} channels, but got {C} channels instead. Hint: "
                "a transposed convolution's weight is [in_channels, out_channels/groups, *kernel]."
            )
        nout = ws[1] * groups
    if b is not None and tuple(b.shape) != (nout,):
        raise RuntimeError(
            f"Given weight of size {size_str(ws)}, expected bias to be 1-dimensional with "
            f"{nout} elements, but got bias of size {size_str(tuple(b.shape))} instead"
        )
    xdt, wdt = x._data.dtype, w._data.dtype
    if xdt != wdt:
        raise RuntimeError(
            f"expected scalar type {_tname(wdt)} but found {_tname(xdt)}. Hint: input is "
            f"{xdt} and weight is {wdt}; convert one, e.g. `x.to(weight.dtype)`."
        )
    if b is not None and b._data.dtype != xdt:
        raise RuntimeError(
            f"Input type ({_tname(xdt).lower()}) and bias type ({_tname(b._data.dtype).lower()})"
            " should be the same"
        )
    k = ws[2:]
    s = ntuple(stride, nd, "stride")
    d = ntuple(dilation, nd, "dilation")
    if any(v <= 0 for v in s):
        raise RuntimeError("non-positive stride is not supported")
    if any(v <= 0 for v in d):
        raise RuntimeError("dilation should be greater than zero")
    if isinstance(padding, str):
        if transposed:
            raise RuntimeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
        if padding == "valid":
            pads = [(0, 0)] * nd
        elif padding == "same":
            if any(v != 1 for v in s):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for kk, dd in zip(k, d, strict=True):
                tot = dd * (kk - 1)
                pads.append((tot // 2, tot - tot // 2))
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        p = ntuple(padding, nd, "padding")
        if any(v < 0 for v in p):
            raise RuntimeError("negative padding is not supported")
        pads = [(v, v) for v in p]
    if nd == 1:
        k, s, d, pads = (1,) + tuple(k), (1,) + s, (1,) + d, [(0, 0)] + pads
    geo = (k[0], k[1], s[0], s[1], d[0], d[1], pads[0][0], pads[0][1], pads[1][0], pads[1][1],
           groups)
    if not transposed:
        H = (1 if nd == 1 else shp[-2]) + pads[0][0] + pads[0][1]
        W = shp[-1] + pads[1][0] + pads[1][1]
        eh, ew = d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1
        if eh > H or ew > W:
            pin = f"({H} x {W})" if nd == 2 else f"({W})"
            ks = f"({eh} x {ew})" if nd == 2 else f"({ew})"
            raise RuntimeError(
                f"Calculated padded input size per channel: {pin}. Kernel size: {ks}. Kernel "
                f"size can't be greater than actual input size. Hint: {op} got input "
                f"{size_str(shp)}; use a smaller kernel, add padding, or feed a larger input."
            )
    return geo, len(shp) == nd + 1


def _tname(dt: Any) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int"}.get(str(dt), str(dt))


def _run(op: str, input: Tensor, weight: Tensor, bias: Any, stride: Any, padding: Any,
         dilation: Any, groups: int, nd: int, transposed: bool, output_padding: Any = 0) -> Tensor:
    geo, unbatched = _geometry(op, input, weight, bias, stride, padding, dilation, groups, nd,
                               transposed)
    x = input.unsqueeze(0) if unbatched else input
    out_hw = None
    if transposed:
        op_ = ntuple(output_padding, nd, "output_padding")
        if nd == 1:
            op_ = (0,) + op_
        kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, _ = geo
        if op_[0] >= max(sh, dh) or op_[1] >= max(sw, dw):
            raise RuntimeError(
                "output padding must be smaller than either stride or dilation, but got "
                f"output_padding={list(op_[2 - nd:])}, stride={list((sh, sw)[2 - nd:])}, "
                f"dilation={list((dh, dw)[2 - nd:])}"
            )
        H = 1 if nd == 1 else x.shape[2]
        W = x.shape[-1]
        out_hw = ((H - 1) * sh - pt - pb + dh * (kh - 1) + op_[0] + 1,
                  (W - 1) * sw - pl - pr + dw * (kw - 1) + op_[1] + 1)
        if out_hw[0] <= 0 or out_hw[1] <= 0:
            raise RuntimeError(
                f"Given input size per channel: {size_str(tuple(x.shape[2:]))}. Calculated output "
                f"size per channel: {size_str(out_hw[2 - nd:])}. Output size is too small"
            )
    if nd == 1:
        out = _convolution(x, weight, bias, geo, transposed, out_hw, one_d=True)
    else:
        out = _convolution(x, weight, bias, geo, transposed, out_hw)
    return out.squeeze(0) if unbatched else out


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """out[n, o, y, x] = b[o] + sum_{c,i,j} w[o, c, i, j] * x_pad[n, c, sy + di, sx + dj]."""
    return _run("conv2d", input, weight, bias, stride, padding, dilation, groups, 2, False)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """out[n, o, t] = bias[o] + sum_{c, i} weight[o, c, i] * x_pad[n, c, s*t + d*i]."""
    return _run("conv1d", input, weight, bias, stride, padding, dilation, groups, 1, False)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """The adjoint of conv2d in its input: each input pixel scatters weight-scaled kernels."""
    return _run("conv_transpose2d", input, weight, bias, stride, padding, dilation, groups, 2,
                True, output_padding)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """The adjoint of conv1d in its input."""
    return _run("conv_transpose1d", input, weight, bias, stride, padding, dilation, groups, 1,
                True, output_padding)
