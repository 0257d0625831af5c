"""Adam and AdamW (decoupled weight decay), with AMSGrad, in torch's operation order."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .._tensor import _new
from .optimizer import Optimizer, grads_of, scalar_state


class Adam(Optimizer):
    """m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr/(1-b1^t) * m/(sqrt(v/(1-b2^t)) + eps)."""

    _decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: Any = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: Any = None, decoupled_weight_decay: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused)
        if self._decoupled or decoupled_weight_decay:
            defaults["decoupled_weight_decay"] = True
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            wd, amsgrad, maximize = group["weight_decay"], group["amsgrad"], group["maximize"]
            decoupled = group.get("decoupled_weight_decay", False)
            for p, w, g in grads_of(group):
                st = self.state[p]
                if not st:
                    st["step"] = scalar_state(0.0)
                    st["exp_avg"] = _new(np.zeros_like(w), None)
                    st["exp_avg_sq"] = _new(np.zeros_like(w), None)
                    if amsgrad:
                        st["max_exp_avg_sq"] = _new(np.zeros_like(w), None)
                if maximize:
                    g = -g
                if wd != 0:
                    if decoupled:
                        w *= 1 - lr * wd
                    else:
                        g = g + wd * w
                step_t = st["step"]
                step_t._data = np.array(step_t._data + 1, dtype=step_t._data.dtype)
                step = float(step_t._data)
                m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
                m += (1 - b1) * (g - m)  # exp_avg.lerp_(grad, 1 - beta1)
                v *= b2
                v += (1 - b2) * (g * g)
                bc1 = 1 - b1**step
                bc2_sqrt = math.sqrt(1 - b2**step)
                if amsgrad:
                    mx = st["max_exp_avg_sq"]._data
                    np.maximum(mx, v, out=mx)
                    denom = np.sqrt(mx) / bc2_sqrt + eps
                else:
                    denom = np.sqrt(v) / bc2_sqrt + eps
                w += (-lr / bc1) * (m / denom)
                p._bump()
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr*wd before the Adam step (default wd 0.01)."""

    _decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, **kwargs)
