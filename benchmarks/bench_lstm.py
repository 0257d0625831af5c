"""LSTM training step, ember vs torch side by side (issue 3 asks for the ratio).  Not a test.

Model: embedding-free char-LSTM shape, ``nn.LSTM(64, 128, num_layers=2, batch_first=True)`` +
``Linear(128, 65)``, float32, batch 32, sequence 32; forward, cross-entropy, backward, Adam step.
Same weights and data in both libraries, run alternately, medians and ratio ember/torch.  The
``ember-unfused`` column runs ember's per-step ember-op implementation (what float64 uses) to
show what the fused layer node buys::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_lstm.py [--repeats 30]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ember  # noqa: E402
from ember.nn.modules import _rnn_impl  # noqa: E402

try:
    import torch
except ImportError:  # ember alone
    torch = None

B, T, IN, H, V = 32, 32, 64, 128, 65


def make_step(lib: object, sd: dict, x: np.ndarray, y: np.ndarray) -> object:
    lstm = lib.nn.LSTM(IN, H, num_layers=2, batch_first=True)
    head = lib.nn.Linear(H, V)
    lstm.load_state_dict({k[5:]: lib.tensor(v) for k, v in sd.items() if k.startswith("lstm.")})
    head.load_state_dict({k[5:]: lib.tensor(v) for k, v in sd.items() if k.startswith("head.")})
    params = list(lstm.parameters()) + list(head.parameters())
    opt = lib.optim.Adam(params, lr=1e-3)
    xt, yt = lib.tensor(x), lib.tensor(y)

    def step() -> float:
        opt.zero_grad()
        out, _ = lstm(xt)
        loss = lib.nn.functional.cross_entropy(head(out).reshape(-1, V), yt.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()
    return step


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS threads for both libraries (default 1: on a shared 2-core machine "
                         "a second spinning BLAS thread makes small products 10x slower)")
    a = ap.parse_args()
    if torch is not None:
        torch.set_num_threads(a.threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(a.threads)
    except ImportError:
        print("threadpoolctl not installed: NumPy's BLAS keeps its default threads")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(B, T, IN)).astype(np.float32)
    y = rng.integers(0, V, (B, T))
    ember.manual_seed(0)
    ref = ember.nn.ModuleDict({"lstm": ember.nn.LSTM(IN, H, num_layers=2, batch_first=True),
                               "head": ember.nn.Linear(H, V)})
    sd = {k: v.numpy().copy() for k, v in ref.state_dict().items()}
    steps = {"ember": make_step(ember, sd, x, y)}
    fused = _rnn_impl.run_stack

    def unfused_step(step: object = make_step(ember, sd, x, y)) -> float:
        import ember.nn.modules._lstm_fused as lf

        orig = lf.lstm_layer
        lf.lstm_layer = lambda x, h, c, w, rev: _rnn_impl.run_layer("LSTM", x, h, c, w, rev, H)
        try:
            return step()
        finally:
            lf.lstm_layer = orig
    steps["ember-unfused"] = unfused_step
    if torch is not None:
        steps["torch"] = make_step(torch, sd, x, y)
    losses = {k: [f() for _ in range(3)][-1] for k, f in steps.items()}
    times: dict = {k: [] for k in steps}
    for _ in range(a.repeats):
        for k, f in steps.items():
            gc.collect()
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"LSTM(64->128, 2 layers) + Linear, float32, batch {B} x seq {T}, Adam step; medians "
          f"of {a.repeats}, {a.threads} BLAS thread(s)")
    for k, m in med.items():
        ratio = f"{m / med['torch']:.2f}x torch" if "torch" in med else ""
        print(f"  {k:<14} {m * 1e3:8.2f} ms  {ratio}   (loss after 3 steps {losses[k]:.4f})")
    assert fused is _rnn_impl.run_stack


if __name__ == "__main__":
    main()
