"""Class-index losses: nll_loss (NllLossBackward0 / NllLoss2DBackward0), cross_entropy (class
indices, class weights, ignore_index, label smoothing, probability targets), multi_margin_loss."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ops._core import Node, Tensor, new, record
from ._loss_util import (
    MEAN,
    NONE,
    SUM,
    div_scalar,
    get_enum,
    is_array,
    legacy_string,
    not_differentiable,
    reduce_array,
    tname,
)

__all__ = ["nll_loss", "cross_entropy", "multi_margin_loss"]


def _scatter(shape: tuple, idx: Any, coef: Any, dtype: Any) -> Any:
    """Zeros of ``shape`` (N, C, ...) with ``coef`` (N, ... or a scalar) put at class ``idx``."""
    z = np.zeros(shape, dtype)
    if len(shape) == 2:
        z[np.arange(shape[0]), idx] = coef
    else:
        c = np.broadcast_to(np.asarray(coef, dtype), idx.shape)
        np.put_along_axis(z, idx[:, None], c[:, None], axis=1)
    return z


class NllLossBackward0(Node):
    """out = -w[t] input[n, t] (mean: / sum of w[t]);  dinput = -w[t] g at class t, 0 elsewhere."""

    red = MEAN

    def backward(self, g: Any) -> tuple:
        coef, idx, ishape, tshape = self.coef, self.idx, self.ishape, self.tshape
        if is_array(g):
            c = coef * (np.reshape(g, tshape) if self.red == NONE else g)
            return (_scatter(ishape, idx, c, self.dt).reshape(self.oshape),)
        m = new(_scatter(ishape, idx, coef, self.dt), None)
        gg = g.reshape(tshape).unsqueeze(1) if self.red == NONE else g
        return ((m * gg).reshape(self.oshape),)


class NllLoss2DBackward0(NllLossBackward0):
    """The K-dimensional form of NllLossBackward0 (inputs of shape (N, C, d1, ...))."""


def _check_nll(x: Any, t: Any, w: Any, fn: str) -> None:
    sh = list(x.shape)
    if x.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got 0). Hint: {fn} needs scores of "
                         "shape (C,), (N, C) or (N, C, d1, ...).")
    if x.ndim != 1 and t.ndim >= 1 and x.shape[0] != t.shape[0]:
        raise ValueError(
            f"Expected input batch_size ({x.shape[0]}) to match target batch_size ({t.shape[0]})."
            f" Hint: {fn} got input of shape {sh} and target of shape {list(t.shape)}; the "
            "target needs one class index per sample."
        )
    if x.ndim <= 2 and t.ndim <= 1 and (x.ndim == 1 or t.ndim == 1):
        if x.ndim == 2 or t.ndim == 0 or t.shape[0] == 1:
            return _check_types(x, t, w, fn)
    hint = f" Hint: {fn} got input of shape {sh} and target of shape {list(t.shape)}."
    if x.ndim <= 2:
        if t.ndim > 1 or (x.ndim == 2 and t.ndim == 0):
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported."
                               + hint + " Class-index targets have shape (N,) for input (N, C); "
                               "probability targets have the input's shape.")
        if x.ndim == 1 and t.ndim == 1 and t.shape[0] != 1:
            raise ValueError("For 1D input, 1D target must have size 1, but got target size: "
                             f"{t.shape[0]}." + hint)
    elif x.ndim == 4 and t.ndim != 3:
        raise RuntimeError("only batches of spatial targets supported (3D tensors) but got "
                           f"targets of dimension: {t.ndim}." + hint)
    elif t.shape[1:] != x.shape[2:]:
        if x.ndim == 4:
            raise RuntimeError(f"size mismatch (got input: {sh} , target: {list(t.shape)}."
                               + hint)
        want = [x.shape[0], *x.shape[2:]]
        raise RuntimeError(f"Expected target size {want}, got {list(t.shape)}." + hint)
    _check_types(x, t, w, fn)


def _check_types(x: Any, t: Any, w: Any, fn: str) -> None:
    if t.dtype != np.int64 and t.dtype != np.uint8:
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {tname(t)}. Hint: {fn} takes "
            "class indices as an int64 tensor (target.long()); for class probabilities pass a "
            "float target of the input's shape."
        )
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"nll_loss_out_frame" not implemented for \'{tname(x)}\'. '
                                  f"Hint: {fn} needs floating point scores (input.float()).")
    if w is not None:
        c = x.shape[0] if x.ndim == 1 else x.shape[1]
        if w.ndim != 1 or w.shape[0] != c:
            raise RuntimeError(
                f"weight tensor should be defined either for all {c} classes or no classes but "
                f"got weight tensor of shape: {list(w.shape)}. Hint: pass one weight per class."
            )
        if w.dtype != x.dtype:
            raise RuntimeError(f"expected scalar type {tname(x)} but found {tname(w)}. Hint: "
                               "convert the class weights with weight.to(input.dtype).")


def _nll(input: Tensor, target: Tensor, weight: Tensor | None, red: int, ignore_index: int,
         fn: str) -> Tensor:
    x, t = input._data, target._data
    wd = None if weight is None else weight._data
    _check_nll(x, t, wd, fn)
    kdim = x.ndim >= 3
    not_differentiable(weight, "weight", "nll_loss2d_forward" if kdim else "nll_loss_forward")
    if x.ndim == 1:
        xi, ti = x[None], t.reshape(1)
    else:
        xi, ti = x, t
    c = xi.shape[1]
    mn, mx = (int(ti.min()), int(ti.max())) if ti.size else (0, 0)
    anyign = False
    safe = ti
    if mn <= ignore_index <= mx:
        ign = ti == ignore_index
        anyign = bool(ign.any())
        if anyign:
            safe = np.where(ign, 0, ti)
            kept = ti[~ign]
            mn, mx = (int(kept.min()), int(kept.max())) if kept.size else (0, 0)
    if mn < 0 or mx >= c:
        bad = (ti < 0) | (ti >= c)
        if anyign:
            bad &= ~ign
        v = int(ti[bad].flat[0])
        raise IndexError(
            f"Target {v} is out of bounds. Hint: {fn} got {c} classes (input of shape "
            f"{list(x.shape)}), so class indices must be in [0, {c - 1}] (or equal "
            f"ignore_index={ignore_index})."
        )
    safe = safe.astype(np.intp, copy=False)
    if xi.ndim == 2:
        picked = xi[np.arange(xi.shape[0]), safe]
    else:
        picked = np.take_along_axis(xi, safe[:, None], axis=1)[:, 0]
    dt = x.dtype
    if wd is None:
        wt = (~ign).astype(dt) if anyign else None
    else:
        wt = wd[safe]
        if anyign:
            wt = np.where(ign, 0, wt).astype(dt, copy=False)
    le = -picked if wt is None else -picked * wt
    if red == NONE:
        out = le.reshape(t.shape)
        total = 1
    elif red == SUM:
        out = le.sum()
        total = 1
    else:
        total = le.size if wt is None else wt.sum()
        if total:
            out = dt.type(le.sum() / total)
        else:
            out = dt.type(np.nan)
    if input._edge is None:
        return new(out, None)
    if wt is None:
        coef = dt.type(-1.0 if red != MEAN else (-1.0 / total if total else np.nan))
    else:
        coef = -wt
        if red == MEAN:
            with np.errstate(invalid="ignore", divide="ignore"):
                coef = coef / total
    cls = NllLoss2DBackward0 if kdim else NllLossBackward0
    view = red == NONE and x.ndim != 4 and kdim  # torch runs these through a 4-d view
    if view:
        out = out.reshape(t.shape[0], 1, int(np.prod(t.shape[1:])))
    r = record(cls, (input,), out, red=red, coef=coef, idx=safe, ishape=xi.shape,
               tshape=ti.shape, oshape=x.shape, dt=dt)
    return r.view(t.shape) if view else r


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: bool | None = None, ignore_index: int = -100,
             reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood: -weight[t] input[n, t], mean over the weights of kept targets."""
    if size_average is not None or reduce is not None:
        reduction = legacy_string(size_average, reduce)
    return _nll(input, target, weight, get_enum(reduction, "nll_loss"), ignore_index, "nll_loss")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """nll_loss(log_softmax(input, class dim), target); also class-probability targets."""
    if size_average is not None or reduce is not None:
        reduction = legacy_string(size_average, reduce)
    red = get_enum(reduction, "cross_entropy")
    x, t = input._data, target._data
    cdim = 0 if x.ndim == 1 else 1
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}."
                           " Hint: use a value such as 0.1.")
    if x.shape == t.shape:
        return _prob_target(input, target, weight, red, ignore_index, label_smoothing, cdim)
    if label_smoothing <= 0.0:
        return _nll(input.log_softmax(cdim), target, weight, red, ignore_index, "cross_entropy")
    _check_nll(x, t, None if weight is None else weight._data, "cross_entropy")
    logp = input.log_softmax(cdim)
    nll = _nll(logp, target, weight, red, ignore_index, "cross_entropy")
    c = x.shape[cdim]
    ign = t == ignore_index
    if weight is not None:
        wshape = [1] * x.ndim
        wshape[cdim] = c
        smooth = -(logp * weight.view(wshape)).sum(cdim)
    else:
        smooth = -logp.sum(cdim)
    if ign.any():
        smooth = smooth.masked_fill(new(ign, None), 0.0)
    if red == MEAN:
        if weight is not None:
            denom = weight._data[t[~ign].astype(np.intp)].sum()
        else:
            denom = int((~ign).sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            ret = smooth.sum() / float(denom)
    elif red == SUM:
        ret = smooth.sum()
    else:
        ret = smooth
    return (1 - label_smoothing) * nll + ret * (label_smoothing / c)


def _prob_target(input: Tensor, target: Tensor, weight: Tensor | None, red: int,
                 ignore_index: int, ls: float, cdim: int) -> Tensor:
    x, t = input._data, target._data
    if t.dtype.kind != "f":
        raise RuntimeError(
            f"Expected floating point type for target with class probabilities, got {tname(t)}."
            f" Hint: cross_entropy got input and target of the same shape {list(x.shape)}, so "
            "the target is read as class probabilities; for class indices give the target shape"
            " (N,) (without the class dimension)."
        )
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target. Hint: "
                           "ignore_index only applies to class-index targets.")
    c = x.shape[cdim]
    logp = input.log_softmax(cdim)
    if ls > 0.0:
        target = target * (1 - ls) + ls / c
    prod = logp * target
    if weight is not None:
        w = weight._data
        if w.ndim != 1 or w.shape[0] != c:
            raise RuntimeError(
                f"cross_entropy: weight tensor should be defined either for all {c} classes or "
                f"no classes but got weight tensor of shape: {list(w.shape)}. Hint: pass one "
                "weight per class."
            )
        if x.ndim > 1:
            wshape = [1] * x.ndim
            wshape[cdim] = c
            weight = weight.view(wshape)
        prod = prod * weight
    if red == MEAN:
        if x.size == 0:
            return -(prod.sum()) * float("nan")
        return div_scalar(-(prod.sum()), x.size // c)
    if red == SUM:
        return -(prod.sum())
    return -(prod.sum(cdim))


# ---------------------------------------------------------------------------- multi margin
class MultiMarginLossBackward0(Node):
    """out = sum_{j != t} w[t] max(0, margin - x[t] + x[j])^p / C;  dx from the active hinges."""

    red = MEAN

    def backward(self, g: Any) -> tuple:
        if not is_array(g):
            raise RuntimeError("derivative for aten::multi_margin_loss_backward is not "
                               "implemented. Hint: double backward through multi_margin_loss "
                               "is not supported (as in torch).")
        d = self.d
        if self.red == NONE:
            d = d * np.reshape(g, (-1, 1))
        else:
            d = d * (g / d.shape[0] if self.red == MEAN else g)
        gi = d.copy()
        np.put_along_axis(gi, self.idx[:, None], -d.sum(axis=1, keepdims=True), axis=1)
        return (gi.reshape(self.oshape),)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: bool | None = None,
                      reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge: sum_{j != t} w[t] max(0, margin - x[t] + x[j])^p / C per sample."""
    if size_average is not None or reduce is not None:
        reduction = legacy_string(size_average, reduce)
    red = get_enum(reduction, "multi_margin_loss")
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight._data.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    x, t = input._data, target._data
    xi = x.reshape(1, -1) if x.ndim <= 1 else x
    n, c = xi.shape
    if t.size != n or t.ndim > 1:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{n}], but got {list(t.shape)}. "
            f"Input has shape {list(x.shape)}."
        )
    if t.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {tname(t)}. Hint: pass class "
                           "indices as target.long().")
    ti = t.reshape(-1).astype(np.intp)
    if ((ti < 0) | (ti >= c)).any():
        raise RuntimeError(f"target out of range. Hint: multi_margin_loss got {c} classes; "
                           f"targets must be in [0, {c - 1}].")
    not_differentiable(weight, "weight", "multi_margin_loss")
    xt = np.take_along_axis(xi, ti[:, None], axis=1)
    h = margin - xt + xi
    np.put_along_axis(h, ti[:, None], 0, axis=1)
    act = h > 0
    z = np.where(act, h, 0)
    le = z if p == 1 else z * z
    d = act.astype(x.dtype) if p == 1 else 2 * z
    if weight is not None:
        wt = weight._data.astype(x.dtype, copy=False)[ti][:, None]
        le, d = le * wt, d * wt
    per = (le.sum(axis=1) / c).astype(x.dtype, copy=False)
    out = reduce_array(per.reshape(t.shape) if red == NONE else per, red)
    return record(MultiMarginLossBackward0, (input,), out, red=red, d=d / c, idx=ti,
                  oshape=x.shape)
