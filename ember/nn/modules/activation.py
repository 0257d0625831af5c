"""Activation layers (``nn.ReLU``, ``nn.GELU``, ``nn.Softmax`` ...): thin modules over
``ember.nn.functional`` with torch's constructor arguments, attributes and ``extra_repr``."""

from __future__ import annotations

from typing import Any

from ... import _creation
from ..functional import _activation as F
from ..parameter import Parameter
from .module import Module

__all__ = [
    "Threshold", "ReLU", "RReLU", "Hardtanh", "ReLU6", "Sigmoid", "Hardsigmoid", "Tanh", "SiLU",
    "Mish", "Hardswish", "ELU", "CELU", "SELU", "GLU", "GELU", "Hardshrink", "LeakyReLU",
    "LogSigmoid", "Softplus", "Softshrink", "PReLU", "Softsign", "Tanhshrink", "Softmin",
    "Softmax", "Softmax2d", "LogSoftmax",
]


def _inplace_str(inplace: bool, lead: str = ", ") -> str:
    return lead + "inplace=True" if inplace else ""


class Threshold(Module):
    """y = x if x > threshold else value."""

    __constants__ = ["threshold", "value", "inplace"]

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Any) -> Any:
        """threshold(input)."""
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_str(self.inplace)}"


class _Inplace(Module):
    """An activation whose only option is ``inplace``."""

    __constants__ = ["inplace"]
    _fn: Any = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Any) -> Any:
        """The activation, applied elementwise."""
        return type(self)._fn(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_str(self.inplace, "")


class ReLU(_Inplace):
    """y = max(x, 0)."""

    _fn = staticmethod(F.relu)

    def forward(self, input: Any) -> Any:
        """max(input, 0)."""
        return input.relu_() if self.inplace else F._relu(input)


class SiLU(_Inplace):
    """y = x * sigmoid(x)."""

    _fn = staticmethod(F.silu)


class Mish(_Inplace):
    """y = x * tanh(softplus(x))."""

    _fn = staticmethod(F.mish)


class SELU(_Inplace):
    """y = scale * elu(x, alpha) with SELU's constants."""

    _fn = staticmethod(F.selu)


class Hardsigmoid(_Inplace):
    """y = clamp(x + 3, 0, 6) / 6."""

    _fn = staticmethod(F.hardsigmoid)

    def extra_repr(self) -> str:
        return ""


class Hardswish(_Inplace):
    """y = x * clamp(x + 3, 0, 6) / 6."""

    _fn = staticmethod(F.hardswish)

    def extra_repr(self) -> str:
        return ""


class RReLU(Module):
    """Randomized leaky ReLU: slope ~ U(lower, upper) in training, (lower + upper) / 2 in eval."""

    __constants__ = ["lower", "upper", "inplace"]

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Any) -> Any:
        """rrelu(input)."""
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}{_inplace_str(self.inplace)}"


class Hardtanh(Module):
    """y = clamp(x, min_val, max_val)."""

    __constants__ = ["min_val", "max_val", "inplace"]

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__()
        if min_value is not None:
            min_val = min_value
        if max_value is not None:
            max_val = max_value
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace
        if self.max_val <= self.min_val:
            raise AssertionError(f"max_val ({max_val}) must be greater than min_val ({min_val})")

    def forward(self, input: Any) -> Any:
        """clamp(input, min_val, max_val)."""
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_str(self.inplace)}"


class ReLU6(Hardtanh):
    """y = min(max(x, 0), 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace_str(self.inplace, "")


class _Plain(Module):
    """An activation without options."""

    _fn: Any = None

    def forward(self, input: Any) -> Any:
        """The activation, applied elementwise."""
        return type(self)._fn(input)


class Sigmoid(_Plain):
    """y = 1 / (1 + exp(-x))."""

    _fn = staticmethod(F.sigmoid)


class Tanh(_Plain):
    """y = tanh(x)."""

    _fn = staticmethod(F.tanh)


class LogSigmoid(_Plain):
    """y = log(sigmoid(x))."""

    _fn = staticmethod(F.logsigmoid)


class Softsign(_Plain):
    """y = x / (1 + |x|)."""

    _fn = staticmethod(F.softsign)


class Tanhshrink(_Plain):
    """y = x - tanh(x)."""

    _fn = staticmethod(F.tanhshrink)


class ELU(Module):
    """y = x if x > 0 else alpha * (exp(x) - 1)."""

    __constants__ = ["alpha", "inplace"]

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Any) -> Any:
        """elu(input, alpha)."""
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_str(self.inplace)}"


class CELU(ELU):
    """y = max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""

    def forward(self, input: Any) -> Any:
        """celu(input, alpha)."""
        return F.celu(input, self.alpha, self.inplace)


class GLU(Module):
    """y = a * sigmoid(b) for the two halves a, b of x along ``dim``."""

    __constants__ = ["dim"]

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Any) -> Any:
        """glu(input, dim)."""
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GELU(Module):
    """y = x * Phi(x) (approximate='tanh': tanh approximation)."""

    __constants__ = ["approximate"]

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Any) -> Any:
        """gelu(input)."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Hardshrink(Module):
    """y = x where |x| > lambd, else 0."""

    __constants__ = ["lambd"]

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Any) -> Any:
        """hardshrink(input, lambd)."""
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """y = x - lambd * sign(x) where |x| > lambd, else 0."""

    def forward(self, input: Any) -> Any:
        """softshrink(input, lambd)."""
        return F.softshrink(input, self.lambd)


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x."""

    __constants__ = ["inplace", "negative_slope"]

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Any) -> Any:
        """leaky_relu(input, negative_slope)."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_str(self.inplace)}"


class Softplus(Module):
    """y = log(1 + exp(beta * x)) / beta (linear above threshold)."""

    __constants__ = ["beta", "threshold"]

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Any) -> Any:
        """softplus(input, beta, threshold)."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class PReLU(Module):
    """y = x if x > 0 else a * x with a learnable ``a`` (one, or one per channel)."""

    __constants__ = ["num_parameters"]

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(_creation.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fill the weight with ``init``."""
        from .. import init

        init.constant_(self.weight, self.init)

    def forward(self, input: Any) -> Any:
        """prelu(input, weight)."""
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class _DimModule(Module):
    __constants__ = ["dim"]

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(_DimModule):
    """y = softmax(-x) along ``dim``."""

    def forward(self, input: Any) -> Any:
        """softmin(input, dim)."""
        return F.softmin(input, self.dim, _stacklevel=5)


class Softmax(_DimModule):
    """y = exp(x) / sum(exp(x)) along ``dim``."""

    def forward(self, input: Any) -> Any:
        """softmax(input, dim)."""
        return F.softmax(input, self.dim, _stacklevel=5)


class LogSoftmax(_DimModule):
    """y = x - log(sum(exp(x))) along ``dim``."""

    def forward(self, input: Any) -> Any:
        """log_softmax(input, dim)."""
        return F.log_softmax(input, self.dim, _stacklevel=5)


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) input."""

    def forward(self, input: Any) -> Any:
        """softmax(input, dim=-3)."""
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D "
                             "instead")
        return F.softmax(input, -3, _stacklevel=5)
