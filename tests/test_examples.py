"""The examples run for real: the seed lesson (tests/test_seed_lesson.py) and the digits CNN."""

from __future__ import annotations

import os

import numpy as np
import pytest

import ember

pytest.importorskip("sklearn", reason="scikit-learn not installed (the examples extra): skipped")

from ember.examples import digits  # noqa: E402


def test_digits_reaches_97_percent_and_saves(tmp_path) -> None:
    hist = digits.train(epochs=10, out=str(tmp_path), quiet=True)
    assert hist["test_acc"][-1] >= 0.97, hist["test_acc"]
    assert hist["train_loss"][-1] < hist["train_loss"][0] / 5
    path = tmp_path / "digits_cnn.ember"
    assert path.exists()
    fresh = digits.DigitNet()
    fresh.load_state_dict(ember.load(str(path)))
    _, _, x_te, y_te = digits.load_digits(0)
    loss_a, acc_a = digits.evaluate(hist["model"], x_te, y_te)
    loss_b, acc_b = digits.evaluate(fresh, x_te, y_te)
    assert acc_a == acc_b and abs(loss_a - loss_b) < 1e-6
    if hist.get("plot"):
        assert os.path.getsize(hist["plot"]) > 1000


def test_digits_net_matches_torch_step_by_step() -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: comparison skipped")
    tnn = torch.nn

    class TorchNet(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = tnn.Sequential(
                tnn.Conv2d(1, 16, 3, padding=1), tnn.ReLU(),
                tnn.Conv2d(16, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2))
            self.classifier = tnn.Sequential(
                tnn.Flatten(), tnn.Linear(512, 64), tnn.ReLU(), tnn.Dropout(0.0),
                tnn.Linear(64, 10))

        def forward(self, x):
            return self.classifier(self.features(x))

    # float64: Adam divides by sqrt(v), so float32 rounding of near-zero gradients (which depends
    # on the BLAS's summation order) could flip a step's sign and make the comparison flaky
    e_net, t_net = digits.DigitNet().double(), TorchNet().double()
    e_net.classifier[3].p = 0.0
    assert list(e_net.state_dict()) == list(t_net.state_dict())
    assert repr(e_net).replace("DigitNet", "X") == repr(t_net).replace("TorchNet", "X")
    e_net.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_net.state_dict().items()})
    x_tr, y_tr, _, _ = digits.load_digits(0)
    x_tr = x_tr.double()
    e_opt = ember.optim.Adam(e_net.parameters(), lr=3e-3)
    t_opt = torch.optim.Adam(t_net.parameters(), lr=3e-3)
    for step in range(5):
        sl = slice(64 * step, 64 * (step + 1))
        xe, ye = x_tr[sl], y_tr[sl]
        xt, yt = torch.from_numpy(xe.numpy()), torch.from_numpy(ye.numpy())
        le = ember.nn.functional.cross_entropy(e_net(xe), ye)
        lt = torch.nn.functional.cross_entropy(t_net(xt), yt)
        np.testing.assert_allclose(le.item(), lt.item(), rtol=1e-9)
        e_opt.zero_grad()
        t_opt.zero_grad()
        le.backward()
        lt.backward()
        e_opt.step()
        t_opt.step()
    for (k, v), (_, w) in zip(e_net.state_dict().items(), t_net.state_dict().items(),
                              strict=True):
        np.testing.assert_allclose(v.numpy(), w.numpy(), rtol=1e-7, atol=1e-9, err_msg=k)
