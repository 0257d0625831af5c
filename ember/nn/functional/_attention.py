"""Attention: scaled_dot_product_attention and multi_head_attention_forward (torch's semantics).

Written with ember ops so autograd (and double backward) just works.  Masks follow torch: a bool
mask marks positions that TAKE PART in attention (``True`` = keep), a float mask is added to the
scores; ``key_padding_mask`` (bool) marks padding keys to IGNORE (``True`` = ignore).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ... import _creation
from ..._tensor import Tensor
from ...ops.join import cat
from ...ops.linalg import matmul
from ...ops.stats import softmax

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_CT = {"float32": "float", "float64": "double", "float16": "c10::Half", "bool": "bool"}


def _dropout(x: Tensor, p: float) -> Tensor:
    """Inverted dropout (always on): ``x * mask / (1 - p)``; uses F.dropout when available."""
    from .. import functional as F

    fn = getattr(F, "dropout", None)
    if fn is not None:
        return fn(x, p, True)
    from ... import _random

    if p >= 1:
        return x * 0.0
    return x * _random.bernoulli(_creation.full_like(x, 1.0 - p)) / (1.0 - p)


def _linear(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    """x @ w^T + b."""
    out = matmul(x, w.t())
    return out if b is None else out + b


def _is_float(t: Tensor) -> bool:
    return t._data.dtype.kind in "fc"


def _bool_to_bias(mask: Tensor, dtype: Any) -> Tensor:
    """True -> 0, False -> -inf (bool 'keep' mask as an additive float mask)."""
    arr = np.where(np.asarray(mask._data), 0.0, -np.inf).astype(dtype)
    return _creation.tensor(arr)


def _neg_inf_rows(s: Tensor) -> np.ndarray | None:
    """Rows of scores that are -inf everywhere (fully masked), or None when there are none."""
    rows = np.isneginf(np.asarray(s._data)).all(-1, keepdims=True)
    return rows if rows.any() else None


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + mask) @ V, scale = 1/sqrt(E) by default; fully masked rows give 0."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be Tensor, "
                            f"not {type(t).__name__}")
    dq, dk, dv = (t._data.dtype for t in (query, key, value))
    if not (dq == dk == dv):
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_CT.get(dq.name, dq.name)} key.dtype: {_CT.get(dk.name, dk.name)} and value.dtype:"
            f" {_CT.get(dv.name, dv.name)} instead. Hint: convert them to one dtype, e.g. "
            "key.to(query.dtype).")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must be at least "
                           f"2-D (..., L, E), got {query.dim()}-D, {key.dim()}-D and "
                           f"{value.dim()}-D. Hint: add a sequence dimension.")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [..., "
            f"{query.shape[-1]}] but got: [..., {key.shape[-1]}]. scaled_dot_product_attention: "
            f"query {list(query.shape)} and key {list(key.shape)} need the same embedding size. "
            "Hint: project them to a common size first.")
    if enable_gqa and query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk:
            raise RuntimeError(f"Number of heads in key and value must divide the number of heads "
                               f"in query, got {hk} and {hq}")
        key, value = (_repeat_heads(t, hq // hk) for t in (key, value))
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True. Hint: pass one of them (fold the causal part "
                           "into attn_mask).")
    ln, sn = query.shape[-2], key.shape[-2]
    sc = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    s = matmul(query, key.transpose(-2, -1)) * sc
    npd = s._data.dtype
    if is_causal:
        keep = np.tril(np.ones((ln, sn), dtype=bool))
        s = s + _creation.tensor(np.where(keep, 0.0, -np.inf).astype(npd))
    if attn_mask is not None:
        s = s + (attn_mask if _is_float(attn_mask) else _bool_to_bias(attn_mask, npd))
    rows = _neg_inf_rows(s) if (is_causal or attn_mask is not None) else None
    if rows is not None:
        r = _creation.tensor(rows)
        w = softmax(s.masked_fill(r, 0.0), -1).masked_fill(r, 0.0)
    else:
        w = softmax(s, -1)
    if dropout_p > 0.0:
        w = _dropout(w, dropout_p)
    return matmul(w, value)


def _repeat_heads(t: Tensor, rep: int) -> Tensor:
    """repeat_interleave(t, rep, dim=-3) through expand + reshape."""
    shp = tuple(t.shape)
    big = t.unsqueeze(-3).expand(*shp[:-2], rep, *shp[-2:])
    return big.reshape(*shp[:-3], shp[-3] * rep, *shp[-2:])


# ------------------------------------------------------------------------------ MHA
def _canonical_mask(mask: Tensor | None, mask_name: str, other_type: Any, other_name: str,
                    target_type: Any, check_other: bool = True) -> Tensor | None:
    """bool masks -> float masks (True -> -inf); float masks pass through."""
    if mask is None:
        return None
    kind = mask._data.dtype.kind
    if kind != "b" and kind not in "fc":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=3)
    if kind == "b":
        npd = _creation.zeros(1, dtype=target_type)._data.dtype
        return _creation.tensor(np.where(np.asarray(mask._data), -np.inf, 0.0).astype(npd))
    return mask


def _none_or_dtype(t: Tensor | None) -> Any:
    return None if t is None else t.dtype


def _mha_shape_check(query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any,
                     attn_mask: Any, num_heads: int) -> bool:
    """torch's checks; returns whether the input is batched."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                                 f" but found {key.dim()}-D and {value.dim()}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.dim()}-D tensor "
                                 "instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {key.dim()}-D and {value.dim()}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 1-D but found {key_padding_mask.dim()}-D tensor "
                                 "instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.dim()}-D tensor "
                                     "instead")
            if attn_mask.dim() == 3:
                exp = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != exp:
                    raise AssertionError(f"Expected `attn_mask` shape to be {exp} but got "
                                         f"{attn_mask.shape}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


def _pad_last(m: Tensor) -> Tensor:
    """Append one zero column on the last dim (torch's F.pad(mask, (0, 1)))."""
    z = _creation.zeros(*m.shape[:-1], 1, dtype=m.dtype)
    return cat([m, z], -1)


def _in_proj(query: Tensor, key: Tensor, value: Tensor, w: Tensor, b: Tensor | None) -> tuple:
    if key is value and query is key:
        proj = _linear(query, w, b)
        return tuple(proj.chunk(3, -1))
    ws = w.chunk(3)
    bs = (None,) * 3 if b is None else b.chunk(3)
    return tuple(_linear(x, ws[i], bs[i]) for i, x in enumerate((query, key, value)))


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool = True,
        key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False) -> tuple:
    """Multi-head attention on (L, N, E) inputs (or unbatched (L, E)); returns (out, weights)."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
        bq, bk, bv = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q = _linear(query, q_proj_weight, bq)
        k = _linear(key, k_proj_weight, bk)
        v = _linear(value, v_proj_weight, bv)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {key.shape} does not match value shape "
                                 f"{value.shape}")
        q, k, v = _in_proj(query, key, value, in_proj_weight, in_proj_bias)
    src_len = key.shape[0]
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.expand(1, bsz, embed_dim)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None
         else static_k)
    v = (v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None
         else static_v)
    if add_zero_attn:
        z = _creation.zeros(bsz * num_heads, 1, head_dim, dtype=k.dtype)
        k, v = cat([k, z], 1), cat([v, z], 1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        kpm = (key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
               .reshape(bsz * num_heads, 1, src_len))
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        scores = matmul(q_scaled, k.transpose(-2, -1))
        if attn_mask is not None:
            scores = attn_mask + scores
        w = softmax(scores, -1)
        if dropout_p > 0.0:
            w = _dropout(w, dropout_p)
        out = matmul(w, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = _linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
        w = w.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            w = w.mean(1)
        if not is_batched:
            out, w = out.squeeze(1), w.squeeze(0)
        return out, w
    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = _linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    return out, None
