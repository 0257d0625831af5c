"""Batching rules for elementwise ops: unary/binary/ternary math, comparisons, conversions,
in-place updates and the ``*_like`` factories.

Elementwise rule: ``out[b] = f(x[b], y[b])``.  Batched operands get their vmap dims in front
(size 1 where an operand is not batched at a level) and size-1 logical dims up to the largest
logical rank, so NumPy-style broadcasting of the physical tensors is exactly the per-example
broadcasting; unbatched operands broadcast over the batch as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import ember

from .. import _dtype as D
from .._tensor import Tensor
from ._core import BatchedTensor, align, bt, lndim, parts, relayout, union, with_levels
from ._dispatch import bind

UNARY = (
    "abs absolute acos acosh arccos arccosh arcsin arcsinh arctan arctanh asin asinh atan atanh "
    "ceil cos cosh erf erfc erfinv exp exp2 expm1 fix floor frac isfinite isinf isnan isneginf "
    "isposinf log log10 log1p log2 logit nan_to_num neg negative reciprocal relu round rsqrt sgn "
    "sigmoid sign sin sinh sqrt square tan tanh trunc logical_not bitwise_not clone positive "
    "__neg__ __pos__ __abs__ __invert__"
)
BINARY = (
    "add sub subtract rsub mul multiply div divide true_divide pow float_power maximum minimum "
    "fmax fmin atan2 arctan2 hypot copysign xlogy floor_divide remainder fmod eq ne lt le gt ge "
    "greater greater_equal less less_equal not_equal logical_and logical_or logical_xor "
    "bitwise_and bitwise_or bitwise_xor isclose lerp addcmul addcdiv clamp clip clamp_min "
    "clamp_max where "
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __pow__ "
    "__rpow__ __floordiv__ __rfloordiv__ __mod__ __rmod__ __and__ __rand__ __or__ __ror__ "
    "__xor__ __rxor__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__"
)
INPLACE = (
    "add_ sub_ subtract_ mul_ multiply_ div_ divide_ true_divide_ pow_ floor_divide_ remainder_ "
    "fmod_ atan2_ maximum_ lerp_ addcmul_ addcdiv_ clamp_ clip_ clamp_min_ clamp_max_ "
    "logical_and_ logical_or_ logical_not_ abs_ acos_ asin_ atan_ ceil_ cos_ cosh_ erf_ exp_ "
    "exp2_ expm1_ floor_ frac_ log_ log10_ log1p_ log2_ neg_ negative_ reciprocal_ relu_ round_ "
    "rsqrt_ sigmoid_ sign_ sin_ sinh_ sqrt_ square_ tan_ tanh_ trunc_ nan_to_num_ zero_ copy_ "
    "__iadd__ __isub__ __imul__ __itruediv__ __ifloordiv__ __imod__ __ipow__ __iand__ __ior__ "
    "__ixor__"
)
CONVERSIONS = "float double half int long bool byte char short cfloat cdouble contiguous cpu"


def _dummy(x: Tensor) -> np.ndarray:
    """A tiny array with x's dtype and logical 0-d-ness (what torch's promotion looks at)."""
    p, _ = parts(x)
    return np.empty(() if lndim(x) == 0 else (1,), p._data.dtype)


def _promote(flat: list, phys: list) -> None:
    """Cast two physical operands to the dtype torch picks for the *logical* operands (a
    batched 0-d tensor is a dimensioned tensor physically, which would change promotion)."""
    idx = [i for i, x in enumerate(flat) if isinstance(x, Tensor)]
    if len(idx) != 2:
        return
    a, b = flat[idx[0]], flat[idx[1]]
    pa, pb = phys[idx[0]]._data, phys[idx[1]]._data
    if pa.dtype == pb.dtype:
        return
    want = D.result_type(_dummy(a), _dummy(b))
    if D.result_type(pa, pb) != want:
        dt = D.from_np(want)
        for i in idx:
            if phys[i]._data.dtype != want:
                phys[i] = phys[i].to(dt)


def pointwise(orig: Any, *args: Any, **kwargs: Any) -> Any:
    """Elementwise rule: align all tensor operands, call ``orig`` once on the physical ones."""
    keys = list(kwargs)
    flat = list(args) + [kwargs[k] for k in keys]
    lvs, phys = align(flat)
    _promote(flat, phys)
    n = len(args)
    out = orig(*phys[:n], **dict(zip(keys, phys[n:], strict=True)))
    if out is NotImplemented:
        return out
    return bt(out, lvs)


bind(pointwise, UNARY)
bind(pointwise, BINARY, multi=True)
bind(pointwise, CONVERSIONS, ember=False)
bind(pointwise, "type_as", ember=False, multi=True)


def _to(orig: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    args = tuple(a.dtype if isinstance(a, Tensor) else a for a in args)
    if isinstance(kwargs.get("other"), Tensor):
        kwargs["dtype"] = kwargs.pop("other").dtype
    p, lv = parts(self)
    return bt(orig(p, *args, **kwargs), lv)


bind(_to, "to", ember=False)


def _type(orig: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    p, lv = parts(self)
    r = orig(p, *args, **kwargs)
    return bt(r, lv) if isinstance(r, Tensor) else r


bind(_type, "type", ember=False)


def _where(orig: Any, *args: Any, **kwargs: Any) -> Any:
    if len(args) + len(kwargs) == 1:
        raise dynamic_shape("aten::nonzero")
    return pointwise(orig, *args, **kwargs)


bind(_where, "where", tensor=False, multi=True)


def dynamic_shape(op: str) -> RuntimeError:
    """torch's error for ops whose output shape depends on the data."""
    return RuntimeError(
        "vmap: We do not support batching operators that can output dynamic shape. Attempted "
        f"to vmap over {op}. Hint: the result size would differ between examples; use a "
        "fixed-size formulation (masks with ember.where, or a padded gather)."
    )


# ----------------------------------------------------------------------------- in place
INPLACE_MSG = (
    "vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a Tensor "
    "`other` in extra_args that has more elements than `self`. This happened due to `other` "
    "being vmapped over but `self` not being vmapped over in a vmap. Please try to use "
    "out-of-place operators instead of inplace arithmetic. Hint: write y = x + other instead "
    "of x.add_(other) when x is not batched."
)


def inplace(orig: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    """In-place rule: ``self`` must be batched at every level its operands are batched at;
    the operands are laid out like ``self`` and ``orig`` updates the physical tensor."""
    keys = list(kwargs)
    flat = list(args) + [kwargs[k] for k in keys]
    p, lv = parts(self)
    lvs = union([self, *flat])
    if lvs != lv:
        raise RuntimeError(INPLACE_MSG)
    n = lndim(self)
    phys = []
    for x in flat:
        if type(x) is BatchedTensor:
            m = x._p._data.ndim - len(x._lv)
            x = relayout(x, lv, max(n - m, 0))
        phys.append(x)
    na = len(args)
    r = orig(p, *phys[:na], **dict(zip(keys, phys[na:], strict=True)))
    return self if r is p else bt(r, lv)


bind(inplace, INPLACE, ember=False, multi=True)


def _fill(orig: Any, self: Any, value: Any) -> Any:
    if type(value) is BatchedTensor:
        p, lv = parts(self)
        if union([self, value]) != lv:
            raise RuntimeError(INPLACE_MSG)
        v = relayout(value, lv, lndim(self))
        p.copy_(v)
        return self
    return inplace(orig, self, value)


bind(_fill, "fill_", ember=False, multi=True)


def _masked_fill(orig: Any, input: Any, mask: Any, value: Any) -> Any:
    if type(value) is BatchedTensor:
        if input.dim() < lndim(mask):
            raise RuntimeError("masked_fill: the mask must broadcast to the input's shape. "
                               f"Hint: mask {list(mask.shape)} vs input {list(input.shape)}.")
        return ember.where(mask, value.to(input.dtype), input)  # dispatched to the where rule
    lvs = union([input, mask])
    pin = with_levels(input, lvs)
    n = lndim(input)
    if type(mask) is BatchedTensor:
        pm = relayout(mask, lvs, max(n - lndim(mask), 0))
    else:
        pm = mask
    return bt(orig(pin, pm, value), lvs)


def _masked_fill_(orig: Any, self: Any, mask: Any, value: Any) -> Any:
    if type(value) is BatchedTensor:
        return self.copy_(ember.where(mask, value.to(self.dtype), self))
    return inplace(orig, self, mask, value)


bind(_masked_fill, "masked_fill", multi=True)
bind(_masked_fill_, "masked_fill_", ember=False, multi=True)


# ----------------------------------------------------------------------------- factories
def _like(orig: Any, input: Any, *args: Any, **kwargs: Any) -> Any:
    p, lv = parts(input)
    return bt(orig(p, *args, **kwargs), lv)


bind(_like, "zeros_like ones_like empty_like full_like", tensor=False)


def _result_type(orig: Any, a: Any, b: Any) -> Any:
    """torch's promotion looks at logical 0-d-ness (a batched 0-d tensor is 1-d physically)."""
    def proxy(x: Any) -> Any:
        return ember.empty(() if lndim(x) == 0 else (1,), dtype=x.dtype) if isinstance(
            x, Tensor) else x

    return orig(proxy(a), proxy(b))


bind(_result_type, "result_type", tensor=False)


def _meta(orig: Any, input: Any, *args: Any, **kwargs: Any) -> Any:
    return {"numel": input.numel, "is_floating_point": input.is_floating_point,
            "is_complex": input.is_complex}[orig.__name__]()


bind(_meta, "numel is_floating_point is_complex", tensor=False)
