"""nn.RNN / LSTM / GRU and their cells: vs torch with copied weights, plus torch-free checks."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from ember.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

E_CLS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU, "RNNCell": RNNCell, "LSTMCell": LSTMCell,
         "GRUCell": GRUCell}
TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}


def _torch():
    return pytest.importorskip("torch", reason="torch is the reference for nn.RNN/LSTM/GRU")


def _pair(torch, name: str, args: tuple, kw: dict, dtype: type) -> tuple:
    tm = getattr(torch.nn, name)(*args, **kw)
    if dtype is np.float64:
        tm = tm.double()
    em = E_CLS[name](*args, **kw, dtype=ember.float64 if dtype is np.float64 else None)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, em


def _flat(out) -> list:
    if isinstance(out, tuple):
        return [t for o in out for t in _flat(o)]
    return [out]


def _check(torch, tm, em, inputs: list, dtype: type) -> None:
    """Forward values, then gradients of a random weighted sum w.r.t. inputs and parameters."""
    tin = [torch.tensor(a, requires_grad=True) for a in inputs]
    ein = [ember.tensor(a, requires_grad=True) for a in inputs]
    tout = _flat(tm(tin[0], *([tin[1]] if len(tin) == 2 else
                                [tuple(tin[1:])] if len(tin) == 3 else [])))
    eout = _flat(em(ein[0], *([ein[1]] if len(ein) == 2 else
                               [tuple(ein[1:])] if len(ein) == 3 else [])))
    assert len(tout) == len(eout)
    rng = np.random.default_rng(1)
    tl, el = 0, 0
    for t, e in zip(tout, eout):
        assert tuple(t.shape) == tuple(e.shape)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), **TOL[dtype])
        w = rng.standard_normal(tuple(t.shape)).astype(dtype)
        tl = tl + (t * torch.tensor(w)).sum()
        el = el + (e * ember.tensor(w)).sum()
    tl.backward()
    el.backward()
    for t, e in zip(tin, ein):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), **TOL[dtype])
    tp, ep = dict(tm.named_parameters()), dict(em.named_parameters())
    assert list(tp) == list(ep)
    for k in tp:
        np.testing.assert_allclose(ep[k].grad.numpy(), tp[k].grad.numpy(), **TOL[dtype],
                                   err_msg=k)


CASES = [
    ("RNN", (4, 5), {}),
    ("RNN", (4, 5, 2), {"nonlinearity": "relu", "bidirectional": True}),
    ("LSTM", (4, 5), {}),
    ("LSTM", (4, 5, 2), {"batch_first": True}),
    ("LSTM", (4, 5, 2), {"bidirectional": True}),
    ("LSTM", (4, 6), {"proj_size": 3, "num_layers": 2, "bidirectional": True}),
    ("LSTM", (4, 5), {"bias": False}),
    ("GRU", (4, 5), {}),
    ("GRU", (4, 5, 2), {"bidirectional": True, "batch_first": True}),
    ("GRU", (4, 5), {"bias": False}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,args,kw", CASES)
@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.filterwarnings("ignore:LSTM with projections")
def test_rnn_vs_torch(name, args, kw, dtype, with_h0):
    torch = _torch()
    torch.manual_seed(0)
    tm, em = _pair(torch, name, args, kw, dtype)
    rng = np.random.default_rng(0)
    t_len, batch = 6, 3
    shape = (batch, t_len, args[0]) if kw.get("batch_first") else (t_len, batch, args[0])
    inputs = [rng.standard_normal(shape).astype(dtype)]
    if with_h0:
        dirs = 2 if kw.get("bidirectional") else 1
        layers = args[2] if len(args) > 2 else kw.get("num_layers", 1)
        real_h = kw.get("proj_size") or args[1]
        inputs.append(rng.standard_normal((layers * dirs, batch, real_h)).astype(dtype))
        if name == "LSTM":
            inputs.append(rng.standard_normal((layers * dirs, batch, args[1])).astype(dtype))
    _check(torch, tm, em, inputs, dtype)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_unbatched_vs_torch(name, with_h0):
    torch = _torch()
    tm, em = _pair(torch, name, (3, 4, 2), {"bidirectional": True}, np.float64)
    rng = np.random.default_rng(2)
    inputs = [rng.standard_normal((5, 3))]
    if with_h0:
        inputs += [rng.standard_normal((4, 4)) for _ in range(2 if name == "LSTM" else 1)]
    _check(torch, tm, em, inputs, np.float64)


CELL_CASES = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("RNNCell", {"bias": False}),
              ("LSTMCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {}),
              ("GRUCell", {"bias": False})]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", CELL_CASES)
@pytest.mark.parametrize("mode", ["none", "h0", "unbatched"])
def test_cells_vs_torch(name, kw, dtype, mode):
    torch = _torch()
    tm, em = _pair(torch, name, (4, 5), kw, dtype)
    rng = np.random.default_rng(3)
    lead = () if mode == "unbatched" else (3,)
    inputs = [rng.standard_normal((*lead, 4)).astype(dtype)]
    if mode != "none":
        inputs += [rng.standard_normal((*lead, 5)).astype(dtype)
                   for _ in range(2 if name == "LSTMCell" else 1)]
    _check(torch, tm, em, inputs, dtype)


def test_state_dict_keys_and_repr_vs_torch():
    torch = _torch()
    for name, args, kw in CASES + [("LSTM", (10, 20), dict(num_layers=2, batch_first=True)),
                                   ("LSTM", (10, 20), dict(num_layers=2, dropout=0.5, bias=False,
                                                           proj_size=5, bidirectional=True)),
                                   ("RNNCell", (3, 4), dict(nonlinearity="relu", bias=False)),
                                   ("LSTMCell", (3, 4), {}), ("GRUCell", (3, 4), {})]:
        tm = getattr(torch.nn, name)(*args, **kw)
        em = E_CLS[name](*args, **kw)
        assert repr(em) == repr(tm)
        ts, es = tm.state_dict(), em.state_dict()
        assert list(ts) == list(es)
        for k in ts:
            assert tuple(ts[k].shape) == tuple(es[k].shape), k


def test_errors_match_torch():
    torch = _torch()
    bad = [
        lambda nn, T: nn.LSTM(3, 4)(T.randn(2, 2, 5)),
        lambda nn, T: nn.LSTM(3, 4)(T.randn(2, 2, 2, 3)),
        lambda nn, T: nn.GRU(3, 4)(T.randn(2, 2, 3), T.randn(1, 3, 4)),
        lambda nn, T: nn.LSTM(3, 4)(T.randn(2, 2, 3), (T.randn(1, 3, 4), T.randn(1, 2, 4))),
        lambda nn, T: nn.LSTM(3, 4)(T.randn(2, 2, 3), (T.randn(3, 4), T.randn(2, 4))),
        lambda nn, T: nn.RNN(3, 4)(T.randn(2, 3), T.randn(1, 1, 4)),
        lambda nn, T: nn.LSTM(3, 4)(T.randn(2, 2, 3).double()),
        lambda nn, T: nn.LSTMCell(3, 4)(T.randn(2, 5)),
        lambda nn, T: nn.LSTMCell(3, 4)(T.randn(2, 3), (T.randn(3, 4), T.randn(2, 4))),
        lambda nn, T: nn.GRUCell(3, 4)(T.randn(2, 3), T.randn(2, 5)),
        lambda nn, T: nn.RNNCell(3, 4)(T.randn(2, 2, 3)),
        lambda nn, T: nn.LSTM(3, 4, proj_size=4),
        lambda nn, T: nn.GRU(3, 4, proj_size=2),
        lambda nn, T: nn.RNN(3, 4, nonlinearity="gelu"),
        lambda nn, T: nn.LSTM(3, 4, dropout=1.5),
    ]
    for f in bad:
        with pytest.raises(Exception) as te:
            f(torch.nn, torch)
        with pytest.raises(type(te.value)) as ee:
            f(ember.nn.modules.rnn, ember)
        first = str(te.value).replace("torch.", "ember.").split(". ")[0]
        assert str(ee.value).startswith(first), (str(ee.value), str(te.value))


# ------------------------------------------------------------------ torch-free checks
def test_default_init_range_and_dtype():
    m = LSTM(3, 16, num_layers=2, bidirectional=True)
    bound = 1 / math.sqrt(16)
    for _, p in m.named_parameters():
        a = p.detach().numpy()
        assert a.dtype == np.float32 and np.abs(a).max() <= bound and a.std() > bound / 4
    assert len(list(m.parameters())) == 16
    assert m.weight_ih_l1.shape == (64, 32) and m.weight_hh_l0_reverse.shape == (64, 16)
    d = GRU(3, 4, dtype=ember.float64)
    assert all(p.dtype == ember.float64 for p in d.parameters())


def test_lstm_cell_hand_computed():
    cell = LSTMCell(1, 1)
    with ember.no_grad():
        for p in cell.parameters():
            p.fill_(0.5)
    h, c = cell(ember.tensor([[1.0]]), (ember.tensor([[2.0]]), ember.tensor([[3.0]])))
    pre = 0.5 * 1 + 0.5 * 2 + 1.0  # x*w_ih + h*w_hh + b_ih + b_hh = 2.5 for every gate
    s = 1 / (1 + math.exp(-pre))
    c_ref = s * 3 + s * math.tanh(pre)
    assert abs(c.item() - c_ref) < 1e-6
    assert abs(h.item() - s * math.tanh(c_ref)) < 1e-6


def test_gru_matches_manual_unroll_and_reverse():
    ember.manual_seed(0)
    g = GRU(2, 3, bidirectional=True, dtype=ember.float64)
    x = ember.randn(4, 1, 2, dtype=ember.float64)
    out, h_n = g(x)
    fw = GRUCell(2, 3, dtype=ember.float64)
    bw = GRUCell(2, 3, dtype=ember.float64)
    fw.load_state_dict({k[:-3]: v for k, v in g.state_dict().items() if k.endswith("_l0")})
    bw.load_state_dict({k[:-11]: v for k, v in g.state_dict().items()
                        if k.endswith("_l0_reverse")})
    h = ember.zeros(1, 3, dtype=ember.float64)
    for t in range(4):
        h = fw(x[t], h)
        np.testing.assert_allclose(out[t, :, :3].detach().numpy(), h.detach().numpy(), rtol=1e-12)
    hb = ember.zeros(1, 3, dtype=ember.float64)
    for t in reversed(range(4)):
        hb = bw(x[t], hb)
        np.testing.assert_allclose(out[t, :, 3:].detach().numpy(), hb.detach().numpy(),
                                   rtol=1e-12)
    np.testing.assert_allclose(h_n.detach().numpy(), np.stack([h.detach().numpy(), hb.detach().numpy()]).reshape(
        2, 1, 3), rtol=1e-12)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_gradcheck_float64(cls):
    ember.manual_seed(1)
    m = cls(2, 3, num_layers=2, bidirectional=True, dtype=ember.float64)
    x = ember.randn(3, 2, 2, dtype=ember.float64, requires_grad=True)
    params = list(m.parameters())[:3]

    def f(x, *ps):
        out = m(x)
        return out[0]

    assert ember.autograd.gradcheck(f, (x, *params))


def test_dropout_between_layers_train_vs_eval():
    ember.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = LSTM(3, 4, num_layers=2, dropout=0.5)
    x = ember.randn(5, 2, 3)
    m.eval()
    a, _ = m(x)
    b, _ = m(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    c, _ = m(x)
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())
    with pytest.warns(UserWarning, match="dropout option adds dropout"):
        LSTM(3, 4, dropout=0.5)


def test_exported_via_nn():
    if not hasattr(ember.nn, "LSTM"):
        pytest.skip("ember.nn does not star-import rnn yet")
    assert ember.nn.LSTM is LSTM and ember.nn.GRUCell is GRUCell
