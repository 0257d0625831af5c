"""The polynomial-fit tutorial variants and the character-level LSTM example run for real."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import ember
from ember.examples import char_lstm, polynomial

INIT = (0.3, -0.2, 0.1, 0.05)
INIT5 = INIT + (-0.01,)

VARIANTS = {
    "raw_tensors": (polynomial.raw_tensors, {}),
    "autograd_tensors": (polynomial.autograd_tensors, {}),
    "nn_sequential": (polynomial.nn_sequential, {}),
    "nn_optim_rmsprop": (polynomial.nn_optim, {}),
    "nn_optim_sgd": (polynomial.nn_optim, {"optimizer": "SGD", "lr": 1e-6}),
    "custom_module": (polynomial.custom_module, {}),
    "dynamic_net": (polynomial.dynamic_net, {"init": INIT5}),
}


def _run(name: str, lib, steps: int = 300, **kw):
    fn, extra = VARIANTS[name]
    args = {"init": INIT, **extra, **kw}
    return fn(lib, steps=steps, dtype=lib.float64, verbose=False, **args)


# ------------------------------------------------------------------------------ polynomial
@pytest.mark.parametrize("name", list(VARIANTS))
def test_polynomial_variant_matches_torch_float64(name: str) -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: comparison skipped")
    # RMSprop's normalised steps make this fit chaotic after ~170 steps: in torch alone, a
    # 1-ulp change of one starting value moves the loss at step 300 by 2e-4 (relative)
    steps = 150 if name == "nn_optim_rmsprop" else 300
    e = _run(name, ember, steps)
    t = _run(name, torch, steps)
    assert len(e["losses"]) == steps
    np.testing.assert_allclose(e["losses"], t["losses"], rtol=1e-5)
    np.testing.assert_allclose(e["coeffs"], t["coeffs"], rtol=1e-5, atol=1e-12)
    assert e["losses"][-1] < e["losses"][0]


def test_polynomial_float32_close_to_torch() -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: comparison skipped")
    e = polynomial.nn_sequential(ember, steps=200, init=INIT, verbose=False)
    t = polynomial.nn_sequential(torch, steps=200, init=INIT, verbose=False)
    np.testing.assert_allclose(e["losses"], t["losses"], rtol=1e-4)


def test_manual_gradients_equal_autograd() -> None:
    # torch-free: the hand-derived gradients and ember's autograd give the same trajectory
    raw = _run("raw_tensors", ember, steps=200)
    auto = _run("autograd_tensors", ember, steps=200)
    mod = _run("custom_module", ember, steps=200)
    seq = _run("nn_sequential", ember, steps=200)
    np.testing.assert_allclose(raw["losses"], auto["losses"], rtol=1e-12)
    np.testing.assert_allclose(raw["losses"], mod["losses"], rtol=1e-12)
    np.testing.assert_allclose(raw["losses"], seq["losses"], rtol=1e-9)
    np.testing.assert_allclose(raw["coeffs"], seq["coeffs"], rtol=1e-9, atol=1e-14)
    # the first loss is sum((p(x) - sin x)^2) for the fixed initial coefficients
    x = np.linspace(-math.pi, math.pi, 2000)
    a, b, c, d = INIT
    assert raw["losses"][0] == pytest.approx(((a + b * x + c * x**2 + d * x**3
                                               - np.sin(x)) ** 2).sum(), rel=1e-12)


@pytest.mark.parametrize("name", ["raw_tensors", "nn_optim_rmsprop"])
def test_polynomial_fit_is_close_to_least_squares(name: str) -> None:
    res = _run(name, ember, steps=2000, init=(0.0, 0.0, 0.0, 0.0))
    x = np.linspace(-math.pi, math.pi, 2000)
    feats = np.stack([x**0, x, x**2, x**3], 1)
    best, (best_loss,), _, _ = np.linalg.lstsq(feats, np.sin(x), rcond=None)
    losses = res["losses"]
    assert losses[0] == pytest.approx((np.sin(x) ** 2).sum())
    assert losses[-1] < 1.1 * best_loss, (losses[-1], best_loss)
    fit = feats @ np.array(res["coeffs"])
    assert np.abs(fit - np.sin(x)).max() < 0.25
    np.testing.assert_allclose(res["coeffs"][1], best[1], rtol=0.05)  # x coefficient ~0.857
    np.testing.assert_allclose(res["coeffs"][3], best[3], rtol=0.05)  # x^3 ~ -0.0933


def test_polynomial_prints_tutorial_lines(capsys) -> None:
    polynomial.autograd_tensors(steps=250, init=INIT)
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines[:2]] == ["99", "199"]
    assert all(re.fullmatch(r"\d+ \d+\.\d+(e[-+]\d+)?", ln) for ln in lines[:2]), lines
    num = r"-?\d+\.\d+(e[-+]\d+)?"
    assert re.fullmatch(rf"Result: y = {num} \+ {num} x \+ {num} x\^2 \+ {num} x\^3",
                        lines[2]), lines[2]
    assert len(lines) == 3


def test_polynomial_main_quick_runs_every_variant(capsys) -> None:
    results = polynomial.main(quick=True)
    out = capsys.readouterr().out
    assert len(results) == 6 and out.count("Result: y = ") == 6
    assert "x^4 ? +" in out  # the DynamicNet line
    for res in results.values():
        assert res["losses"][-1] < res["losses"][0]
        assert all(math.isfinite(v) for v in res["coeffs"])


def test_dynamic_net_is_reproducible_and_uses_both_depths() -> None:
    a = _run("dynamic_net", ember, steps=50)
    b = _run("dynamic_net", ember, steps=50)
    assert a["losses"] == b["losses"]
    c = polynomial.dynamic_net(ember, steps=50, dtype=ember.float64, init=INIT5, verbose=False,
                               seed=1)
    assert c["losses"] != a["losses"]  # another draw of 4th/5th order terms
    assert len(a["coeffs"]) == 5


# ------------------------------------------------------------------------------ char LSTM
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("char_lstm")
    return char_lstm.train(quick=True, out=str(out), quiet=True, sample_length=120)


def test_char_lstm_quick_run_learns(quick_run) -> None:
    loss = quick_run["loss"]
    vocab = quick_run["vocab"]
    assert len(loss) == 15
    assert loss[0] < math.log(len(vocab)) + 0.1  # starts near the uniform guess
    assert loss[-1] < loss[0] - 1.0, loss  # ~3.9 -> ~2.4 in the quick run
    assert all(b < a for a, b in zip(loss[1:], loss[2:])), loss
    assert quick_run["seconds"] < 30


def test_char_lstm_sample_length_and_alphabet(quick_run) -> None:
    text = char_lstm.load_text()
    s = quick_run["sample"]
    assert s.startswith("Alice") and len(s) == len("Alice") + 120
    assert set(s) <= set(text)
    model, vocab = quick_run["model"], quick_run["vocab"]
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    s1 = char_lstm.sample(model, vocab, "the ", 40, 0.5, g1)
    assert s1 == char_lstm.sample(model, vocab, "the ", 40, 0.5, g2)
    assert len(s1) == 44 and model.training
    with pytest.raises(ValueError, match="alphabet"):
        char_lstm.sample(model, vocab, "\u00e9t\u00e9", 5)
    with pytest.raises(ValueError, match="temperature"):
        char_lstm.sample(model, vocab, "A", 5, temperature=0.0)


def test_char_lstm_save_load_round_trip(quick_run) -> None:
    model, vocab = quick_run["model"], quick_run["vocab"]
    fresh, vocab2 = char_lstm.load_checkpoint(quick_run["weights"])
    assert vocab2.chars == vocab.chars
    assert list(fresh.state_dict()) == list(model.state_dict())
    x = vocab.encode("Down, down, down. Would the fall").unsqueeze(0)
    model.eval()
    fresh.eval()
    with ember.no_grad():
        a, (ha, ca) = model(x)
        b, (hb, cb) = fresh(x)
    model.train()
    assert a.shape == (1, x.shape[1], len(vocab))
    assert np.array_equal(a.numpy(), b.numpy())
    assert np.array_equal(ha.numpy(), hb.numpy()) and np.array_equal(ca.numpy(), cb.numpy())


def test_char_lstm_batchify_and_vocab() -> None:
    vocab = char_lstm.Vocab("hello world")
    assert vocab.chars == " dehlorw" and len(vocab) == 8
    ids = vocab.encode("hello world")
    assert ids.dtype == ember.int64 and vocab.decode(ids) == "hello world"
    data = char_lstm.batchify(ids, 2)
    assert tuple(data.shape) == (2, 5)
    assert vocab.decode(data[1]) == " worl"
    with pytest.raises(ValueError, match="too short"):
        char_lstm.batchify(ids, 8)


def test_char_lstm_steps_match_torch() -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: comparison skipped")
    text = char_lstm.load_text()[:1200]
    vocab = char_lstm.Vocab(text)
    ember.manual_seed(0)
    e_model = char_lstm.CharLSTM(len(vocab), 16, 32, num_layers=2)
    tnn = torch.nn

    class TorchCharLSTM(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = tnn.Embedding(len(vocab), 16)
            self.lstm = tnn.LSTM(16, 32, num_layers=2, batch_first=True)
            self.head = tnn.Linear(32, len(vocab))

        def forward(self, x, state=None):
            out, state = self.lstm(self.embed(x), state)
            return self.head(out), state

    t_model = TorchCharLSTM()
    assert list(e_model.state_dict()) == list(t_model.state_dict())
    assert repr(e_model).replace("CharLSTM", "X") == repr(t_model).replace("TorchCharLSTM", "X")
    e_model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    e_opt = ember.optim.Adam(e_model.parameters(), lr=5e-3)
    t_opt = torch.optim.Adam(t_model.parameters(), lr=5e-3)
    e_data = char_lstm.batchify(vocab.encode(text), 8)
    t_data = torch.from_numpy(e_data.numpy())
    e_losses = [char_lstm._epoch(e_model, e_opt, e_data, 24, 0.5) for _ in range(2)]

    # the same truncated-BPTT loop, written with torch
    t_losses = []
    for _ in range(2):
        state, total, count = None, 0.0, 0
        for start in range(0, t_data.shape[1] - 1, 24):
            stop = min(start + 24, t_data.shape[1] - 1)
            x, y = t_data[:, start:stop], t_data[:, start + 1:stop + 1]
            if state is not None:
                state = tuple(s.detach() for s in state)
            logits, state = t_model(x, state)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(vocab)),
                                                     y.reshape(-1))
            t_opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(t_model.parameters(), 0.5)
            t_opt.step()
            total += loss.item() * y.numel()
            count += y.numel()
        t_losses.append(total / count)
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-4)
    for (k, v), (k2, w) in zip(e_model.state_dict().items(), t_model.state_dict().items()):
        assert k == k2
        np.testing.assert_allclose(v.numpy(), w.numpy(), rtol=1e-3, atol=1e-4, err_msg=k)
