"""Recurrent layers: RNN, LSTM, GRU (stacked, bidirectional, batch_first) and their cells.

Parameter names, shapes, registration order, default initialisation U(-1/sqrt(H), 1/sqrt(H)),
gate orders, argument checks and reprs follow torch.  The math lives in _rnn_impl.py.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from ... import _creation
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter
from ._rnn_impl import gru_step, lstm_step, rnn_step, run_stack
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _shape(t: Tensor) -> list:
    return list(t.shape)


def _dt(t: Any) -> str:
    return str(t.dtype)


class RNNBase(Module):
    """Base of RNN, LSTM and GRU: parameter storage, checks, repr (forward lives in subclasses)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        for name, val, typ in (("bias", bias, bool), ("batch_first", batch_first, bool),
                               ("input_size", input_size, int),
                               ("hidden_size", hidden_size, int)):
            if not isinstance(val, typ):
                raise TypeError(f"{name} should be of type {typ.__name__}, got: "
                                f"{type(val).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        dirs = 2 if bidirectional else 1
        gate = _GATES[mode] * hidden_size
        real_h = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list = []
        self._all_weights: list = []
        self._slot_names: list = []
        for layer in range(num_layers):
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
                in_size = input_size if layer == 0 else real_h * dirs
                shapes = {"weight_ih": (gate, in_size), "weight_hh": (gate, real_h)}
                if bias:
                    shapes.update(bias_ih=(gate,), bias_hh=(gate,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shp in shapes.items():
                    setattr(self, kind + sfx,
                            Parameter(_creation.empty(shp, dtype=dtype, device=device)))
                    names.append(kind + sfx)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
                self._slot_names.append([k + sfx for k in
                                         ("weight_ih", "weight_hh", "bias_ih", "bias_hh",
                                          "weight_hr")])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        with no_grad():
            for w in self.parameters():
                w.uniform_(-stdv, stdv)

    def flatten_parameters(self) -> None:
        """No-op (torch uses it for cuDNN's packed weights)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n, None) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters grouped per layer and direction."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ------------------------------------------------------------------ checks
    def _name(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def check_input(self, input: Tensor, batch_sizes: Any = None) -> None:
        """torch's checks: dtype equals the weights', 3 dims, last dim == input_size."""
        w = self.weight_ih_l0
        if input.dtype != w.dtype:
            raise ValueError(
                f"RNN input dtype ({_dt(input)}) does not match weight dtype ({_dt(w)}). "
                f"Convert input: input.to({_dt(w)}), or convert model: model.to({_dt(input)})")
        if input.dim() != 3:
            raise RuntimeError(f"input must have 3 dimensions, got {input.dim()}")
        if self.input_size != input.shape[-1]:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                f"{input.shape[-1]}. {self._name()} got input of shape {_shape(input)}. Hint: "
                f"the last dimension of the input must be {self.input_size} (features per "
                "time step).")

    def get_expected_hidden_size(self, input: Tensor, batch_sizes: Any = None) -> tuple:
        """(num_layers * num_directions, batch, proj_size or hidden_size)."""
        mini_batch = input.shape[0] if self.batch_first else input.shape[1]
        dirs = 2 if self.bidirectional else 1
        return (self.num_layers * dirs, mini_batch,
                self.proj_size if self.proj_size > 0 else self.hidden_size)

    def check_hidden_size(self, hx: Tensor, expected: tuple,
                          msg: str = "Expected hidden size {}, got {}") -> None:
        """Raise torch's RuntimeError when hx's shape is not ``expected``."""
        if tuple(hx.shape) != tuple(expected):
            raise RuntimeError(
                msg.format(tuple(expected), _shape(hx)) + f". {self._name()}. Hint: initial "
                "states are (num_layers * num_directions, batch, hidden) (batch stays in dim 1 "
                "even with batch_first=True).")

    def check_forward_args(self, input: Tensor, hidden: Any, batch_sizes: Any = None) -> None:
        """Check input and initial hidden state."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    # ------------------------------------------------------------------ shared forward
    def _prepare(self, input: Tensor, hx: Any, lstm: bool) -> tuple:
        """Validate, add the batch dim for unbatched input and build zero states if needed."""
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}.forward: expected a Tensor input, got "
                            f"{type(input).__name__} (PackedSequence is not supported)")
        name = type(self).__name__
        if input.dim() not in (2, 3):
            tail = " tensor instead" if self.mode.startswith("RNN") else " instead"
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D{tail}")
        batched = input.dim() == 3
        bdim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(bdim)
        if hx is not None:
            hs = hx if lstm else (hx,)
            want = 3 if batched else 2
            if any(h.dim() != want for h in hs):
                kind = "batched 3-D" if batched else "unbatched 2-D"
                if lstm:
                    raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but"
                                       f" got ({hs[0].dim()}-D, {hs[1].dim()}-D) tensors")
                raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got "
                                   f"{hs[0].dim()}-D tensor")
            if not batched:
                hs = tuple(h.unsqueeze(1) for h in hs)
            hx = hs if lstm else hs[0]
        return input, hx, batched, bdim

    def _zeros(self, input: Tensor, size: int) -> Tensor:
        dirs = 2 if self.bidirectional else 1
        mb = input.shape[0] if self.batch_first else input.shape[1]
        return _creation.zeros(self.num_layers * dirs, mb, size, dtype=input.dtype)

    def _run(self, input: Tensor, h0: Tensor, c0: Any) -> tuple:
        x = input.transpose(0, 1) if self.batch_first else input
        out, h_n, c_n = run_stack(self, x, h0, c0)
        return (out.transpose(0, 1) if self.batch_first else out), h_n, c_n


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple:
        """Returns (output, h_n)."""
        input, hx, batched, bdim = self._prepare(input, hx, False)
        if hx is None:
            hx = self._zeros(input, self.hidden_size)
        self.check_forward_args(input, hx)
        out, h_n, _ = self._run(input, hx, None)
        if not batched:
            return out.squeeze(bdim), h_n.squeeze(1)
        return out, h_n


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o; optional projection of h with proj_size)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input: Tensor, batch_sizes: Any = None) -> tuple:
        """(num_layers * num_directions, batch, hidden_size)."""
        mini_batch = input.shape[0] if self.batch_first else input.shape[1]
        return (self.num_layers * (2 if self.bidirectional else 1), mini_batch, self.hidden_size)

    def check_forward_args(self, input: Tensor, hidden: Any,  # type: ignore[override]
                           batch_sizes: Any = None) -> None:
        """Check input, h_0 and c_0."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def forward(self, input: Tensor, hx: Any = None) -> tuple:
        """Returns (output, (h_n, c_n))."""
        input, hx, batched, bdim = self._prepare(input, hx, True)
        if hx is None:
            real_h = self.proj_size if self.proj_size > 0 else self.hidden_size
            hx = (self._zeros(input, real_h), self._zeros(input, self.hidden_size))
        self.check_forward_args(input, hx)
        out, h_n, c_n = self._run(input, hx[0], hx[1])
        if not batched:
            return out.squeeze(bdim), (h_n.squeeze(1), c_n.squeeze(1))
        return out, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)))."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple:
        """Returns (output, h_n)."""
        input, hx, batched, bdim = self._prepare(input, hx, False)
        if hx is None:
            hx = self._zeros(input, self.hidden_size)
        self.check_forward_args(input, hx)
        out, h_n, _ = self._run(input, hx, None)
        if not batched:
            return out.squeeze(bdim), h_n.squeeze(1)
        return out, h_n


# ---------------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """Base of the cells: weight_ih, weight_hh, bias_ih, bias_hh and their checks."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        g = num_chunks * hidden_size
        self.weight_ih = Parameter(_creation.empty((g, input_size), dtype=dtype, device=device))
        self.weight_hh = Parameter(_creation.empty((g, hidden_size), dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(_creation.empty((g,), dtype=dtype, device=device))
            self.bias_hh = Parameter(_creation.empty((g,), dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        with no_grad():
            for w in self.parameters():
                w.uniform_(-stdv, stdv)

    def _cell_in(self, input: Tensor, hx: Any, n: int) -> tuple:
        """Check dims, add the batch dim for 1-D input, build zero states; returns batched."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}.forward: expected a Tensor input, got "
                            f"{type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        hs = None if hx is None else ((hx,) if n == 1 else tuple(hx))
        if hs is not None:
            for i, h in enumerate(hs):
                if h.dim() not in (1, 2):
                    what = "hidden" if n == 1 else f"hx[{i}]"
                    raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {h.dim()}D "
                                     "instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hs is None:
            z = _creation.zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
            hs = (z,) * n
        elif not batched:
            hs = tuple(h.unsqueeze(0) for h in hs)
        w = self.weight_ih
        if input.shape[1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[1]} expected "
                f"{self.input_size}. {name}({self.extra_repr()}) got input of shape "
                f"{_shape(input)}. Hint: the last dimension must be {self.input_size}.")
        for i, h in enumerate(hs):
            if h.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{i} "
                                   f"batch size {h.shape[0]}")
            if h.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.shape[1]}, "
                                   f"expected {self.hidden_size}")
        for t in (input, *hs):
            if t.dtype != w.dtype:
                raise RuntimeError(
                    f"mat1 and mat2 must have the same dtype, but got {_st(t)} and {_st(w)}. "
                    f"Hint: convert the input (x.to({_dt(w)})) or the cell (cell.to({_dt(t)})).")
        return input, hs, batched

    def _gi(self, input: Tensor) -> Tensor:
        from ...ops.linalg import addmm, matmul

        w = self.weight_ih.t()
        return matmul(input, w) if self.bias_ih is None else addmm(self.bias_ih, input, w)


def _st(t: Tensor) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half"}.get(
        str(t.dtype).replace("ember.", ""), str(t.dtype))


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """Returns h'."""
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        input, (h,), batched = self._cell_in(input, hx, 1)
        gi = self._gi(input)
        if self.bias_hh is not None:
            gi = gi + self.bias_hh
        out = rnn_step(gi, h, self.weight_hh.t(), self.nonlinearity == "relu")
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """c' = f*c + i*g, h' = o*tanh(c') with gates i, f, g, o from x and h."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: Any = None) -> tuple:
        """Returns (h', c')."""
        input, (h, c), batched = self._cell_in(input, hx, 2)
        gi = self._gi(input)
        if self.bias_hh is not None:
            gi = gi + self.bias_hh
        h, c = lstm_step(gi, h, c, self.weight_hh.t(), None)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """r, z = sigmoid(.), n = tanh(W_in x + b_in + r*(W_hn h + b_hn)), h' = (1-z)*n + z*h."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """Returns h'."""
        input, (h,), batched = self._cell_in(input, hx, 1)
        hid = self.hidden_size
        gi_rz, gi_n = self._gi(input).split([2 * hid, hid], 1)
        out = gru_step(gi_rz, gi_n, h, self.weight_hh.t(), self.bias_hh, hid)
        return out if batched else out.squeeze(0)
