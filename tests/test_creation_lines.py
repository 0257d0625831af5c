"""Creation lines: every backward error names the user's line that created the failing node.

Beyond torch (which does this only in anomaly mode): each recorded node keeps the code object and
instruction offset of the first frame outside ember, and an error raised while that node runs in
backward gets one more line, ``The failing node MulBackward0 was created at File "...", line N,
in f: <source>``.  torch's exception class and first sentence stay as they are.  No frame is kept,
so a forward function's locals are freed as soon as it returns.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import warnings
import weakref

import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import anomaly_mode as am

HERE = __file__


def _line(marker: str) -> int:
    """Line number of the only code line (no quotes on it) of this file containing ``marker``."""
    with open(HERE) as f:
        hits = [i for i, ln in enumerate(f, 1) if marker in ln and '"' not in ln]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


def _site(node: str, marker: str, func: str, src: str) -> str:
    return (f'The failing node {node} was created at File "{HERE}", line {_line(marker)}, in '
            f"{func}: {src}")


@pytest.fixture(autouse=True)
def _lines_on():
    prev = ember.autograd.set_record_creation_lines(True)
    yield
    ember.autograd.set_record_creation_lines(prev)


_VERSION = (
    "one of the variables needed for gradient computation has been modified by an inplace "
    "operation:"
)
_FREED = "Trying to backward through the graph a second time"


def test_version_error_names_the_line() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    w = ember.tensor([3.0, 4.0], requires_grad=True)
    y = x * w  # MARK-MUL
    with ember.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    msg = str(info.value)
    assert msg.startswith(_VERSION)
    assert msg.splitlines()[-1] == _site("MulBackward0", "MARK-MUL",
                                         "test_version_error_names_the_line",
                                         "y = x * w  # MARK-MUL")
    assert x.grad is None and w.grad is None


def test_version_error_of_a_saved_output() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # MARK-EXP-OUT
    y.add_(1)
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    assert str(info.value).startswith(_VERSION)
    assert str(info.value).splitlines()[-1] == _site(
        "ExpBackward0", "MARK-EXP-OUT", "test_version_error_of_a_saved_output",
        "y = x.exp()  # MARK-EXP-OUT")


def test_freed_graph_error_names_the_line() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    z = (x * 2).tanh()  # MARK-TANH
    s = z.sum()
    s.backward()
    with pytest.raises(RuntimeError) as info:
        s.backward()
    msg = str(info.value)
    assert msg.startswith(_FREED)
    assert msg.splitlines()[-1] == _site("TanhBackward0", "MARK-TANH",
                                         "test_freed_graph_error_names_the_line",
                                         "z = (x * 2).tanh()  # MARK-TANH")


def test_freed_graph_error_in_autograd_grad() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * x  # MARK-GRAD
    ember.autograd.grad(y.sum(), x)
    with pytest.raises(RuntimeError) as info:
        ember.autograd.grad(y.sum(), x)
    assert str(info.value).startswith(_FREED)
    want = f"line {_line('MARK-GRAD')}, in test_freed_graph_error_in_autograd_grad"
    assert want in str(info.value)


class _Bad(ember.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        return ember.ones(5)


def test_custom_function_invalid_gradient_names_the_line() -> None:
    x = ember.ones(3, requires_grad=True)
    y = _Bad.apply(x)  # MARK-APPLY
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    msg = str(info.value)
    assert msg.startswith("Function _BadBackward returned an invalid gradient at index 0 - got [5] "
                          "but expected shape compatible with [3]")
    assert msg.splitlines()[-1] == _site("_BadBackward", "MARK-APPLY",
                                         "test_custom_function_invalid_gradient_names_the_line",
                                         "y = _Bad.apply(x)  # MARK-APPLY")


def test_hook_changing_the_size_names_the_line() -> None:
    x = ember.ones(3, requires_grad=True)
    y = x * 3  # MARK-HOOKED
    y.register_hook(lambda g: ember.ones(2))
    with pytest.raises(RuntimeError, match="^hook '<lambda>' has changed the size of value") as i:
        y.sum().backward()
    assert f"line {_line('MARK-HOOKED')}" in str(i.value).splitlines()[-1]


def test_node_post_hook_changing_the_size_raises_like_torch() -> None:
    x = ember.ones(3, requires_grad=True)
    w = ember.ones(3, requires_grad=True)
    y = x * w  # MARK-POST
    y.grad_fn.register_hook(lambda gi, go: (ember.ones(2), gi[1]))
    with pytest.raises(RuntimeError, match="^hook '<lambda>' has changed the size of value") as i:
        y.sum().backward()
    assert f"line {_line('MARK-POST')}" in str(i.value)
    assert x.grad is None
    y2 = x * w
    y2.grad_fn.register_hook(lambda gi, go: (gi[0],))
    with pytest.raises(RuntimeError, match="^hook '<lambda>' has returned an incorrect number of "
                                           r"values \(got 1, but expected 2\)"):
        y2.sum().backward()


def test_line_inside_a_module_is_the_users_call() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    x = ember.ones(2, 3)
    out = model(x)  # MARK-MODEL
    with ember.no_grad():
        out.add_(1)  # tanh saved its output
    with pytest.raises(RuntimeError) as info:
        out.sum().backward()
    last = str(info.value).splitlines()[-1]
    assert last.startswith("The failing node TanhBackward0 was created at")
    assert f"line {_line('MARK-MODEL')}, in test_line_inside_a_module_is_the_users_call" in last


def test_other_exceptions_get_a_note() -> None:
    x = ember.ones(2, requires_grad=True)
    y = x * 2  # MARK-NOTE

    def hook(g):
        raise ValueError("from the hook")

    y.register_hook(hook)
    with pytest.raises(ValueError) as info:
        y.sum().backward()
    assert str(info.value) == "from the hook"
    assert any(f"line {_line('MARK-NOTE')}" in n for n in info.value.__notes__)


def test_switched_off_nothing_is_recorded_or_appended() -> None:
    assert ember.autograd.set_record_creation_lines(False) is True
    assert not ember.autograd.is_record_creation_lines_enabled()
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    assert y.grad_fn._at is None
    y.add_(1)
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    assert "was created at" not in str(info.value)
    ember.autograd.set_record_creation_lines(True)
    y = x.exp()
    code, offset = y.grad_fn._at
    assert code is sys._getframe().f_code and isinstance(offset, int)


def test_environment_variable_turns_it_off() -> None:
    env = dict(os.environ, EMBER_RECORD_LINES="0")
    root = os.path.dirname(os.path.dirname(os.path.abspath(HERE)))
    out = subprocess.run(
        [sys.executable, "-c",
         "import ember; print(ember.autograd.is_record_creation_lines_enabled())"],
        cwd=root, env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False"]


def _forward_with_a_big_local() -> tuple:
    big = np.ones(1_000_000)
    ref = weakref.ref(big)
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).exp() * ember.tensor(big[:2].astype(np.float32))  # MARK-FWD
    return y, ref, x


def test_no_frame_or_local_is_kept_alive() -> None:
    y, ref, x = _forward_with_a_big_local()
    assert ref() is None  # freed by reference counting when the function returned
    gc.collect()
    assert ref() is None
    at = y.grad_fn._at
    assert type(at) is tuple and len(at) == 2 and at[0].co_name == "_forward_with_a_big_local"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([2.0, 4.0]), rtol=1e-6)


def test_anomaly_mode_keeps_warning_and_adds_the_line() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ember.autograd.detect_anomaly(check_nan=False):
            y = x.exp()  # MARK-ANOMALY
            y.add_(1)
            with pytest.warns(UserWarning, match="Error detected in ExpBackward0"):
                with pytest.raises(RuntimeError) as info:
                    y.sum().backward()
    assert str(info.value).splitlines()[-1] == _site(
        "ExpBackward0", "MARK-ANOMALY", "test_anomaly_mode_keeps_warning_and_adds_the_line",
        "y = x.exp()  # MARK-ANOMALY")
    assert am.REC[0] == 1  # back to lines only


def test_annotated_once_through_nested_backward() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * x  # MARK-ONCE
    y.sum().backward()
    for _ in range(2):
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
        assert str(info.value).count("was created at") == 1


def _ops_in_thread_a(x: ember.Tensor, out: list) -> None:
    for _ in range(300):
        out.append((x * 2).grad_fn)


def _ops_in_thread_b(x: ember.Tensor, out: list) -> None:
    for _ in range(300):
        out.append((x + 1).tanh().grad_fn)


def test_threads_record_their_own_lines() -> None:
    import threading

    x = ember.ones(2, requires_grad=True)
    got_a: list = []
    got_b: list = []
    ts = [threading.Thread(target=_ops_in_thread_a, args=(x, got_a)),
          threading.Thread(target=_ops_in_thread_b, args=(x, got_b))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert {n._at[0].co_name for n in got_a} == {"_ops_in_thread_a"}
    assert {n._at[0].co_name for n in got_b} == {"_ops_in_thread_b"}
