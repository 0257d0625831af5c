"""In-place operations (``add_``, ``x += y``, ``x[i] = v`` ...) and their autograd bookkeeping.

An in-place op computes its result out of place (recording the usual node), then
``inplace_update`` writes the result into the tensor's own memory, bumps the version counter
(shared with views) and makes the tensor the output of the new node.  When the tensor is a view,
its base is rewired through a ``CopySlices`` node, as in torch.  Saved copies of the old value are
taken only when the new node itself saved the tensor being overwritten.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import _new
from ..autograd.graph import ARRAY_TYPES, NOEDGE, Node, _ver
from ._core import STATE, Tensor, binary, mark, ns, record, register

__all__ = ["addcmul", "addcdiv"]

_CAT = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
                "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte",
                "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def check_inplace(self: Tensor) -> None:
    """torch's errors for in-place ops on leaves (or views of leaves) that require grad."""
    if not STATE.enabled:
        return
    self._check_inplace()
    base = self._base
    if base is not None and base.requires_grad and base.is_leaf:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation. "
            "Hint: do the update under `with ember.no_grad():`, or clone the leaf first."
        )


def inplace_update(self: Tensor, r: Tensor) -> Tensor:
    """Make ``self`` hold the value of ``r`` in place (same shape), rewiring autograd."""
    d, rd = self._data, r._data
    if rd.shape != d.shape:
        raise RuntimeError(
            f"output with shape {list(d.shape)} doesn't match the broadcast shape "
            f"{list(rd.shape)}. Hint: an in-place op cannot change the shape of its tensor; use "
            "the out-of-place op (x = x.op(...)) instead."
        )
    if rd.dtype != d.dtype and _CAT[rd.dtype.kind] > _CAT[d.dtype.kind]:
        raise RuntimeError(
            f"result type {_TORCH_NAMES[str(rd.dtype)]} can't be cast to the desired output type "
            f"{_TORCH_NAMES[str(d.dtype)]}. Hint: convert the tensor first (e.g. x = x.float())."
        )
    re_ = r._edge if STATE.enabled else None
    if re_ is None and (self._edge is None or not STATE.enabled):
        _write(self, rd)
        self._bump()
        return self
    old_edge = self._edge
    node = re_[0] if re_ is not None else None
    if node is not None and node._saved is not None:
        _snapshot_saved(node, self, old_edge)
    _write(self, rd)
    self._bump()
    base = self._base
    if base is None:
        self._edge = re_
        if node is not None and node._out is rd:
            node._outvc = (self._share_vc(), _ver(self))
        return self
    # a view: the base becomes the output of CopySlices(old base, new values of the view)
    cs = CopySlices()
    cs._next = (base._edge or NOEDGE, re_ or NOEDGE)
    cs.view_fn = self._view_fn
    cs.shape = base._data.shape
    mark(cs)
    base._edge = (cs, 0)
    self._edge = self._view_fn(base)._edge
    return self


def _write(self: Tensor, rd: Any) -> None:
    d = self._data
    if isinstance(d, np.ndarray):
        d[...] = rd
    else:  # 0-d NumPy scalar: not shared with anyone, replace it
        self._data = np.array(rd, dtype=d.dtype)


def _snapshot_saved(node: Node, self: Tensor, old_edge: Any) -> None:
    """The new node saved ``self`` itself: keep a copy of the value it had before the write."""
    saved = node._saved
    if not saved or saved[0] is not self:  # only the input slot (x.mul_(x) still errs, as torch)
        return
    snap = _new(np.array(self._data, copy=True), old_edge)
    node._saved = (snap,) + tuple(saved[1:])
    node._vers = (0,) + tuple(node._vers[1:])


class CopySlices(Node):
    """base' = base with base[view] replaced by src;  dbase = g outside the view, dsrc = g[view]."""

    _name = "torch::autograd::CopySlices"

    def backward(self, g: Any) -> tuple:
        view = self.view_fn
        mask = np.ones(self.shape, dtype=np.bool_)
        view(_new(mask, None))._data[...] = False
        if type(g) in ARRAY_TYPES:
            gsrc = np.array(view(_new(g, None))._data, copy=True)
            return g * mask, gsrc
        return g * _new(mask, None), view(g)


# ------------------------------------------------------------------------ ops with own nodes
class ZeroBackward0(Node):
    """out = 0;  da = 0."""

    def backward(self, g: Any) -> tuple:
        return (g * 0,)


class FillBackward2(Node):
    """out = value (a number);  da = 0."""

    def backward(self, g: Any) -> tuple:
        return (g * 0,)


class FillBackward3(Node):
    """out = value (a 0-d tensor);  da = 0, dvalue = sum(g)."""

    def backward(self, g: Any) -> tuple:
        return g * 0, ns(g).sum(g)


@register("zero_", namespace=False)
def zero_(self: Tensor) -> Tensor:
    """Fill with zeros in place."""
    check_inplace(self)
    r = record(ZeroBackward0, (self,), np.zeros_like(self._data))
    return inplace_update(self, r)


@register("fill_", namespace=False)
def fill_(self: Tensor, value: Any) -> Tensor:
    """Fill with ``value`` in place."""
    check_inplace(self)
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value._data.ndim} dimensions."
            )
        out = np.full_like(self._data, value._data)
        r = record(FillBackward3, (self, value), out)
    else:
        r = record(FillBackward2, (self,), np.full_like(self._data, value))
    return inplace_update(self, r)


class CopyBackwards(Node):
    """self' = src (broadcast);  dself = 0, dsrc = g summed to src's shape and dtype."""

    _name = "torch::autograd::CopyBackwards"

    def backward(self, g: Any) -> tuple:
        return g * 0, g


@register("copy_", namespace=False)
def copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast, converted) into this tensor in place."""
    check_inplace(self)
    if not isinstance(src, Tensor):
        from .._creation import tensor

        src = tensor(src)
    sd = src._data
    try:
        out = np.broadcast_to(sd, self._data.shape).astype(self._data.dtype)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({self._data.shape[-1] if self._data.ndim else 1}) must match "
            f"the size of tensor b ({sd.shape[-1] if sd.ndim else 1}) at non-singleton "
            f"dimension {max(self._data.ndim - 1, 0)}. Hint: copy_ broadcasts src of shape "
            f"{list(sd.shape)} to {list(self._data.shape)}."
        ) from None
    meta = (None, (sd.shape, sd.dtype) if (sd.shape != out.shape or sd.dtype != out.dtype)
            else None)
    r = record(CopyBackwards, (self, src), out, meta=meta)
    return inplace_update(self, r)


# ------------------------------------------------------------------------ addcmul / addcdiv
class AddcmulBackward0(Node):
    """out = a + value * t1 * t2."""

    def backward(self, g: Any) -> tuple:
        t1, t2 = self._unpack(g)
        v = self.value
        return g, g * t2 * v, g * t1 * v


class AddcdivBackward0(Node):
    """out = a + value * t1 / t2."""

    def backward(self, g: Any) -> tuple:
        t1, t2 = self._unpack(g)
        v = self.value
        return g, g * v / t2, -g * v * t1 / (t2 * t2)


def _tri_meta(a: Tensor, b: Tensor, c: Tensor, out: Any) -> tuple | None:
    ms = tuple(None if (x._data.shape == out.shape and x._data.dtype == out.dtype)
               else (x._data.shape, x._data.dtype) for x in (a, b, c))
    return None if ms == (None, None, None) else ms


@register("addcmul")
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """input + value * tensor1 * tensor2."""
    out = input._data + value * (tensor1._data * tensor2._data)
    return record(AddcmulBackward0, (input, tensor1, tensor2), out, saved=(tensor1, tensor2),
                  meta=_tri_meta(input, tensor1, tensor2, out), value=value)


@register("addcdiv")
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """input + value * tensor1 / tensor2."""
    out = input._data + value * (tensor1._data / tensor2._data)
    return record(AddcdivBackward0, (input, tensor1, tensor2), out, saved=(tensor1, tensor2),
                  meta=_tri_meta(input, tensor1, tensor2, out), value=value)


# ------------------------------------------------------------------------ generic x.op_(...)
def _make_inplace(fn: Any, name: str) -> Any:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        check_inplace(self)
        return inplace_update(self, fn(self, *args, **kwargs))

    method.__name__ = name
    method.__doc__ = f"In-place version of ``{fn.__name__}``."
    return method


# method name -> name of the out-of-place function (looked up on Tensor)
_INPLACE = {
    "add_": "add", "sub_": "sub", "subtract_": "sub", "mul_": "mul", "multiply_": "mul",
    "div_": "div", "divide_": "div", "true_divide_": "div", "pow_": "pow", "neg_": "neg",
    "negative_": "neg", "abs_": "abs", "sign_": "sign", "exp_": "exp", "exp2_": "exp2",
    "expm1_": "expm1", "log_": "log", "log2_": "log2", "log10_": "log10", "log1p_": "log1p",
    "sqrt_": "sqrt", "rsqrt_": "rsqrt", "square_": "square", "sin_": "sin", "cos_": "cos",
    "tan_": "tan", "asin_": "asin", "acos_": "acos", "atan_": "atan", "sinh_": "sinh",
    "cosh_": "cosh", "tanh_": "tanh", "sigmoid_": "sigmoid", "relu_": "relu",
    "floor_": "floor", "ceil_": "ceil", "round_": "round", "trunc_": "trunc", "frac_": "frac",
    "reciprocal_": "reciprocal", "clamp_": "clamp", "clip_": "clamp", "clamp_min_": "clamp_min",
    "clamp_max_": "clamp_max", "masked_fill_": "masked_fill", "index_fill_": "index_fill",
    "scatter_": "scatter", "scatter_add_": "scatter_add", "index_add_": "index_add",
    "index_put_": "index_put", "index_copy_": "index_copy", "lerp_": "lerp",
    "addcmul_": "addcmul", "addcdiv_": "addcdiv", "floor_divide_": "floor_divide",
    "remainder_": "remainder", "fmod_": "fmod", "atan2_": "atan2", "maximum_": "maximum",
    "erf_": "erf", "nan_to_num_": "nan_to_num", "logical_not_": "logical_not",
    "logical_and_": "logical_and", "logical_or_": "logical_or", "tril_": "tril", "triu_": "triu",
    "__iadd__": "add", "__isub__": "sub", "__imul__": "mul", "__itruediv__": "div",
    "__ifloordiv__": "floor_divide", "__imod__": "remainder", "__ipow__": "pow",
    "__iand__": "bitwise_and", "__ior__": "bitwise_or", "__ixor__": "bitwise_xor",
    "__ilshift__": "bitwise_left_shift", "__irshift__": "bitwise_right_shift",
}


def _make_fast(fn: Any, ufunc: Any, name: str) -> Any:
    """``x op= y`` for float tensors under no_grad (optimizer steps): one ufunc with ``out=``."""
    slow = _make_inplace(fn, name)

    def method(self: Tensor, other: Any, **kwargs: Any) -> Tensor:
        if not STATE.enabled and not kwargs:
            d = self._data
            if type(d) is np.ndarray and d.dtype.kind == "f":
                o = other._data if isinstance(other, Tensor) else other
                if isinstance(o, (float, int, np.ndarray, np.generic)) and not isinstance(o, bool):
                    try:
                        ufunc(d, o, out=d)
                    except (ValueError, TypeError):  # shape/dtype problems: the general path
                        pass  # raises torch's error
                    else:
                        self._bump()
                        return self
        return slow(self, other, **kwargs)

    method.__name__ = name
    method.__doc__ = slow.__doc__
    return method


_FAST = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}


def install() -> None:
    """Install every in-place method whose out-of-place op exists (called by ember/__init__)."""
    for meth, fname in _INPLACE.items():
        fn = getattr(Tensor, fname, None)
        if fn is not None and not isinstance(fn, property):
            uf = _FAST.get(fname)
            make = _make_inplace(fn, meth) if uf is None else _make_fast(fn, uf, meth)
            setattr(Tensor, meth, make)


_ = (binary, D)
