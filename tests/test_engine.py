"""The backward engine: graph shapes, accumulation, retain/create_graph, hooks, scale, memory.

Values are checked against closed forms (always) and against torch running the same code (skipped
with a reason when torch is missing).
"""

from __future__ import annotations

import gc
import math
import re
import time
import tracemalloc
import warnings
import weakref
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import ember

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed)."
)
_NONLEAF = "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed."


def _torch() -> ModuleType:
    return pytest.importorskip("torch", reason="torch not installed: comparison skipped")


def _np(t: Any) -> np.ndarray:
    return np.array(t.detach().numpy(), copy=True)


def _grads(lib: ModuleType, fn: Callable, arrays: list, seed: Any = None) -> list:
    """Run ``fn(lib, *leaves)``, backward with ``seed`` (ones by default), return leaf grads."""
    leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *leaves)
    g = lib.ones(tuple(out.shape), dtype=out.dtype) if seed is None else lib.tensor(seed)
    out.backward(g)
    return [None if t.grad is None else _np(t.grad) for t in leaves]


def _same_as_torch(fn: Callable, arrays: list) -> list:
    torch = _torch()
    e, t = _grads(ember, fn, arrays), _grads(torch, fn, arrays)
    for ge, gt in zip(e, t, strict=True):
        assert (ge is None) == (gt is None)
        if ge is not None:
            np.testing.assert_allclose(ge, gt, rtol=1e-6, atol=1e-6)
    return e


# ------------------------------------------------------------------------------ graph shapes
def test_reuse_of_one_tensor() -> None:
    a = ember.tensor(1.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0
    v = ember.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (v * v * v).backward(ember.ones(3))
    np.testing.assert_allclose(_np(v.grad), 3 * np.array([1.0, -2.0, 3.0]) ** 2)


def test_diamond() -> None:
    x = ember.tensor([1.0, 2.0, -3.0], requires_grad=True)
    b, c = x * 2, x * 3
    d = b * c  # 6 x^2
    d.backward(ember.ones(3))
    np.testing.assert_allclose(_np(x.grad), 12 * np.array([1.0, 2.0, -3.0]))


def test_diamond_and_shared_subexpressions_vs_torch() -> None:
    def fn(lib: ModuleType, x: Any, y: Any) -> Any:
        s = x * y  # shared by three consumers
        t = s * s + s * x - y / s
        return t * (s + 1) - x * 2

    arrays = [np.array([0.5, -1.5, 2.0], np.float32), np.array([1.25, 0.75, -0.5], np.float32)]
    gx, gy = _same_as_torch(fn, arrays)
    x, y = (a.astype(np.float64) for a in arrays)
    s = x * y
    # d/ds of (s^2 + s x - y/s)(s + 1) and the explicit x, y terms
    ds = (2 * s + x + y / s**2) * (s + 1) + (s * s + s * x - y / s)
    np.testing.assert_allclose(gx, ds * y + s * (s + 1) - 2, rtol=1e-5)
    np.testing.assert_allclose(gy, ds * x - (s + 1) / s, rtol=1e-5)


def test_multiple_roots() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y1, y2 = x * 3, x * x
    ember.autograd.backward([y1, y2], [ember.tensor([1.0, 10.0]), ember.tensor([2.0, 0.5])])
    np.testing.assert_allclose(_np(x.grad), [3 + 2 * 2 * 1.0, 30 + 0.5 * 2 * 2.0])


def test_multiple_roots_vs_torch() -> None:
    torch = _torch()
    res = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0, -1.0], requires_grad=True)
        w = lib.tensor([0.5, 0.25, 2.0], requires_grad=True)
        y1, y2 = x * w, (x + w) * x
        lib.autograd.backward([y1, y2], [lib.tensor([1.0, 2.0, 3.0]), lib.tensor([-1.0, 1.0, 2.0])])
        res.append((_np(x.grad), _np(w.grad)))
    for a, b in zip(*res, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


# ---------------------------------------------------------------------------- accumulation
def test_accumulation_across_backward_calls_and_zero_() -> None:
    if not hasattr(ember.Tensor, "zero_"):
        pytest.skip("Tensor.zero_ not implemented yet (in-place ops)")
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    for k in range(1, 4):
        (x * x).backward(ember.ones(2))
        np.testing.assert_allclose(_np(x.grad), k * 2 * np.array([1.0, 2.0]))
    g = x.grad
    x.grad.zero_()
    np.testing.assert_array_equal(_np(x.grad), [0.0, 0.0])
    (x * 3).backward(ember.ones(2))
    assert x.grad is g, "later gradients accumulate into the same .grad tensor"
    np.testing.assert_array_equal(_np(x.grad), [3.0, 3.0])


def test_grad_is_a_fresh_tensor_not_the_seed() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    seed = ember.tensor([5.0, 6.0])
    (x * 1.0).backward(seed)
    (x * 1.0).backward(seed)
    np.testing.assert_array_equal(_np(seed), [5.0, 6.0])  # accumulation never mutates the seed
    np.testing.assert_array_equal(_np(x.grad), [10.0, 12.0])


# ---------------------------------------------------------------------------- retain_graph
def test_second_backward_without_retain_graph_raises() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    z = x * x
    z.backward(ember.ones(2))
    with pytest.raises(RuntimeError, match="^" + re.escape(_FREED)):
        z.backward(ember.ones(2))
    np.testing.assert_array_equal(_np(x.grad), [2.0, 4.0])


def test_retain_graph_allows_second_backward() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    z = x * x
    z.backward(ember.ones(2), retain_graph=True)
    z.backward(ember.ones(2), retain_graph=True)
    z.backward(ember.ones(2))  # the last one may free
    np.testing.assert_array_equal(_np(x.grad), [6.0, 12.0])
    with pytest.raises(RuntimeError, match="^" + re.escape(_FREED)):
        z.backward(ember.ones(2))


def test_graph_without_saved_values_can_run_twice() -> None:
    """Like torch: nodes that saved nothing (x + y, x - y) need no retain_graph."""
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    z = x + x - x
    z.backward(ember.ones(2))
    z.backward(ember.ones(2))
    np.testing.assert_array_equal(_np(x.grad), [2.0, 2.0])
    w = x * 3  # a python scalar operand is saved (torch: `other`), so this one is freed
    w.backward(ember.ones(2))
    with pytest.raises(RuntimeError, match="^" + re.escape(_FREED)):
        w.backward(ember.ones(2))


def test_detach_or_data_after_save_does_not_break_backward() -> None:
    """Reading a saved tensor (detach(), .data, numpy()) is not an in-place change."""
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    x.detach()
    _ = x.data
    y.backward(ember.ones(2))
    np.testing.assert_array_equal(_np(x.grad), [2.0, 4.0])


# ---------------------------------------------------------------------------- create_graph
def test_second_and_third_derivative_of_cube() -> None:
    x = ember.tensor([2.0, -1.0, 0.5], requires_grad=True)
    y = x * x * x
    (g,) = ember.autograd.grad(y, x, ember.ones(3), create_graph=True)
    np.testing.assert_allclose(_np(g), 3 * _np(x) ** 2)
    assert g.requires_grad and g.grad_fn is not None
    (g2,) = ember.autograd.grad(g, x, ember.ones(3), create_graph=True)
    np.testing.assert_allclose(_np(g2), 6 * _np(x))
    (g3,) = ember.autograd.grad(g2, x, ember.ones(3))
    np.testing.assert_allclose(_np(g3), [6.0, 6.0, 6.0])
    assert not g3.requires_grad


def test_backward_create_graph_then_backward_through_grad() -> None:
    x = ember.tensor(3.0, requires_grad=True)
    y = x * x * x
    y.backward(create_graph=True)
    g = x.grad  # 3 x^2 = 27, with a graph
    assert g.requires_grad
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(18.0)  # 6 x


def test_hessian_vector_product_elementwise() -> None:
    """f = sum(x^2 y + y^3): H v computed by double backward vs the closed form."""
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    y = ember.tensor([0.5, -1.0], dtype=ember.float64, requires_grad=True)
    f = x * x * y + y * y * y
    gx, gy = ember.autograd.grad(f, [x, y], ember.ones(2, dtype=ember.float64), create_graph=True)
    vx, vy = np.array([1.0, -1.0]), np.array([0.5, 2.0])
    dot = gx * ember.tensor(vx) + gy * ember.tensor(vy)
    hx, hy = ember.autograd.grad(dot, [x, y], ember.ones(2, dtype=ember.float64))
    xn, yn = _np(x), _np(y)
    np.testing.assert_allclose(_np(hx), 2 * yn * vx + 2 * xn * vy)
    np.testing.assert_allclose(_np(hy), 2 * xn * vx + 6 * yn * vy)


def _mlp_hvp(lib: ModuleType, xa: np.ndarray, w1a: np.ndarray, w2a: np.ndarray,
             va: np.ndarray) -> tuple:
    x = lib.tensor(xa)
    w1 = lib.tensor(w1a, requires_grad=True)
    w2 = lib.tensor(w2a, requires_grad=True)
    loss = ((x @ w1).tanh() @ w2).pow(2).sum()
    (g1, g2) = lib.autograd.grad(loss, [w1, w2], create_graph=True)
    gv = (g1 * lib.tensor(va)).sum()
    h1, h2 = lib.autograd.grad(gv, [w1, w2])
    return _np(loss), _np(g1), _np(h1), _np(h2)


def test_hessian_vector_product_mlp_vs_torch() -> None:
    torch = _torch()
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((5, 3))
    w1a, w2a = rng.standard_normal((3, 4)) * 0.5, rng.standard_normal((4, 2)) * 0.5
    va = rng.standard_normal((3, 4))
    got = _mlp_hvp(ember, xa, w1a, w2a, va)
    want = _mlp_hvp(torch, xa, w1a, w2a, va)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


# -------------------------------------------------------------------------- autograd.grad
def test_grad_allow_unused_and_materialize() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    w = ember.tensor([3.0, 4.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="^" + re.escape(
            "The differentiated Tensor at index 1 appears to not have been used in the graph.")):
        ember.autograd.grad(y, [x, w], ember.ones(2), retain_graph=True)
    gx, gw = ember.autograd.grad(y, [x, w], ember.ones(2), allow_unused=True, retain_graph=True)
    np.testing.assert_array_equal(_np(gx), [2.0, 2.0])
    assert gw is None
    gx, gw = ember.autograd.grad(y, [x, w], ember.ones(2), materialize_grads=True)
    np.testing.assert_array_equal(_np(gw), [0.0, 0.0])
    assert gw.dtype == w.dtype and gw.shape == w.shape
    assert x.grad is None and w.grad is None, "autograd.grad must not touch .grad"


def test_grad_materialize_with_allow_unused_false_raises() -> None:
    x = ember.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="^" + re.escape(
            "Expected allow_unused to be True or not passed when materialize_grads=True")):
        ember.autograd.grad(x * 2, x, ember.ones(1), allow_unused=False, materialize_grads=True)


def test_grad_outputs_weights_the_vjp() -> None:
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = ember.autograd.grad(x * x, x, grad_outputs=ember.tensor([1.0, 0.0, -2.0]))
    np.testing.assert_array_equal(_np(g), [2.0, 0.0, -12.0])
    x2 = ember.tensor(2.0, requires_grad=True)
    (g,) = ember.autograd.grad(x2 * x2 * x2, x2)  # scalar output: implicit ones
    assert g.item() == 12.0


def test_grad_of_several_outputs_sums_contributions() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (g,) = ember.autograd.grad([x * 2, x * x], x, [ember.ones(2), ember.ones(2)])
    np.testing.assert_array_equal(_np(g), [4.0, 6.0])


def test_grad_wrt_non_leaf_leaves_its_history_alone() -> None:
    """Like torch, grad(y, t) for a non-leaf t stops at t: t's own graph is not run or freed."""
    s = ember.tensor(3.0, requires_grad=True)
    t = s * s
    y = t * 2
    (g,) = ember.autograd.grad(y, t)
    assert g.item() == 2.0
    assert s.grad is None
    t.backward()  # t's saved values are still there
    assert s.grad.item() == 6.0


def test_backward_inputs_only_accumulates_into_given_tensors() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    w = ember.tensor([3.0, 4.0], requires_grad=True)
    z = x * w
    z.backward(ember.ones(2), inputs=[x], retain_graph=True)
    np.testing.assert_array_equal(_np(x.grad), [3.0, 4.0])
    assert w.grad is None
    z.backward(ember.ones(2), inputs=[w])
    np.testing.assert_array_equal(_np(w.grad), [1.0, 2.0])
    np.testing.assert_array_equal(_np(x.grad), [3.0, 4.0])


def test_backward_inputs_non_leaf_vs_torch() -> None:
    torch = _torch()
    res = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        (y * y).backward(lib.ones(2), inputs=[y])
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # torch warns only while a non-leaf .grad is None
            res.append((_np(y.grad), x.grad))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    assert res[0][1] is None and res[1][1] is None


# ---------------------------------------------------------------------- non-leaf .grad, hooks
def test_non_leaf_grad_is_none_with_warning() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    (y * y).backward(ember.ones(2))
    with pytest.warns(UserWarning, match="^" + re.escape(_NONLEAF)):
        assert y.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None  # leaves: no warning


def test_retain_grad() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    (y * y).backward(ember.ones(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(_np(y.grad), [4.0, 8.0])
    np.testing.assert_array_equal(_np(x.grad), [8.0, 16.0])


def test_register_hook_modifies_gradient_vs_torch() -> None:
    def fn(lib: ModuleType, x: Any, w: Any) -> Any:
        y = x * w
        y.register_hook(lambda g: g * 10)  # scales what flows to x and w
        x.register_hook(lambda g: g + 1)  # changes what is accumulated into x.grad
        return y * y

    arrays = [np.array([1.0, 2.0], np.float32), np.array([3.0, -1.0], np.float32)]
    gx, gw = _same_as_torch(fn, arrays)
    x, w = arrays
    np.testing.assert_allclose(gx, 10 * 2 * x * w * w + 1)
    np.testing.assert_allclose(gw, 10 * 2 * x * w * x)


def test_hook_sees_gradient_and_can_be_removed() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x.register_hook(lambda g: seen.append(_np(g)))
    (x * 3).backward(ember.ones(2))
    h.remove()
    (x * 3).backward(ember.ones(2))
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    np.testing.assert_array_equal(_np(x.grad), [6.0, 6.0])


def test_hook_on_tensor_without_grad_raises() -> None:
    with pytest.raises(RuntimeError, match="^" + re.escape(
            "cannot register a hook on a tensor that doesn't require gradient")):
        ember.ones(2).register_hook(lambda g: g)


# --------------------------------------------------------------------- graph structure, flags
def _tree(fn: Any, depth: int = 0) -> Any:
    if fn is None:
        return None
    name = fn.name()
    if "AccumulateGrad" in name:  # torch calls it torch::autograd::AccumulateGrad
        return "AccumulateGrad"
    return (name, tuple((_tree(n, depth + 1), nr) for n, nr in fn.next_functions))


def _structure(lib: ModuleType) -> Any:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, 4.0], requires_grad=True)
    c = lib.tensor([5.0, 6.0])
    z = (x * y + x * 3 - y / c) * c
    return _tree(z.grad_fn)


def test_next_functions_structure() -> None:
    acc = "AccumulateGrad"
    want = ("MulBackward0", (
        (("SubBackward0", (
            (("AddBackward0", (
                (("MulBackward0", ((acc, 0), (acc, 0))), 0),
                (("MulBackward0", ((acc, 0), (None, 0))), 0),
            )), 0),
            (("DivBackward0", ((acc, 0), (None, 0))), 0),
        )), 0),
        (None, 0),
    ))
    assert _structure(ember) == want


def test_next_functions_structure_vs_torch() -> None:
    assert _structure(ember) == _structure(_torch())


def test_accumulate_grad_identity() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    a = (x * 2).grad_fn.next_functions[0][0]
    b = (x * 3).grad_fn.next_functions[0][0]
    assert a is b
    assert type(a).__name__ == "AccumulateGrad"
    assert a.variable is x
    assert x.grad_fn is None
    assert a.next_functions == ()


def test_leaf_and_requires_grad_flags() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    c = ember.tensor([1.0, 2.0])
    y = x * 2
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    assert c.is_leaf and not c.requires_grad
    assert not y.is_leaf and y.requires_grad and y.grad_fn is not None
    assert (c * 2).is_leaf and not (c * 2).requires_grad
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    assert (c + x).requires_grad
    with ember.no_grad():
        n = x * 2
    assert n.is_leaf and not n.requires_grad


# ---------------------------------------------------------------------------- scale, memory
def test_million_node_chain() -> None:
    """1,000,000 recorded muls backpropagate iteratively (no RecursionError), exactly."""
    n = 1_000_000
    factor = 1.0000001
    x = ember.tensor(1.0, dtype=ember.float64, requires_grad=True)
    enabled = gc.isenabled()
    gc.disable()  # the cyclic GC rescanning a million live nodes only adds time
    try:
        t0 = time.perf_counter()
        y = x
        for _ in range(n):
            y = y * factor
        t1 = time.perf_counter()
        y.backward()
        t2 = time.perf_counter()
        del y
        t3 = time.perf_counter()
    finally:
        if enabled:
            gc.enable()
    print(f"\n1e6 chain: forward {t1 - t0:.2f}s, backward {t2 - t1:.2f}s, free {t3 - t2:.2f}s")
    assert x.grad.item() == pytest.approx(factor**n, rel=1e-9)
    assert x.grad.item() == pytest.approx(math.exp(0.1), rel=1e-6)


def test_long_alternating_chain() -> None:
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    y = x
    for i in range(20_000):
        y = y * 1.00001 if i % 2 else y + 0.5
    y.backward(ember.ones(2, dtype=ember.float64))
    np.testing.assert_allclose(_np(x.grad), 1.00001**10_000, rtol=1e-9)


def test_saved_intermediate_is_released_by_backward() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    ref = weakref.ref(y)
    node = weakref.ref(z.grad_fn)
    del y
    z.backward(ember.ones(2))
    assert ref() is None, "backward must free the tensors saved for it"
    del z
    assert node() is None, "the graph dies with its output (no reference cycles)"
    gc.collect()
    assert ref() is None and node() is None


def test_retained_graph_keeps_saved_values_until_freed() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y
    ref = weakref.ref(y)
    del y
    z.backward(ember.ones(2), retain_graph=True)
    z.backward(ember.ones(2))
    assert ref() is None
    np.testing.assert_array_equal(_np(x.grad), [16.0, 32.0])


def test_whole_graph_freed_without_gc() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x
    refs = []
    for _ in range(50):
        h = (h * h + 1.0) / (h * h + 2.0)
        refs.append(weakref.ref(h.grad_fn))
    h.backward(ember.ones(2))
    del h
    assert all(r() is None for r in refs)


def test_memory_returns_to_baseline() -> None:
    n = 500_000  # 4 MB per float64 array
    x = ember.tensor(np.linspace(-1, 1, n), dtype=ember.float64, requires_grad=True)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        y = x
        for _ in range(10):
            y = y * y * 0.5 + x  # each step saves arrays
        built = tracemalloc.get_traced_memory()[0] - base
        y.backward(ember.ones(n, dtype=ember.float64))
        after_backward = tracemalloc.get_traced_memory()[0] - base
        del y
        after_del = tracemalloc.get_traced_memory()[0] - base
        grad_bytes = x.grad.numpy().nbytes
    finally:
        tracemalloc.stop()
    mb = 1 << 20
    print(f"\nmemory: graph {built / mb:.1f} MB, after backward {after_backward / mb:.1f} MB, "
          f"after del {after_del / mb:.1f} MB")
    assert built > 8 * 4 * mb, "the graph should hold its saved arrays"
    assert after_backward < 3 * 4 * mb + grad_bytes, "backward must free saved arrays"
    assert after_del < grad_bytes + mb, "everything but x.grad must be gone"


# ----------------------------------------------------------------------------- gradcheck
def _gc() -> ModuleType:
    import importlib

    gc_mod = importlib.import_module("ember.autograd.gradcheck")

    return gc_mod


def _doubled(x: Any, w: Any) -> tuple:
    """``x * w`` whose gradient a hook doubles (wrong on purpose), and a correct ``x * 3``."""
    z = x * w
    z.register_hook(lambda g: g * 2)
    return z, x * 3


def _wrong_second_derivative(x: Any) -> Any:
    """x^3 + 5 (x - x.detach())^2: value and first derivative of x^3, second one is 6x + 10."""
    d = x - x.detach()
    return x * x * x + d * d * 5


def _f64(lib: ModuleType, a: list) -> Any:
    return lib.tensor(np.array(a, dtype=np.float64), requires_grad=True)


def test_gradcheck_passes_on_correct_gradients() -> None:
    m = _gc()
    x, y = _f64(ember, [1.0, -2.0, 0.5]), _f64(ember, [[0.3], [1.5]])
    assert m.gradcheck(lambda a, b: (a * b / (b + 3), a * a - b), (x, y))
    assert m.gradcheck(lambda a, k: a * k, (x, 3))  # non-tensor arguments pass through
    assert m.gradcheck(lambda a: a * a, x, fast_mode=True)
    assert m.gradcheck(lambda a: a * a, x, check_batched_grad=True)
    assert m.gradgradcheck(lambda a, b: a * a * b, (x, y))
    assert m.gradgradcheck(lambda a: a * a * a, x, gen_non_contig_grad_outputs=True)
    assert m.gradgradcheck(lambda a: a * a * a, x, fast_mode=True)
    np.testing.assert_array_equal(_np(x), [1.0, -2.0, 0.5])  # inputs are left untouched
    assert x.grad is None and y.grad is None


def test_gradcheck_reports_the_mismatch() -> None:
    m = _gc()
    assert issubclass(m.GradcheckError, RuntimeError)
    x, w = _f64(ember, [1.0, 2.0, 3.0]), _f64(ember, [[0.5], [2.0]])
    with pytest.raises(m.GradcheckError) as info:
        m.gradcheck(_doubled, (x, w))
    msg = str(info.value)
    assert msg.startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:")
    assert "\nanalytical:tensor([[1., 0., 0., 4., 0., 0.]," in msg
    assert "input 0 element (0,), output 0 element (1, 0)" in msg
    assert "numerical 1.99999" in msg and "analytical 4.0" in msg
    assert m.gradcheck(_doubled, (x, w), raise_exception=False) is False
    with pytest.raises(m.GradcheckError, match="^Jacobian mismatch for output 0"):
        m.gradcheck(_doubled, (x, w), fast_mode=True)
    assert m.gradcheck(_wrong_second_derivative, x)
    with pytest.raises(m.GradcheckError, match="^Jacobian mismatch for output 0 with respect"):
        m.gradgradcheck(_wrong_second_derivative, x)


def test_gradcheck_message_matches_torch() -> None:
    torch = _torch()
    m = _gc()
    msgs = []
    for lib, check in ((ember, m.gradcheck), (torch, torch.autograd.gradcheck)):
        x, w = _f64(lib, [1.0, 2.0, 3.0]), _f64(lib, [[0.5], [2.0]])
        with pytest.raises(RuntimeError) as info:
            check(_doubled, (x, w))
        msgs.append(str(info.value).replace("torch.", "ember."))
    assert msgs[0].startswith(msgs[1]), "torch's message, then ember's worst-element line"
    for fn in (lambda a: a * a * a, _wrong_second_derivative):
        for mode in (False, True):
            got = [check(fn, (_f64(lib, [1.0, -2.0]),), raise_exception=False, fast_mode=mode)
                   for lib, check in ((ember, m.gradgradcheck),
                                      (torch, torch.autograd.gradgradcheck))]
            assert got[0] == got[1]


def test_gradcheck_input_validation() -> None:
    m = _gc()
    with pytest.raises(ValueError, match="^" + re.escape(
            "gradcheck expects at least one input tensor to require gradient, but none of them "
            "have requires_grad=True.")):
        m.gradcheck(lambda a: a * 2, (ember.ones(2, dtype=ember.float64),))
    x32 = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="^" + re.escape(
            "Input #0 requires gradient and is not a double precision floating point or complex.")):
        m.gradcheck(lambda a: a * 2, (x32,), raise_exception=False)


def test_gradcheck_without_differentiable_outputs() -> None:
    m = _gc()
    x = _f64(ember, [1.0, 2.0])
    c = ember.tensor([5.0, 6.0], dtype=ember.float64)
    assert m.gradcheck(lambda a: c * 2, (x,))  # constant output: zero numerical gradient
    with pytest.raises(m.GradcheckError, match="^Numerical gradient for function expected to be"):
        m.gradcheck(lambda a: a.detach() * 2, (x,))


def test_leaf_grads_never_alias_other_arrays() -> None:
    """AccumulateGrad keeps fresh gradient buffers without copying; it must never alias."""
    x = ember.randn(3, requires_grad=True)
    y = ember.randn(3, requires_grad=True)
    (x + y).backward(ember.ones(3))  # AddBackward0 hands the same array to both leaves
    assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())
    x.grad = None
    seed = ember.ones(3)
    x.clone().backward(seed)  # CloneBackward0 passes the user's gradient through
    seed.add_(5)
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3))
    a = ember.randn(4, 3, requires_grad=True)
    w = ember.randn(3, 2, requires_grad=True)
    (a @ w).backward(ember.ones(4, 2))
    ga, gw = a.grad.numpy().copy(), w.grad.numpy().copy()
    (a @ w).backward(ember.ones(4, 2))  # second call accumulates in place
    np.testing.assert_allclose(a.grad.numpy(), 2 * ga)
    np.testing.assert_allclose(w.grad.numpy(), 2 * gw)
