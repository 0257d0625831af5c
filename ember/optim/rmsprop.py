"""RMSprop and Adagrad, in torch's operation order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .._tensor import _new
from .optimizer import Optimizer, grads_of, scalar_state


class RMSprop(Optimizer):
    """s = a*s + (1-a)*g^2;  p -= lr * g / (sqrt(s) + eps) (with momentum / centering options)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False, foreach: Any = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
            mu, centered = group["momentum"], group["centered"]
            for p, w, g in grads_of(group):
                st = self.state[p]
                if not st:
                    st["step"] = scalar_state(0.0)
                    st["square_avg"] = _new(np.zeros_like(w), None)
                    if mu > 0:
                        st["momentum_buffer"] = _new(np.zeros_like(w), None)
                    if centered:
                        st["grad_avg"] = _new(np.zeros_like(w), None)
                st["step"]._data = np.array(st["step"]._data + 1, dtype=np.float32)
                if group["maximize"]:
                    g = -g
                if wd != 0:
                    g = g + wd * w
                s = st["square_avg"]._data
                s *= alpha
                s += (1 - alpha) * (g * g)
                if centered:
                    ga = st["grad_avg"]._data
                    ga += (1 - alpha) * (g - ga)
                    avg = np.sqrt(s - ga * ga) + eps
                else:
                    avg = np.sqrt(s) + eps
                if mu > 0:
                    buf = st["momentum_buffer"]._data
                    buf *= mu
                    buf += g / avg
                    w -= lr * buf
                else:
                    w += -lr * (g / avg)
                p._bump()
        return loss


class Adagrad(Optimizer):
    """s += g^2;  p -= lr / (1 + (t-1)*lr_decay) * g / (sqrt(s) + eps)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: Any = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: Any = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state[p]
                st["step"] = scalar_state(0.0)
                st["sum"] = _new(np.full_like(p._data, initial_accumulator_value), None)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, decay, eps, wd = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
            for p, w, g in grads_of(group):
                st = self.state[p]
                st["step"]._data = np.array(st["step"]._data + 1, dtype=np.float32)
                step = float(st["step"]._data)
                if group["maximize"]:
                    g = -g
                if wd != 0:
                    g = g + wd * w
                clr = lr / (1 + (step - 1) * decay)
                s = st["sum"]._data
                s += g * g
                w += -clr * (g / (np.sqrt(s) + eps))
                p._bump()
        return loss
