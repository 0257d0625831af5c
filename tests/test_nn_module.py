"""nn.Module bookkeeping: registration, iteration, state_dict, modes, hooks, containers."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn


def _build(lib):
    class Scale(lib.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.w = lib.nn.Parameter(lib.ones(n) * 2)
            self.register_buffer("count", lib.zeros(1))
            self.register_buffer("tmp", lib.zeros(1), persistent=False)

        def forward(self, x):
            return x * self.w

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = Scale(3)
            self.seq = lib.nn.Sequential(Scale(3), Scale(3))
            self.lst = lib.nn.ModuleList([Scale(3)])
            self.dct = lib.nn.ModuleDict({"k": Scale(3)})
            self.shared = self.a  # the same module twice: parameters listed once

        def forward(self, x):
            x = self.seq(self.a(x))
            return self.dct["k"](self.lst[0](x))

    return Net()


def test_registration_and_iteration() -> None:
    net = _build(ember)
    names = [n for n, _ in net.named_parameters()]
    assert names == ["a.w", "seq.0.w", "seq.1.w", "lst.0.w", "dct.k.w"]
    assert len(list(net.parameters())) == 5
    assert [n for n, _ in net.named_buffers()] == [
        "a.count", "a.tmp", "seq.0.count", "seq.0.tmp", "seq.1.count", "seq.1.tmp",
        "lst.0.count", "lst.0.tmp", "dct.k.count", "dct.k.tmp"]
    assert list(net.state_dict()) == [
        "a.w", "a.count", "seq.0.w", "seq.0.count", "seq.1.w", "seq.1.count",
        "lst.0.w", "lst.0.count", "dct.k.w", "dct.k.count", "shared.w", "shared.count"]
    assert [n for n, _ in net.named_modules()] == [
        "", "a", "seq", "seq.0", "seq.1", "lst", "lst.0", "dct", "dct.k"]
    assert [n for n, _ in net.named_children()] == ["a", "seq", "lst", "dct"]
    assert net.get_parameter("seq.1.w") is net.seq[1].w
    assert net.get_submodule("dct.k") is net.dct["k"]


def test_matches_torch_names_and_repr() -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: comparison skipped")
    e, t = _build(ember), _build(torch)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert repr(e) == repr(t)
    assert repr(nn.ModuleList([nn.Sequential(), nn.Sequential(), nn.Module()])) == repr(
        torch.nn.ModuleList([torch.nn.Sequential(), torch.nn.Sequential(), torch.nn.Module()]))
    p = nn.Parameter(ember.ones(2))
    assert str(p) == str(torch.nn.Parameter(torch.ones(2)))


def test_forward_train_eval_zero_grad() -> None:
    net = _build(ember)
    x = ember.ones(3)
    out = net(x)
    np.testing.assert_allclose(out.detach().numpy(), np.full(3, 32.0))
    out.sum().backward()
    assert net.a.w.grad is not None
    np.testing.assert_allclose(net.a.w.grad.numpy(), np.full(3, 16.0))
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_load_state_dict_all_or_nothing() -> None:
    net = _build(ember)
    sd = net.state_dict()
    before = {k: v.numpy().copy() for k, v in sd.items()}
    bad = OrderedDict((k, v * 3) for k, v in sd.items())
    bad["a.w"] = ember.ones(4)
    bad["extra"] = ember.ones(1)
    del bad["seq.0.count"]
    with pytest.raises(RuntimeError, match="Error\\(s\\) in loading state_dict for Net") as ei:
        net.load_state_dict(bad)
    msg = str(ei.value)
    assert 'Missing key(s) in state_dict: "seq.0.count"' in msg
    assert 'Unexpected key(s) in state_dict: "extra"' in msg
    assert "size mismatch for a.w" in msg
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])  # nothing half-loaded
    good = OrderedDict((k, v * 3) for k, v in sd.items())
    res = net.load_state_dict(good)
    assert repr(res) == "<All keys matched successfully>"
    np.testing.assert_allclose(net.a.w.detach().numpy(), np.full(3, 6.0))
    del good["a.count"]
    res = net.load_state_dict(good, strict=False)
    assert res.missing_keys == ["a.count"] and res.unexpected_keys == []


def test_forward_hooks_and_pre_hooks() -> None:
    net = _build(ember)
    calls = []
    h1 = net.a.register_forward_pre_hook(lambda m, args: (args[0] * 10,))
    h2 = net.a.register_forward_hook(lambda m, args, out: calls.append(tuple(out.shape)))
    out = net(ember.ones(3))
    np.testing.assert_allclose(out.detach().numpy(), np.full(3, 320.0))
    assert calls == [(3,)]
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(net(ember.ones(3)).detach().numpy(), np.full(3, 32.0))
    assert calls == [(3,)]


def test_full_backward_hook_sees_and_replaces_grads() -> None:
    class Lin(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(ember.tensor([1.0, 2.0, 3.0]))

        def forward(self, x):
            return x * self.w

    m = Lin()
    seen = {}

    def hook(mod, gin, gout):
        seen["gin"] = gin[0].numpy().copy()
        seen["gout"] = gout[0].numpy().copy()
        return (gin[0] * 0,)

    m.register_full_backward_hook(hook)
    x = ember.ones(3, requires_grad=True)
    (m(x) * 2).sum().backward()
    np.testing.assert_allclose(seen["gout"], [2.0, 2.0, 2.0])
    np.testing.assert_allclose(seen["gin"], [2.0, 4.0, 6.0])
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(m.w.grad.numpy(), [2.0, 2.0, 2.0])


def test_setattr_rules_and_errors() -> None:
    m = nn.Module()
    m.p = nn.Parameter(ember.ones(1))
    assert "p" in m._parameters
    with pytest.raises(TypeError, match="cannot assign"):
        m.p = ember.ones(1)
    m.p = None
    assert m.p is None

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.ones(1))

    with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__"):
        Early()
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", ember.ones(1))


def test_deepcopy_and_sequential_ops() -> None:
    net = _build(ember)
    c = copy.deepcopy(net)
    assert c.a.w is not net.a.w
    np.testing.assert_array_equal(c.a.w.detach().numpy(), net.a.w.detach().numpy())
    assert c.shared is c.a
    s = nn.Sequential(nn.Module(), nn.Module(), nn.Module())
    assert len(s[1:]) == 2 and isinstance(s[-1], nn.Module)
    del s[0]
    assert list(s._modules) == ["0", "1"]
    net.double()
    assert net.a.w.dtype == ember.float64 and net.a.count.dtype == ember.float64
