"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``."""

from __future__ import annotations

import math
from typing import Any

from ... import _creation
from ...autograd.grad_mode import no_grad
from ..functional import _conv as F
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(x: Any, n: int) -> tuple:
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,) * n


def in_layer(e: Exception, layer: Module) -> str:
    """The error message with the layer named before its Hint."""
    msg = str(e)
    where = f" (in {layer!r})"
    if ". Hint:" in msg:
        head, tail = msg.split(". Hint:", 1)
        return f"{head}{where}. Hint:{tail}"
    return msg + where


class _ConvNd(Module):
    """Shared state of the convolution layers (torch's ``_ConvNd``)."""

    __constants__ = ["stride", "padding", "dilation", "groups", "padding_mode", "output_padding",
                     "in_channels", "out_channels", "kernel_size"]
    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, transposed: bool, output_padding: Any, groups: int,
                 bias: bool, padding_mode: str, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        n = self._nd
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        kernel_size, stride = _tuple(kernel_size, n), _tuple(stride, n)
        dilation = _tuple(dilation, n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _tuple(padding, n)
        if padding_mode not in _MODES:
            raise ValueError(f"padding_mode must be one of {set(_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = _tuple(output_padding, n)
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            rev = [0, 0] * n
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(n - 1, -1, -1), strict=True):
                    total = d * (k - 1)
                    left = total // 2
                    rev[2 * i] = left
                    rev[2 * i + 1] = total - left
        else:
            rev = [p for p in reversed(padding) for _ in range(2)]
        self._reversed_padding_repeated_twice = rev
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + kernel_size
        self.weight = Parameter(_creation.empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(_creation.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's init: W ~ kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), +), same for b."""
        shp = self.weight._data.shape
        fan_in = shp[1] * math.prod(shp[2:])
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        # kaiming_uniform_(a=sqrt(5)): gain sqrt(2 / 6), bound gain * sqrt(3 / fan_in)
        wb = math.sqrt(2.0 / 6.0) * math.sqrt(3.0 / fan_in) if fan_in > 0 else 0.0
        with no_grad():
            self.weight.uniform_(-wb, wb)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if not hasattr(self, "padding_mode"):
            self.padding_mode = "zeros"


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False,
                         0, groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input: Any, weight: Any, bias: Any) -> Any:
        fn = F.conv2d if self._nd == 2 else F.conv1d
        try:
            if self.padding_mode != "zeros":
                from ..functional import pad

                x = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
                return fn(x, weight, bias, self.stride, 0, self.dilation, self.groups)
            return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)
        except RuntimeError as e:
            raise type(e)(in_layer(e, self)) from None

    def forward(self, input: Any) -> Any:
        """The convolution of ``input`` with ``weight`` plus ``bias``."""
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution over [N, C_in, L] (or [C_in, L]) giving [N, C_out, L_out]."""

    _nd = 1


class Conv2d(_Conv):
    """2-D convolution over [N, C_in, H, W] (or [C_in, H, W]) giving [N, C_out, H_out, W_out]."""

    _nd = 2


class _ConvTransposeNd(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        if padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for {self.__class__.__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True,
                         output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input: Any, output_size: Any) -> tuple:
        """output_padding that makes the result ``output_size`` (torch's rules and errors)."""
        if output_size is None:
            return self.output_padding
        n = self._nd
        has_batch = input.dim() == n + 2
        output_size = list(output_size)
        if len(output_size) == n + 2 or (len(output_size) == n + 1 and not has_batch):
            output_size = output_size[-n:]
        if len(output_size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.dim()}D input, output_size must have "
                             f"{n} or {n + 2} elements (got {len(output_size)})")
        res = []
        for d in range(n):
            size_in = input.shape[input.dim() - n + d]
            lo = ((size_in - 1) * self.stride[d] - 2 * self.padding[d]
                  + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            hi = lo + self.stride[d] - 1
            if not lo <= output_size[d] <= hi:
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range from "
                    f"{[lo] if n == 1 else [lo, lo]} to {[hi] if n == 1 else [hi, hi]} (for an "
                    f"input of {list(input.shape[2:])})")
            res.append(output_size[d] - lo)
        return tuple(res)

    def forward(self, input: Any, output_size: Any = None) -> Any:
        """The transposed convolution of ``input`` (its size fixed by ``output_size`` if given)."""
        op = self._output_padding(input, output_size)
        fn = F.conv_transpose2d if self._nd == 2 else F.conv_transpose1d
        try:
            return fn(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                      self.dilation)
        except RuntimeError as e:
            raise type(e)(in_layer(e, self)) from None


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution (the gradient of Conv1d w.r.t. its input)."""

    _nd = 1


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (the gradient of Conv2d w.r.t. its input)."""

    _nd = 2
