"""One LSTM layer (one direction) as ONE graph node, like torch's CPU kernel.

torch runs an LSTM layer on the CPU as a fused kernel whose node is ``MkldnnRnnLayerBackward0``
(edges: input, w_ih, w_hh, b_ih, b_hh, hx, cx; outputs: output, h_n, c_n).  ember does the same
in NumPy: the forward walks the time steps on arrays (one recurrent matrix product and a few
ufuncs per step, no graph nodes), saves the gate activations, and the backward runs
backpropagation through time on arrays, with the weight gradients as single matrix products over
all steps.  For ``create_graph=True`` the backward replays the layer with ember ops and
differentiates that, so double backward works too (torch's fused kernel refuses it).

Math per step (gates in torch's order i, f, g, o)::

    z = x_t W_ih^T + b_ih + h W_hh^T + b_hh;  i, f, o = sigmoid(z_i, z_f, z_o);  g = tanh(z_g)
    c' = f c + i g;  h' = o tanh(c')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._tensor import Tensor, _new
from ...autograd.grad_mode import STATE, enable_grad
from ...autograd.graph import Node
from ...ops._core import mark

_ARR = np.empty(0)  # asks Node._unpack for arrays


def _perm(h: int) -> np.ndarray:
    """Rows of torch's (i, f, g, o) reordered as (i, f, o, g): sigmoids first, then tanh."""
    return np.concatenate([np.arange(0, 2 * h), np.arange(3 * h, 4 * h), np.arange(2 * h, 3 * h)])


def _sigmoid_(v: np.ndarray) -> None:
    """v <- sigmoid(v) = (1 + tanh(v / 2)) / 2, in place (no overflow for large |v|)."""
    v *= 0.5
    np.tanh(v, out=v)
    v += 1.0
    v *= 0.5


def _forward(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b: np.ndarray | None,
             h0: np.ndarray, c0: np.ndarray, reverse: bool) -> tuple:
    t_len, bs, _ = x.shape
    hid = w_hh.shape[1]
    p = _perm(hid)
    w_ih_p, whh_t = w_ih[p], np.ascontiguousarray(w_hh[p].T)
    gi = x.reshape(t_len * bs, -1) @ w_ih_p.T
    if b is not None:
        gi += b[p]
    acts = gi.reshape(t_len, bs, 4 * hid)  # becomes the gate activations (i, f, o, g), in place
    hs = np.empty((t_len + 1, bs, hid), x.dtype)  # h before each processed step, then the last
    cs = np.empty((t_len + 1, bs, hid), x.dtype)
    tcs = np.empty((t_len, bs, hid), x.dtype)
    out = np.empty((t_len, bs, hid), x.dtype)
    hs[0], cs[0] = h0, c0
    h3, tmp = 3 * hid, np.empty((bs, hid), x.dtype)
    for k in range(t_len):
        t = t_len - 1 - k if reverse else k
        a = acts[t]
        a += hs[k] @ whh_t
        _sigmoid_(a[:, :h3])
        np.tanh(a[:, h3:], out=a[:, h3:])
        c = cs[k + 1]
        np.multiply(a[:, hid:2 * hid], cs[k], out=c)
        np.multiply(a[:, :hid], a[:, h3:], out=tmp)
        c += tmp
        np.tanh(c, out=tcs[t])
        np.multiply(a[:, 2 * hid:h3], tcs[t], out=hs[k + 1])
        out[t] = hs[k + 1]
    return out, hs, cs, tcs, acts, w_ih_p, np.ascontiguousarray(w_hh[p])


class MkldnnRnnLayerBackward0(Node):
    """Backpropagation through time of one LSTM layer, on arrays (see the module docstring)."""

    _nout = 3

    def backward(self, gs: Any) -> tuple:
        if any(isinstance(g, Tensor) for g in gs):
            return self._replay(gs)
        x, w_ih, w_hh, b_ih, b_hh, h0, c0 = self._unpack(_ARR)
        hs, cs, tcs, acts, w_ih_p, w_hh_p = self._out
        g_out, g_h, g_c = gs
        t_len, bs, hid = tcs.shape
        reverse = self.reverse
        dt = tcs.dtype
        dh = np.zeros((bs, hid), dt) if g_h is None else np.array(g_h, dt)
        dc = np.zeros((bs, hid), dt) if g_c is None else np.array(g_c, dt)
        dz = np.empty_like(acts)
        h3 = 3 * hid
        tmp = np.empty((bs, hid), dt)
        for k in range(t_len - 1, -1, -1):
            t = t_len - 1 - k if reverse else k
            if g_out is not None:
                dh += g_out[t]
            a, tc, d = acts[t], tcs[t], dz[t]
            i, f, o, g = a[:, :hid], a[:, hid:2 * hid], a[:, 2 * hid:h3], a[:, h3:]
            # dc += dh * o * (1 - tanh(c)^2)
            np.multiply(tc, tc, out=tmp)
            np.subtract(1.0, tmp, out=tmp)
            tmp *= o
            tmp *= dh
            dc += tmp
            # pre-activation gradients: sigmoid' = s (1 - s), tanh' = 1 - t^2
            np.multiply(dh, tc, out=d[:, 2 * hid:h3])        # d o
            np.multiply(dc, g, out=d[:, :hid])                # d i
            np.multiply(dc, cs[k], out=d[:, hid:2 * hid])     # d f
            np.multiply(dc, i, out=d[:, h3:])                 # d g
            s = a[:, :h3]
            d[:, :h3] *= s
            d[:, :h3] *= 1.0 - s
            d[:, h3:] *= 1.0 - g * g
            dc *= f
            dh = d @ w_hh_p
        flat = dz.reshape(t_len * bs, 4 * hid)
        inv = np.argsort(_perm(hid))
        gx = (flat @ w_ih_p).reshape(x.shape) if self._next[0][0] is not None else None
        prev = np.empty((t_len, bs, hid), dt)  # the h each time step started from
        for k in range(t_len):
            prev[t_len - 1 - k if reverse else k] = hs[k]
        gw_ih = (flat.T @ x.reshape(t_len * bs, -1))[inv]
        gw_hh = (flat.T @ prev.reshape(t_len * bs, hid))[inv]
        gb = flat.sum(0)[inv] if b_ih is not None else None
        gb2 = gb.copy() if gb is not None and b_hh is not None else None  # never share arrays
        return (gx, gw_ih, gw_hh, gb, gb2, dh, dc)

    def _replay(self, gs: Any) -> tuple:
        """create_graph: redo the layer with ember ops and differentiate that graph."""
        from ... import autograd
        from ._rnn_impl import run_layer

        saved = self._unpack(gs[0] if isinstance(gs[0], Tensor) else
                             next(g for g in gs if isinstance(g, Tensor)))
        x, w_ih, w_hh, b_ih, b_hh, h0, c0 = saved
        ins = [t for t in saved if isinstance(t, Tensor) and t.requires_grad]
        with enable_grad():
            outs = run_layer("LSTM", x, h0, c0, (w_ih, w_hh, b_ih, b_hh, None), self.reverse,
                             w_hh.shape[1])
            pairs = [(o, g) for o, g in zip(outs, gs, strict=True) if g is not None]
            grads = autograd.grad([o for o, _ in pairs], ins, [g for _, g in pairs],
                                  create_graph=True, allow_unused=True)
        got = dict(zip(map(id, ins), grads, strict=True))
        return tuple(got.get(id(t)) if isinstance(t, Tensor) else None for t in saved)


def lstm_layer(x: Tensor, h0: Tensor, c0: Tensor, w: tuple, reverse: bool) -> tuple:
    """Run one LSTM layer/direction on x (T, B, I) from (h0, c0); returns (out, h_T, c_T)."""
    w_ih, w_hh, b_ih, b_hh, _ = w
    b = None if b_ih is None else np.add(b_ih._data, b_hh._data)
    out, hs, cs, tcs, acts, w_ih_p, w_hh_p = _forward(
        np.asarray(x._data), w_ih._data, w_hh._data, b, h0._data, c0._data, reverse)
    inputs = (x, w_ih, w_hh, b_ih, b_hh, h0, c0)
    edges = tuple(t._edge if isinstance(t, Tensor) and t._edge is not None else (None, 0)
                  for t in inputs)
    if not STATE.enabled or all(e[0] is None for e in edges):
        return _new(out, None), _new(hs[-1].copy(), None), _new(cs[-1].copy(), None)
    n = MkldnnRnnLayerBackward0()
    n._next = edges
    n._saved = inputs
    n._vers = tuple(False if t is None else (t._vc[0] if t._vc else 0) for t in inputs)
    n._out = (hs, cs, tcs, acts, w_ih_p, w_hh_p)
    n.reverse = reverse
    mark(n)  # the user's line, named by backward errors
    return _new(out, (n, 0)), _new(hs[-1].copy(), (n, 1)), _new(cs[-1].copy(), (n, 2))
