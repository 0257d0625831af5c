"""Train a small CNN on scikit-learn's 8x8 handwritten digits (no download needed).

    python -m ember.examples.digits [--epochs 15] [--out runs/digits]
    mpirun -n 2 python -m ember.examples.digits --distributed     # data parallel over MPI

The script is plain PyTorch code with ``import ember as torch``: a ``TensorDataset`` and
``DataLoader``, an ``nn.Sequential`` CNN, ``Adam``, cross-entropy; it prints a progress bar,
then saves a loss/accuracy plot (PNG, if matplotlib is installed) and the trained weights
(``ember.save``).  Needs the ``examples`` extra: ``pip install -e '.[examples]'``.

With ``--distributed`` (under ``mpirun``; needs the ``distributed`` extra) every rank trains a
replica wrapped in ``DistributedDataParallel`` on its own share of each epoch
(``DistributedSampler``); the global batch stays ``--batch-size``, so the run reaches the same
accuracy, and rank 0 prints, plots and saves.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.utils.data import DataLoader, TensorDataset


def load_digits(seed: int = 0, test_fraction: float = 0.2) -> tuple:
    """The digits as (N, 1, 8, 8) float32 images in [0, 1] and int64 labels, split in two."""
    try:
        from sklearn.datasets import load_digits as sk_load
    except ImportError:  # pragma: no cover - depends on the environment
        sys.exit("this example needs scikit-learn: pip install -e '.[examples]'")
    data = sk_load()
    x = (data.images / 16.0).astype(np.float32)[:, None, :, :]
    y = data.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return (torch.from_numpy(x[train]), torch.from_numpy(y[train]),
            torch.from_numpy(x[test]), torch.from_numpy(y[test]))


class DigitNet(nn.Module):
    """conv(1->16) relu conv(16->32) relu maxpool flatten linear(512->64) relu linear(64->10)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, 64),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(64, 10),
        )

    def forward(self, x: Any) -> Any:
        return self.classifier(self.features(x))


def _bar(done: int, total: int, width: int = 28) -> str:
    filled = int(width * done / max(total, 1))
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total}"


def evaluate(model: nn.Module, x: Any, y: Any) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on (x, y), in eval mode without grad."""
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = F.cross_entropy(logits, y).item()
        acc = (logits.argmax(dim=1) == y).float().mean().item()
    model.train()
    return loss, acc


def train(epochs: int = 15, batch_size: int = 64, lr: float = 3e-3, seed: int = 0,
          out: str | None = "runs/digits", quiet: bool = False,
          distributed: bool = False) -> dict:
    """Train and return the history (train loss, test loss, test accuracy per epoch)."""
    torch.manual_seed(seed)
    x_tr, y_tr, x_te, y_te = load_digits(seed)
    train_set = TensorDataset(x_tr, y_tr)
    rank, world, sampler = 0, 1, None
    if distributed:
        import ember.distributed as dist
        from ember.nn.parallel import DistributedDataParallel
        from ember.utils.data.distributed import DistributedSampler

        if not dist.is_initialized():
            dist.init_process_group("mpi")
        rank, world = dist.get_rank(), dist.get_world_size()
        sampler = DistributedSampler(train_set, seed=seed)
        loader = DataLoader(train_set, batch_size=max(1, batch_size // world), sampler=sampler)
        net = DigitNet()
        model: Any = DistributedDataParallel(net)  # rank 0's initial weights everywhere
        quiet = quiet or rank != 0
        out = out if rank == 0 else None
    else:
        loader = DataLoader(train_set, batch_size=batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(seed))
        model = net = DigitNet()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    hist: dict = {"train_loss": [], "test_loss": [], "test_acc": []}
    tty = sys.stderr.isatty() and not quiet
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
        total, n = 0.0, 0
        for i, (xb, yb) in enumerate(loader, 1):
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            n += len(yb)
            if tty:
                print(f"\repoch {epoch:2d}/{epochs} {_bar(i, len(loader))} loss {total / n:.4f}",
                      end="", file=sys.stderr, flush=True)
        if world > 1:  # the mean training loss over every rank's samples
            sums = torch.tensor([total, float(n)], dtype=torch.float64)
            dist.all_reduce(sums)
            total, n = sums.tolist()
        test_loss, test_acc = evaluate(net, x_te, y_te)
        hist["train_loss"].append(total / n)
        hist["test_loss"].append(test_loss)
        hist["test_acc"].append(test_acc)
        if not quiet:
            if tty:
                print("\r", end="", file=sys.stderr)
            print(f"epoch {epoch:2d}/{epochs}  train loss {total / n:.4f}  test loss "
                  f"{test_loss:.4f}  test acc {test_acc:.2%}  ({time.perf_counter() - start:.1f}s)",
                  flush=True)
    hist["seconds"] = time.perf_counter() - start
    if out:
        os.makedirs(out, exist_ok=True)
        torch.save(net.state_dict(), os.path.join(out, "digits_cnn.ember"))
        hist["plot"] = _plot(hist, os.path.join(out, "curves.png"))
        if not quiet:
            print(f"weights: {os.path.join(out, 'digits_cnn.ember')}"
                  + (f"\nplot:    {hist['plot']}" if hist["plot"] else ""))
    hist["model"] = net
    hist["rank"], hist["world_size"] = rank, world
    return hist


def _plot(hist: dict, path: str) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot (pip install -e '.[examples]')")
        return None
    epochs = range(1, len(hist["train_loss"]) + 1)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
    a1.plot(epochs, hist["train_loss"], label="train")
    a1.plot(epochs, hist["test_loss"], label="test")
    a1.set_xlabel("epoch")
    a1.set_ylabel("cross-entropy")
    a1.legend()
    a2.plot(epochs, [100 * a for a in hist["test_acc"]], color="tab:green")
    a2.set_xlabel("epoch")
    a2.set_ylabel("test accuracy (%)")
    fig.suptitle("ember: CNN on the 8x8 digits")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/digits", help="folder for the plot and the weights")
    p.add_argument("--distributed", action="store_true",
                   help="data parallel over MPI: run under mpirun -n N")
    a = p.parse_args(argv)
    hist = train(a.epochs, a.batch_size, a.lr, a.seed, a.out, distributed=a.distributed)
    acc = hist["test_acc"][-1]
    if hist["rank"] == 0:
        ranks = f" on {hist['world_size']} ranks" if a.distributed else ""
        print(f"final test accuracy {acc:.2%} in {hist['seconds']:.1f}s{ranks}")
    if a.distributed:
        import ember.distributed as dist

        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
