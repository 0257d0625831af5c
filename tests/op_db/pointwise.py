"""Op table: elementwise math, clamp/where/lerp, comparisons, logical and bitwise ops."""

import builtins

import numpy as np

from tests.op_db import OpInfo

U = [((3, 4),), ((),), ((2, 1, 3),)]  # unary samples (incl. 0-d)
BIG = [((40, 30),)]  # > 1024 elements: erf & co. switch from libm to vector code
B = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (3,)), ((), ())]
T3 = [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((), (2, 3), ())]
# torch's clamp backward fails when the input is smaller than the broadcast shape
C3 = [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((2, 3), (), (3,))]


def _un(name, node, domain=(-2.0, 2.0), samples=U, fn=None, **kw):
    f = fn or (lambda lib, a, _n=name: getattr(lib, _n)(a))
    return OpInfo(name, f, samples, node, domain=domain, **kw)


def _ties(rng):
    """maximum/minimum samples with ties (gradient split in half) and a broadcast."""
    a = rng.integers(-2, 3, size=(3, 4)).astype(np.float32)
    b = rng.integers(-2, 3, size=(3, 4)).astype(np.float32)
    return [[a, b], [a, b[0]]]


def _kinks(rng):
    """Values at the kinks of abs/relu/sign/clamp (0 and the bounds -1, 1), plus NaN-free noise."""
    x = np.array([[-1.0, 0.0, 1.0, 0.5], [-2.0, 2.0, -0.25, 0.0]], np.float32)
    return [[x], [rng.uniform(-2, 2, (3, 4)).astype(np.float32)]]


def _specials(rng):
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -0.0, 0.0, -2.5], np.float32)
    return [[x]]


def _ints(rng):
    return [[rng.integers(-5, 6, (3, 4)).astype(np.int64), rng.integers(1, 4, (4,)).astype(np.int64)]]


def _bools(rng):
    return [[rng.integers(0, 2, (3, 4)).astype(bool), rng.integers(0, 2, (4,)).astype(bool)]]


POS = (0.1, 2.0)
UNIT = (-0.9, 0.9)

OPS = [
    # ---------------------------------------------------------------- unary math
    _un("exp", "ExpBackward0"),
    _un("exp2", "Exp2Backward0"),
    _un("expm1", "Expm1Backward0"),
    _un("log", "LogBackward0", POS),
    _un("log2", "Log2Backward0", POS),
    _un("log10", "Log10Backward0", POS),
    _un("log1p", "Log1PBackward0", (-0.5, 2.0)),
    _un("sqrt", "SqrtBackward0", POS),
    _un("rsqrt", "RsqrtBackward0", POS),
    _un("sin", "SinBackward0"),
    _un("cos", "CosBackward0"),
    _un("tan", "TanBackward0", (-1.2, 1.2)),
    _un("asin", "AsinBackward0", UNIT),
    _un("arcsin", "AsinBackward0", UNIT),
    _un("acos", "AcosBackward0", UNIT),
    _un("arccos", "AcosBackward0", UNIT),
    _un("atan", "AtanBackward0"),
    _un("arctan", "AtanBackward0"),
    _un("sinh", "SinhBackward0"),
    _un("cosh", "CoshBackward0"),
    _un("asinh", "AsinhBackward0"),
    _un("acosh", "AcoshBackward0", (1.1, 3.0)),
    _un("atanh", "AtanhBackward0", UNIT),
    _un("tanh", "TanhBackward0"),
    _un("sigmoid", "SigmoidBackward0", (-6.0, 6.0)),
    _un("sigmoid_extreme", "SigmoidBackward0", fn=lambda lib, a: lib.sigmoid(a * 60),
        samples=[((3, 4),)], gradcheck=False),
    _un("relu", "ReluBackward0"),
    _un("relu_kinks", "ReluBackward0", fn=lambda lib, a: a.relu(), make=_kinks, gradcheck=False),
    _un("erf", "ErfBackward0", (-3.0, 3.0)),
    _un("erfc", "ErfcBackward0", (-3.0, 3.0)),
    _un("erfinv", "ErfinvBackward0", UNIT),
    # large tensors (vector code): forward and gradients vs torch; finite differences skipped
    _un("erf_big", "ErfBackward0", (-7.0, 7.0), BIG, fn=lambda lib, a: lib.erf(a), gradcheck=False),
    _un("erfc_big", "ErfcBackward0", (-7.0, 7.0), BIG, fn=lambda lib, a: lib.erfc(a),
        gradcheck=False),
    _un("erfinv_big", "ErfinvBackward0", (-0.99, 0.99), BIG, fn=lambda lib, a: lib.erfinv(a),
        gradcheck=False),
    _un("reciprocal", "ReciprocalBackward0", POS),
    _un("reciprocal_method", "ReciprocalBackward0", POS, fn=lambda lib, a: a.reciprocal()),
    _un("abs", "AbsBackward0"),
    _un("abs_kinks", "AbsBackward0", fn=lambda lib, a: lib.abs(a), make=_kinks, gradcheck=False),
    _un("absolute", "AbsBackward0"),
    _un("abs_builtin", "AbsBackward0", fn=lambda lib, a: builtins.abs(a)),
    _un("sign", "SignBackward0"),
    # torch's sgn gradient is a ZeroTensor (no numpy()); a second output makes it a real one
    _un("sgn", "SgnBackward0", fn=lambda lib, a: (lib.sgn(a), a + 0)),
    _un("sign_kinks", "SignBackward0", fn=lambda lib, a: a.sign(), make=_kinks, gradcheck=False),
    _un("floor", "FloorBackward0", (-3.0, 3.0)),
    _un("ceil", "CeilBackward0", (-3.0, 3.0)),
    _un("round", "RoundBackward0", (-3.0, 3.0)),
    _un("round_decimals", "RoundBackward1", (-3.0, 3.0),
        fn=lambda lib, a: lib.round(a, decimals=2)),
    _un("round_neg_decimals", "RoundBackward1", (-300.0, 300.0),
        fn=lambda lib, a: a.round(decimals=-1)),
    _un("trunc", "TruncBackward0", (-3.0, 3.0)),
    _un("fix", "TruncBackward0", (-3.0, 3.0)),
    _un("frac", "FracBackward0", (-3.0, 3.0)),
    _un("nan_to_num", "NanToNumBackward0"),
    _un("nan_to_num_specials", "NanToNumBackward0", make=_specials, gradcheck=False,
        fn=lambda lib, a: lib.nan_to_num(a)),
    _un("nan_to_num_args", "NanToNumBackward0", make=_specials, gradcheck=False,
        fn=lambda lib, a: a.nan_to_num(nan=0.5, posinf=10.0, neginf=-10.0)),
    _un("logit", "LogitBackward0", (0.05, 0.95)),
    _un("logit_eps", "LogitBackward0", (0.0, 1.0), fn=lambda lib, a: lib.logit(a, eps=0.2)),
    _un("isnan", None, make=_specials, grad=False, fn=lambda lib, a: lib.isnan(a)),
    _un("isinf", None, make=_specials, grad=False, fn=lambda lib, a: lib.isinf(a)),
    _un("isfinite", None, make=_specials, grad=False, fn=lambda lib, a: a.isfinite()),
    _un("isposinf", None, make=_specials, grad=False, fn=lambda lib, a: lib.isposinf(a)),
    _un("isneginf", None, make=_specials, grad=False, fn=lambda lib, a: lib.isneginf(a)),
    _un("specials_math", None, make=_specials, grad=False,
        fn=lambda lib, a: (lib.sign(a), lib.relu(a), lib.erf(a), lib.erfc(a), lib.sigmoid(a),
                           lib.floor(a), lib.frac(a), lib.exp(a), lib.abs(a))),
    _un("int_to_float", None, integer=True, grad=False,
        fn=lambda lib, a: (a.exp(), a.sqrt(), a.sigmoid(), a.erf(), a.reciprocal(), a.abs(),
                           a.sign(), a.floor(), a.relu(), a.nan_to_num(), a.isnan())),
    # ---------------------------------------------------------------- binary math
    OpInfo("maximum", lambda lib, a, b: lib.maximum(a, b), B, "MaximumBackward0"),
    OpInfo("minimum", lambda lib, a, b: lib.minimum(a, b), B, "MinimumBackward0"),
    OpInfo("maximum_ties", lambda lib, a, b: a.maximum(b), None, "MaximumBackward0",
           make=_ties, gradcheck=False),
    OpInfo("minimum_ties", lambda lib, a, b: a.minimum(b), None, "MinimumBackward0",
           make=_ties, gradcheck=False),
    OpInfo("fmax", lambda lib, a, b: lib.fmax(a, b), B, "FmaxBackward0"),
    OpInfo("fmin", lambda lib, a, b: lib.fmin(a, b), B, "FminBackward0"),
    OpInfo("fmax_ties", lambda lib, a, b: lib.fmax(a, b), None, "FmaxBackward0", make=_ties,
           gradcheck=False),
    OpInfo("atan2", lambda lib, a, b: lib.atan2(a, b), B, "Atan2Backward0", domain=(0.2, 2)),
    OpInfo("arctan2", lambda lib, a, b: lib.arctan2(a, -b), B[:2], "Atan2Backward0",
           domain=(0.2, 2)),
    OpInfo("hypot", lambda lib, a, b: lib.hypot(a, b), B, "HypotBackward0", domain=(0.2, 2)),
    OpInfo("copysign", lambda lib, a, b: lib.copysign(a, b), B, "CopysignBackward0"),
    OpInfo("copysign_scalar", lambda lib, a: lib.copysign(a, -1.0), U, "CopysignBackward1"),
    OpInfo("xlogy", lambda lib, a, b: lib.xlogy(a, b), B, "XlogyBackward0", domain=(0.1, 2)),
    OpInfo("xlogy_scalar_other", lambda lib, a: lib.xlogy(a, 3.0), U, "XlogyBackward2",
           domain=(0.1, 2)),
    OpInfo("xlogy_scalar_self", lambda lib, b: lib.xlogy(2.0, b), U, "XlogyBackward1",
           domain=(0.1, 2)),
    OpInfo("remainder", lambda lib, a, b: lib.remainder(a, b), B, "RemainderBackward1",
           domain=(0.3, 3)),
    OpInfo("mod_dunder", lambda lib, a, b: a % (-b), B, "RemainderBackward1", domain=(0.3, 3)),
    OpInfo("mod_scalar", lambda lib, a: a % 0.7, U, "RemainderBackward0"),
    OpInfo("rmod_scalar", lambda lib, a: 2.5 % a, U, "torch::autograd::NotImplemented",
           domain=(0.3, 3), grad=False),
    OpInfo("fmod", lambda lib, a, b: lib.fmod(a, b), B, "FmodBackward1", domain=(0.3, 3)),
    OpInfo("fmod_neg", lambda lib, a, b: lib.fmod(-a, b), B[:2], "FmodBackward1",
           domain=(0.3, 3)),
    OpInfo("fmod_scalar", lambda lib, a: a.fmod(0.7), U, "FmodBackward0"),
    OpInfo("floor_divide", lambda lib, a, b: lib.floor_divide(a, b), B,
           "torch::autograd::NotImplemented", domain=(0.3, 3), grad=False),
    OpInfo("floordiv_dunder", lambda lib, a, b: (-a) // b, B[:3],
           "torch::autograd::NotImplemented", domain=(0.3, 3), grad=False),
    OpInfo("floordiv_scalar", lambda lib, a: a // 0.7, U, grad=False),
    OpInfo("rfloordiv_scalar", lambda lib, a: 5 // a, U, grad=False, domain=(0.3, 3)),
    OpInfo("int_division", lambda lib, a, b: (a // b, a % b, lib.fmod(a, b), -a // 2, -a % 3,
                                              7 // b, 7 % b, lib.remainder(a, -b)),
           None, make=_ints, grad=False),
    # ---------------------------------------------------------------- lerp, where, clamp
    OpInfo("lerp_scalar", lambda lib, a, b: lib.lerp(a, b, 0.3), B, "LerpBackward0"),
    OpInfo("lerp_scalar_big", lambda lib, a, b: a.lerp(b, 0.8), B[:2], "LerpBackward0"),
    OpInfo("lerp_tensor", lambda lib, a, b, w: lib.lerp(a, b, w), T3, "LerpBackward1",
           domain=(-1, 1)),
    OpInfo("where", lambda lib, a, b: lib.where(a > 0, a, b), B, "WhereBackward0"),
    OpInfo("where_scalar_other", lambda lib, a: lib.where(a > 0, a, 0.0), U, "WhereBackward0"),
    OpInfo("where_scalar_input", lambda lib, b: lib.where(b > 0, 2, b), U, "WhereBackward0"),
    OpInfo("where_cond_broadcast", lambda lib, a, b: lib.where(b > 0, a, -a), [((3, 4), (4,))],
           "WhereBackward0"),
    OpInfo("where_method", lambda lib, a, b: a.where(b > 0, b), B, "WhereBackward0"),
    OpInfo("where_scalars", lambda lib, a: (lib.where(a > 0, 1.0, 0), lib.where(a > 0, 1, 0),
                                            lib.where(a > 0, True, False)), U, grad=False),
    OpInfo("where_nonzero", lambda lib, a: lib.where(a > 0), [((3, 4),)], grad=False),
    OpInfo("clamp", lambda lib, a: lib.clamp(a, -1, 1), U, "ClampBackward1"),
    OpInfo("clamp_kinks", lambda lib, a: a.clamp(-1, 1), None, "ClampBackward1", make=_kinks,
           gradcheck=False),
    OpInfo("clamp_min_only", lambda lib, a: a.clamp(min=0.5), U, "ClampBackward1"),
    OpInfo("clamp_max_only", lambda lib, a: a.clamp(max=0.5), U, "ClampBackward1"),
    OpInfo("clamp_inverted", lambda lib, a: a.clamp(1, -1), U, "ClampBackward1"),
    OpInfo("clip", lambda lib, a: lib.clip(a, -1, 1), U, "ClampBackward1"),
    OpInfo("clamp_tensor", lambda lib, a, lo, hi: lib.clamp(a, lo, hi), C3, "ClampBackward0"),
    OpInfo("clamp_tensor_min", lambda lib, a, lo: a.clamp(min=lo), B[:3], "ClampBackward0"),
    OpInfo("clamp_tensor_max", lambda lib, a, hi: a.clamp(max=hi), B[:3], "ClampBackward0"),
    OpInfo("clamp_min", lambda lib, a: a.clamp_min(0.2), U, "ClampMinBackward0"),
    OpInfo("clamp_max", lambda lib, a: a.clamp_max(0.2), U, "ClampMaxBackward0"),
    OpInfo("clamp_min_tensor", lambda lib, a, b: a.clamp_min(b), B, "ClampMinBackward1"),
    OpInfo("clamp_max_tensor", lambda lib, a, b: a.clamp_max(b), B, "ClampMaxBackward1"),
    OpInfo("clamp_int", lambda lib, a: (a.clamp(-1, 1), a.clamp(0.5), a.clamp_min(-1),
                                        (a > 0).clamp(0, 1)), U, integer=True, grad=False),
    # ---------------------------------------------------------------- comparisons
    *[OpInfo(f"cmp_{n}", lambda lib, a, b, _n=n: getattr(lib, _n)(a, b), B, grad=False)
      for n in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
                "less_equal", "not_equal")],
    OpInfo("cmp_dunders", lambda lib, a, b: (a == b, a != b, a < b, a <= b, a > b, a >= b), B,
           grad=False),
    OpInfo("cmp_scalars", lambda lib, a: (a == 0.5, a != 1, a < 0.5, 0.5 < a, 1 >= a, a >= 1,
                                          a.eq(0.5), lib.gt(a, 0)), U, grad=False),
    OpInfo("cmp_int", lambda lib, a, b: (a == b, a < b, a < 2.5, a == 2, a >= True), B[:3],
           integer=True, grad=False),
    OpInfo("isclose", lambda lib, a, b: lib.isclose(a, a + b * 1e-6), B, grad=False),
    OpInfo("isclose_tol", lambda lib, a, b: a.isclose(b, rtol=0.5, atol=0.1), B, grad=False),
    OpInfo("isclose_nan", lambda lib, a: (lib.isclose(a, a), lib.isclose(a, a, equal_nan=True)),
           None, make=_specials, grad=False),
    OpInfo("allclose", lambda lib, a, b: (lib.allclose(a, a + b * 1e-7), lib.allclose(a, b)),
           B, grad=False),
    OpInfo("equal", lambda lib, a, b: (lib.equal(a, a), lib.equal(a, b), a.equal(a.double())),
           B, grad=False),
    # ---------------------------------------------------------------- logical and bitwise
    OpInfo("logical", lambda lib, a, b: (lib.logical_and(a, b), lib.logical_or(a, b),
                                         lib.logical_xor(a, b), lib.logical_not(a),
                                         a.logical_and(b > 0)), B[:4], integer=True, grad=False),
    OpInfo("logical_float", lambda lib, a, b: (lib.logical_and(a, b), a.logical_not()), B[:2],
           grad=False),
    OpInfo("bitwise_int", lambda lib, a, b: (lib.bitwise_and(a, b), lib.bitwise_or(a, b),
                                             lib.bitwise_xor(a, b), lib.bitwise_not(a), a & b,
                                             a | b, a ^ b, ~a, a & 3, 3 | a, 5 ^ a),
           None, make=_ints, grad=False),
    OpInfo("bitwise_bool", lambda lib, a, b: (a & b, a | b, a ^ b, ~a, a & True, False | a,
                                              a ^ 1, lib.bitwise_and(a, b)),
           None, make=_bools, grad=False),
]
