"""Batching rules for ``ember.nn.functional``: activations, softmax, linear, losses, norms,
embedding, padding, convolution and pooling.

Losses are computed per element with ``reduction='none'`` on the batch and reduced per example
(``mean`` over the logical dims, class-weight denominators per example).  Convolution and pooling
fold the vmap dims into the batch dim N; a batched weight (per-example weights, e.g. from
``vmap(grad(f))``) becomes one grouped convolution with ``groups * batch`` groups.
"""

from __future__ import annotations

import inspect
from typing import Any

import ember

from .._tensor import Tensor
from ._core import BatchedTensor, bt, ldim, lndim, no_rule, parts, relayout, union, with_levels
from ._dispatch import bind
from .rules_linalg import bmatmul
from .rules_pointwise import dynamic_shape, pointwise
from .rules_reduce import map_dims

_F = "ember.nn.functional"
ACTIVATIONS = (
    "relu relu_ relu6 leaky_relu leaky_relu_ elu elu_ selu selu_ celu celu_ gelu silu mish "
    "sigmoid tanh softplus hardtanh hardtanh_ hardsigmoid hardswish logsigmoid threshold "
    "threshold_ softsign tanhshrink hardshrink softshrink"
)
bind(pointwise, ACTIVATIONS, tensor=False, module=_F)

_SIGS: dict = {}


def arguments(orig: Any, args: tuple, kwargs: dict) -> dict:
    """All arguments of a call by name (defaults applied)."""
    sig = _SIGS.get(orig)
    if sig is None:
        sig = _SIGS[orig] = inspect.signature(orig)
    ba = sig.bind(*args, **kwargs)
    ba.apply_defaults()
    return dict(ba.arguments)


def _softmax(orig: Any, input: Any, dim: Any = None, _stacklevel: int = 3,
             dtype: Any = None) -> Any:
    from ..nn.functional._activation import _softmax_dim

    if dim is None:
        dim = _softmax_dim(orig.__name__, lndim(input), _stacklevel + 1)
    p, lv = parts(input)
    n = lndim(input)
    if n == 0:
        ldim(dim, 0)
        return bt(orig(p.unsqueeze(-1), -1, dtype=dtype).squeeze(-1), lv)
    return bt(orig(p, ldim(dim, n) + len(lv), dtype=dtype), lv)


bind(_softmax, "softmax softmin log_softmax", tensor=False, module=_F)


def _glu(orig: Any, input: Any, dim: int = -1) -> Any:
    p, lv = parts(input)
    n = lndim(input)
    if n == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    return bt(orig(p, ldim(dim, n) + len(lv)), lv)


bind(_glu, "glu", tensor=False, module=_F)


def _linear(orig: Any, input: Any, weight: Any, bias: Any = None) -> Any:
    if lndim(weight) != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {lndim(weight)}-D tensor. Hint: the "
                           "weight of a linear layer has shape [out_features, in_features].")
    w = weight.mT if type(weight) is BatchedTensor else parts(weight)[0].t()
    r = bmatmul(input, w)
    return r if bias is None else r + bias


bind(_linear, "linear", tensor=False, module=_F)


# ----------------------------------------------------------------------------- losses
def _reduction(a: dict) -> str:
    red = a.get("reduction", "mean")
    if a.get("size_average") is not None or a.get("reduce") is not None:
        from ..nn.functional._loss_util import legacy_string

        red = legacy_string(a["size_average"], a["reduce"])
    for k in ("size_average", "reduce"):
        if k in a:
            a[k] = None
    a["reduction"] = "none"
    return red


def _reduce(loss: Any, red: str, input: Any) -> Any:
    if red == "none":
        return loss
    if red == "sum":
        return loss.sum()
    if red == "batchmean":
        return loss.sum() / (input.shape[0] if input.dim() else 1)
    return loss.mean()


def _ewise_loss(orig: Any, *args: Any, **kwargs: Any) -> Any:
    """Elementwise losses: 'none' on the batch, then the reduction per example."""
    a = arguments(orig, args, kwargs)
    red = _reduction(a)
    names = [k for k, v in a.items() if isinstance(v, Tensor)]
    lvs = union([a[k] for k in names])
    R = max(lndim(a[k]) for k in names)
    input = a[names[0]]
    for k in names:  # same physical layout for all: no spurious size-mismatch warnings
        a[k] = relayout(a[k], lvs, R - lndim(a[k]), True)
    return _reduce(bt(orig(**a), lvs), red, input)


bind(_ewise_loss, "mse_loss l1_loss smooth_l1_loss huber_loss soft_margin_loss "
     "binary_cross_entropy binary_cross_entropy_with_logits kl_div poisson_nll_loss "
     "margin_ranking_loss hinge_embedding_loss", tensor=False, module=_F)


def _class_loss(orig: Any, *args: Any, **kwargs: Any) -> Any:
    """cross_entropy / nll_loss: the per-example batch folded into N, reduced per example."""
    a = arguments(orig, args, kwargs)
    red = _reduction(a)
    x, t, w = a["input"], a["target"], a.get("weight")
    if type(w) is BatchedTensor:
        raise no_rule(f"ember.nn.functional.{orig.__name__} with a batched class weight")
    n = lndim(x)
    lvs = union([x, t])
    u = len(lvs)
    px, pt = with_levels(x, lvs), with_levels(t, lvs)
    bshape = tuple(px._data.shape[:u])
    prob = t.is_floating_point()
    if n == 1:
        a["input"] = px.reshape(-1, px._data.shape[-1])
        a["target"] = pt.reshape(-1, pt._data.shape[-1]) if prob else pt.reshape(-1)
        lshape: tuple = ()
    else:
        a["input"] = px.reshape(-1, *px._data.shape[u + 1:])
        a["target"] = pt.reshape(-1, *pt._data.shape[u + 1:])
        lshape = (x.shape[0], *x.shape[2:])
    loss = bt(orig(**a).reshape(*bshape, *lshape), lvs)
    if red != "mean":
        return _reduce(loss, red, x)
    if prob:
        return loss.sum() / (x.numel() // x.shape[1 if n > 1 else 0])
    ig = a.get("ignore_index", -100)
    keep = t != ig
    if w is None:
        den = keep.sum().to(loss.dtype)
    else:
        den = (w[ember.where(keep, t, 0)] * keep).sum()
    return loss.sum() / den


bind(_class_loss, "cross_entropy nll_loss", tensor=False, module=_F)


# ----------------------------------------------------------------------------- norms
def _last_dims_norm(orig: Any, input: Any, normalized_shape: Any, weight: Any = None,
                    *rest: Any, **kw: Any) -> Any:
    """layer_norm / rms_norm normalise the last dims: the vmap dims are just more batch."""
    args = list(rest)
    bias = None
    if orig.__name__ == "layer_norm":
        bias = args.pop(0) if args else kw.pop("bias", None)
    if type(weight) is BatchedTensor or type(bias) is BatchedTensor:
        none = [None] if orig.__name__ == "layer_norm" else []
        y = _last_dims_norm(orig, input, normalized_shape, None, *none, *args, **kw)
        if weight is not None:
            y = y * weight
        return y if bias is None else y + bias
    p, lv = parts(input)
    extra = (bias,) if orig.__name__ == "layer_norm" else ()
    return bt(orig(p, normalized_shape, weight, *extra, *args, **kw), lv)


bind(_last_dims_norm, "layer_norm rms_norm", tensor=False, module=_F)

_BN_MSG = (
    "Batch norm got a batched tensor as input while the running_mean or running_var, which will "
    "be updated in place, were not batched. Hint: call the model in eval mode, or drop the "
    "running stats (track_running_stats=False) for per-example computations."
)


def _batch_norm(orig: Any, *args: Any, **kwargs: Any) -> Any:
    a = arguments(orig, args, kwargs)
    x = a["input"]
    n = lndim(x)
    if n < 2:
        return orig(*args, **kwargs)  # ember's own error
    shape = (1, x.shape[1]) + (1,) * (n - 2)
    rm, rv = a["running_mean"], a["running_var"]
    if a["training"] or rm is None:
        if rm is not None or rv is not None:
            raise RuntimeError(_BN_MSG)
        dims = (0, *range(2, n))
        mean = x.mean(dims, keepdim=True)
        var = x.var(dims, keepdim=True, unbiased=False)
    else:
        mean, var = rm.reshape(shape), rv.reshape(shape)
    y = (x - mean) * (var + a["eps"]).rsqrt()
    if a["weight"] is not None:
        y = y * a["weight"].reshape(shape)
    if a["bias"] is not None:
        y = y + a["bias"].reshape(shape)
    return y


bind(_batch_norm, "batch_norm", tensor=False, module=_F)


def _fold_n(orig: Any, input: Any, *args: Any, **kwargs: Any) -> Any:
    """group_norm / instance_norm: fold the vmap dims into the batch dim N."""
    if any(type(v) is BatchedTensor for v in (*args, *kwargs.values())):
        raise no_rule(f"ember.nn.functional.{orig.__name__} with batched parameters")
    a = arguments(orig, (input, *args), kwargs)
    if orig.__name__ == "instance_norm" and a.get("running_mean") is not None:
        raise RuntimeError(_BN_MSG)
    p, lv = parts(input)
    k = len(lv)
    if lndim(input) < 2:
        return orig(input, *args, **kwargs)
    a["input"] = p.reshape(-1, *p._data.shape[k + 1:])
    return bt(orig(**a).reshape(p.shape), lv)


bind(_fold_n, "group_norm instance_norm", tensor=False, module=_F)


# ----------------------------------------------------------------------------- misc
def _embedding(orig: Any, input: Any, weight: Any, padding_idx: Any = None,
               max_norm: Any = None, *rest: Any, **kw: Any) -> Any:
    if type(weight) is not BatchedTensor:
        p, lv = parts(input)
        return bt(orig(p, weight, padding_idx, max_norm, *rest, **kw), lv)
    if max_norm is not None:
        raise no_rule("ember.nn.functional.embedding with max_norm and a batched weight")
    out = weight[input]
    if padding_idx is not None:
        keep = (input != (padding_idx % weight.shape[0])).unsqueeze(-1)
        out = ember.where(keep, out, out.detach())
    return out


bind(_embedding, "embedding", tensor=False, module=_F)


def _one_hot(orig: Any, tensor: Any, num_classes: int = -1) -> Any:
    if num_classes < 0:
        raise dynamic_shape("aten::one_hot (num_classes=-1)")
    p, lv = parts(tensor)
    return bt(orig(p, num_classes), lv)


bind(_one_hot, "one_hot", tensor=False, module=_F)


def _normalize(orig: Any, input: Any, p: float = 2.0, dim: Any = 1, eps: float = 1e-12,
               out: Any = None) -> Any:
    q, lv = parts(input)
    return bt(orig(q, p, map_dims(dim, lndim(input), len(lv)), eps), lv)


bind(_normalize, "normalize", tensor=False, module=_F)


def _pair(orig: Any, x1: Any, x2: Any, *args: Any, **kwargs: Any) -> Any:
    """cosine_similarity(dim) / pairwise_distance (last dim) on broadcast operands."""
    lvs = union([x1, x2])
    R = max(lndim(x1), lndim(x2))
    p1 = relayout(x1, lvs, R - lndim(x1), True)
    p2 = relayout(x2, lvs, R - lndim(x2), True)
    if orig.__name__ == "cosine_similarity":
        a = arguments(orig, (x1, x2, *args), kwargs)
        return bt(orig(p1, p2, ldim(a["dim"], R) + len(lvs), a["eps"]), lvs)
    return bt(orig(p1, p2, *args, **kwargs), lvs)


bind(_pair, "cosine_similarity pairwise_distance", tensor=False, module=_F)


def _pad(orig: Any, input: Any, pad: Any, mode: str = "constant", value: Any = None) -> Any:
    p, lv = parts(input)
    m = len(pad) // 2
    shp = p._data.shape
    q = p.reshape(-1, *shp[len(shp) - m:]) if m else p
    out = orig(q, pad, mode, value)
    return bt(out.reshape(*shp[:len(shp) - m], *out._data.shape[1:]), lv)


bind(_pad, "pad", tensor=False, module=_F)


def _conv(orig: Any, input: Any, weight: Any, bias: Any = None, stride: Any = 1,
          padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Any:
    sd = 1 if orig.__name__.endswith("1d") else 2
    batched_in = lndim(input) == sd + 2
    if type(weight) is not BatchedTensor and type(bias) is not BatchedTensor:
        p, lv = parts(input)
        k = len(lv) + (1 if batched_in else 0)
        lead = p._data.shape[:k]
        out = orig(p.reshape(-1, *p._data.shape[k:]), weight, bias, stride, padding, dilation,
                   groups)
        return bt(out.reshape(*lead, *out._data.shape[1:]), lv)
    lvs = union([input, weight, bias])
    u = len(lvs)
    px, pw = with_levels(input, lvs), with_levels(weight, lvs)
    ushape = px._data.shape[:u]
    nb = 1
    for s in ushape:
        nb *= s
    if not batched_in:
        px = px.unsqueeze(u)
    N, C = px._data.shape[u], px._data.shape[u + 1]
    sp = px._data.shape[u + 2:]
    x2 = px.reshape(nb, N, C, *sp).movedim(0, 1).reshape(N, nb * C, *sp)
    co = pw._data.shape[u]
    w2 = pw.reshape(nb * co, *pw._data.shape[u + 1:])
    b2 = None if bias is None else with_levels(bias, lvs).reshape(nb * co)
    out = orig(x2, w2, b2, stride, padding, dilation, groups * nb)
    osp = out._data.shape[2:]
    out = out.reshape(N, nb, co, *osp).movedim(1, 0).reshape(*ushape, N, co, *osp)
    return bt(out if batched_in else out.squeeze(u), lvs)


bind(_conv, "conv1d conv2d", tensor=False, module=_F)


def _pool(orig: Any, input: Any, *args: Any, **kwargs: Any) -> Any:
    """Pooling acts per plane: fold every leading dim into one channel dim."""
    p, lv = parts(input)
    m = 1 if "1d" in orig.__name__ else 2
    shp = p._data.shape
    lead = shp[:len(shp) - m]
    out = orig(p.reshape(-1, *shp[len(shp) - m:]), *args, **kwargs)
    if isinstance(out, tuple):
        return tuple(bt(o.reshape(*lead, *o._data.shape[1:]), lv) for o in out)
    return bt(out.reshape(*lead, *out._data.shape[1:]), lv)


bind(_pool, "max_pool1d max_pool2d avg_pool1d avg_pool2d adaptive_avg_pool1d "
     "adaptive_avg_pool2d adaptive_max_pool1d adaptive_max_pool2d max_pool1d_with_indices "
     "max_pool2d_with_indices", tensor=False, module=_F)


def _sdpa(orig: Any, query: Any, key: Any, value: Any, attn_mask: Any = None,
          dropout_p: float = 0.0, *args: Any, **kwargs: Any) -> Any:
    if dropout_p:
        raise no_rule("ember.nn.functional.scaled_dot_product_attention with dropout_p > 0")
    ts = [query, key, value] + ([attn_mask] if attn_mask is not None else [])
    lvs = union(ts)
    R = max(lndim(t) for t in ts)
    ps = [relayout(t, lvs, R - lndim(t), True) for t in ts]
    mask = ps[3] if attn_mask is not None else None
    return bt(orig(ps[0], ps[1], ps[2], mask, dropout_p, *args, **kwargs), lvs)


bind(_sdpa, "scaled_dot_product_attention", tensor=False, module=_F)
