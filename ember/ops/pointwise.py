"""Elementwise math: unary functions, binary math, clamp/where/lerp, comparisons, logic, bits.

Simple unary ops are built by ``_unary_op`` from a NumPy function and a node made by ``_node``
(a torch-named Node subclass whose ``rule(g, x, xp)`` reads the saved input or output); the
others are written out.  Gradient conventions at kinks follow torch: abs/sign/relu give 0 at 0,
clamp passes the gradient at its bounds, maximum/minimum split it on ties.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype as D
from ._core import (
    Node,
    Tensor,
    as_tensor_arg,
    binary,
    binary_args,
    check_broadcast,
    needs,
    new,
    ns,
    record,
    register,
    unary,
)

__all__ = [
    "abs", "absolute", "sign", "sgn", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p",
    "sqrt", "rsqrt", "sin", "cos", "tan", "asin", "arcsin", "acos", "arccos", "atan", "arctan",
    "sinh", "cosh", "asinh", "arcsinh", "acosh", "arccosh", "atanh", "arctanh", "tanh",
    "sigmoid", "relu", "erf", "erfc", "erfinv", "reciprocal", "floor", "ceil", "round", "trunc",
    "fix", "frac", "nan_to_num", "logit", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
    "maximum", "minimum", "fmax", "fmin", "atan2", "arctan2", "hypot", "copysign", "xlogy",
    "floor_divide", "remainder", "fmod", "lerp", "where", "clamp", "clip", "clamp_min",
    "clamp_max", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
    "less_equal", "not_equal", "equal", "allclose", "isclose", "logical_and", "logical_or",
    "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
]

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_RSQRT_PI, _HALF_SQRT_PI = 2.0 / math.sqrt(math.pi), math.sqrt(math.pi) / 2.0
_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
          "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
          "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
_NUMBER = (int, float, bool, complex, np.generic)
_F16 = np.dtype(np.float16)


def _tname(dt: np.dtype) -> str:
    return _NAMES.get(str(dt), str(dt))


def _not_impl(kernel: str, dt: np.dtype) -> NotImplementedError:
    return NotImplementedError(
        f'"{kernel}" not implemented for \'{_tname(dt)}\'. Hint: convert the tensor first, e.g. '
        "x.float() or x.long()."
    )


def _need_tensor(fn: str, name: str, pos: int, x: Any) -> TypeError:
    return TypeError(
        f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not {type(x).__name__}. "
        f"Hint: wrap the value, e.g. ember.tensor({x!r})."
    )


def _zeros(g: Any) -> Any:
    """A zero gradient like ``g`` (a constant: it has no graph even when ``g`` is a Tensor)."""
    if isinstance(g, Tensor):
        return new(np.zeros(g._data.shape, g._data.dtype), None)
    return np.zeros_like(g)


def _const(g: Any, arr: Any) -> Any:
    """``arr`` (an array of piecewise-constant values) in the mode of ``g``."""
    return new(arr, None) if isinstance(g, Tensor) else arr


def _rec(cls: type, ins: tuple, out: Any, saved: tuple, **attrs: Any) -> Tensor:
    """``record`` for ops with several Tensor-or-number inputs; meta only when recording."""
    for x in ins:
        if isinstance(x, Tensor) and x._edge is not None:
            return record(cls, ins, out, saved=saved, meta=_meta(ins, out), **attrs)
    return new(out, None)


def _bcast(*shapes: tuple) -> None:
    """Raise torch's broadcasting error for the first pair of shapes that do not broadcast."""
    acc: tuple = ()
    for s in shapes:
        check_broadcast(acc, s)
        acc = np.broadcast_shapes(acc, s)


def _meta(inputs: tuple, out: Any) -> tuple | None:
    """Per-input (shape, dtype-or-None) where broadcasting or promotion changed it."""
    shape, dt = out.shape, out.dtype
    res, any_ = [], False
    for x in inputs:
        m = None
        if isinstance(x, Tensor):
            d = x._data
            if d.shape != shape or d.dtype != dt:
                m = (d.shape, d.dtype if d.dtype != dt else None)
                any_ = True
        res.append(m)
    return tuple(res) if any_ else None


# ------------------------------------------------------------------ generic unary ops
class _UIn(Node):
    """Unary node whose rule reads the saved input: ``da = rule(g, a, xp)``."""

    def backward(self, g: Any) -> tuple:
        return (self.rule(g, self._unpack(g)[0], ns(g)),)


class _UOut(Node):
    """Unary node whose rule reads the saved result: ``da = rule(g, out, xp)``."""

    def backward(self, g: Any) -> tuple:
        return (self.rule(g, self._result(g), ns(g)),)


class _UZero(Node):
    """Piecewise-constant op (floor, sign ...): the gradient is zero."""

    def backward(self, g: Any) -> tuple:
        return (_zeros(g),)


def _node(name: str, base: type, rule: Any = None, doc: str = "") -> type:
    attrs: dict = {"__doc__": doc, "__module__": __name__}
    if rule is not None:
        attrs["rule"] = staticmethod(rule)
    return type(name, (base,), attrs)


def _unary_op(name: str, npfn: Any, node: type, doc: str, *aliases: str) -> Any:
    """Build and register ``name(input)``: ``npfn`` on the data (ints -> default float)."""
    so, si = issubclass(node, _UOut), issubclass(node, _UIn)

    def fn(input: Tensor) -> Tensor:
        try:
            d = input._data
        except AttributeError:
            raise _need_tensor(name, "input", 1, input) from None
        dt = d.dtype
        if dt.kind in "biu":
            d = d.astype(D.default_np())
        elif dt is _F16:  # like torch: compute half in float32, round once
            return unary(node, input, npfn(d.astype(np.float32)).astype(dt), si, so)
        return unary(node, input, npfn(d), si, so)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return register(name, *aliases)(fn)


def _sigmoid_np(x: Any) -> Any:
    return np.reciprocal(np.exp(-x) + 1)  # exp(-x) = inf for x << 0: the result is then 0


def _rsqrt_np(x: Any) -> Any:
    return 1 / np.sqrt(x)


exp = _unary_op("exp", np.exp, _node("ExpBackward0", _UOut, lambda g, r, xp: g * r),
                "e ** input.")
exp2 = _unary_op("exp2", np.exp2, _node("Exp2Backward0", _UOut, lambda g, r, xp: g * r * _LN2),
                 "2 ** input.")
expm1 = _unary_op("expm1", np.expm1,
                  _node("Expm1Backward0", _UOut, lambda g, r, xp: g * (r + 1)), "e ** input - 1.")
log = _unary_op("log", np.log, _node("LogBackward0", _UIn, lambda g, a, xp: g / a),
                "Natural logarithm ln(input).")
log2 = _unary_op("log2", np.log2,
                 _node("Log2Backward0", _UIn, lambda g, a, xp: g / (a * _LN2)), "log2(input).")
log10 = _unary_op("log10", np.log10,
                  _node("Log10Backward0", _UIn, lambda g, a, xp: g / (a * _LN10)),
                  "log10(input).")
log1p = _unary_op("log1p", np.log1p,
                  _node("Log1PBackward0", _UIn, lambda g, a, xp: g / (a + 1)), "ln(1 + input).")
sqrt = _unary_op("sqrt", np.sqrt, _node("SqrtBackward0", _UOut, lambda g, r, xp: g / (2 * r)),
                 "input ** 0.5.")
rsqrt = _unary_op("rsqrt", _rsqrt_np,
                  _node("RsqrtBackward0", _UOut, lambda g, r, xp: g * (r * r * r) * -0.5),
                  "1 / sqrt(input).")
sin = _unary_op("sin", np.sin, _node("SinBackward0", _UIn, lambda g, a, xp: g * xp.cos(a)),
                "sin(input).")
cos = _unary_op("cos", np.cos, _node("CosBackward0", _UIn, lambda g, a, xp: -g * xp.sin(a)),
                "cos(input).")
tan = _unary_op("tan", np.tan, _node("TanBackward0", _UOut, lambda g, r, xp: g * (1 + r * r)),
                "tan(input).")
asin = _unary_op("asin", np.arcsin,
                 _node("AsinBackward0", _UIn, lambda g, a, xp: g / xp.sqrt(1 - a * a)),
                 "arcsin(input).", "arcsin")
acos = _unary_op("acos", np.arccos,
                 _node("AcosBackward0", _UIn, lambda g, a, xp: -g / xp.sqrt(1 - a * a)),
                 "arccos(input).", "arccos")
atan = _unary_op("atan", np.arctan,
                 _node("AtanBackward0", _UIn, lambda g, a, xp: g / (a * a + 1)),
                 "arctan(input).", "arctan")
sinh = _unary_op("sinh", np.sinh, _node("SinhBackward0", _UIn, lambda g, a, xp: g * xp.cosh(a)),
                 "sinh(input).")
cosh = _unary_op("cosh", np.cosh, _node("CoshBackward0", _UIn, lambda g, a, xp: g * xp.sinh(a)),
                 "cosh(input).")
asinh = _unary_op("asinh", np.arcsinh,
                  _node("AsinhBackward0", _UIn, lambda g, a, xp: g / xp.sqrt(a * a + 1)),
                  "arsinh(input).", "arcsinh")
acosh = _unary_op("acosh", np.arccosh,
                  _node("AcoshBackward0", _UIn, lambda g, a, xp: g / xp.sqrt(a * a - 1)),
                  "arcosh(input).", "arccosh")
atanh = _unary_op("atanh", np.arctanh,
                  _node("AtanhBackward0", _UIn, lambda g, a, xp: g / (1 - a * a)),
                  "artanh(input).", "arctanh")
tanh = _unary_op("tanh", np.tanh, _node("TanhBackward0", _UOut, lambda g, r, xp: g * (1 - r * r)),
                 "tanh(input).")
sigmoid = _unary_op("sigmoid", _sigmoid_np,
                    _node("SigmoidBackward0", _UOut, lambda g, r, xp: g * ((1 - r) * r)),
                    "1 / (1 + exp(-input)).")
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
reciprocal = _unary_op("reciprocal", np.reciprocal,
                       _node("ReciprocalBackward0", _UOut, lambda g, r, xp: -g * (r * r)),
                       "1 / input.")


# ------------------------------------------------------------------ erf family
# erf/erfc: math.erf (libm) for small tensors; for larger ones (float64) rational fits made
# for ember (relative error < 1e-15 against mpmath): erf(x) = x P(x^2) for |x| < 0.75,
# erfc(x) = exp(-x^2) R(x) above, with R = P/Q on [0.75, 6) and P/Q(1/x^2) / x beyond.
_PA = (1.1283791670955126, -0.37612638903181067, 0.1128379167079928, -0.026866170609940104,
       0.0052239772207308514, -0.0008548300208698638, 0.00012054247332592643,
       -1.489829579309321e-05, 1.6041436678360934e-06, -1.26993985149646e-07)
_PB = (1.0000000141314718, 1.6027016098071132, 1.2679758519841544, 0.6049185753468795,
       0.18185534010473678, 0.032793242958856376, 0.002839500413968085, -6.919377749600906e-11)
_QB = (1.0, 2.7310809398630758, 3.349669795604619, 2.4057911331188637, 1.1012856127776272,
       0.32484376844889623, 0.0581246854296746, 0.005032876684941678)
_PC = (0.5641895835477563, 8.901011254112538, 39.35849041807591, 49.455754302320535,
       8.500004955702206)
_QC = (1.0, 16.276631674305023, 77.14942374458492, 115.9002802439517, 39.110130541547186)
_SMALL = 1024  # below this many elements libm via math.erf is faster than the vector code


def _horner(x: Any, c: tuple) -> Any:
    r = c[-1]
    for k in c[-2::-1]:
        r = r * x + k
    return r


def _erfc_pos(ax: np.ndarray) -> np.ndarray:
    """erfc for float64 ``ax`` >= 0.75 (or NaN)."""
    ax = np.minimum(ax, 30.0)  # erfc(30) underflows to 0; keeps inf out of the split below
    mid = ax < 6.0
    R = np.empty_like(ax)
    if mid.any():
        t = ax[mid]
        R[mid] = _horner(t, _PB) / _horner(t, _QB)
    if not mid.all():
        t = ax[~mid]
        v = 1 / (t * t)
        R[~mid] = _horner(v, _PC) / _horner(v, _QC) / t
    hi = ax.astype(np.float32).astype(np.float64)  # hi*hi is exact: exp(-x^2) to full accuracy
    return np.exp(-hi * hi) * np.exp((hi - ax) * (hi + ax)) * R


def _erf64(x: np.ndarray, comp: bool) -> np.ndarray:
    """erf(x) (or erfc(x) with ``comp``) of a float64 array."""
    if x.size <= _SMALL:
        return _libm(math.erfc if comp else math.erf, x)
    r = np.empty_like(x)
    small = np.abs(x) < 0.75
    if small.any():
        s = x[small]
        e = s * _horner(s * s, _PA)
        r[small] = 1 - e if comp else e
    if not small.all():
        big = ~small
        s = x[big]
        c = _erfc_pos(np.abs(s))
        r[big] = np.where(s < 0, 2 - c, c) if comp else np.copysign(1 - c, s)
    return r


def _libm(fn: Any, d: Any) -> np.ndarray:
    """``fn`` (math.erf ...) on every element, rounded once to ``d``'s dtype."""
    return np.fromiter(map(fn, d.ravel().tolist()), d.dtype, d.size).reshape(d.shape)


def _erf_np(d: Any) -> Any:
    if d.size <= _SMALL:
        return _libm(math.erf, d)
    return _erf64(d.astype(np.float64), False).astype(d.dtype, copy=False)


def _erfc_np(d: Any) -> Any:
    if d.size <= _SMALL:
        return _libm(math.erfc, d)
    return _erf64(d.astype(np.float64), True).astype(d.dtype, copy=False)


def _erfinv_np(d: Any) -> Any:
    """torch's erfinv: a rational first guess refined by two Newton steps on erf."""
    y = np.asarray(d, dtype=np.float64)
    ay = np.abs(y)
    z = y * y
    central = y * _horner(z, (0.886226899, -1.645349621, 0.914624893, -0.140543331)) / _horner(
        z, (1.0, -2.118377725, 1.442710462, -0.329097515, 0.012229801))
    t = np.sqrt(-np.log((1.0 - np.minimum(ay, 1.0)) / 2.0))
    tail = np.copysign(_horner(t, (-1.970840454, -1.624906493, 3.429567803, 1.641345311)), y) / (
        _horner(t, (1.0, 3.543889200, 1.637067800)))
    x = np.where(ay <= 0.7, central, tail)
    for _ in range(2):
        x = x - (_erf64(x, False) - y) / (_TWO_RSQRT_PI * np.exp(-x * x))
    x = np.where(ay == 1.0, np.copysign(np.inf, y), x)
    return np.where(ay > 1.0, np.nan, x).astype(d.dtype)


erf = _unary_op("erf", _erf_np, _node(
    "ErfBackward0", _UIn, lambda g, a, xp: g * (xp.exp(-(a * a)) * _TWO_RSQRT_PI)),
    "Error function 2/sqrt(pi) * integral_0^input exp(-t^2) dt.")
erfc = _unary_op("erfc", _erfc_np, _node(
    "ErfcBackward0", _UIn, lambda g, a, xp: g * (xp.exp(-(a * a)) * -_TWO_RSQRT_PI)),
    "Complementary error function 1 - erf(input).")
erfinv = _unary_op("erfinv", _erfinv_np, _node(
    "ErfinvBackward0", _UOut, lambda g, r, xp: g * (xp.exp(r * r) * _HALF_SQRT_PI)),
    "Inverse error function: erfinv(erf(x)) = x on (-1, 1).")


# ------------------------------------------------------------------ sign, rounding, kinks
AbsBackward0 = _node(
    "AbsBackward0", _UIn, lambda g, a, xp: g * (sign(a) if isinstance(a, Tensor) else _sign_f(a)),
    "da = g * sign(a) (0 at 0 and at NaN, like torch's sgn).")
SignBackward0 = _node("SignBackward0", _UZero)
SgnBackward0 = _node("SgnBackward0", _UZero)
ReluBackward0 = _node("ReluBackward0", _UOut, lambda g, r, xp: xp.where(r <= 0, 0.0, g),
                      "da = g where out > 0 (0 at 0, like torch's threshold_backward).")


class FracBackward0(Node):
    """out = a - trunc(a);  da = g."""

    def backward(self, g: Any) -> tuple:
        return (g,)


NanToNumBackward0 = _node("NanToNumBackward0", _UIn, lambda g, a, xp: g * xp.isfinite(a),
                          "da = g where input is finite.")
_ROUNDERS = {n: _node(n, _UZero) for n in ("FloorBackward0", "CeilBackward0", "RoundBackward0",
                                           "RoundBackward1", "TruncBackward0")}


@register("abs", "absolute", "__abs__")
def abs(input: Tensor) -> Tensor:
    """|input|."""
    d = input._data
    if d.dtype.kind == "b":
        raise _not_impl("abs_cpu", d.dtype)
    return unary(AbsBackward0, input, np.abs(d), save_input=True)


absolute = abs


@register("sign")
def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of input (0 for NaN, like torch)."""
    d = input._data
    k = d.dtype.kind
    if k == "f":
        return unary(SignBackward0, input, _sign_f(d))
    return new(np.array(d, copy=True) if k == "b" else np.sign(d), None)


def _sign_f(d: Any) -> Any:
    r = np.sign(d)
    if type(r) is np.ndarray:
        np.copyto(r, 0, where=r != r)  # NaN -> 0, like torch
    elif r != r:
        r = d.dtype.type(0)
    return r


@register("sgn")
def sgn(input: Tensor) -> Tensor:
    """input / |input| (0 at 0): the sign, for real tensors."""
    d = input._data
    if d.dtype.kind == "f":
        return unary(SgnBackward0, input, _sign_f(d))
    return sign(input)


@register("relu")
def relu(input: Tensor) -> Tensor:
    """max(input, 0) (keeps NaN)."""
    d = input._data
    if d.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu. Hint: use x.long() first.")
    return unary(ReluBackward0, input, np.where(d < 0, 0, d), save_out=True)


def _rounding(name: str, npfn: Any, node: str, doc: str, *aliases: str) -> Any:
    cls = _ROUNDERS[node]
    kernel = ("trunc" if name == "fix" else name) + "_vml_cpu"

    def fn(input: Tensor) -> Tensor:
        d = input._data
        k = d.dtype.kind
        if k == "f":
            return unary(cls, input, npfn(d))
        if k == "b":
            raise _not_impl(kernel, d.dtype)
        return new(np.array(d, copy=True), None)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return register(name, *aliases)(fn)


floor = _rounding("floor", np.floor, "FloorBackward0", "Largest integer <= input.")
ceil = _rounding("ceil", np.ceil, "CeilBackward0", "Smallest integer >= input.")
trunc = _rounding("trunc", np.trunc, "TruncBackward0", "input rounded toward zero.", "fix")
fix = trunc


@register("round")
def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """input rounded half to even (to ``decimals`` decimal places)."""
    d = input._data
    if d.dtype.kind != "f":
        if d.dtype.kind == "b" or decimals:
            raise _not_impl("round_cpu" if decimals else "round_vml_cpu", d.dtype)
        return new(np.array(d, copy=True), None)
    if decimals == 0:
        return unary(_ROUNDERS["RoundBackward0"], input, np.rint(d))
    if decimals > 0:
        p = d.dtype.type(10.0**decimals)
        r = np.rint(d * p) / p
    else:
        p = d.dtype.type(10.0**-decimals)
        r = np.rint(d / p) * p
    return unary(_ROUNDERS["RoundBackward1"], input, r)


@register("frac")
def frac(input: Tensor) -> Tensor:
    """input - trunc(input)."""
    d = input._data
    if d.dtype.kind != "f":
        raise _not_impl("frac_cpu", d.dtype)
    return unary(FracBackward0, input, d - np.trunc(d))


@register("nan_to_num")
def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf`` (default: the dtype's extremes)."""
    d = input._data
    if d.dtype.kind != "f":
        return new(np.array(d, copy=True), None)
    big = np.finfo(d.dtype).max
    r = np.where(d != d, nan, d)
    r = np.where(r == np.inf, big if posinf is None else posinf, r)
    r = np.where(r == -np.inf, -big if neginf is None else neginf, r).astype(d.dtype, copy=False)
    return unary(NanToNumBackward0, input, r, save_input=True)


class LogitBackward0(Node):
    """out = log(a / (1 - a));  da = g / (a (1 - a)), NaN outside [0, 1] (0 outside eps band)."""

    eps = None

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        xp, eps = ns(g), self.eps
        d = g / (a * (1 - a))
        if eps is None:
            return (xp.where((a < 0) | (a > 1), math.nan, d),)
        return (xp.where((a < eps) | (a > 1 - eps), 0.0, d),)


@register("logit")
def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), with p = input clamped to [eps, 1 - eps] when ``eps`` is given."""
    d = input._data
    if d.dtype.kind in "biu":
        d = d.astype(D.default_np())
    if eps is not None:
        d = np.minimum(np.maximum(d, eps), 1 - eps)
    return unary(LogitBackward0, input, np.log(d / (1 - d)), save_input=True, eps=eps)


def _pred(name: str, fpred: Any, doc: str) -> Any:
    """A boolean elementwise test (no gradient); integer tensors are always finite."""
    finite = name == "isfinite"

    def fn(input: Tensor) -> Tensor:
        d = input._data
        if d.dtype.kind in "fc":
            return new(fpred(d), None)
        return new(np.full(d.shape, finite), None)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return register(name)(fn)


isnan = _pred("isnan", np.isnan, "True where input is NaN.")
isinf = _pred("isinf", np.isinf, "True where input is +-inf.")
isfinite = _pred("isfinite", np.isfinite, "True where input is neither NaN nor +-inf.")
isposinf = _pred("isposinf", lambda d: d == np.inf, "True where input is +inf.")
isneginf = _pred("isneginf", lambda d: d == -np.inf, "True where input is -inf.")


# ------------------------------------------------------------------ binary math
def _tt(fn: str, input: Tensor, other: Any) -> tuple:
    """Promoted data of two Tensors (``other`` must be a Tensor, like torch)."""
    if not isinstance(other, Tensor):
        raise _need_tensor(fn, "other", 2, other)
    return binary_args(input, other)


def _fargs(input: Tensor, other: Any) -> tuple:
    """Promoted data for float math: integral results become the default float dtype."""
    a, b = binary_args(input, other)
    if a.dtype.kind in "biu":
        a = a.astype(D.default_np())
        if isinstance(b, (np.ndarray, np.generic)):
            b = b.astype(a.dtype)
    return a, b


class MaximumBackward0(Node):
    """out = max(a, b);  the larger input gets g, each gets g/2 on ties (both get it for NaN)."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        h = xp.where(a == b, g / 2, g)
        return (xp.where(a < b, 0.0, h) if needs(self, 0) else None,
                xp.where(a > b, 0.0, h) if needs(self, 1) else None)


class MinimumBackward0(Node):
    """out = min(a, b);  the smaller input gets g, each gets g/2 on ties."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        h = xp.where(a == b, g / 2, g)
        return (xp.where(a > b, 0.0, h) if needs(self, 0) else None,
                xp.where(a < b, 0.0, h) if needs(self, 1) else None)


@register("maximum")
def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise max(input, other) (NaN propagates)."""
    a, b = _tt("maximum", input, other)
    return binary(MaximumBackward0, input, other, np.maximum(a, b), save=1)


@register("minimum")
def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise min(input, other) (NaN propagates)."""
    a, b = _tt("minimum", input, other)
    return binary(MinimumBackward0, input, other, np.minimum(a, b), save=1)


class FmaxBackward0(Node):
    """out = fmax(a, b) (NaN ignored);  a gets g where a >= b or b is NaN, b elsewhere."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        m = (a >= b) | xp.isnan(b)
        return (xp.where(m, g, 0.0) if needs(self, 0) else None,
                xp.where(m, 0.0, g) if needs(self, 1) else None)


class FminBackward0(Node):
    """out = fmin(a, b) (NaN ignored);  a gets g where a <= b or b is NaN, b elsewhere."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        m = (a <= b) | xp.isnan(b)
        return (xp.where(m, g, 0.0) if needs(self, 0) else None,
                xp.where(m, 0.0, g) if needs(self, 1) else None)


@register("fmax")
def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise max(input, other), ignoring NaN when only one side is NaN."""
    a, b = _tt("fmax", input, other)
    return binary(FmaxBackward0, input, other, np.fmax(a, b), save=1)


@register("fmin")
def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise min(input, other), ignoring NaN when only one side is NaN."""
    a, b = _tt("fmin", input, other)
    return binary(FminBackward0, input, other, np.fmin(a, b), save=1)


class Atan2Backward0(Node):
    """out = atan2(a, b);  da = g b / (a^2 + b^2), db = -g a / (a^2 + b^2)."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        r = g / (a * a + b * b)
        return (r * b if needs(self, 0) else None, -r * a if needs(self, 1) else None)


@register("atan2", "arctan2")
def atan2(input: Tensor, other: Tensor) -> Tensor:
    """Angle of the point (other, input): arctan(input / other) in the right quadrant."""
    if not isinstance(other, Tensor):
        raise _need_tensor("atan2", "other", 2, other)
    a, b = _fargs(input, other)
    return binary(Atan2Backward0, input, other, np.arctan2(a, b), save=1)


arctan2 = atan2


class HypotBackward0(Node):
    """out = sqrt(a^2 + b^2);  da = g a / out, db = g b / out."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        r = g / self._result(g)
        return (r * a if needs(self, 0) else None, r * b if needs(self, 1) else None)


@register("hypot")
def hypot(input: Tensor, other: Tensor) -> Tensor:
    """sqrt(input^2 + other^2) without overflow."""
    a, b = _tt("hypot", input, other)
    if a.dtype.kind != "f":
        raise _not_impl("hypot_cpu", a.dtype)
    return binary(HypotBackward0, input, other, np.hypot(a, b), save=1, save_out=True)


class CopysignBackward0(Node):
    """out = |a| sign(b);  da = g out / a (0 where a == 0), db = 0."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        ga = g * ns(g).where(a == 0, 0.0, self._result(g) / a) if needs(self, 0) else None
        return ga, (_zeros(g) if needs(self, 1) else None)


class CopysignBackward1(Node):
    """out = |a| sign(c), c a number;  da = g out / a (0 where a == 0)."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        return (g * ns(g).where(a == 0, 0.0, self._result(g) / a),)


@register("copysign")
def copysign(input: Tensor, other: Any) -> Tensor:
    """|input| with the sign of other."""
    a, b = _fargs(input, other)
    r = np.copysign(a, b)
    if isinstance(other, Tensor):
        return binary(CopysignBackward0, input, other, r, save=2, save_out=True)
    return unary(CopysignBackward1, input, r, save_input=True, save_out=True)


def _xlogy_np(x: Any, y: Any) -> Any:
    ly = np.log(y) if isinstance(y, np.ndarray | np.generic) else float(np.log(np.float64(y)))
    r = np.where(x == 0, 0, x * ly)
    return np.where(y != y, np.nan, r)


class XlogyBackward0(Node):
    """out = a log(b) (0 where a == 0);  da = g log(b) where a != 0, db = g a / b."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        ga = g * xp.where(a != 0, xp.log(b), 0.0) if needs(self, 0) else None
        return ga, (g * a / b if needs(self, 1) else None)


class XlogyBackward1(Node):
    """out = c log(b), c a number;  db = g c / b."""

    def backward(self, g: Any) -> tuple:
        (b,) = self._unpack(g)
        return (g * self.scalar / b,)


class XlogyBackward2(Node):
    """out = a log(c), c a number;  da = g log(c) where a != 0."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        lc = float(np.log(np.float64(self.scalar)))
        return (ns(g).where(a != 0, g * lc, 0.0),)


@register("xlogy")
def xlogy(input: Any, other: Any) -> Tensor:
    """input * log(other), 0 where input == 0 (NaN where other is NaN)."""
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            raise _need_tensor("xlogy", "other", 2, other)
        b, a = _fargs(other, input)
        return unary(XlogyBackward1, other, _xlogy_np(a, b), save_input=True, scalar=a)
    a, b = _fargs(input, other)
    if isinstance(other, Tensor):
        return binary(XlogyBackward0, input, other, _xlogy_np(a, b), save=1)
    return unary(XlogyBackward2, input, _xlogy_np(a, b), save_input=True, scalar=b)


class NotImplementedBackward(Node):
    """torch's node for ops without a derivative: backward through it raises."""

    _name = "torch::autograd::NotImplemented"
    op = ""

    def backward(self, g: Any) -> tuple:
        raise RuntimeError(
            f"derivative for aten::{self.op} is not implemented. Hint: the result is piecewise "
            "constant; compute it on detached inputs (x.detach()) or under ember.no_grad()."
        )


def _int_div_args(input: Tensor, other: Any, kernel: str, swap: bool = False) -> tuple:
    """Promoted operands of // % fmod; integer division by zero raises like torch."""
    a, b = binary_args(input, other)
    if a.dtype.kind in "biu":
        if a.dtype.kind == "b" and (type(b) is bool or getattr(b, "dtype", None) == np.bool_):
            raise _not_impl(kernel, a.dtype)
        if np.any((a if swap else b) == 0):
            raise RuntimeError(
                "ZeroDivisionError. Hint: integer division by zero is undefined; convert to "
                "float (x.float()) to get inf/nan instead."
            )
    return (b, a) if swap else (a, b)


@register("floor_divide", "__floordiv__")
def floor_divide(input: Tensor, other: Any) -> Tensor:
    """floor(input / other) (no derivative: backward raises, like torch)."""
    a, b = _int_div_args(input, other, "div_floor_cpu")
    return binary(NotImplementedBackward, input, other, np.floor_divide(a, b), op="floor_divide")


@register("__rfloordiv__")
def rfloordiv(input: Tensor, other: Any) -> Tensor:
    """floor(other / input) for a number ``other``."""
    if isinstance(other, Tensor):
        return floor_divide(other, input)
    c, a = _int_div_args(input, other, "div_floor_cpu", swap=True)
    return unary(NotImplementedBackward, input, np.floor_divide(c, a), op="floor_divide")


class RemainderBackward0(Node):
    """out = a mod c, c a number;  da = g."""

    def backward(self, g: Any) -> tuple:
        return (g,)


class RemainderBackward1(Node):
    """out = a - b floor(a / b);  da = g, db = -g floor(a / b)."""

    def backward(self, g: Any) -> tuple:
        gb = None
        if needs(self, 1):
            a, b = (x._data if isinstance(x, Tensor) else x for x in self._unpack(g))
            gb = -g * _const(g, np.floor_divide(a, b))
        return (g if needs(self, 0) else None), gb


@register("remainder", "__mod__")
def remainder(input: Any, other: Any) -> Tensor:
    """input - other * floor(input / other): the sign follows the divisor (Python's %)."""
    if not isinstance(input, Tensor):
        return rmod(other, input)
    a, b = _int_div_args(input, other, "remainder_cpu")
    r = np.remainder(a, b)
    if isinstance(other, Tensor):
        return binary(RemainderBackward1, input, other, r, save=1)
    return unary(RemainderBackward0, input, r)


@register("__rmod__")
def rmod(input: Tensor, other: Any) -> Tensor:
    """other mod input for a number ``other`` (no derivative, like torch)."""
    if isinstance(other, Tensor):
        return remainder(other, input)
    c, a = _int_div_args(input, other, "remainder_cpu", swap=True)
    return unary(NotImplementedBackward, input, np.remainder(c, a), op="remainder")


class FmodBackward0(Node):
    """out = fmod(a, c), c a number;  da = g."""

    def backward(self, g: Any) -> tuple:
        return (g,)


class FmodBackward1(Node):
    """out = a - b trunc(a / b);  da = g, db = -g trunc(a / b)."""

    def backward(self, g: Any) -> tuple:
        gb = None
        if needs(self, 1):
            a, b = (x._data if isinstance(x, Tensor) else x for x in self._unpack(g))
            gb = -g * _const(g, np.trunc(np.true_divide(a, b)))
        return (g if needs(self, 0) else None), gb


@register("fmod")
def fmod(input: Tensor, other: Any) -> Tensor:
    """C's fmod: input - other * trunc(input / other) (the sign follows the dividend)."""
    a, b = _int_div_args(input, other, "fmod_cpu")
    r = np.fmod(a, b)
    if isinstance(other, Tensor):
        return binary(FmodBackward1, input, other, r, save=1)
    return unary(FmodBackward0, input, r)


# ------------------------------------------------------------------ lerp, where, clamp
_CNAMES = {"float32": "float", "float64": "double", "float16": "c10::Half"}


class LerpBackward0(Node):
    """out = a + w (b - a), w a number;  da = g (1 - w), db = g w."""

    def backward(self, g: Any) -> tuple:
        w = self.weight
        return (g * (1 - w) if needs(self, 0) else None, g * w if needs(self, 1) else None)


class LerpBackward1(Node):
    """out = a + w (b - a);  da = g (1 - w), db = g w, dw = g (b - a)."""

    def backward(self, g: Any) -> tuple:
        a, b, w = self._unpack(g)
        return (g * (1 - w) if needs(self, 0) else None, g * w if needs(self, 1) else None,
                g * (b - a) if needs(self, 2) else None)


@register("lerp")
def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """input + weight * (end - input) (torch's two-sided formula for accuracy)."""
    if not isinstance(end, Tensor):
        raise _need_tensor("lerp", "end", 2, end)
    a, b = input._data, end._data
    dt = a.dtype
    wt = isinstance(weight, Tensor)
    if dt.kind != "f":
        raise _not_impl("lerp_kernel_tensor" if wt else "lerp_kernel_scalar", dt)
    w = weight._data if wt else weight
    for nm, x in (("end", b), ("weight", w if wt else None)):
        if x is not None and x.dtype != dt and not (nm == "weight" and x.ndim == 0):
            raise RuntimeError(
                f"expected dtype {_CNAMES.get(str(dt), dt)} for `{nm}` but got dtype "
                f"{_CNAMES.get(str(x.dtype), x.dtype)}. Hint: convert it: {nm}.to(input.dtype)."
            )
    if a.shape != b.shape:
        check_broadcast(a.shape, b.shape)
    d = b - a
    if not wt:
        w = w.item() if isinstance(w, np.generic) else w
        r = a + w * d if -0.5 < w < 0.5 else b - d * (1 - w)
        return binary(LerpBackward0, input, end, r, weight=w)
    w = w.astype(dt, copy=False)
    if w.shape != d.shape:
        check_broadcast(d.shape, w.shape)
    r = np.where(np.abs(w) < 0.5, a + w * d, b - d * (1 - w))
    ins = (input, end, weight)
    return _rec(LerpBackward1, ins, r, ins)


class WhereBackward0(Node):
    """out = where(c, a, b);  da = g where c, db = g where not c."""

    def backward(self, g: Any) -> tuple:
        (c,) = self._unpack(g)
        xp = ns(g)
        return (xp.where(c, g, 0.0) if needs(self, 0) else None,
                xp.where(c, 0.0, g) if needs(self, 1) else None)


def _where_data(input: Any, other: Any) -> tuple:
    if isinstance(input, Tensor):
        return binary_args(input, other)
    if isinstance(other, Tensor):
        b, a = binary_args(other, input)
        return a, b
    kinds = {D.scalar_kind(input), D.scalar_kind(other)}
    dt = D.default_np() if 2 in kinds else np.dtype(np.int64 if 1 in kinds else np.bool_)
    return np.asarray(input, dt), np.asarray(other, dt)


@register()
def where(condition: Tensor, input: Any = None, other: Any = None) -> Any:
    """input where condition else other (tensors or numbers, broadcasting)."""
    try:
        c = condition._data
    except AttributeError:  # an array or bool (backward rules may pass raw masks)
        c = np.asarray(condition)
    if input is None and other is None:
        return tuple(new(i, None) for i in np.nonzero(np.asarray(c)))
    if c.dtype != np.bool_:
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{_tname(c.dtype)}. Hint: compare first, e.g. where(x > 0, ...), or call .bool()."
        )
    a, b = _where_data(input, other)
    try:
        r = np.where(c, a, b)
    except ValueError:
        _bcast(c.shape, np.shape(a), np.shape(b))
        raise
    return _rec(WhereBackward0, (input, other), r, (condition,))


@register("where", namespace=False)
def _where_method(self: Tensor, condition: Tensor, other: Any) -> Tensor:
    """self where condition else other."""
    return where(condition, self, other)


class ClampBackward1(Node):
    """out = clamp(a, min, max), number bounds;  da = g where min <= a <= max (bounds included)."""

    min = max = None

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        lo, hi = self.min, self.max
        m = a <= hi if lo is None else (a >= lo if hi is None else (a >= lo) & (a <= hi))
        return (ns(g).where(m, g, 0.0),)


class ClampBackward0(Node):
    """out = clamp(a, min, max), tensor bounds: g goes to a inside, else to the active bound."""

    def backward(self, g: Any) -> tuple:
        a, lo, hi = self._unpack(g)
        xp = ns(g)
        ga = glo = ghi = None
        if lo is not None and hi is not None:
            if needs(self, 0):
                ga = xp.where((a >= lo) & (a <= hi), g, 0.0)
            if needs(self, 1):
                glo = xp.where((a < lo) & (lo < hi), g, 0.0)
            if needs(self, 2):
                ghi = xp.where((a > hi) | (hi < lo), g, 0.0)
        elif lo is not None:
            ga = xp.where(a >= lo, g, 0.0) if needs(self, 0) else None
            glo = xp.where(a < lo, g, 0.0) if needs(self, 1) else None
        else:
            ga = xp.where(a <= hi, g, 0.0) if needs(self, 0) else None
            ghi = xp.where(a > hi, g, 0.0) if needs(self, 2) else None
        return ga, glo, ghi


def _common_dtype(arrs: list) -> np.dtype:
    acc = arrs[0]
    for x in arrs[1:]:
        rt = D.result_type(acc, x)
        acc = np.empty((1,) if (acc.ndim or x.ndim) else (), rt)
    return acc.dtype


@register("clamp", "clip")
def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """min(max(input, min), max); NaN stays NaN, and min > max gives max everywhere."""
    d = input._data
    if min is None and max is None:
        raise RuntimeError(
            "torch.clamp: At least one of 'min' or 'max' must not be None. Hint: pass min=..., "
            "max=... or both."
        )
    lt, ht = isinstance(min, Tensor), isinstance(max, Tensor)
    if lt or ht:  # tensor bounds (a number next to a tensor bound becomes a 0-d tensor)
        if min is not None and not lt:
            min, lt = as_tensor_arg(min, input), True
        if max is not None and not ht:
            max, ht = as_tensor_arg(max, input), True
        ts = [t for t in (input, min, max) if t is not None]
        dt = _common_dtype([t._data for t in ts])
        r = d.astype(dt, copy=False)
        try:
            if lt:
                r = np.maximum(r, min._data.astype(dt, copy=False))
            if ht:
                r = np.minimum(r, max._data.astype(dt, copy=False))
        except ValueError:
            _bcast(*(t._data.shape for t in ts))
            raise
        ins = (input, min, max)
        return _rec(ClampBackward0, ins, r, ins)
    if isinstance(min, np.generic):
        min = min.item()
    if isinstance(max, np.generic):
        max = max.item()
    return unary(ClampBackward1, input, _clamp_num(d, min, max), save_input=True, min=min,
                 max=max)


def _clamp_num(d: Any, lo: Any, hi: Any) -> Any:
    """Clamp data between python numbers (None = unbounded), torch's dtype and -0.0/NaN rules."""
    dt = d.dtype
    if dt.kind != "f":  # numbers never change a float tensor's dtype
        for x in (lo, hi):
            if x is not None:
                dt = D.scalar_result(dt, x)
    r = d.astype(dt) if dt != d.dtype else d
    if lo != lo or hi != hi:  # a NaN bound makes everything NaN
        return np.full(np.shape(r), np.nan, dt)
    # np.maximum/minimum propagate NaN but may turn -0.0 into +0.0 on a tie with a zero bound;
    # there (only) np.where keeps torch's result
    if lo is not None:
        r = np.where(r < lo, lo, r) if lo == 0 else np.maximum(r, lo)
    if hi is not None:
        r = np.where(r > hi, hi, r) if hi == 0 else np.minimum(r, hi)
    return r


clip = clamp


class ClampMinBackward0(Node):
    """out = max(a, c), c a number;  da = g where a >= c."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        return (ns(g).where(a >= self.min, g, 0.0),)


class ClampMinBackward1(Node):
    """out = max(a, b);  da = g where a >= b, db = g where a < b."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        return (xp.where(a >= b, g, 0.0) if needs(self, 0) else None,
                xp.where(a < b, g, 0.0) if needs(self, 1) else None)


class ClampMaxBackward0(Node):
    """out = min(a, c), c a number;  da = g where a <= c."""

    def backward(self, g: Any) -> tuple:
        (a,) = self._unpack(g)
        return (ns(g).where(a <= self.max, g, 0.0),)


class ClampMaxBackward1(Node):
    """out = min(a, b);  da = g where a <= b, db = g where a > b."""

    def backward(self, g: Any) -> tuple:
        a, b = self._unpack(g)
        xp = ns(g)
        return (xp.where(a <= b, g, 0.0) if needs(self, 0) else None,
                xp.where(a > b, g, 0.0) if needs(self, 1) else None)


@register("clamp_min")
def clamp_min(input: Tensor, min: Any) -> Tensor:
    """max(input, min)."""
    if isinstance(min, Tensor):
        a, b = binary_args(input, min)
        return binary(ClampMinBackward1, input, min, np.maximum(a, b), save=1)
    if isinstance(min, np.generic):
        min = min.item()
    return unary(ClampMinBackward0, input, _clamp_num(input._data, min, None), save_input=True,
                 min=min)


@register("clamp_max")
def clamp_max(input: Tensor, max: Any) -> Tensor:
    """min(input, max)."""
    if isinstance(max, Tensor):
        a, b = binary_args(input, max)
        return binary(ClampMaxBackward1, input, max, np.minimum(a, b), save=1)
    if isinstance(max, np.generic):
        max = max.item()
    return unary(ClampMaxBackward0, input, _clamp_num(input._data, None, max), save_input=True,
                 max=max)


# ------------------------------------------------------------------ comparisons
def _comparison(name: str, ufunc: Any, dunder: str, doc: str, *aliases: str) -> Any:
    def fn(input: Tensor, other: Any) -> Tensor:
        a, b = binary_args(input, other)
        return new(ufunc(a, b), None)

    def op(self: Tensor, other: Any) -> Any:
        try:
            a, b = binary_args(self, other)
        except TypeError:
            return NotImplemented
        return new(ufunc(a, b), None)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    op.__name__ = op.__qualname__ = dunder
    op.__doc__ = doc
    register(dunder, namespace=False)(op)
    return register(name, *aliases)(fn)


eq = _comparison("eq", np.equal, "__eq__", "input == other (bool tensor).")
ne = _comparison("ne", np.not_equal, "__ne__", "input != other (bool tensor).", "not_equal")
lt = _comparison("lt", np.less, "__lt__", "input < other (bool tensor).", "less")
le = _comparison("le", np.less_equal, "__le__", "input <= other (bool tensor).", "less_equal")
gt = _comparison("gt", np.greater, "__gt__", "input > other (bool tensor).", "greater")
ge = _comparison("ge", np.greater_equal, "__ge__", "input >= other (bool tensor).",
                 "greater_equal")
not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge


@register("equal")
def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and equal values (NaN != NaN)."""
    a, b = input._data, other._data
    return bool(a.shape == b.shape and np.array_equal(a, b))


@register("isclose")
def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other| elementwise (equal infinities are close)."""
    a, b = input._data, other._data
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{_tname(a.dtype)} did not match {_tname(b.dtype)}. Hint: convert one of them, "
            "e.g. other.to(input.dtype)."
        )
    if a.shape != b.shape:
        check_broadcast(a.shape, b.shape)
    close = a == b
    if a.dtype.kind != "f":
        a, b = a.astype(D.default_np()), b.astype(D.default_np())
    elif equal_nan:
        close = close | (np.isnan(a) & np.isnan(b))
    if rtol or atol:
        err = np.abs(a - b)
        close = close | (np.isfinite(err) & (err <= atol + np.abs(rtol * b)))
    return new(close, None)


@register("allclose")
def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every element of input is close to other (see isclose)."""
    return bool(np.all(isclose(input, other, rtol, atol, equal_nan)._data))


# ------------------------------------------------------------------ logical and bitwise
def _logical(name: str, ufunc: Any, doc: str) -> Any:
    def fn(input: Tensor, other: Tensor) -> Tensor:
        if not isinstance(other, Tensor):
            raise _need_tensor(name, "other", 2, other)
        a, b = input._data, other._data
        if a.shape != b.shape:
            check_broadcast(a.shape, b.shape)
        return new(ufunc(a, b), None)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return register(name)(fn)


logical_and = _logical("logical_and", np.logical_and, "input and other, as booleans.")
logical_or = _logical("logical_or", np.logical_or, "input or other, as booleans.")
logical_xor = _logical("logical_xor", np.logical_xor, "input xor other, as booleans.")


@register("logical_not")
def logical_not(input: Tensor) -> Tensor:
    """not input, as booleans."""
    return new(np.logical_not(input._data), None)


def _bitwise(name: str, ufunc: Any, dunders: tuple, doc: str) -> Any:
    kernel = f"{name}_cpu"

    def fn(input: Any, other: Any) -> Tensor:
        if not isinstance(input, Tensor):
            input, other = other, input
        a, b = binary_args(input, other)
        if a.dtype.kind not in "biu":
            raise _not_impl(kernel, a.dtype)
        return new(ufunc(a, b), None)

    def op(self: Tensor, other: Any) -> Any:
        if not isinstance(other, _NUMBER) and not isinstance(other, Tensor):
            return NotImplemented
        return fn(self, other)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    op.__doc__ = doc
    register(*dunders, namespace=False)(op)
    return register(name)(fn)


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, ("__and__", "__rand__"),
                       "input & other (integer or bool tensors).")
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, ("__or__", "__ror__"),
                      "input | other (integer or bool tensors).")
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, ("__xor__", "__rxor__"),
                       "input ^ other (integer or bool tensors).")


@register("bitwise_not")
def bitwise_not(input: Tensor) -> Tensor:
    """~input: bit inversion for integers, logical not for bools."""
    d = input._data
    if d.dtype.kind not in "biu":
        raise _not_impl("bitwise_not_cpu", d.dtype)
    return new(np.invert(d), None)


@register("__invert__", namespace=False)
def _invert(self: Tensor) -> Tensor:
    """~self (integer and bool tensors only)."""
    if self._data.dtype.kind not in "biu":
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors. Hint: "
            "for a mask use a bool tensor (x > 0), or call .logical_not()."
        )
    return new(np.invert(self._data), None)
