"""Activation functions of ``ember.nn.functional`` (relu, gelu, silu, softmax ...).

Each pointwise activation is one fused node named like torch's (``GeluBackward0`` ...).  Its
rule ``rule(self, g, a, xp)`` reads the saved input ``a`` and is written once for both modes:
``xp`` is ``_NX`` (NumPy, first order) or ``_EX`` (ember ops, which record a graph for double
backward).  ``inplace=True`` computes out of place, then writes the result into ``input``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ...autograd.graph import ARRAY_TYPES as _ARR
from ...ops import pointwise as _pw
from ...ops._core import Node, Tensor, new, ns, record, unary
from ...ops._helpers import _need_tensor, _not_impl
from ...ops._ns import N
from ...ops.inplace import check_inplace, inplace_update
from ...ops.pointwise import _erf_np
from ...ops.pointwise import relu as _relu
from ...ops.stats import log_softmax as _log_softmax
from ...ops.stats import softmax as _softmax

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_",
    "celu", "celu_", "gelu", "silu", "mish", "sigmoid", "tanh", "softplus", "hardtanh",
    "hardtanh_", "hardsigmoid", "hardswish", "logsigmoid", "threshold", "threshold_", "prelu",
    "rrelu", "rrelu_", "glu", "softsign", "tanhshrink", "hardshrink", "softshrink", "softmax",
    "softmin", "log_softmax",
]

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K_TANH = math.sqrt(2.0 / math.pi)
_C_TANH = 0.044715
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_F16 = np.dtype(np.float16)
_SIXTH_F = float(np.float32(1 / 6))  # torch's hardsigmoid backward uses a float 1/6


class _NX:
    """NumPy functions for first-order rules."""

    exp, expm1, tanh, log1p, where, erf = np.exp, np.expm1, np.tanh, np.log1p, np.where, _erf_np
    sigmoid = staticmethod(N.sigmoid)


class _EX:
    """ember functions for rules on Tensors (double backward)."""

    exp, expm1, tanh, log1p = _pw.exp, _pw.expm1, _pw.tanh, _pw.log1p
    where, erf, sigmoid = _pw.where, _pw.erf, _pw.sigmoid


class _Act(Node):
    """A pointwise activation: ``da = self.rule(g, a, xp)`` with ``a`` the saved input."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        return (self.rule(g, a, _NX if type(g) in _ARR else _EX),)


def _node(name: str, rule: Any, doc: str) -> type:
    return type(name, (_Act,), {"rule": rule, "__doc__": doc, "__module__": __name__})


def _data(input: Any, kernel: str, fn: str) -> Any:
    """The float data of ``input`` (half computed in float32); torch's error for other dtypes."""
    try:
        d = input._data
    except AttributeError:
        raise _need_tensor(fn, "input", 1, input) from None
    if d.dtype.kind != "f":
        raise _not_impl(kernel, d.dtype)
    return d.astype(np.float32) if d.dtype is _F16 else d


def _wrap(node: type, input: Tensor, out: Any, **attrs: Any) -> Tensor:
    dt = input._data.dtype
    if out.dtype != dt:
        out = out.astype(dt)
    return unary(node, input, out, save_input=True, **attrs)


def _inplace(input: Tensor, fn: Any, name: str | None = None) -> Tensor:
    """Run the out-of-place ``fn(input)`` and write its value into ``input`` (torch's ``op_``)."""
    check_inplace(input)
    r = fn(input)
    out = inplace_update(input, r)
    e = out._edge
    if name is not None and e is not None and r._edge is not None and e[0] is r._edge[0]:
        e[0]._name = name
    return out


# ------------------------------------------------------------------ relu family
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0)."""
    if inplace:
        return input.relu_()
    return _relu(input)


def relu_(input: Tensor) -> Tensor:
    """In-place relu."""
    return relu(input, True)


HardtanhBackward0 = _node(
    "HardtanhBackward0",
    lambda self, g, a, xp: xp.where((a > self.lo) & (a < self.hi), g, 0.0),
    "out = clamp(a, lo, hi);  da = g where lo < a < hi, else 0.")


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """clamp(input, min_val, max_val)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace(input, lambda x: hardtanh(x, min_val, max_val), "HardtanhBackward0")
    d = input._data
    if d.dtype.kind == "b":
        raise _not_impl("clamp_scalar_cpu", d.dtype)
    if d.dtype.kind in "iu":
        r = np.clip(d, math.ceil(min_val), math.floor(max_val)).astype(d.dtype)
        return unary(HardtanhBackward0, input, r, lo=min_val, hi=max_val)
    r = np.minimum(np.maximum(d, d.dtype.type(min_val)), d.dtype.type(max_val))
    return unary(HardtanhBackward0, input, r, save_input=True, lo=min_val, hi=max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place hardtanh."""
    return hardtanh(input, min_val, max_val, True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(input, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


LeakyReluBackward0 = _node(
    "LeakyReluBackward0", lambda self, g, a, xp: xp.where(a > 0, g, g * self.slope),
    "out = a if a > 0 else slope * a;  da = g or slope * g.")


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """input if input > 0 else negative_slope * input."""
    if inplace:
        return _inplace(input, lambda x: leaky_relu(x, negative_slope), "LeakyReluBackward1")
    d = _data(input, "leaky_relu_cpu", "leaky_relu")
    return _wrap(LeakyReluBackward0, input, np.where(d > 0, d, d * negative_slope),
                 slope=negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place leaky_relu."""
    return leaky_relu(input, negative_slope, True)


def _elu_rule(self: Any, g: Any, a: Any, xp: Any) -> Any:
    isc = self.iscale
    if isc != 1:  # celu: torch's backward uses 1/alpha rounded to float
        isc = float(np.float32(isc))
    neg = g * (xp.exp(a * isc) * (self.alpha * self.scale * isc))
    return xp.where(a <= 0, neg, g * self.scale if self.scale != 1 else g)


EluBackward0 = _node("EluBackward0", _elu_rule,
                     "out = scale * (a if a > 0 else alpha * (exp(a * iscale) - 1));  "
                     "da = g * scale or g * alpha * scale * iscale * exp(a * iscale).")
CeluBackward0 = _node("CeluBackward0", _elu_rule, "celu: elu with iscale = 1 / alpha.")


def _elu(node: type, input: Tensor, alpha: float, scale: float, iscale: float,
         fn: str) -> Tensor:
    d = _data(input, "elu_cpu", fn)
    r = np.where(d > 0, d * scale, np.expm1(d * iscale) * (alpha * scale))
    return _wrap(node, input, r, alpha=alpha, scale=scale, iscale=iscale)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """input if input > 0 else alpha * (exp(input) - 1)."""
    if inplace:
        return _inplace(input, lambda x: elu(x, alpha), "EluBackward1")
    return _elu(EluBackward0, input, alpha, 1.0, 1.0, "elu")


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place elu."""
    return elu(input, alpha, True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * (max(0, x) + min(0, alpha * (exp(x) - 1))) with SELU's fixed alpha and scale."""
    if inplace:
        return _inplace(input, selu, "EluBackward1")
    return _elu(EluBackward0, input, _SELU_ALPHA, _SELU_SCALE, 1.0, "selu")


def selu_(input: Tensor) -> Tensor:
    """In-place selu."""
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError. Hint: celu needs alpha != 0.")
    if inplace:
        return _inplace(input, lambda x: celu(x, alpha), "CeluBackward1")
    return _elu(CeluBackward0, input, alpha, 1.0, 1.0 / alpha, "celu")


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place celu."""
    return celu(input, alpha, True)


def _gelu_rule(self: Any, g: Any, a: Any, xp: Any) -> Any:
    if self.approximate == "tanh":
        t = xp.tanh((a + a * a * a * _C_TANH) * _K_TANH)
        dinner = (a * a * (3 * _C_TANH) + 1) * _K_TANH
        return g * ((t + 1) * 0.5 + a * 0.5 * (1 - t * t) * dinner)
    cdf = (xp.erf(a * _SQRT1_2) + 1) * 0.5
    return g * (cdf + a * xp.exp(a * a * -0.5) * _INV_SQRT_2PI)


GeluBackward0 = _node("GeluBackward0", _gelu_rule,
                      "out = a * Phi(a) (or its tanh approximation);  da = g * (Phi + a * phi).")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """input * Phi(input) (Phi: standard normal CDF via erf; 'tanh': tanh approximation)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh. Hint: use "
                           "approximate='none' (exact, erf) or approximate='tanh'.")
    d = _data(input, "GeluKernelImpl", "gelu")
    if approximate == "tanh":
        r = d * 0.5 * (1 + np.tanh((d + d * d * d * _C_TANH) * _K_TANH))
    else:
        r = d * ((_erf_np(d * _SQRT1_2) + 1) * 0.5)
    return _wrap(GeluBackward0, input, r, approximate=approximate)


def _silu_rule(self: Any, g: Any, a: Any, xp: Any) -> Any:
    s = xp.sigmoid(a)
    return g * (s * (a * (1 - s) + 1))


SiluBackward0 = _node("SiluBackward0", _silu_rule,
                      "out = a * sigmoid(a);  da = g * s * (1 + a * (1 - s)).")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """input * sigmoid(input) (swish)."""
    if inplace:
        return _inplace(input, silu)
    d = _data(input, "silu_cpu", "silu")
    return _wrap(SiluBackward0, input, d * N.sigmoid(d))


def _mish_rule(self: Any, g: Any, a: Any, xp: Any) -> Any:
    t = xp.tanh(xp.log1p(xp.exp(a)))
    return g * (t + a * xp.sigmoid(a) * (1 - t * t))


MishBackward0 = _node("MishBackward0", _mish_rule,
                      "out = a * tanh(softplus(a));  da = g * (t + a * sigmoid(a) * (1 - t^2)).")


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """input * tanh(softplus(input))."""
    if inplace:
        return _inplace(input, mish)
    d = _data(input, "mish_cpu", "mish")
    return _wrap(MishBackward0, input, d * np.tanh(np.log1p(np.exp(d))))


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-input))."""
    return _pw.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """tanh(input)."""
    return _pw.tanh(input)


SoftplusBackward0 = _node(
    "SoftplusBackward0",
    lambda self, g, a, xp: xp.where(a * self.beta > self.threshold, g,
                                    g * xp.sigmoid(a * self.beta)),
    "out = log(1 + exp(beta a)) / beta (a above threshold / beta);  da = g * sigmoid(beta a).")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * input)) / beta, linear where beta * input > threshold."""
    d = _data(input, "softplus_cpu", "softplus")
    z = d * beta
    return _wrap(SoftplusBackward0, input, np.where(z > threshold, d, np.log1p(np.exp(z)) / beta),
                 beta=beta, threshold=threshold)


HardsigmoidBackward0 = _node(
    "HardsigmoidBackward0", lambda self, g, a, xp: xp.where((a > -3) & (a < 3), g * _SIXTH_F, 0.0),
    "out = clamp(a + 3, 0, 6) / 6;  da = g / 6 where -3 < a < 3.")


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """clamp(input + 3, 0, 6) / 6."""
    if inplace:
        return _inplace(input, hardsigmoid)
    d = _data(input, "hardsigmoid_cpu", "hardsigmoid")
    return _wrap(HardsigmoidBackward0, input, np.minimum(np.maximum(d + 3, 0), 6) / 6)


HardswishBackward0 = _node(
    "HardswishBackward0",
    lambda self, g, a, xp: xp.where(a <= -3, 0.0, xp.where(a < 3, g * (a / 3 + 0.5), g)),
    "out = a * clamp(a + 3, 0, 6) / 6;  da = 0 (a <= -3), g * (a / 3 + 1/2) (a < 3), g.")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """input * clamp(input + 3, 0, 6) / 6."""
    if inplace:
        return _inplace(input, hardswish)
    d = _data(input, "hardswish_cpu", "hardswish")
    return _wrap(HardswishBackward0, input, d * np.minimum(np.maximum(d + 3, 0), 6) / 6)


LogSigmoidBackward0 = _node("LogSigmoidBackward0", lambda self, g, a, xp: g * xp.sigmoid(-a),
                            "out = log(sigmoid(a));  da = g * sigmoid(-a).")


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(input)) = min(input, 0) - log1p(exp(-|input|)) (stable)."""
    d = _data(input, "log_sigmoid_cpu", "logsigmoid")
    return _wrap(LogSigmoidBackward0, input, np.minimum(d, 0) - np.log1p(np.exp(-np.abs(d))))


ThresholdBackward0 = _node("ThresholdBackward0",
                           lambda self, g, a, xp: xp.where(a <= self.threshold, 0.0, g),
                           "out = a if a > threshold else value;  da = g where a > threshold.")


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """input where input > threshold, else value."""
    if inplace:
        return _inplace(input, lambda x: _threshold(x, threshold, value), "ThresholdBackward1")
    return _threshold(input, threshold, value)


def _threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    d = input._data
    r = np.where(d <= threshold, np.asarray(value).astype(d.dtype), d)
    return unary(ThresholdBackward0, input, r, save_input=True, threshold=threshold)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place threshold."""
    check_inplace(input)
    return inplace_update(input, _threshold(input, threshold, value))


HardshrinkBackward0 = _node(
    "HardshrinkBackward0",
    lambda self, g, a, xp: xp.where((a >= -self.lambd) & (a <= self.lambd), 0.0, g),
    "out = a where |a| > lambd, else 0;  da = g where |a| > lambd.")
SoftshrinkBackward0 = _node(
    "SoftshrinkBackward0",
    lambda self, g, a, xp: xp.where((a >= -self.lambd) & (a <= self.lambd), 0.0, g),
    "out = a - lambd * sign(a) where |a| > lambd, else 0;  da = g where |a| > lambd.")


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """input where |input| > lambd, else 0."""
    d = _data(input, "hardshrink_cpu", "hardshrink")
    return _wrap(HardshrinkBackward0, input, np.where((d >= -lambd) & (d <= lambd), 0, d),
                 lambd=lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """input - lambd (input > lambd), input + lambd (input < -lambd), else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    d = _data(input, "softshrink_check", "softshrink")
    r = np.where(d > lambd, d - lambd, np.where(d < -lambd, d + lambd, 0))
    return _wrap(SoftshrinkBackward0, input, r, lambd=lambd)


def softsign(input: Tensor) -> Tensor:
    """input / (1 + |input|)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """input - tanh(input)."""
    return input - _pw.tanh(input)


# ------------------------------------------------------------------ parametric / gated
class PreluKernelBackward0(Node):
    """out = a if a > 0 else w * a;  da = g or w * g, dw = sum(g * a where a <= 0) per channel."""

    def backward(self, g: Any) -> tuple:
        a, w = self._unpack(g)
        xp = ns(g)
        wb = w if self.wshape is None else xp.reshape(w, self.wshape)
        pos = a > 0
        ga = xp.where(pos, g, g * wb) if self._next[0][0] is not None else None
        gw = None
        if self._next[1][0] is not None:
            t = xp.where(pos, 0.0, g * a)
            gw = xp.reshape(xp.sum(t, self.axes, False), self.worig)
        return ga, gw


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """input if input > 0 else weight * input (weight: 1 value or one per channel, dim 1)."""
    d = _data(input, "prelu_cpu", "prelu")
    w = weight._data
    if w.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim "
                           f"= {w.ndim}. Hint: use a weight of shape [num_channels].")
    n = w.size
    wshape = None
    if n != 1:
        if d.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        c = d.shape[1] if d.ndim > 1 else 1
        if c != n:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers "
                f"= {n} and channel size = {c}. Hint: PReLU(num_parameters) must equal the "
                "input's dim 1 (channels), or be 1.")
        wshape = (1, n) + (1,) * (d.ndim - 2)
    wb = w if wshape is None else w.reshape(wshape)
    r = np.where(d > 0, d, d * wb).astype(input._data.dtype, copy=False)
    if wshape is None:
        axes = tuple(range(d.ndim)) or None
    else:
        axes = (0,) + tuple(range(2, d.ndim))
    return record(PreluKernelBackward0, (input, weight), r, saved=(input, weight), wshape=wshape,
                  axes=axes, worig=w.shape)


class RreluWithNoiseBackward0(Node):
    """out = a * noise (noise = 1 where a > 0);  da = g * noise."""

    def backward(self, g: Any) -> tuple:
        nz = self.noise
        return (g * (nz if type(g) in _ARR else new(nz, None)),)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky relu: slope ~ U(lower, upper) per element in training, else the mean."""
    if inplace:
        return _inplace(input, lambda x: rrelu(x, lower, upper, training),
                        "RreluWithNoiseBackward1")
    d = _data(input, "rrelu_with_noise_out_cpu", "rrelu")
    if training:
        from ..._generator import _gen, _uniform01

        u = _uniform01(_gen(None, "rrelu"), d.shape, d.dtype) * (upper - lower) + lower
    else:
        u = d.dtype.type((lower + upper) / 2)
    noise = np.where(d > 0, d.dtype.type(1), u).astype(d.dtype, copy=False)
    return unary(RreluWithNoiseBackward0, input, (d * noise).astype(input._data.dtype),
                 noise=noise)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """In-place rrelu."""
    return rrelu(input, lower, upper, training, True)


class GluBackward0(Node):
    """out = a * sigmoid(b) (halves of the input along dim);  da = g s, db = g a s (1 - s)."""

    def backward(self, g: Any) -> tuple:
        (x,) = self._unpack(g)
        xp = ns(g)
        dim, h = self.dim, self.half
        a, b = xp.narrow(x, dim, 0, h), xp.narrow(x, dim, h, h)
        s = xp.sigmoid(b)
        return (xp.cat([g * s, g * a * s * (1 - s)], dim),)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b) where a, b are the two halves of input along ``dim``."""
    d = _data(input, "glu_cpu", "glu")
    if d.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    w = dim + d.ndim if dim < 0 else dim
    if not 0 <= w < d.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-d.ndim}, "
                         f"{d.ndim - 1}], but got {dim})")
    n = d.shape[w]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {w} is size {n}. "
                           "Hint: glu splits the input in two equal halves along dim.")
    a, b = np.split(d, 2, axis=w)
    r = (a * N.sigmoid(b)).astype(input._data.dtype, copy=False)
    return unary(GluBackward0, input, r, save_input=True, dim=w, half=n // 2)


# ------------------------------------------------------------------ softmax family
def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """exp(input) / sum(exp(input)) along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return _softmax(input, dim, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """softmax(-input) along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return _softmax(-input, dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    """input - log(sum(exp(input))) along ``dim``."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _log_softmax(input, dim, dtype)
