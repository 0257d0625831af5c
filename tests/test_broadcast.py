"""Property tests: broadcasting of binary ops, forward and the centrally undone backward."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember

OPS = {
    "add": (lambda a, b: a + b, lambda ga, a, b: (ga, ga)),
    "sub": (lambda a, b: a - b, lambda ga, a, b: (ga, -ga)),
    "mul": (lambda a, b: a * b, lambda ga, a, b: (ga * b, ga * a)),
    "div": (lambda a, b: a / b, lambda ga, a, b: (ga / b, -ga * a / (b * b))),
}


def _reduce_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Reference un-broadcast: sum leading dims, then dims that were 1."""
    while g.ndim > len(shape):
        g = g.sum(0)
    for i, s in enumerate(shape):
        if s == 1 and g.shape[i] != 1:
            g = g.sum(i, keepdims=True)
    return g


@settings(max_examples=60, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4),
    op=st.sampled_from(sorted(OPS)),
    seed=st.integers(0, 2**16),
)
def test_binary_broadcasting_forward_and_grad(shapes, op, seed) -> None:
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2, sa)
    b = rng.uniform(0.5, 2, sb)
    f, df = OPS[op]
    ta = ember.tensor(a, requires_grad=True)
    tb = ember.tensor(b, requires_grad=True)
    out = f(ta, tb)
    assert tuple(out.shape) == tuple(out_shape)
    np.testing.assert_allclose(out.detach().numpy(), f(a, b), rtol=1e-12)
    g = rng.uniform(-1, 1, out_shape)
    out.backward(ember.tensor(g))
    ga, gb = df(g, np.broadcast_to(a, out_shape), np.broadcast_to(b, out_shape))
    assert ta.grad.shape == ta.shape and tb.grad.shape == tb.shape
    np.testing.assert_allclose(ta.grad.numpy(), _reduce_to(ga, sa), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), _reduce_to(gb, sb), rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    da=st.sampled_from(["float32", "float64", "int64", "int32", "bool"]),
    db=st.sampled_from(["float32", "float64", "int64", "int32", "bool"]),
)
def test_promotion_matches_torch(shapes, da, db) -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: promotion check skipped")
    (sa, sb) = shapes.input_shapes
    a = np.ones(sa, dtype=da)
    b = np.ones(sb, dtype=db)
    e = ember.from_numpy(a) * ember.from_numpy(b)
    t = torch.from_numpy(a) * torch.from_numpy(b)
    assert str(e.dtype)[6:] == str(t.dtype)[6:]
    for scalar in (2, 2.5, True):
        e = ember.from_numpy(a) + scalar
        t = torch.from_numpy(a) + scalar
        assert str(e.dtype)[6:] == str(t.dtype)[6:], (da, scalar)


def test_broadcast_error_leaves_grads_untouched() -> None:
    a = ember.ones(2, 3, requires_grad=True)
    b = ember.ones(3, 3, requires_grad=True)
    (a * 2).sum().backward() if hasattr(a, "sum") else None
    before = None if a.grad is None else a.grad.numpy().copy()
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of "
                       r"tensor b \(3\) at non-singleton dimension 0"):
        a + b
    after = None if a.grad is None else a.grad.numpy()
    assert (before is None and after is None) or np.array_equal(before, after)
    assert b.grad is None
