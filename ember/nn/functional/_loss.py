"""Loss functions (``ember.nn.functional``): regression losses, binary cross entropy, KL divergence.

The main losses are one fused node each with torch's name (``MseLossBackward0`` ...); their
backward rules are written once for arrays and Tensors, so double backward works.  Class-index
losses live in ``_loss_nll.py``, the margin/embedding losses in ``_loss_extra.py``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ... import _dtype as D
from ...ops._core import Node, Tensor, binary_args, check_broadcast, needs, ns, record
from ._loss_extra import (
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    poisson_nll_loss,
    triplet_margin_loss,
)
from ._loss_nll import cross_entropy, multi_margin_loss, nll_loss
from ._loss_util import (
    MEAN,
    NONE,
    SUM,
    get_enum,
    is_array,
    log1p,
    meta_for,
    not_differentiable,
    reduce_array,
    reduce_tensor,
    reduction_enum,
    size_warning,
    tname,
)

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cross_entropy",
           "nll_loss", "multi_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
           "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
           "triplet_margin_loss"]


# ---------------------------------------------------------------------------- pointwise losses
class _Pointwise(Node):
    """Shared backward of the elementwise losses: ``dinput = f'(d) * g'``, ``dtarget = -dinput``
    with ``d = input - target`` and ``g' = g / n`` for 'mean'."""

    red = MEAN
    n = 1
    dt: Any = None

    def _diff(self, g: Any) -> Any:
        x, y = self._unpack(g)
        if is_array(g):
            dt = self.dt
            return x.astype(dt, copy=False) - y.astype(dt, copy=False)
        return x - y

    def _scale(self, g: Any) -> Any:
        return g / self.n if self.red == MEAN else g

    def backward(self, g: Any) -> tuple:
        d = self._diff(g)
        gi = self._deriv(ns(g), d) * self._scale(g)
        return (gi if needs(self, 0) else None), (-gi if needs(self, 1) else None)


class MseLossBackward0(_Pointwise):
    """out = (input - target)^2;  dinput = 2 (input - target) g."""

    def _deriv(self, xp: Any, d: Any) -> Any:
        return 2 * d


class SmoothL1LossBackward0(_Pointwise):
    """out = 0.5 d^2 / beta if |d| < beta else |d| - beta / 2;  dinput = clamp(d / beta, +-1) g."""

    beta = 1.0

    def _deriv(self, xp: Any, d: Any) -> Any:
        return xp.where(xp.abs(d) < self.beta, d / self.beta, xp.sign(d))


class HuberLossBackward0(_Pointwise):
    """out = 0.5 d^2 if |d| < delta else delta (|d| - delta / 2);  dinput = clamp(d, +-delta) g."""

    delta = 1.0

    def _deriv(self, xp: Any, d: Any) -> Any:
        dl = self.delta
        return xp.where(d < -dl, -dl, xp.where(d > dl, dl, d))


def _pointwise(cls: type, fn: str, input: Tensor, target: Tensor, red: int, elem: Any,
               **attrs: Any) -> Tensor:
    a, b = binary_args(input, target)
    if a.dtype.kind not in "fc":
        raise NotImplementedError(
            f'"{fn}" not implemented for \'{tname(a)}\'. Hint: losses need floating point '
            "inputs; convert them with .float()."
        )
    if a.shape != b.shape:
        a, b = np.broadcast_arrays(a, b)
    le = elem(a - b)
    out = reduce_array(le, red)
    return record(cls, (input, target), out, saved=(input, target),
                  meta=meta_for((input._data, target._data), a.shape, a.dtype), red=red,
                  n=max(le.size, 1), dt=a.dtype, **attrs)


def _check_pair(input: Any, target: Any, fn: str) -> None:
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        bad = "input" if not isinstance(input, Tensor) else "target"
        raise TypeError(f"{fn}(): argument '{bad}' must be Tensor, not "
                        f"{type(input if bad == 'input' else target).__name__}")
    if input._data.shape != target._data.shape:
        size_warning(input, target)
        try:
            check_broadcast(input._data.shape, target._data.shape)
        except RuntimeError as e:
            first = str(e).split(" Hint:")[0].rstrip(".")
            raise RuntimeError(f"{first}. Hint: {fn} got input of shape "
                               f"{list(input._data.shape)} and target of shape "
                               f"{list(target._data.shape)}; give them the same shape.") from None


def _weighted(loss: Tensor, weight: Tensor, input: Tensor, red: int, mean_by_weight: bool) -> Any:
    if weight._data.shape != input._data.shape:
        raise ValueError("Weights and input must have the same size. Hint: got weight of shape "
                         f"{list(weight._data.shape)} and input of shape "
                         f"{list(input._data.shape)}.")
    w = loss * weight
    if red == NONE:
        return w
    if red == SUM or not mean_by_weight:
        return w.sum() if red == SUM else w.mean()
    return w.sum() / weight.sum()


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
             reduce: bool | None = None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error: reduce((input - target)^2)."""
    _check_pair(input, target, "mse_loss")
    red = reduction_enum(size_average, reduce, reduction, "mse_loss")
    if weight is not None:
        return _weighted((input - target) ** 2, weight, input, red, True)
    return _pointwise(MseLossBackward0, "mse_cpu", input, target, red, lambda d: d * d)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
            reduce: bool | None = None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error: reduce(|input - target|)."""
    _check_pair(input, target, "l1_loss")
    red = reduction_enum(size_average, reduce, reduction, "l1_loss")
    a = (input - target).abs()
    if weight is not None:
        return _weighted(a, weight, input, red, True)
    if red == MEAN and a._data.dtype.kind not in "fc":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {tname(a._data)}. Hint: "
                           "convert input and target with .float().")
    return reduce_tensor(a, red)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                   reduce: bool | None = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Smooth L1: 0.5 d^2 / beta where |d| < beta, else |d| - beta / 2 (d = input - target)."""
    _check_pair(input, target, "smooth_l1_loss")
    red = reduction_enum(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta. Hint: got "
                           f"beta={beta}; use beta >= 0 (0 gives the L1 loss).")
    if beta == 0.0:
        return reduce_tensor((input - target).abs(), red)

    def elem(d: Any) -> Any:
        ad = np.abs(d)
        return np.where(ad < beta, (0.5 * d * d) / beta, ad - 0.5 * beta)

    return _pointwise(SmoothL1LossBackward0, "smooth_l1_cpu", input, target, red, elem,
                      beta=beta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Huber: 0.5 d^2 where |d| < delta, else delta (|d| - delta / 2) (d = input - target)."""
    _check_pair(input, target, "huber_loss")
    red = get_enum(reduction, "huber_loss")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta. Hint: "
                           f"got delta={delta}; use delta > 0.")

    def elem(d: Any) -> Any:
        ad = np.abs(d)
        return np.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))

    if weight is not None:
        loss = _pointwise(HuberLossBackward0, "huber_cpu", input, target, NONE, elem, delta=delta)
        return _weighted(loss, weight, input, red, False)
    return _pointwise(HuberLossBackward0, "huber_cpu", input, target, red, elem, delta=delta)


class SoftMarginLossBackward0(_Pointwise):
    """out = log(1 + exp(-target * input));  dinput = -target * sigmoid(-target * input) g."""

    def backward(self, g: Any) -> tuple:
        x, y = self._unpack(g)
        if is_array(g):
            x, y = x.astype(self.dt, copy=False), y.astype(self.dt, copy=False)
        return (-y * ns(g).sigmoid(-y * x) * self._scale(g), None)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Two-class logistic loss: reduce(log(1 + exp(-target * input))), computed stably."""
    _check_pair(input, target, "soft_margin_loss")
    red = reduction_enum(size_average, reduce, reduction, "soft_margin_loss")
    not_differentiable(target, "target", "soft_margin_loss")
    a, b = binary_args(input, target)
    if a.shape != b.shape:
        a, b = np.broadcast_arrays(a, b)
    z = -a * b
    le = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
    return record(SoftMarginLossBackward0, (input, target), reduce_array(le, red),
                  saved=(input, target), meta=meta_for((input._data, None), a.shape, a.dtype),
                  red=red, n=max(le.size, 1), dt=a.dtype)


# ---------------------------------------------------------------------------- binary cross entropy
class BinaryCrossEntropyBackward0(Node):
    """out = -w (y log x + (1 - y) log(1 - x)) (logs clamped at -100);
    dx = w (x - y) / max(x (1 - x), 1e-12) g,  dy = w (log(1 - x) - log(x)) g."""

    red = MEAN
    n = 1

    def backward(self, g: Any) -> tuple:
        x, y, w = self._unpack(g)
        xp = ns(g)
        s = g / self.n if self.red == MEAN else g
        if w is not None:
            s = s * w
        gx = gy = None
        if needs(self, 0):
            p = x * (1 - x)
            gx = (x - y) / xp.where(p < 1e-12, 1e-12, p) * s
        if needs(self, 1):
            gy = (xp.log(1 - x) - xp.log(x)) * s
        return gx, gy


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """-w (target log(input) + (1 - target) log(1 - input)), logs clamped at -100 like torch."""
    red = reduction_enum(size_average, reduce, reduction, "binary_cross_entropy")
    x, y = input._data, target._data
    if x.shape != y.shape:
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}) is deprecated. Please ensure they have the same size. Hint: "
            "binary_cross_entropy needs probabilities and targets of one shape (squeeze or "
            "reshape the target)."
        )
    if y.dtype != x.dtype:
        raise RuntimeError(
            f"Found dtype {tname(y)} but expected {tname(x)}. Hint: binary_cross_entropy needs a "
            f"target of the input's dtype; use target.to(input.dtype) (e.g. target.float())."
        )
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"binary_cross_entropy" not implemented for \'{tname(x)}\'. '
                                  "Hint: pass floating point probabilities.")
    with np.errstate(invalid="ignore"):
        ok = bool(((x >= 0) & (x <= 1)).all())
    if not ok:
        raise RuntimeError(
            "all elements of input should be between 0 and 1. Hint: binary_cross_entropy got "
            f"input of shape {list(x.shape)} with values in [{np.nanmin(x):g}, {np.nanmax(x):g}] "
            "(or NaN); apply torch.sigmoid first or use binary_cross_entropy_with_logits."
        )
    wt = None
    if weight is not None:
        not_differentiable(weight, "weight", "binary_cross_entropy")
        wd = weight._data
        shape = np.broadcast_shapes(y.shape, wd.shape)
        wd = np.broadcast_to(wd.astype(x.dtype, copy=False), shape)
        from ...ops._core import new

        wt = new(wd, None)
    with np.errstate(divide="ignore"):
        lx = np.maximum(np.log(x), -100)
        l1x = np.maximum(np.log(1 - x), -100)
    le = -(y * lx + (1 - y) * l1x)
    if wt is not None:
        le = le * wt._data
    out = reduce_array(le, red)
    meta = meta_for((x, y), le.shape, le.dtype)
    return record(BinaryCrossEntropyBackward0, (input, target), out, saved=(input, target, wt),
                  meta=meta, red=red, n=max(le.size, 1))


class BinaryCrossEntropyWithLogitsBackward0(Node):
    """out = w ((1 - y) x - lw log(sigmoid(x))),  lw = 1 + (pw - 1) y;
    dx = w ((pw y + 1 - y) sigmoid(x) - pw y) g,  dy = w (-x - (pw - 1) log(sigmoid(x))) g."""

    red = MEAN
    n = 1
    dt: Any = None

    def backward(self, g: Any) -> tuple:
        x, y, w, pw = self._unpack(g)
        xp = ns(g)
        if is_array(g):
            x, y = x.astype(self.dt, copy=False), y.astype(self.dt, copy=False)
        s = g / self.n if self.red == MEAN else g
        if w is not None:
            s = s * w
        gx = gy = None
        if needs(self, 0):
            sg = xp.sigmoid(x)
            if pw is None:
                gx = (sg - y) * s
            else:
                t = pw * y
                gx = ((t + 1 - y) * sg - t) * s
        if needs(self, 1):
            if pw is None:
                gy = -x * s
            else:
                ls = xp.where(x < 0, x, 0) - log1p(xp.exp(-xp.abs(x)))
                gy = (-x - (pw - 1) * ls) * s
        return gx, gy


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE on logits, stably: (1 - y) x + lw (max(-x, 0) + log1p(exp(-|x|))), lw = 1+(pw-1)y."""
    red = reduction_enum(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    x0, y0 = input._data, target._data
    if x0.shape != y0.shape:
        raise ValueError(
            f"Target size ({target.size()}) must be the same as input size ({input.size()}). "
            "Hint: binary_cross_entropy_with_logits needs logits and targets of one shape "
            "(e.g. target.float().unsqueeze(1) for [N, 1] logits)."
        )
    if y0.dtype.kind not in "fc":
        rt = D.result_type(x0, y0)
        raise RuntimeError(
            f"result type {tname(np.empty(0, rt))} can't be cast to the desired output type "
            f"{tname(y0)}. Hint: binary_cross_entropy_with_logits needs a floating point target; "
            "use target.float()."
        )
    x, y = binary_args(input, target)
    dt = x.dtype
    consts = []
    for t, nm in ((weight, "weight"), (pos_weight, "pos_weight")):
        if t is None:
            consts.append(None)
            continue
        not_differentiable(t, nm, "binary_cross_entropy_with_logits")
        try:
            if nm == "weight":
                check_broadcast(x.shape, t._data.shape)
            else:
                check_broadcast(t._data.shape, x.shape)
        except RuntimeError as e:
            first = str(e).split(" Hint:")[0].rstrip(".")
            raise RuntimeError(f"{first}. Hint: {nm} of shape "
                               f"{list(t._data.shape)} must broadcast against the input of shape "
                               f"{list(x.shape)}.") from None
        from ...ops._core import new

        consts.append(new(t._data.astype(dt, copy=False), None))
    w, pw = consts
    sp = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))  # -log(sigmoid(x))
    if pw is None:
        le = (1 - y) * x + sp
    else:
        le = (1 - y) * x + (1 + (pw._data - 1) * y) * sp
    if w is not None:
        le = w._data * le
    le = le.astype(dt, copy=False)
    if le.shape != x.shape:
        le = np.ascontiguousarray(le)
    out = reduce_array(le, red)
    meta = meta_for((x0, y0), le.shape, dt)
    return record(BinaryCrossEntropyWithLogitsBackward0, (input, target), out,
                  saved=(input, target, w, pw), meta=meta, red=red, n=max(le.size, 1), dt=dt)


# ---------------------------------------------------------------------------- KL divergence
def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None,
           reduce: bool | None = None, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise: target (log(target) - input) (input holds log-probs)."""
    if size_average is not None or reduce is not None:
        from ._loss_util import legacy_string

        reduction = legacy_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", UserWarning, stacklevel=2)
    red = SUM if reduction == "batchmean" else get_enum(reduction, "kl_div")
    if input._data.dtype.kind not in "fc" or target._data.dtype.kind not in "fc":
        raise RuntimeError("kl_div: Integral inputs not supported. Hint: pass log-probabilities "
                           "and a target as floating point tensors (.float()).")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    out = reduce_tensor(loss, red)
    if reduction == "batchmean" and input._data.ndim != 0:
        out = out / input._data.shape[0]
    return out

