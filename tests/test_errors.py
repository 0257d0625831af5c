"""Error messages of common misuse: torch's exception class and first sentence, exactly.

Each case builds its tensors with a library (``ember`` or ``torch``) and returns the tensors
involved plus the failing call.  ember must raise the pinned class with a message that starts
with the pinned first sentence (ember adds specifics and a ``Hint:`` after it), and the failed call
must leave the data and ``.grad`` of every involved tensor unchanged.  The same cases run on torch
(skipped without it) to prove the pinned sentences are torch's, with ``torch.`` spelled ``ember.``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import ember


@dataclass
class Case:
    name: str
    build: Callable[[ModuleType], tuple[list, Callable[[], Any]]]  # lib -> (tensors, action)
    exc: type
    first: str  # torch's first sentence, with ``ember.`` where torch says ``torch.``


def _nonscalar(lib: ModuleType) -> tuple:
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    return [x, y], lambda: y.backward()


def _second_backward(lib: ModuleType) -> tuple:
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    return [x], lambda: y.backward()


def _second_backward_vector(lib: ModuleType) -> tuple:
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(lib.ones(3))
    return [x, y], lambda: y.backward(lib.ones(3))


def _second_grad_call(lib: ModuleType) -> tuple:
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    lib.autograd.grad(y, x, lib.ones(3))
    return [x, y], lambda: lib.autograd.grad(y, x, lib.ones(3))


def _grad_shape(lib: ModuleType) -> tuple:
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    return [x, y], lambda: y.backward(lib.ones(4))


def _grad_shape_broadcastable(lib: ModuleType) -> tuple:
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    return [x, y], lambda: y.backward(lib.ones(1, 3))


def _broadcast_add(lib: ModuleType) -> tuple:
    a = lib.ones(2, 3, requires_grad=True)
    b = lib.ones(3, 3)
    return [a, b], lambda: a + b


def _broadcast_mul(lib: ModuleType) -> tuple:
    a = lib.ones(2, 3)
    b = lib.ones(3, 3, requires_grad=True)
    return [a, b], lambda: a * b


def _matmul(lib: ModuleType) -> tuple:
    a = lib.ones(2, 3, requires_grad=True)
    b = lib.ones(2, 3)
    return [a, b], lambda: a @ b


def _mm(lib: ModuleType) -> tuple:
    a = lib.ones(2, 3)
    b = lib.ones(2, 3)
    return [a, b], lambda: lib.mm(a, b)


def _view(lib: ModuleType) -> tuple:
    a = lib.ones(2, 3, requires_grad=True)
    return [a], lambda: a.view(4)


def _reshape(lib: ModuleType) -> tuple:
    a = lib.ones(2, 3)
    return [a], lambda: a.reshape(4, 2)


def _index(lib: ModuleType) -> tuple:
    a = lib.ones(3, requires_grad=True)
    return [a], lambda: a[5]


def _index_dim1(lib: ModuleType) -> tuple:
    a = lib.ones(2, 3)
    return [a], lambda: a[0, 3]


def _dim_sum(lib: ModuleType) -> tuple:
    a = lib.ones(2, 3, requires_grad=True)
    return [a], lambda: a.sum(dim=2)


def _dim_size(lib: ModuleType) -> tuple:
    a = lib.ones(2, 3)
    return [a], lambda: a.size(-3)


def _int_requires_grad(lib: ModuleType) -> tuple:
    return [], lambda: lib.tensor([1, 2, 3], requires_grad=True)


def _int_requires_grad_(lib: ModuleType) -> tuple:
    a = lib.tensor([1, 2, 3])
    return [a], lambda: a.requires_grad_()


def _inplace_leaf(lib: ModuleType) -> tuple:
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    return [x], lambda: x.add_(1)


def _inplace_leaf_iadd(lib: ModuleType) -> tuple:
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def act() -> None:
        nonlocal x
        x += 1

    return [x], act


def _inplace_saved_exp(lib: ModuleType) -> tuple:
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x.exp()
    a.add_(1)
    s = a.sum()
    return [x, a], lambda: s.backward()


def _inplace_saved_mul(lib: ModuleType) -> tuple:
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 2
    b = a * a
    a.add_(1)
    return [x, a, b], lambda: b.backward(lib.ones(3))


def _item(lib: ModuleType) -> tuple:
    a = lib.ones(3)
    return [a], lambda: a.item()


def _grad_no_requires(lib: ModuleType) -> tuple:
    x = lib.ones(3)
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w * 2
    return [x, w], lambda: lib.autograd.grad(y, [w, x], lib.ones(3))


def _grad_output_no_requires(lib: ModuleType) -> tuple:
    x = lib.ones(3)
    y = x * 2
    return [x], lambda: lib.autograd.grad(y, x, lib.ones(3))


def _backward_no_requires(lib: ModuleType) -> tuple:
    x = lib.ones(3)
    y = x * 2
    return [x], lambda: y.backward(lib.ones(3))


_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed)."
)
_VERSION = (
    "one of the variables needed for gradient computation has been modified by an inplace "
    "operation: [ember.FloatTensor [3]], which is output 0 of {}, is at version 1; expected "
    "version 0 instead."
)

CASES = [
    Case("nonscalar_backward", _nonscalar, RuntimeError,
         "grad can be implicitly created only for scalar outputs"),
    Case("second_backward", _second_backward, RuntimeError, _FREED),
    Case("second_backward_vector", _second_backward_vector, RuntimeError, _FREED),
    Case("second_grad_call", _second_grad_call, RuntimeError, _FREED),
    Case("grad_wrong_shape", _grad_shape, RuntimeError,
         "Mismatch in shape: grad_output[0] has a shape of ember.Size([4]) and output[0] has a "
         "shape of ember.Size([3])."),
    Case("grad_wrong_shape_broadcastable", _grad_shape_broadcastable, RuntimeError,
         "Mismatch in shape: grad_output[0] has a shape of ember.Size([1, 3]) and output[0] has a "
         "shape of ember.Size([3])."),
    Case("broadcast_add", _broadcast_add, RuntimeError,
         "The size of tensor a (2) must match the size of tensor b (3) at non-singleton "
         "dimension 0"),
    Case("broadcast_mul", _broadcast_mul, RuntimeError,
         "The size of tensor a (2) must match the size of tensor b (3) at non-singleton "
         "dimension 0"),
    Case("matmul", _matmul, RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    Case("mm", _mm, RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    Case("view", _view, RuntimeError, "shape '[4]' is invalid for input of size 6"),
    Case("reshape", _reshape, RuntimeError, "shape '[4, 2]' is invalid for input of size 6"),
    Case("index", _index, IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    Case("index_dim1", _index_dim1, IndexError,
         "index 3 is out of bounds for dimension 1 with size 3"),
    Case("dim_sum", _dim_sum, IndexError,
         "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    Case("dim_size", _dim_size, IndexError,
         "Dimension out of range (expected to be in range of [-2, 1], but got -3)"),
    Case("int_requires_grad", _int_requires_grad, RuntimeError,
         "Only Tensors of floating point and complex dtype can require gradients"),
    Case("int_requires_grad_", _int_requires_grad_, RuntimeError,
         "only Tensors of floating point dtype can require gradients"),
    Case("inplace_leaf", _inplace_leaf, RuntimeError,
         "a leaf Variable that requires grad is being used in an in-place operation."),
    Case("inplace_leaf_iadd", _inplace_leaf_iadd, RuntimeError,
         "a leaf Variable that requires grad is being used in an in-place operation."),
    Case("inplace_saved_exp", _inplace_saved_exp, RuntimeError, _VERSION.format("Exp")),
    Case("inplace_saved_mul", _inplace_saved_mul, RuntimeError, _VERSION.format("Add")),
    Case("item_many", _item, RuntimeError, "a Tensor with 3 elements cannot be converted to Scalar"),
    Case("grad_input_no_requires", _grad_no_requires, RuntimeError,
         "One of the differentiated Tensors does not require grad"),
    Case("grad_output_no_requires", _grad_output_no_requires, RuntimeError,
         "element 0 of tensors does not require grad and does not have a grad_fn"),
    Case("backward_no_requires", _backward_no_requires, RuntimeError,
         "element 0 of tensors does not require grad and does not have a grad_fn"),
]
IDS = [c.name for c in CASES]


def _np(t: Any) -> np.ndarray:
    return np.array(t.detach().numpy(), copy=True)


def _snapshot(tensors: list) -> list:
    """Copies of the data and ``.grad`` of each tensor (non-leaf ``.grad`` without the warning)."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in tensors:
            g = t.grad
            out.append((_np(t), None if g is None else _np(g), t.requires_grad, t.shape))
    return out


def _assert_unchanged(before: list, tensors: list, name: str) -> None:
    after = _snapshot(tensors)
    for i, ((d0, g0, r0, s0), (d1, g1, r1, s1)) in enumerate(zip(before, after, strict=True)):
        assert s0 == s1 and r0 == r1, f"{name}: tensor {i} changed shape or requires_grad"
        np.testing.assert_array_equal(d0, d1, err_msg=f"{name}: data of tensor {i} changed")
        assert (g0 is None) == (g1 is None), f"{name}: .grad of tensor {i} appeared/vanished"
        if g0 is not None:
            np.testing.assert_array_equal(g0, g1, err_msg=f"{name}: .grad of tensor {i} changed")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_error_message(case: Case) -> None:
    tensors, act = case.build(ember)
    before = _snapshot(tensors)
    with pytest.raises(case.exc, match="^" + re.escape(case.first)):
        act()
    _assert_unchanged(before, tensors, case.name)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pinned_sentence_is_torchs(case: Case) -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: comparison skipped")
    tensors, act = case.build(torch)
    before = _snapshot(tensors)
    with pytest.raises(case.exc) as info:
        act()
    msg = str(info.value).replace("torch.", "ember.")
    assert msg.startswith(case.first), f"torch says: {msg[:200]!r}"
    _assert_unchanged(before, tensors, case.name)


def test_messages_carry_a_hint() -> None:
    """ember's messages go on after torch's sentence with specifics and a ``Hint:``."""
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        (x * 2).backward()
    assert "Hint:" in str(info.value)
    with pytest.raises(RuntimeError) as info:
        ember.ones(2, 3) + ember.ones(3, 3)
    assert "Hint:" in str(info.value)


@pytest.mark.parametrize("libname", ["ember", "torch"])
def test_bad_second_seed_accumulates_nothing(libname: str) -> None:
    """All seed gradients are validated before the walk: nothing reaches ``.grad`` on failure."""
    lib = ember if libname == "ember" else pytest.importorskip(
        "torch", reason="torch not installed: comparison skipped")
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y1, y2 = x * 3, x * x
    with pytest.raises(RuntimeError):  # (torch's wording differs for several roots)
        lib.autograd.backward([y1, y2], [lib.ones(2), lib.ones(3)])
    assert x.grad is None
    y2.backward(lib.ones(2))  # the failed call did not free the graph
    np.testing.assert_array_equal(_np(x.grad), [2.0, 4.0])
