"""ember.utils.checkpoint: recomputation gives the same gradients and lower peak memory."""

import tracemalloc
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.utils.checkpoint import checkpoint, checkpoint_sequential


def _mlp(seed=0, p=0.0, depth=4, width=8):
    ember.manual_seed(seed)
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.Tanh(), nn.Dropout(p)]
    return nn.Sequential(*layers).double()


@pytest.mark.parametrize("reentrant", [False, True])
@pytest.mark.parametrize("p", [0.0, 0.5])
def test_same_grads(reentrant, p):
    x0 = ember.randn(5, 8, dtype=ember.float64)
    grads = []
    for use_ckpt in (False, True):
        m = _mlp(p=p)
        x = x0.clone().requires_grad_()
        ember.manual_seed(7)
        if use_ckpt:
            y = checkpoint_sequential(m, 3, x, use_reentrant=reentrant)
        else:
            y = m(x)
        (y ** 2).sum().backward()
        grads.append([x.grad.numpy()] + [q.grad.numpy() for q in m.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_grad_api_sees_parameters_non_reentrant():
    lin = nn.Linear(3, 3).double()
    x = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    y = checkpoint(lin, x, use_reentrant=False)
    assert y.grad_fn.name() == "CheckpointFunctionBackward"
    gw, gx = ember.autograd.grad(y.sum(), (lin.weight, x))
    y2 = lin(x)
    ew, ex = ember.autograd.grad(y2.sum(), (lin.weight, x))
    np.testing.assert_allclose(gw.numpy(), ew.numpy())
    np.testing.assert_allclose(gx.numpy(), ex.numpy())


def test_warning_and_errors():
    x = ember.randn(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        checkpoint(lambda t: t * 2, x)
    assert any("use_reentrant parameter should be passed explicitly" in str(i.message) for i in w)
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        checkpoint(lambda t: t, x, use_reentrant=False, determinism_check="x")
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint(lambda t: t, x, use_reentrant=True, foo=1)
    assert checkpoint(lambda t: 3, x, use_reentrant=False) == 3  # non-tensor passes, like torch
    out = checkpoint(lambda t: (t * 2, "tag"), x, use_reentrant=False)
    assert out[1] == "tag"
    out[0].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def _peak(use_ckpt, reentrant=False):
    """Peak traced memory of forward and of forward+backward on a deep MLP whose activations
    (2048 x 128 per layer) dominate its weights, as in real training."""
    ember.manual_seed(0)
    m = nn.Sequential(*[nn.Sequential(nn.Linear(128, 128), nn.Tanh()) for _ in range(16)])
    x = ember.randn(2048, 128, requires_grad=True)
    tracemalloc.start()
    y = checkpoint_sequential(m, 4, x, use_reentrant=reentrant) if use_ckpt else m(x)
    _, peak_fwd = tracemalloc.get_traced_memory()
    y.sum().backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak_fwd, peak


@pytest.mark.parametrize("reentrant", [False, True])
def test_peak_memory_lower(reentrant):
    fwd_plain, plain = _peak(False)
    fwd_ck, ck = _peak(True, reentrant)
    assert fwd_ck < 0.6 * fwd_plain  # only segment inputs + the last segment are kept
    assert ck < 0.75 * plain  # backward recomputes one segment at a time: whole run lower too
