"""LeNet-style CNN training step on 28x28 inputs, batch 32: ember vs torch side by side.

conv(1->6, 5x5) relu maxpool2 conv(6->16, 5x5) relu maxpool2 flatten linear(256->120) relu
linear(120->84) relu linear(84->10) cross-entropy, backward, SGD step.  Same weights and data in
both libraries; the two run alternately, repeat by repeat, and the medians are printed with the
ratio ember/torch (target <= 1.0).  Not a test::

    python benchmarks/bench_cnn.py [--repeats 200] [--threads N]
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

try:
    import torch
except ImportError:  # ember alone
    torch = None

SHAPES = [("c1w", (6, 1, 5, 5)), ("c1b", (6,)), ("c2w", (16, 6, 5, 5)), ("c2b", (16,)),
          ("f1w", (120, 256)), ("f1b", (120,)), ("f2w", (84, 120)), ("f2b", (84,)),
          ("f3w", (10, 84)), ("f3b", (10,))]


def make_step(lib: object, init: dict, x: np.ndarray, y: np.ndarray) -> object:
    """A closure doing one forward + backward + SGD step of the CNN in ``lib``."""
    F = lib.nn.functional
    p = {k: lib.tensor(v, requires_grad=True) for k, v in init.items()}
    xt, yt = lib.tensor(x), lib.tensor(y)
    opt = lib.optim.SGD(list(p.values()), lr=0.01)
    ce = getattr(F, "cross_entropy", None)

    def loss_fn(logits: object) -> object:
        if ce is not None:
            return ce(logits, yt)
        return -logits.log_softmax(1).gather(1, yt.unsqueeze(1)).mean()

    def step() -> float:
        h = F.max_pool2d(F.conv2d(xt, p["c1w"], p["c1b"]).relu(), 2)
        h = F.max_pool2d(F.conv2d(h, p["c2w"], p["c2b"]).relu(), 2)
        h = h.flatten(1)
        h = (h @ p["f1w"].T + p["f1b"]).relu()
        h = (h @ p["f2w"].T + p["f2b"]).relu()
        loss = loss_fn(h @ p["f3w"].T + p["f3b"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's)")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    init = {k: (rng.standard_normal(s) * 0.1).astype(np.float32) for k, s in SHAPES}
    x = rng.standard_normal((32, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    libs = [("ember", ember)] + ([("torch", torch)] if torch is not None else [])
    if torch is not None and args.threads:
        torch.set_num_threads(args.threads)
    steps = {name: make_step(lib, init, x, y) for name, lib in libs}
    losses = {name: [s() for _ in range(3)] for name, s in steps.items()}  # warm up
    if torch is not None:
        print(f"losses after 3 steps: ember {losses['ember'][-1]:.6f} "
              f"torch {losses['torch'][-1]:.6f}")
    gc.collect()
    gc.freeze()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.repeats):
        for name, s in steps.items():
            t = time.perf_counter()
            s()
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"LeNet step (batch 32, 28x28, float32): ember {med['ember'] * 1e3:.3f} ms", end="")
    if torch is not None:
        r = med["ember"] / med["torch"]
        print(f" | torch {med['torch'] * 1e3:.3f} ms ({torch.get_num_threads()} threads) | "
              f"ratio {r:.2f}x (target <= 1.0x) {'OK' if r <= 1.0 else 'SLOW'}")
    else:
        print()


if __name__ == "__main__":
    main()
