"""Batch normalisation layers: BatchNorm1d, BatchNorm2d, BatchNorm3d (and their shared base)."""

from __future__ import annotations

from typing import Any

from ... import _creation as C
from ... import _dtype as D
from ..._tensor import Tensor, _check_device
from ...autograd.grad_mode import no_grad
from ..functional._norm import _batch_norm, _bn_check, _verify_batch_size, _write_stat
from ..parameter import Parameter
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


class _NormBase(Module):
    """Common base of batch and instance norm: affine parameters and running statistics."""

    _version = 2

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        _check_device(device)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(C.empty(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(C.empty(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", C.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", C.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", C.tensor(0, dtype=D.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """torch's initialisation: weight 1, bias 0, fresh running statistics."""
        self.reset_running_stats()
        if self.affine:
            with no_grad():
                self.weight.fill_(1.0)
                if self.bias is not None:
                    self.bias.zero_()

    def _check_input_dim(self, input: Tensor) -> None:
        raise NotImplementedError

    def _dim_error(self, input: Tensor, expected: str) -> ValueError:
        return ValueError(
            f"expected {expected} input (got {input.dim()}D input). Hint: {self._get_name()}"
            f"({self.num_features}) was fed a tensor of shape {list(input.shape)}; "
            f"{_HINTS[type(self).__name__]}"
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


_HINTS = {
    "BatchNorm1d": "it takes (N, C) or (N, C, L); use BatchNorm2d for images (N, C, H, W).",
    "BatchNorm2d": "it takes (N, C, H, W); add a batch dim with unsqueeze(0) for one image, or "
    "use BatchNorm1d for (N, C) / (N, C, L).",
    "BatchNorm3d": "it takes (N, C, D, H, W).",
    "InstanceNorm1d": "it takes (C, L) or (N, C, L).",
    "InstanceNorm2d": "it takes (C, H, W) or (N, C, H, W).",
    "InstanceNorm3d": "it takes (C, D, H, W) or (N, C, D, H, W).",
}


class _BatchNorm(_NormBase):
    def forward(self, input: Tensor) -> Tensor:
        """Batch statistics in training (updating the running ones), running statistics in eval."""
        self._check_input_dim(input)
        params, bufs = self._parameters, self._buffers
        weight, bias = params["weight"], params["bias"]
        rm, rv = bufs["running_mean"], bufs["running_var"]
        momentum = self.momentum
        factor = 0.0 if momentum is None else momentum
        training = self.training
        bn_training = training or (rm is None and rv is None)
        if training and not self.track_running_stats:
            rm = rv = None
        # validate before counting the batch, so that a failed call changes nothing
        if bn_training:
            _verify_batch_size(tuple(input._data.shape))
        C = _bn_check(input, rm, rv, weight, bias, bn_training, self._layer_name())
        nbt = bufs["num_batches_tracked"]
        if training and self.track_running_stats and nbt is not None:
            _write_stat(nbt, nbt._data + 1)
            if momentum is None:
                factor = 1.0 / float(nbt._data)
        return _batch_norm(input, rm, rv, weight, bias, bn_training, factor, self.eps, C)

    def _layer_name(self) -> str:
        return f"{type(self).__name__}({self.num_features})"


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input, per channel C."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() not in (2, 3):
            raise self._dim_error(input, "2D or 3D")


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) input, per channel C."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() != 4:
            raise self._dim_error(input, "4D")


class BatchNorm3d(_BatchNorm):
    """Batch norm over (N, C, D, H, W) input, per channel C."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() != 5:
            raise self._dim_error(input, "5D")
