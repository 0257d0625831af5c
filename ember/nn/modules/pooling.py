"""Pooling layers: ``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d``,
``AdaptiveMaxPool1d/2d``."""

from __future__ import annotations

from typing import Any

from ..functional import _pool as F
from .conv import in_layer
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


def _call(layer: Module, fn: Any, *args: Any, **kw: Any) -> Any:
    try:
        return fn(*args, **kw)
    except RuntimeError as e:
        raise type(e)(in_layer(e, layer)) from None


class _MaxPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "dilation", "return_indices",
                     "ceil_mode"]

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return ("kernel_size={kernel_size}, stride={stride}, padding={padding}, "
                "dilation={dilation}, ceil_mode={ceil_mode}".format(**self.__dict__))


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of [N, C, L]."""

    def forward(self, input: Any) -> Any:
        """max_pool1d(input, ...)."""
        return _call(self, F.max_pool1d, input, self.kernel_size, self.stride, self.padding,
                     self.dilation, ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows of [N, C, H, W]."""

    def forward(self, input: Any) -> Any:
        """max_pool2d(input, ...)."""
        return _call(self, F.max_pool2d, input, self.kernel_size, self.stride, self.padding,
                     self.dilation, ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool1d(Module):
    """Mean over sliding windows of [N, C, L]."""

    __constants__ = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Any) -> Any:
        """avg_pool1d(input, ...)."""
        return _call(self, F.avg_pool1d, input, self.kernel_size, self.stride, self.padding,
                     self.ceil_mode, self.count_include_pad)


def _single(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


class AvgPool2d(Module):
    """Mean over sliding windows of [N, C, H, W]."""

    __constants__ = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                     "divisor_override"]

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Any) -> Any:
        """avg_pool2d(input, ...)."""
        return _call(self, F.avg_pool2d, input, self.kernel_size, self.stride, self.padding,
                     self.ceil_mode, self.count_include_pad, self.divisor_override)


class _AdaptiveNd(Module):
    __constants__ = ["output_size"]
    _fn = "adaptive_avg_pool2d"

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input: Any) -> Any:
        """The adaptive pooling of ``input`` to ``output_size``."""
        return _call(self, getattr(F, self._fn), input, self.output_size)


class _AdaptiveMaxNd(_AdaptiveNd):
    __constants__ = ["output_size", "return_indices"]

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Any) -> Any:
        """The adaptive max pooling of ``input`` to ``output_size``."""
        return _call(self, getattr(F, self._fn), input, self.output_size, self.return_indices)


class AdaptiveAvgPool1d(_AdaptiveNd):
    """Mean over [floor(iL/o), ceil((i+1)L/o)) for each of the ``output_size`` outputs."""

    _fn = "adaptive_avg_pool1d"


class AdaptiveAvgPool2d(_AdaptiveNd):
    """Mean over adaptive windows giving [.., out_h, out_w] (None keeps the input size)."""

    _fn = "adaptive_avg_pool2d"


class AdaptiveMaxPool1d(_AdaptiveMaxNd):
    """Max over [floor(iL/o), ceil((i+1)L/o)) for each of the ``output_size`` outputs."""

    _fn = "adaptive_max_pool1d"


class AdaptiveMaxPool2d(_AdaptiveMaxNd):
    """Max over adaptive windows giving [.., out_h, out_w]."""

    _fn = "adaptive_max_pool2d"
