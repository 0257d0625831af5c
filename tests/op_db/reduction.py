"""Op table: reductions, scans, softmax."""

import numpy as np

from tests.op_db import OpInfo

S = [((3, 4),), ((2, 3, 4),), ((),), ((5,),)]  # for whole-tensor ops and dims 0 / -1
S2 = [((3, 4),), ((2, 3, 4),)]  # for dim 1
S3 = [((2, 3, 4),)]
SV = [((3, 4),), ((5,),)]  # var/std: no 0-d sample (its variance is nan, with a warning)
INF = float("inf")


def ties(rng: np.random.Generator) -> list:
    """Inputs with repeated values (ties for max/min/median/norms)."""
    a = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 0.5, 2.0], [-1.0, 0.0, -1.0, 0.0]])
    b = rng.integers(-2, 3, size=(2, 3, 5)).astype(np.float32)
    return [[a.astype(np.float32)], [b]]


def zeros(rng: np.random.Generator) -> list:
    """Inputs with no zero, exactly one zero, several zeros (in one slice and spread)."""
    base = rng.uniform(0.5, 1.5, size=(3, 4)).astype(np.float32)
    one = base.copy()
    one[1, 2] = 0
    two = base.copy()
    two[1, 0] = two[1, 3] = 0
    spread = base.copy()
    spread[0, 1] = spread[2, 3] = 0
    return [[base], [one], [two], [spread]]


def big(rng: np.random.Generator) -> list:
    """Logits at +-1e4 (stability)."""
    a = np.array([[1e4, -1e4, 0.0, 1.0], [-1e4, -1e4, -1e4 + 1, -1e4 + 2]], np.float32)
    return [[a], [a * 0.5]]


def _vector_norm(lib):  # noqa: ANN001, ANN202
    """torch.linalg.vector_norm, or ember's (``ember.vector_norm`` until ember.linalg has it)."""
    la = getattr(lib, "linalg", None)
    return getattr(la, "vector_norm", None) or lib.vector_norm


def _f(fn, name, samples=S, node=None, **kw):  # noqa: ANN001, ANN202
    return OpInfo(name, fn, samples, node, **kw)


OPS = [
    # sum / mean
    _f(lambda lib, a: a.sum(), "sum", node="SumBackward0"),
    _f(lambda lib, a: lib.sum(a, 0), "sum_dim0", node="SumBackward1"),
    _f(lambda lib, a: a.sum(-1, keepdim=True), "sum_dim_keepdim", node="SumBackward1"),
    _f(lambda lib, a: a.sum((0, -1)), "sum_dims_tuple", S3, "SumBackward1"),
    _f(lambda lib, a: a.sum([1, 2], True), "sum_dims_list_keepdim", S3, "SumBackward1"),
    _f(lambda lib, a: a.sum(dim=None, keepdim=True), "sum_all_keepdim", node="SumBackward1"),
    _f(lambda lib, a: a.sum(dim=None), "sum_dim_none", node="SumBackward1"),
    _f(lambda lib, a: a.sum(()), "sum_dim_empty", node="SumBackward1"),
    _f(lambda lib, a: a.sum(axis=1, keepdims=True), "sum_axis_alias", S3, "SumBackward1"),
    _f(lambda lib, a: a.sum(dtype=lib.float64), "sum_dtype", node="SumBackward0"),
    _f(lambda lib, a: a.long().sum(), "sum_int", [((3, 4),)], grad=False),
    _f(lambda lib, a: (a > 0).sum(1), "sum_bool", [((3, 4),)], grad=False),
    _f(lambda lib, a: a.int().sum(0), "sum_int32", [((3, 4),)], integer=True),
    _f(lambda lib, a: a.nansum(), "nansum", node="NansumBackward0"),
    _f(lambda lib, a: lib.nansum(lib.where(a > 0.5, a * float("nan"), a), 1), "nansum_nan",
       [((3, 4),)], "NansumBackward0", gradcheck=False),
    _f(lambda lib, a: a.mean(), "mean", node="MeanBackward0"),
    _f(lambda lib, a: a.mean(1), "mean_dim", [((3, 4),), ((2, 3, 4),)], "MeanBackward1"),
    _f(lambda lib, a: a.mean((0, 2), keepdim=True), "mean_dims_keepdim", S3, "MeanBackward1"),
    _f(lambda lib, a: a.mean(0), "mean_0d_dim", [((),)], "MeanBackward1"),
    _f(lambda lib, a: a.mean(dtype=lib.float64), "mean_dtype", node="MeanBackward0"),
    _f(lambda lib, a: a.mean(None, True), "mean_none_keepdim", node="MeanBackward1"),
    _f(lambda lib, a: a.long().mean(dtype=lib.float32), "mean_int_dtype", [((3, 4),)],
       grad=False, integer=True),
    _f(lambda lib, a: lib.nanmean(a, 1), "nanmean", [((3, 4),)], "DivBackward0"),
    # prod
    _f(lambda lib, a: a.prod(), "prod", node="ProdBackward0", domain=(0.5, 1.5)),
    _f(lambda lib, a: a.prod(1), "prod_dim", S2, "ProdBackward1",
       domain=(0.5, 1.5)),
    _f(lambda lib, a: a.prod(-1, keepdim=True), "prod_dim_keepdim", S3, "ProdBackward1"),
    _f(lambda lib, a: a.prod(), "prod_zeros", node="ProdBackward0", make=zeros),
    _f(lambda lib, a: a.prod(1), "prod_dim_zeros", node="ProdBackward1", make=zeros),
    _f(lambda lib, a: a.prod(0), "prod_dim0_zeros", node="ProdBackward1", make=zeros),
    _f(lambda lib, a: a.long().prod(1), "prod_int", [((3, 4),)], integer=True),
    # max / min / amax / amin / arg / median
    _f(lambda lib, a: a.max(), "max", node="MaxBackward1"),
    _f(lambda lib, a: a.min(), "min", node="MinBackward1"),
    _f(lambda lib, a: a.max(), "max_ties", node="MaxBackward1", make=ties, gradcheck=False),
    _f(lambda lib, a: lib.max(a, 1), "max_dim", S2, "MaxBackward0"),
    _f(lambda lib, a: a.max(dim=-1, keepdim=True), "max_dim_keepdim", S3, "MaxBackward0"),
    _f(lambda lib, a: a.min(0), "min_dim", S, "MinBackward0"),
    _f(lambda lib, a: a.max(1), "max_dim_ties", node="MaxBackward0", make=ties,
       gradcheck=False),
    _f(lambda lib, a: a.min(1, True), "min_dim_ties", node="MinBackward0", make=ties,
       gradcheck=False),
    _f(lambda lib, a, b: lib.max(a, b), "max_binary", [((3, 4), (3, 4)), ((3, 4), (4,))],
       "MaximumBackward0"),
    _f(lambda lib, a: a.amax(), "amax", node="AmaxBackward0"),
    _f(lambda lib, a: a.amax(1), "amax_dim", S2, "AmaxBackward0"),
    _f(lambda lib, a: lib.amin(a, (0, 2), True), "amin_dims", S3, "AminBackward0"),
    _f(lambda lib, a: a.amax(1), "amax_ties", node="AmaxBackward0", make=ties, gradcheck=False),
    _f(lambda lib, a: a.amin(), "amin_ties", node="AminBackward0", make=ties, gradcheck=False),
    _f(lambda lib, a: a.argmax(), "argmax", grad=False),
    _f(lambda lib, a: a.argmax(1, keepdim=True), "argmax_dim", S2, grad=False),
    _f(lambda lib, a: lib.argmin(a, dim=0), "argmin_dim", S, grad=False),
    _f(lambda lib, a: a.argmax(1), "argmax_ties", make=ties, grad=False),
    _f(lambda lib, a: lib.aminmax(a), "aminmax", node="AminmaxBackward0"),
    _f(lambda lib, a: lib.aminmax(a, dim=1, keepdim=True), "aminmax_dim", S3,
       "AminmaxBackward0"),
    _f(lambda lib, a: lib.aminmax(a, dim=0), "aminmax_ties", node="AminmaxBackward0",
       make=ties, gradcheck=False),
    _f(lambda lib, a: a.median(), "median", [((3, 4),), ((5,),), ((),)], "MedianBackward0"),
    _f(lambda lib, a: a.median(1), "median_dim", S2, "MedianBackward1"),
    _f(lambda lib, a: a.median(-1, True), "median_dim_keepdim", S3, "MedianBackward1"),
    _f(lambda lib, a: a.median(), "median_ties", node="MedianBackward0", make=ties,
       gradcheck=False),
    _f(lambda lib, a: a.median(1), "median_dim_ties", node="MedianBackward1", make=ties,
       gradcheck=False),
    # var / std
    _f(lambda lib, a: a.var(), "var", SV, "VarBackward0"),
    _f(lambda lib, a: a.var(1), "var_dim", S2, "VarBackward0"),
    _f(lambda lib, a: a.var(0, unbiased=False, keepdim=True), "var_unbiased_false", S3,
       "VarBackward0"),
    _f(lambda lib, a: lib.var(a, (0, 2), correction=0), "var_correction0", S3, "VarBackward0"),
    _f(lambda lib, a: a.var(False), "var_positional_unbiased", SV, "VarBackward0"),
    _f(lambda lib, a: a.std(), "std", SV, "StdBackward0"),
    _f(lambda lib, a: a.std(-1, keepdim=True), "std_dim", S3, "StdBackward0"),
    _f(lambda lib, a: lib.std(a, 0, correction=2), "std_correction2", [((5, 3),)],
       "StdBackward0"),
    _f(lambda lib, a: lib.var_mean(a), "var_mean", SV, "VarMeanBackward0"),
    _f(lambda lib, a: lib.var_mean(a, 1, keepdim=True), "var_mean_dim", S3,
       "VarMeanBackward0"),
    _f(lambda lib, a: lib.std_mean(a, (0, 1), correction=0), "std_mean", S3,
       "StdMeanBackward0"),
    # norms
    _f(lambda lib, a: a.norm(), "norm", node="LinalgVectorNormBackward0"),
    _f(lambda lib, a: a.norm(1), "norm_p1", node="LinalgVectorNormBackward0"),
    _f(lambda lib, a: a.norm(INF), "norm_inf", node="LinalgVectorNormBackward0"),
    _f(lambda lib, a: a.norm(-INF, dim=1), "norm_ninf_dim", S3, "LinalgVectorNormBackward0"),
    _f(lambda lib, a: a.norm(3, 1, True), "norm_p3_dim", S3, "LinalgVectorNormBackward0"),
    _f(lambda lib, a: a.norm(1.5, 0), "norm_p1_5", [((3, 4),)], "LinalgVectorNormBackward0"),
    _f(lambda lib, a: a.norm(0.5), "norm_p0_5", [((3, 4),)], "LinalgVectorNormBackward0",
       domain=(0.3, 2)),
    _f(lambda lib, a: a.norm(0), "norm_p0", [((3, 4),)], "LinalgVectorNormBackward0"),
    _f(lambda lib, a: a.norm("fro", dim=(0, 1)), "norm_fro", S3, "LinalgVectorNormBackward0"),
    _f(lambda lib, a: lib.norm(a, dim=-1, keepdim=True), "norm_dim", S,
       "LinalgVectorNormBackward0"),
    _f(lambda lib, a: a.norm(INF, 1), "norm_inf_ties", node="LinalgVectorNormBackward0",
       make=ties, gradcheck=False),
    _f(lambda lib, a: a.norm(dtype=lib.float64), "norm_dtype", node="LinalgVectorNormBackward0"),
    _f(lambda lib, a: _vector_norm(lib)(a, 3, dim=(0, 2)), "vector_norm", S3,
       "LinalgVectorNormBackward0"),
    _f(lambda lib, a: _vector_norm(lib)(a, ord=INF, dim=1, keepdim=True), "vector_norm_inf", S3,
       "LinalgVectorNormBackward0"),
    # logsumexp / softmax
    _f(lambda lib, a: a.logsumexp(1), "logsumexp", S2, "LogsumexpBackward0"),
    _f(lambda lib, a: lib.logsumexp(a, (0, 2), keepdim=True), "logsumexp_dims", S3,
       "LogsumexpBackward0"),
    _f(lambda lib, a: a.logsumexp(1), "logsumexp_big", node="LogsumexpBackward0", make=big,
       gradcheck=False),
    _f(lambda lib, a: a.softmax(-1), "softmax", S, "SoftmaxBackward0"),
    _f(lambda lib, a: lib.softmax(a, 0), "softmax_dim0", S3, "SoftmaxBackward0"),
    _f(lambda lib, a: lib.softmax(a, 1, dtype=lib.float64), "softmax_dtype", [((3, 4),)],
       "SoftmaxBackward0"),
    _f(lambda lib, a: a.softmax(1), "softmax_big", node="SoftmaxBackward0", make=big,
       gradcheck=False),
    _f(lambda lib, a: a.log_softmax(-1), "log_softmax", S, "LogSoftmaxBackward0"),
    _f(lambda lib, a: lib.log_softmax(a, 1), "log_softmax_dim1", S3, "LogSoftmaxBackward0"),
    _f(lambda lib, a: a.log_softmax(1), "log_softmax_big", node="LogSoftmaxBackward0",
       make=big, gradcheck=False),
    # scans
    _f(lambda lib, a: a.cumsum(0), "cumsum", S, "CumsumBackward0"),
    _f(lambda lib, a: lib.cumsum(a, -1), "cumsum_last", S3, "CumsumBackward0"),
    _f(lambda lib, a: a.cumsum(1, dtype=lib.float64), "cumsum_dtype", [((3, 4),)],
       "CumsumBackward0"),
    _f(lambda lib, a: a.long().cumsum(1), "cumsum_int", [((3, 4),)], integer=True),
    _f(lambda lib, a: a.cumprod(1), "cumprod", S2, "CumprodBackward0"),
    _f(lambda lib, a: a.cumprod(-1), "cumprod_last", S, "CumprodBackward0"),
    _f(lambda lib, a: a.cumprod(1), "cumprod_zeros", node="CumprodBackward0", make=zeros),
    _f(lambda lib, a: a.cumprod(0), "cumprod_dim0_zeros", node="CumprodBackward0", make=zeros),
    # logical / counting
    _f(lambda lib, a: (a > 0).all(), "all", grad=False),
    _f(lambda lib, a: (a > -1).all(1), "all_dim", S3, grad=False),
    _f(lambda lib, a: (a > 1).any(dim=(0, 2), keepdim=True), "any_dims", S3, grad=False),
    _f(lambda lib, a: a.any(), "any_float", grad=False),
    _f(lambda lib, a: a.byte().all(0), "all_uint8", [((3, 4),)], integer=True),
    _f(lambda lib, a: lib.count_nonzero(a), "count_nonzero", [((3, 4),)], integer=True),
    _f(lambda lib, a: a.count_nonzero((0, 1)), "count_nonzero_dims", S3, integer=True),
    # sum_to_size
    _f(lambda lib, a: a.sum_to_size(1, 4), "sum_to_size", [((3, 4),)], "SumBackward1"),
    _f(lambda lib, a: a.sum_to_size((3, 1)), "sum_to_size_keep", [((2, 3, 4),)],
       "ViewBackward0"),
    _f(lambda lib, a: a.sum_to_size(4), "sum_to_size_lead", [((2, 3, 4),)], "ViewBackward0"),
]
