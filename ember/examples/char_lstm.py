"""A character-level LSTM language model on a text the package ships (no download).

    python -m ember.examples.char_lstm [--epochs 80] [--quick] [--layers 1] [--out runs/char_lstm]

Plain PyTorch code with ``import ember as torch``: ``nn.Embedding -> nn.LSTM -> nn.Linear``
trained with ``Adam``, ``F.cross_entropy`` and ``nn.utils.clip_grad_norm_`` by truncated
backpropagation through time (the text is cut into ``batch_size`` parallel streams, read
``seq_len`` characters at a time; the LSTM state is carried from one chunk to the next but
detached, so gradients stop at chunk boundaries).  It prints the loss per epoch, samples text
with a temperature at the end and saves the weights (and the alphabet) with ``ember.save``.
Small matrix products gain nothing from several BLAS threads and lose a lot when the cores
are busy, so training runs BLAS single-threaded when ``threadpoolctl`` is installed (it comes
with scikit-learn, in the ``examples`` extra); ``--threads 0`` leaves BLAS alone.
The default text is the opening of Lewis Carroll's "Alice's Adventures in Wonderland" (public
domain), ``ember/examples/data/alice.txt``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from typing import Any

import ember as torch
import ember.nn as nn
import ember.nn.functional as F

__all__ = ["DEFAULT_TEXT", "CharLSTM", "Vocab", "batchify", "load_text", "sample", "train",
           "load_checkpoint"]

DEFAULT_TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "alice.txt")


def load_text(path: str | None = None) -> str:
    """The training text (UTF-8); the shipped Alice excerpt by default."""
    with open(path or DEFAULT_TEXT, encoding="utf-8") as f:
        return f.read()


class Vocab:
    """The sorted alphabet of a text, with char <-> index maps."""

    def __init__(self, chars: str) -> None:
        self.chars = "".join(sorted(set(chars)))
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> Any:
        """The text as an int64 tensor of indices."""
        try:
            return torch.tensor([self.stoi[ch] for ch in text], dtype=torch.long)
        except KeyError as e:
            raise ValueError(f"character {e.args[0]!r} is not in the model's alphabet "
                             f"{self.chars!r}. Hint: prime the sampler with known characters.") \
                from None

    def decode(self, ids: Any) -> str:
        """Indices (a tensor or a list of ints) back to text."""
        return "".join(self.chars[i] for i in (ids.tolist() if hasattr(ids, "tolist") else ids))


class CharLSTM(nn.Module):
    """logits = Linear(LSTM(Embedding(x))): next-character scores for every position."""

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_size: int = 128,
                 num_layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x: Any, state: tuple | None = None) -> tuple[Any, tuple]:
        """x: (B, T) indices -> logits (B, T, vocab), the new (h, c) state."""
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def batchify(ids: Any, batch_size: int) -> Any:
    """Cut the index sequence into ``batch_size`` equal streams: a (batch_size, L) tensor."""
    n = (len(ids) // batch_size) * batch_size
    if n < 2 * batch_size:
        raise ValueError(f"text of {len(ids)} characters is too short for batch_size "
                         f"{batch_size}. Hint: use a smaller batch_size or a longer text.")
    return ids[:n].view(batch_size, -1)


def sample(model: CharLSTM, vocab: Vocab, prime: str = "Alice", length: int = 200,
           temperature: float = 0.8, generator: Any = None) -> str:
    """``prime`` followed by ``length`` characters drawn from softmax(logits / temperature)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    was_training = model.training
    model.eval()
    out = list(prime)
    with torch.no_grad():
        logits, state = model(vocab.encode(prime).unsqueeze(0))
        for _ in range(length):
            probs = F.softmax(logits[0, -1] / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator)
            out.append(vocab.chars[nxt.item()])
            logits, state = model(nxt.view(1, 1), state)
    model.train(was_training)
    return "".join(out)


def _blas_threads(threads: int | None) -> Any:
    """A context limiting BLAS to ``threads`` threads (threadpoolctl if installed, else none)."""
    if not threads:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - depends on the environment
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def _epoch(model: CharLSTM, opt: Any, data: Any, seq_len: int, clip: float) -> float:
    """One pass of truncated BPTT over the (B, L) streams; the mean loss per character."""
    state = None
    total, count = 0.0, 0
    vocab_size = model.head.out_features
    for start in range(0, data.shape[1] - 1, seq_len):
        stop = min(start + seq_len, data.shape[1] - 1)
        x, y = data[:, start:stop], data[:, start + 1:stop + 1]
        if state is not None:  # keep the state, cut the graph: truncated BPTT
            state = tuple(s.detach() for s in state)
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, vocab_size), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        total += loss.item() * y.numel()
        count += y.numel()
    return total / count


def train(epochs: int = 80, quick: bool = False, text: str | None = None, hidden_size: int = 128,
          num_layers: int = 1, embed_dim: int = 32, seq_len: int = 48, batch_size: int = 16,
          lr: float = 5e-3, clip: float = 1.0, seed: int = 0, temperature: float = 0.8,
          sample_length: int = 200, out: str | None = "runs/char_lstm",
          quiet: bool = False, threads: int | None = 1) -> dict:
    """Train on ``text`` (the shipped excerpt by default); returns the history and the model.

    ``quick``: a smaller model for a few epochs (a smoke test that still learns);
    ``threads``: BLAS threads while training (None or 0: leave the setting alone).
    """
    with _blas_threads(threads):
        return _train(epochs, quick, text, hidden_size, num_layers, embed_dim, seq_len,
                      batch_size, lr, clip, seed, temperature, sample_length, out, quiet)


def _train(epochs: int, quick: bool, text: str | None, hidden_size: int, num_layers: int,
           embed_dim: int, seq_len: int, batch_size: int, lr: float, clip: float, seed: int,
           temperature: float, sample_length: int, out: str | None, quiet: bool) -> dict:
    if quick:
        epochs, hidden_size = min(epochs, 15), min(hidden_size, 64)
    torch.manual_seed(seed)
    text = load_text() if text is None else text
    vocab = Vocab(text)
    data = batchify(vocab.encode(text), batch_size)
    model = CharLSTM(len(vocab), embed_dim, hidden_size, num_layers)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    hist: dict = {"loss": []}
    start = time.perf_counter()
    if not quiet:
        print(f"{len(text)} characters, alphabet of {len(vocab)}, {data.shape[0]} streams of "
              f"{data.shape[1]}; {model.lstm}")
    for epoch in range(1, epochs + 1):
        loss = _epoch(model, opt, data, seq_len, clip)
        hist["loss"].append(loss)
        if not quiet:
            print(f"epoch {epoch:3d}/{epochs}  loss {loss:.4f}  "
                  f"({time.perf_counter() - start:.1f}s)", flush=True)
    hist["seconds"] = time.perf_counter() - start
    gen = torch.Generator().manual_seed(seed)
    hist["sample"] = sample(model, vocab, "Alice", sample_length, temperature, gen)
    if not quiet:
        print(f"--- sample (temperature {temperature}) ---\n{hist['sample']}")
    if out:
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, "char_lstm.ember")
        torch.save({"model": model.state_dict(), "chars": vocab.chars,
                    "config": {"embed_dim": embed_dim, "hidden_size": hidden_size,
                               "num_layers": num_layers}}, path)
        hist["weights"] = path
        if not quiet:
            print(f"saved {path}")
    hist["model"], hist["vocab"] = model, vocab
    return hist


def load_checkpoint(path: str) -> tuple[CharLSTM, Vocab]:
    """Rebuild the model and alphabet that :func:`train` saved."""
    ckpt = torch.load(path)
    vocab = Vocab(ckpt["chars"])
    model = CharLSTM(len(vocab), **ckpt["config"])
    model.load_state_dict(ckpt["model"])
    return model, vocab


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="character-level LSTM language model")
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--quick", action="store_true", help="small model, a few epochs")
    parser.add_argument("--layers", type=int, default=1, help="LSTM layers (1 or 2)")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--text", default=None, help="a UTF-8 text file (default: Alice)")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--length", type=int, default=300, help="characters to sample")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/char_lstm", help="'' to save nothing")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (0: default)")
    args = parser.parse_args(argv)
    return train(epochs=args.epochs, quick=args.quick,
                 text=None if args.text is None else load_text(args.text),
                 hidden_size=args.hidden, num_layers=args.layers, seed=args.seed,
                 temperature=args.temperature, sample_length=args.length, out=args.out or None,
                 threads=args.threads)


if __name__ == "__main__":
    main()
