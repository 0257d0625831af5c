"""The seed lesson (ember/examples/seed.py) prints exactly what the notebook printed.

Two checks: against pinned lines (no torch needed: the lesson's own output plus the lines of
its continuation), and against torch running the same code (``main(torch)``), after replacing
``torch.`` by ``ember.`` and masking object addresses.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import ember
from ember.examples import seed

# The notebook's printed cells (first block) and the lesson's continuation (second block).
EXPECTED = [
    "tensor([ 1.7603, -1.2176,  0.3986], requires_grad=True)",
    "tensor([3.7603, 0.7824, 2.3986], grad_fn=<AddBackward0>)",
    "<AddBackward0 object at 0x...>",
    "tensor([11.2808,  2.3471,  7.1957], grad_fn=<MulBackward0>)",
    "tensor([14.2808,  5.3471, 10.1957], grad_fn=<AddBackward0>)",
    "tensor([1., 1., 1.])",
    "tensor([-1.8002,  0.4505,  0.2386,  0.1756,  2.1282], requires_grad=True)",
    "tensor([-3686.8625,   922.6259,   488.6931,   359.5541,  4358.5483],",
    "       grad_fn=<MulBackward0>)",
    "ember.Size([5])",
    "tensor([2.0480e+02, 2.0480e+03, 2.0480e-01, 2.0480e+01, 2.0480e+00])",
    # continuation: stopping history, accumulating gradients, a hand-written optimiser step
    "False",
    "None",
    "True",
    "<SumBackward0 object at 0x...>",
    "False",
    "True",
    "False",
    "tensor([[ 0.5000, -1.5000],",
    "        [ 2.0000,  0.2500]])",
    "True",
    "False",
    "False",
    "tensor([3., 3., 3., 3.])",
    "tensor([3., 3., 3., 3.])",
    "tensor([3., 3., 3., 3.])",
    "tensor([0.9100, 0.9100, 0.9100, 0.9100], requires_grad=True)",
    "tensor(11.2800, grad_fn=<SumBackward0>)",
]

_ADDR = re.compile(r"0x[0-9a-fA-F]+")


def _normalise(text: str) -> list[str]:
    return [_ADDR.sub("0x...", line.replace("torch.", "ember.")) for line in text.splitlines()]


def _run(lib: ModuleType) -> list[str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        seed.main(lib)
    return _normalise(buf.getvalue())


def test_seed_lesson_pinned_lines() -> None:
    got = _run(ember)
    for i, (g, e) in enumerate(zip(got, EXPECTED, strict=False)):
        assert g == e, f"line {i + 1}: {g!r} != {e!r}"
    assert len(got) == len(EXPECTED)


def test_seed_lesson_matches_torch() -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: comparison skipped")
    want = _run(torch)
    assert want == EXPECTED, "the pinned lines no longer match torch"
    assert _run(ember) == want


def test_seed_lesson_main_defaults_to_ember() -> None:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        seed.main()
    assert _normalise(buf.getvalue()) == EXPECTED


def test_seed_lesson_runs_as_module() -> None:
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run([sys.executable, "-m", "ember.examples.seed"], capture_output=True,
                         text=True, timeout=120, check=False, cwd=root)
    assert res.returncode == 0, res.stderr
    assert _normalise(res.stdout) == EXPECTED
