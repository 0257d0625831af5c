"""Layer functions of ``ember.nn.functional``: linear, bilinear, dropout, embedding, one_hot, pad,
normalize, cosine_similarity, pairwise_distance.

``linear`` is one fused node (one BLAS call forward, two backward; no transpose node) named like
the outermost node torch records (``AddmmBackward0`` for 2-D input with bias ...).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..._generator import _gen, _uniform01
from ...autograd.grad_mode import no_grad
from ...autograd.graph import ARRAY_TYPES as _ARR
from ...ops._core import Node, Tensor, new, ns, record, unary
from ...ops._helpers import _need_tensor
from ...ops._linalg_common import _st
from ._pad import pad

__all__ = [
    "linear", "bilinear", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "feature_alpha_dropout", "embedding", "one_hot", "pad", "normalize", "cosine_similarity",
    "pairwise_distance",
]

_CPP = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int",
        "int32": "int"}


# ------------------------------------------------------------------ linear
class _LinearBackward(Node):
    """out = x W^T + b (rows of x flattened);  dx = g W, dW = g^T x, db = g summed to b."""

    _name = "AddmmBackward0"

    def backward(self, g: Any) -> tuple:
        x, w = self._unpack(g)
        nb = len(self._next) == 3 and self._next[2][0] is not None
        gx = gw = gb = None
        if type(g) in _ARR:
            g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
            if self._next[0][0] is not None:
                gx = g2.dot(w)
                if x.ndim != 2:
                    gx = gx.reshape(x.shape)
            if self._next[1][0] is not None:
                gw = g2.T.dot(x if x.ndim == 2 else x.reshape(-1, x.shape[-1]))
            if nb:
                gb = g2.sum(0) if self.bshape == g2.shape[1:] else ns(g).sum_to(g, self.bshape)
        else:
            from ...ops.linalg import matmul

            g2 = g if g.dim() == 2 else g.reshape(-1, g.shape[-1])
            if self._next[0][0] is not None:
                gx = matmul(g2, w)
                if x.dim() != 2:
                    gx = gx.reshape(x.shape)
            if self._next[1][0] is not None:
                gw = matmul(g2.mT, x if x.dim() == 2 else x.reshape(-1, x.shape[-1]))
            if nb:
                gb = ns(g).sum_to(g, self.bshape)
        return (gx, gw) if len(self._next) == 2 else (gx, gw, gb)


_LIN = {n: type(n, (_LinearBackward,), {"_name": n, "__module__": __name__})
        for n in ("AddmmBackward0", "MmBackward0", "ViewBackward0", "UnsafeViewBackward0",
                  "SqueezeBackward4")}


def _x(rows: int, s: tuple) -> str:
    return f"{rows}x{s[-1]}"


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight^T + bias (input [..., in], weight [out, in], bias [out])."""
    try:
        x, w = input._data, weight._data
    except AttributeError:
        bad, nm, pos = (input, "input", 1) if not isinstance(input, Tensor) else (
            weight, "weight", 2)
        raise _need_tensor("linear", nm, pos, bad) from None
    if x.ndim == 0 or w.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"{x.ndim}D and {w.ndim}D. Hint: add a feature dimension, e.g. "
                           "x.reshape(1, -1).")
    if w.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {w.ndim}-D tensor. Hint: the weight of "
                           "a linear layer has shape [out_features, in_features].")
    k = x.shape[-1]
    rows = x.size // k if k else int(np.prod(x.shape[:-1]))
    if k != w.shape[1]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and {w.shape[1]}x"
            f"{w.shape[0]}). Hint: the input's last dimension ({k}) must equal in_features "
            f"({w.shape[1]}); input shape {list(x.shape)}, weight shape {list(w.shape)}.")
    b = None
    if bias is not None:
        b = bias._data
        if b.dtype != w.dtype:
            raise RuntimeError(f"self and mat2 must have the same dtype, but got {_st(b.dtype)} "
                               f"and {_st(w.dtype)}. Hint: convert the bias, e.g. b.to(w.dtype).")
    if x.dtype != w.dtype:
        if b is not None:
            msg = (f"mat1 and mat2 must have the same dtype, but got {_st(x.dtype)} and "
                   f"{_st(w.dtype)}")
        else:
            cx, cw = (_CPP.get(t.dtype.name, t.dtype.name) for t in (x, w))
            msg = f"expected m1 and m2 to have the same dtype, but got: {cx} != {cw}"
        raise RuntimeError(f"{msg}. Hint: convert the input, e.g. x.float() (or the layer, e.g. "
                           "model.double()); integer class labels belong to the loss, not here.")
    x2 = x if x.ndim == 2 else x.reshape(rows, k)
    r = x2.dot(w.T)
    if b is not None:
        oshape = (rows, w.shape[0])
        if b.shape != oshape[1:]:
            try:
                np.broadcast_shapes(b.shape, oshape)
                if b.ndim > 2:
                    raise ValueError
            except ValueError:
                j = next(i for i in (1, 0) if i - 2 + b.ndim >= 0
                         and b.shape[i - 2 + b.ndim] not in (1, oshape[i]))
                raise RuntimeError(
                    f"The expanded size of the tensor ({oshape[j]}) must match the existing size "
                    f"({b.shape[j - 2 + b.ndim]}) at non-singleton dimension {j}.  Target sizes: "
                    f"{list(oshape)}.  Tensor sizes: {list(b.shape)}. Hint: the bias needs shape "
                    f"[{w.shape[0]}] (out_features).") from None
        r += b
    if x.ndim != 2:
        r = r.reshape(x.shape[:-1] + (w.shape[0],))
    if b is None:
        name = "MmBackward0" if x.ndim == 2 else (
            "SqueezeBackward4" if x.ndim == 1 else "UnsafeViewBackward0")
        return record(_LIN[name], (input, weight), r, saved=(input, weight))
    name = "AddmmBackward0" if x.ndim == 2 else "ViewBackward0"
    return record(_LIN[name], (input, weight, bias), r, saved=(input, weight), bshape=b.shape)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """out_k = input1 W_k input2^T + b_k (weight [out, in1, in2])."""
    from ...ops.linalg import matmul

    s1, s2, ws = input1.shape, input2.shape, weight.shape
    if len(s1) != len(s2):
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {len(s1)} and "
                           f"{len(s2)}. Hint: both inputs need the same batch shape.")
    if s1[:-1] != s2[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(s1[:-1])} and {list(s2[:-1])}")
    if len(ws) != 3 or s1[-1] != ws[1] or s2[-1] != ws[2]:
        raise RuntimeError(
            f"bilinear(): input size does not match weight size: got {s1[-1]} and {s2[-1]} but "
            f"weight is {list(ws)}. Hint: weight has shape [out, in1_features, in2_features].")
    o, i, j = ws
    x1 = input1.reshape(-1, i)
    t = matmul(x1, weight.permute(1, 0, 2).reshape(i, o * j)).reshape(-1, o, j)
    y = (t * input2.reshape(-1, 1, j)).sum(-1).reshape(tuple(s1[:-1]) + (o,))
    return y if bias is None else y + bias


# ------------------------------------------------------------------ dropout
def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


class _MaskBackward(Node):
    """out = a * mask;  da = g * mask."""

    _name = "MulBackward0"

    def backward(self, g: Any) -> tuple:
        m = self.mask
        return (g * (m if type(g) in _ARR else new(m, None)),)


def _apply_mask(input: Tensor, mask: Any, inplace: bool) -> Tensor:
    d = input._data
    if inplace:
        from ...ops.inplace import check_inplace, inplace_update

        check_inplace(input)
        return inplace_update(input, unary(_MaskBackward, input, d * mask, mask=mask))
    return unary(_MaskBackward, input, (d * mask).astype(d.dtype, copy=False), mask=mask)


def _dropout(input: Tensor, p: float, training: bool, inplace: bool, shape: Any) -> Tensor:
    """Zero elements (or whole channels: ``shape`` of the noise) with probability p."""
    _check_p(p)
    d = input._data
    if p == 0 or not training or d.size == 0:
        return input
    if d.dtype.kind != "f":
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_st(d.dtype)}. Hint: dropout needs a float tensor (x.float()).")
    if p == 1:
        return _apply_mask(input, d.dtype.type(0), inplace)
    u = _uniform01(_gen(None, "dropout"), d.shape if shape is None else shape, d.dtype)
    mask = (u >= p) * d.dtype.type(1.0 / (1.0 - p))
    return _apply_mask(input, mask.astype(d.dtype, copy=False), inplace)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training only)."""
    return _dropout(input, p, training, inplace, None)


def _feature_shape(d: Any) -> tuple:
    return d.shape[:2] + (1,) * (d.ndim - 2)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input with probability p."""
    _check_p(p)
    nd = input.dim()
    if nd not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that dropout1d "
            "exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
            "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    d = input._data
    shape = _feature_shape(d) if nd == 3 else (d.shape[0], 1)
    return _dropout(input, p, training, inplace, shape)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels (2-D feature maps) of (N, C, H, W) input with probability p."""
    import warnings

    _check_p(p)
    nd = input.dim()
    if nd not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if nd == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    d = input._data
    return _dropout(input, p, training, inplace, _feature_shape(d) if nd >= 2 else None)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels (3-D feature maps) of (N, C, D, H, W) or (C, D, H, W) input."""
    _check_p(p)
    d = input._data
    shape = _feature_shape(d) if d.ndim == 5 else (d.shape[0],) + (1,) * (d.ndim - 1)
    return _dropout(input, p, training, inplace, shape)


_ALPHA = 1.7580993408473766


def _alpha(input: Tensor, p: float, training: bool, inplace: bool, shape: Any) -> Tensor:
    _check_p(p)
    d = input._data
    if p == 0 or not training or d.size == 0:
        return input
    if p == 1:
        return _apply_mask(input, d.dtype.type(0), inplace)
    keep = (_uniform01(_gen(None, "alpha_dropout"), d.shape if shape is None else shape,
                       d.dtype) >= p).astype(d.dtype)
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    b = new(((keep - 1) * (_ALPHA * a) + _ALPHA * a * p).astype(d.dtype), None)
    out = input * new(keep * d.dtype.type(a), None) + b
    if inplace:
        from ...ops.inplace import check_inplace, inplace_update

        check_inplace(input)
        return inplace_update(input, out)
    return out


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU nets: dropped values set to SELU's saturation, mean/variance kept."""
    return _alpha(input, p, training, inplace, None)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """alpha_dropout of whole channels."""
    return _alpha(input, p, training, inplace, _feature_shape(input._data))


# ------------------------------------------------------------------ embedding
class EmbeddingBackward0(Node):
    """out = W[idx];  dW = rows of g added at idx (padding row zero, optionally / frequency)."""

    def backward(self, g: Any) -> tuple:
        idx, n, pad = self.idx, self.num, self.pad
        flat = idx.reshape(-1)
        if type(g) in _ARR:
            g2 = g.reshape(-1, g.shape[-1])
            if self.freq:
                g2 = g2 / np.bincount(flat, minlength=n)[flat][:, None].astype(g2.dtype)
            gw = np.zeros((n, g2.shape[1]), g2.dtype)
            np.add.at(gw, flat, g2)
            if pad >= 0:
                gw[pad] = 0
            return (gw,)
        from ...ops.gather import index_add

        g2 = g.reshape(-1, g.shape[-1])
        if self.freq:
            c = np.bincount(flat, minlength=n)[flat][:, None].astype(g2._data.dtype)
            g2 = g2 / new(c, None)
        gw = index_add(new(np.zeros((n, g2.shape[1]), g2._data.dtype), None), 0,
                       new(flat, None), g2)
        if pad >= 0:
            keep = np.ones((n, 1), g2._data.dtype)
            keep[pad] = 0
            gw = gw * new(keep, None)
        return (gw,)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """weight[input]: the rows of ``weight`` picked by the integer indices in ``input``."""
    w = weight._data
    n = w.shape[0] if w.ndim else 0
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= n:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -n:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = n + padding_idx
    else:
        padding_idx = -1
    if not isinstance(input, Tensor):
        raise _need_tensor("embedding", "indices", 2, input)
    idx = input._data
    if idx.dtype not in (np.int64, np.int32):
        legacy = f"{_st(idx.dtype)}Tensor"
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: "
            f"Long, Int; but got torch.{legacy} instead (while checking arguments for embedding)"
            ". Hint: indices must be integers, e.g. x.long().")
    if w.ndim != 2:
        raise RuntimeError("'weight' must be 2-D. Hint: an embedding table has shape "
                           "[num_embeddings, embedding_dim].")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"index out of range in self. Hint: got index {int(bad)} for an "
                         f"embedding table of {n} rows; indices must be in [0, {n - 1}].")
    if max_norm is not None:
        _renorm(weight, idx, max_norm, norm_type)
        w = weight._data
    return unary(EmbeddingBackward0, weight, w[idx], idx=np.asarray(idx, dtype=np.int64),
                 num=n, pad=padding_idx, freq=bool(scale_grad_by_freq))


def _renorm(weight: Tensor, idx: Any, max_norm: float, norm_type: float) -> None:
    """Scale rows of ``weight`` used by ``idx`` whose norm exceeds ``max_norm`` (in place)."""
    with no_grad():
        w = weight._data
        rows = np.unique(idx)
        sub = w[rows]
        if norm_type == math.inf:
            nrm = np.abs(sub).max(axis=1)
        else:
            nrm = (np.abs(sub) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        big = nrm > max_norm
        if big.any():
            scale = (max_norm / (nrm[big] + 1e-7)).astype(w.dtype)
            w[rows[big]] = sub[big] * scale[:, None]
            weight._bump()


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor with a trailing dim of size num_classes: 1 at each index, 0 elsewhere."""
    d = tensor._data
    if d.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor. "
                           "Hint: convert the labels with .long().")
    if num_classes == -1:
        if d.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(d.max()) + 1
    if d.size:
        if d.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if d.max() >= num_classes:
            raise RuntimeError(f"Class values must be smaller than num_classes. Hint: got "
                               f"{int(d.max())} with num_classes={num_classes}.")
    r = (np.asarray(d)[..., None] == np.arange(num_classes)).astype(np.int64)
    return new(r, None)


# ------------------------------------------------------------------ norms and distances
def normalize(input: Tensor, p: float = 2.0, dim: Any = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """input / max(||input||_p along dim, eps)."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    from ...ops.arith import div

    return div(input, denom, out=out)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim."""
    from ...ops.join import broadcast_tensors

    if x1.dtype.is_floating_point is False:
        x1 = x1.float()
    if x2.dtype.is_floating_point is False:
        x2 = x2.float()
    if x1.shape != x2.shape:
        x1, x2 = broadcast_tensors(x1, x2)

    def unit(x: Tensor) -> Tensor:
        n = x.norm(2, dim, keepdim=True)
        nd = n.detach()
        return x / (n + (nd.clamp_min(eps) - nd))  # clamped value, gradient of the plain norm

    return (unit(x1) * unit(x2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim."""
    return (x1 - x2 + eps).norm(p, -1, keepdim)
