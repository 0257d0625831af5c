"""Elementwise unary math (exp/log/trig, erf family, sign/abs/relu, rounding, predicates).

Simple unary ops are built by ``_unary_op`` from a NumPy function and a node made by ``_node``
(a torch-named Node subclass whose ``rule(g, x, xp)`` reads the saved input or output); the
others are written out.  Gradient conventions at kinks follow torch: abs/sign/relu give 0 at 0.
Binary math lives in binary.py, lerp/where/clamp in ternary.py, comparisons, logical and bitwise
ops in logic.py; this module re-exports them all (``__all__`` is unchanged).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype as D
from ..autograd.graph import ARRAY_TYPES as _ARR
from ..autograd.graph import weak
from ._core import E, N, Node, Tensor, new, ns, register, specialized, unary
from ._core import unary as _unary
from ._helpers import _need_tensor, _not_impl, _zeros
from .binary import (
    arctan2,
    atan2,
    copysign,
    floor_divide,
    fmax,
    fmin,
    fmod,
    hypot,
    maximum,
    minimum,
    remainder,
    xlogy,
)
from .logic import (
    allclose,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    eq,
    equal,
    ge,
    greater,
    greater_equal,
    gt,
    isclose,
    le,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
    not_equal,
)
from .ternary import (
    clamp,
    clamp_max,
    clamp_min,
    clip,
    lerp,
    where,
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
_F16 = np.dtype(np.float16)
_ndarray = np.ndarray



# ------------------------------------------------------------------ generic unary ops
class _UIn(Node):
    """Unary node whose rule reads the saved input: ``da = rule(g, a, xp)``."""

    def backward(self, g: Any) -> tuple:
        return (self.rule(g, self._unpack(g)[0], N if type(g) in _ARR else E),)


class _UOut(Node):
    """Unary node whose rule reads the saved result: ``da = rule(g, out, xp)``."""

    def backward(self, g: Any) -> tuple:
        return (self.rule(g, self._result(g), N if type(g) in _ARR else E),)


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
    unary = specialized(_unary)  # this op's own copy (see _core.specialized)

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


def _one(r: Any) -> Any:
    """1 for math with ``r``: a cached 0-d array of ``r``'s dtype for arrays (the same bits as
    the python 1, about twice as fast in NumPy), else the python 1 (NumPy scalars, Tensors)."""
    return weak(1, r.dtype) if type(r) is _ndarray else 1


def _sigmoid_np(x: Any) -> Any:
    return np.reciprocal(np.exp(-x) + _one(x))  # exp(-x) = inf for x << 0: the result is then 0


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
tanh = _unary_op("tanh", np.tanh,
                 _node("TanhBackward0", _UOut, lambda g, r, xp: g * (_one(r) - r * r)),
                 "tanh(input).")
sigmoid = _unary_op("sigmoid", _sigmoid_np,
                    _node("SigmoidBackward0", _UOut, lambda g, r, xp: g * ((_one(r) - r) * r)),
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


_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}  # same-size unsigned ints for bit masks


class ReluBackward0(Node):
    """out = max(a, 0);  da = g where out > 0 or NaN, exactly +0 where out <= 0 (any g)."""

    def backward(self, g: Any) -> tuple:
        r = self._result(g)
        if type(g) is np.ndarray and type(r) is np.ndarray and g.shape == r.shape and (
                g.dtype.kind == "f"):
            # a bit mask instead of np.where (which branches per element: ~10x slower on mixed
            # signs): all ones where g passes, all zeros (+0.0 even for inf/NaN g) where out <= 0
            keep = np.subtract((r <= 0).view(np.uint8), 1, dtype=_UINT[g.dtype.itemsize])
            keep &= g.view(keep.dtype)
            return (keep.view(g.dtype),)
        return (ns(g).where(r <= 0, 0.0, g),)


def _relu_np(d: Any) -> Any:
    """torch's ``d < 0 ? 0 : d``: keeps NaN and -0.0 (np.maximum alone may turn -0.0 into 0)."""
    r = np.maximum(d, d.dtype.type(0))
    if type(r) is not np.ndarray:  # 0-d data gives a NumPy scalar
        return r if d < 0 else d[()]
    if d.dtype.kind == "f":
        z = d == 0
        if z.any():
            np.copyto(r, d, where=z)
    return r


@register("relu")
def relu(input: Tensor) -> Tensor:
    """max(input, 0) (keeps NaN and -0.0, like torch)."""
    d = input._data
    if d.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu. Hint: use x.long() first.")
    return unary(ReluBackward0, input, _relu_np(d), save_out=True)


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
