"""Anomaly mode: NaN in backward names the node and the user's forward line."""

import warnings

import pytest

import ember
from ember.autograd import anomaly_mode as am
from ember.autograd import engine

wired = pytest.mark.skipif(
    not hasattr(engine, "ANOMALY"),
    reason="engine/_core anomaly hooks not wired yet (see issue 4 report)",
)


def test_switches():
    assert not am.is_anomaly_enabled()
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with am.detect_anomaly(check_nan=False):
            assert am.is_anomaly_enabled() and not am.is_anomaly_check_nan_enabled()
    assert not am.is_anomaly_enabled() and am.is_anomaly_check_nan_enabled()
    am.set_detect_anomaly(True)
    assert am.is_anomaly_enabled()
    am.set_detect_anomaly(False)
    assert not am.is_anomaly_enabled()


def test_capture_skips_ember_frames():
    tr = am.capture()
    assert tr[-1][2] == "test_capture_skips_ember_frames"
    assert "test_anomaly.py" in am.format_trace(tr)


@wired
def test_nan_raises_with_forward_line():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with am.detect_anomaly():
            y = x.sqrt() * ember.tensor([0.0, 1.0])  # FORWARD-LINE
            with pytest.raises(RuntimeError) as ei:
                y.sum().backward()
    msg = str(ei.value)
    assert msg.startswith("Function 'SqrtBackward0' returned nan values in its 0th output.")
    assert "FORWARD-LINE" in msg
    assert x.grad is None


@wired
def test_no_check_without_anomaly():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    (x.sqrt() * ember.tensor([0.0, 1.0])).sum().backward()
    assert bool(ember.isnan(x.grad).any())
