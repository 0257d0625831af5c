"""nn.LSTM in float32 runs each layer as one fused node (MkldnnRnnLayerBackward0, as torch's
CPU kernel); float64 and projections use the per-step ops (StackBackward0, as torch)."""

from __future__ import annotations

import numpy as np
import pytest

import ember

CONFIGS = [
    dict(input_size=3, hidden_size=5),
    dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=True, batch_first=True),
    dict(input_size=3, hidden_size=4, bias=False),
    dict(input_size=2, hidden_size=4, num_layers=3),
]


def _run(lib, sd, x, hx, kw, dtype):
    m = lib.nn.LSTM(**kw).to(dtype)
    m.load_state_dict({k: lib.tensor(v, dtype=dtype) for k, v in sd.items()})
    xt = lib.tensor(x, dtype=dtype, requires_grad=True)
    h = None if hx is None else tuple(lib.tensor(a, dtype=dtype, requires_grad=True) for a in hx)
    o, (hn, cn) = m(xt, h)
    ((o * o).sum() + (hn ** 3).sum() + (cn * 2).sum()).backward()
    grads = [xt.grad] + [p.grad for p in m.parameters()] + ([t.grad for t in h] if h else [])
    names = (o.grad_fn.name(), hn.grad_fn.name(), cn.grad_fn.name())
    return o.detach().numpy(), [g.numpy() for g in grads], names


def _reference(kw, seed=0):
    ember.manual_seed(seed)
    m = ember.nn.LSTM(**kw).double()
    return {k: v.numpy().copy() for k, v in m.state_dict().items()}


@pytest.mark.parametrize("kw", CONFIGS)
@pytest.mark.parametrize("with_state", [False, True])
def test_fused_float32_matches_float64_per_step_path(kw, with_state):
    sd = _reference(kw)
    rng = np.random.default_rng(1)
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    x = rng.normal(size=(2, 6, kw["input_size"]) if kw.get("batch_first")
                   else (6, 2, kw["input_size"]))
    hx = None if not with_state else tuple(rng.normal(size=(layers, 2, kw["hidden_size"]))
                                           for _ in range(2))
    o32, g32, names32 = _run(ember, sd, x, hx, kw, ember.float32)
    o64, g64, names64 = _run(ember, sd, x, hx, kw, ember.float64)
    assert np.allclose(o32, o64, atol=1e-5)
    for a, b in zip(g32, g64, strict=True):
        assert a.dtype == np.float32 and np.allclose(a, b, atol=2e-4, rtol=1e-4)
    if not kw.get("batch_first") and not kw.get("bidirectional"):
        assert names32[0] == "MkldnnRnnLayerBackward0" and names64[0] == "StackBackward0"
    assert names32[1:] == names64[1:] == ("StackBackward0", "StackBackward0")


@pytest.mark.parametrize("kw", CONFIGS)
def test_fused_node_names_and_values_as_torch(kw):
    torch = pytest.importorskip("torch", reason="torch (the test oracle) is not installed")
    sd = _reference(kw, 3)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, kw["input_size"]) if kw.get("batch_first")
                   else (5, 2, kw["input_size"]))
    e = _run(ember, sd, x, None, kw, ember.float32)
    t = _run(torch, sd, x, None, kw, torch.float32)
    assert e[2] == t[2]
    assert np.allclose(e[0], t[0], atol=1e-5)
    for a, b in zip(e[1], t[1], strict=True):
        assert np.allclose(a, b, atol=1e-4, rtol=1e-4)
    m = torch.nn.LSTM(**kw)
    o, _ = m(torch.zeros(x.shape))
    me = ember.nn.LSTM(**kw)
    oe, _ = me(ember.zeros(x.shape))
    node_t, node_e = o.grad_fn, oe.grad_fn
    while node_t.name() != "MkldnnRnnLayerBackward0" and node_t.next_functions:
        node_t, node_e = node_t.next_functions[0][0], node_e.next_functions[0][0]
    assert node_e.name() == node_t.name()
    assert [n is None for n, _ in node_e.next_functions] == \
        [n is None for n, _ in node_t.next_functions]


def test_fused_layer_double_backward_replays_with_ember_ops():
    kw = dict(input_size=2, hidden_size=3)
    sd = _reference(kw)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 2, 2))
    outs = {}
    for dt in (ember.float32, ember.float64):
        m = ember.nn.LSTM(**kw).to(dt)
        m.load_state_dict({k: ember.tensor(v, dtype=dt) for k, v in sd.items()})
        xt = ember.tensor(x, dtype=dt, requires_grad=True)
        o, _ = m(xt)
        (gx,) = ember.autograd.grad((o ** 2).sum(), xt, create_graph=True)
        (ggx,) = ember.autograd.grad((gx ** 2).sum(), xt)
        outs[dt] = (gx.detach().numpy(), ggx.numpy())
    assert np.allclose(outs[ember.float32][0], outs[ember.float64][0], atol=1e-5)
    assert np.allclose(outs[ember.float32][1], outs[ember.float64][1], atol=1e-4)


def test_fused_layer_retain_graph_freed_graph_and_version_errors():
    ember.manual_seed(0)
    m = ember.nn.LSTM(3, 4)
    x = ember.randn(5, 2, 3, requires_grad=True)
    o, _ = m(x)
    s = o.sum()
    s.backward(retain_graph=True)
    g1 = x.grad.clone()
    s.backward()
    assert np.allclose(x.grad.numpy(), 2 * g1.numpy())
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        s.backward()
    o, _ = m(x)
    with ember.no_grad():
        m.weight_hh_l0.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
        o.sum().backward()
    # the fused node names the user's line that created it
    assert "MkldnnRnnLayerBackward0 was created at" in str(info.value)
    assert "test_lstm_fused.py" in str(info.value)


def test_bias_gradients_do_not_share_memory():
    m = ember.nn.LSTM(3, 4)
    o, _ = m(ember.randn(5, 2, 3))
    o.sum().backward()
    a, b = m.bias_ih_l0.grad, m.bias_hh_l0.grad
    assert np.array_equal(a.numpy(), b.numpy())
    a.add_(1.0)
    assert not np.array_equal(a.numpy(), b.numpy())


def test_no_grad_forward_builds_no_node():
    m = ember.nn.LSTM(3, 4)
    with ember.no_grad():
        o, (h, c) = m(ember.randn(5, 2, 3))
    assert o.grad_fn is None and h.grad_fn is None and not o.requires_grad
