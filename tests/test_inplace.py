"""In-place ops: version counters, views and CopySlices, saved-tensor checks, no_grad updates."""

from __future__ import annotations

import numpy as np
import pytest

import ember


def _both(fn):
    """Run ``fn(lib)`` on ember and (when installed) on torch; return both results."""
    out = [fn(ember)]
    try:
        import torch
    except ImportError:
        return out
    out.append(fn(torch))
    return out


def _np(t) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def test_version_counter_shared_with_views() -> None:
    x = ember.zeros(4)
    v = x[1:3]
    assert x._version == 0
    v.add_(1)
    assert x._version == 1 and v._version == 1
    x.mul_(2)
    assert v._version == 2
    np.testing.assert_array_equal(x.numpy(), [0, 2, 2, 0])


def test_inplace_on_nonleaf_records_node_and_grad() -> None:
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y.add_(1)
        y.pow_(2)
        name = y.grad_fn.name()
        y.sum().backward()
        return name, _np(x.grad)

    res = _both(run)
    assert res[0][0] == "PowBackward0"
    np.testing.assert_allclose(res[0][1], [12.0, 20.0, 28.0])
    for other in res[1:]:
        assert other[0] == res[0][0]
        np.testing.assert_allclose(other[1], res[0][1])


def test_write_through_view_rewires_base_with_copyslices() -> None:
    def run(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        w = lib.tensor([5.0, 6.0], requires_grad=True)
        y = x * 1
        y[0] = w * 3
        y[1].mul_(2)
        out = (y * y).sum()
        out.backward()
        return y.grad_fn.name(), _np(x.grad), _np(w.grad), _np(y)

    res = _both(run)
    np.testing.assert_allclose(res[0][1], [[0, 0], [24, 32]])
    np.testing.assert_allclose(res[0][2], [90, 108])
    for other in res[1:]:
        assert other[0] == res[0][0]
        for a, b in zip(other[1:], res[0][1:], strict=True):
            np.testing.assert_allclose(a, b)


def test_inplace_with_itself_as_other_raises_like_torch() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.mul_(y)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_modified_saved_tensor_raises_at_backward() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a * a
    a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()
    assert x.grad is None


def test_leaf_errors_and_no_grad_update() -> None:
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        w[0].mul_(2)
    np.testing.assert_array_equal(_np(w), [1.0, 2.0])
    w.grad = ember.tensor([0.5, 0.5])
    with ember.no_grad():
        w -= 0.1 * w.grad
        w.mul_(2)
    assert w.requires_grad and w.is_leaf and w.grad_fn is None
    np.testing.assert_allclose(_np(w), [1.9, 3.9], rtol=1e-6)
    assert w._version == 2


def test_dtype_and_shape_errors_leave_data_untouched() -> None:
    i = ember.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output "
                                           "type Long"):
        i.add_(1.5)
    with ember.no_grad(), pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        f = ember.ones(3)
        f.add_(ember.ones(2, 3))
    np.testing.assert_array_equal(i.numpy(), [1, 2, 3])
    np.testing.assert_array_equal(f.numpy(), [1, 1, 1])


def test_zero_fill_copy_names() -> None:
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        names = []
        for op in (lambda t: t.zero_(), lambda t: t.fill_(3.0),
                   lambda t: t.copy_(lib.tensor([7.0, 8.0]))):
            y = x * 1
            op(y)
            names.append(y.grad_fn.name())
        return names

    res = _both(run)
    assert res[0] == ["ZeroBackward0", "FillBackward2", "torch::autograd::CopyBackwards"]
    for other in res[1:]:
        assert other == res[0]
