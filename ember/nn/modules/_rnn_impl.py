"""Recurrences behind nn.RNN/LSTM/GRU and their cells, written with ember ops (autograd for free).

Each layer and direction projects the whole input sequence with one matrix product
(``x @ W_ih^T + b``), then walks the time steps with only the recurrent product
``h @ W_hh^T`` and the gate nonlinearities.  Gate orders are torch's: LSTM ``i, f, g, o``;
GRU ``r, z, n`` with ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ops.join import cat, stack
from ...ops.linalg import addmm, matmul

__all__: list[str] = []


def _dropout(x: Any, p: float) -> Any:
    """Inverted dropout between stacked layers (training only): ``x * mask / (1 - p)``."""
    from .. import functional as F

    fn = getattr(F, "dropout", None)
    if fn is not None:
        return fn(x, p, True)
    from ... import _creation, _random

    if p >= 1:
        return x * 0.0
    mask = _random.bernoulli(_creation.full_like(x, 1.0 - p))
    return x * mask / (1.0 - p)


def _proj_in(x: Any, w_ih: Any, b: Any) -> Any:
    """Input projection of a whole (T, B, I) sequence: ``x @ W_ih^T + b`` as (T, B, G)."""
    t, bs, i = x.shape
    x2 = x.reshape(t * bs, i)
    out = matmul(x2, w_ih.t()) if b is None else addmm(b, x2, w_ih.t())
    return out.view(t, bs, -1)


# ------------------------------------------------------------------------------ one step
def rnn_step(gi: Any, h: Any, whh_t: Any, relu: bool) -> Any:
    """h' = act(gi + h @ W_hh^T)  (gi already holds x @ W_ih^T + b_ih + b_hh)."""
    pre = addmm(gi, h, whh_t)
    return pre.relu() if relu else pre.tanh()


def lstm_step(gi: Any, h: Any, c: Any, whh_t: Any, whr_t: Any) -> tuple:
    """gates = gi + h @ W_hh^T; c' = f*c + i*g; h' = o*tanh(c') (then @ W_hr^T if projecting)."""
    i, f, g, o = addmm(gi, h, whh_t).chunk(4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    if whr_t is not None:
        h = matmul(h, whr_t)
    return h, c


def gru_step(gi_rz: Any, gi_n: Any, h: Any, whh_t: Any, b_hh: Any, hidden: int) -> Any:
    """r, z = sigmoid(gi + gh); n = tanh(gi_n + r * gh_n); h' = n + z * (h - n) = (1-z)n + zh."""
    gh = matmul(h, whh_t) if b_hh is None else addmm(b_hh, h, whh_t)
    gh_rz, gh_n = gh.split([2 * hidden, hidden], 1)
    r, z = (gi_rz + gh_rz).sigmoid().chunk(2, 1)
    n = (gi_n + r * gh_n).tanh()
    return n + z * (h - n)


# ------------------------------------------------------------------------------ one layer
def run_layer(mode: str, x: Any, h: Any, c: Any, w: tuple, reverse: bool, hidden: int) -> tuple:
    """Run one layer/direction over x (T, B, I) from states h (and c); returns (out, h_T, c_T)."""
    w_ih, w_hh, b_ih, b_hh, w_hr = w
    whh_t = w_hh.t()
    t_len = x.shape[0]
    order = range(t_len - 1, -1, -1) if reverse else range(t_len)
    outs: list = [None] * t_len
    if mode == "GRU":
        gi = _proj_in(x, w_ih, b_ih)
        gi_rz, gi_n = gi.split([2 * hidden, hidden], 2)
        rz_t, n_t = gi_rz.unbind(0), gi_n.unbind(0)
        for t in order:
            h = outs[t] = gru_step(rz_t[t], n_t[t], h, whh_t, b_hh, hidden)
    else:
        b = None if b_ih is None else b_ih + b_hh
        gi_t = _proj_in(x, w_ih, b).unbind(0)
        if mode == "LSTM":
            whr_t = None if w_hr is None else w_hr.t()
            for t in order:
                h, c = lstm_step(gi_t[t], h, c, whh_t, whr_t)
                outs[t] = h
        else:
            relu = mode == "RNN_RELU"
            for t in order:
                h = outs[t] = rnn_step(gi_t[t], h, whh_t, relu)
    return stack(outs, 0), h, c


def run_stack(mod: Any, x: Any, h0: Any, c0: Any) -> tuple:
    """All layers and directions of an RNNBase on x (T, B, I); returns (out, h_n, c_n or None)."""
    mode, dirs, hidden = mod.mode, 2 if mod.bidirectional else 1, mod.hidden_size
    hs: list = []
    cs: list = []
    for layer in range(mod.num_layers):
        if layer and mod.dropout and mod.training:
            x = _dropout(x, mod.dropout)
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            w = tuple(getattr(mod, n) if n in mod._parameters else None
                      for n in mod._slot_names[k])
            if mode == "LSTM" and w[4] is None and x._data.dtype == np.float32:
                # one fused node per layer, as torch's CPU kernel (float32, no projection)
                from ._lstm_fused import lstm_layer

                out, h, c = lstm_layer(x, h0[k], c0[k], w, d == 1)
            else:
                out, h, c = run_layer(mode, x, h0[k], None if c0 is None else c0[k], w, d == 1,
                                      hidden)
            outs.append(out)
            hs.append(h)
            cs.append(c)
        x = outs[0] if dirs == 1 else cat(outs, 2)
    return x, stack(hs, 0), (stack(cs, 0) if c0 is not None else None)
