"""Normalisation functionals: batch_norm, layer_norm, group_norm, instance_norm, rms_norm, lrn.

batch_norm, layer_norm and group_norm are one fused node each (torch's ``Native*Backward0``) with a
closed-form backward.  With ``xhat = (x - mean) * invstd`` over the normalised elements (n of
them) and ``gh = g * weight``::

    dx = invstd * (gh - mean(gh) - xhat * mean(gh * xhat)), dw = sum(g * xhat), db = sum(g)

(eval-mode batch norm uses constant running stats: ``dx = gh * invstd``).  First-order backward
runs on arrays with the statistics saved by the forward; under ``create_graph=True`` the rule
recomputes the statistics from the saved input with ember ops, so double backward is exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._tensor import Size, _new
from ...autograd.grad_mode import no_grad
from ...ops._core import STATE, E, N, Node, Tensor, needs, ns, record

__all__ = [
    "batch_norm",
    "instance_norm",
    "layer_norm",
    "group_norm",
    "rms_norm",
    "local_response_norm",
]

_TORCH_NAMES = {
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
    "uint8": "Byte",
    "bool": "Bool",
    "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
}


# ---------------------------------------------------------------------------- shared helpers
def _check_dtypes(kernel: str, x: Any, *others: Tensor | None) -> None:
    """torch's errors for non-float input and for parameters of another dtype than the input."""
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{_TORCH_NAMES.get(str(x.dtype), str(x.dtype))}'. "
            "Hint: normalisation needs a floating-point input; convert it with .float()."
        )
    for t in others:
        if t is not None and t._data.dtype != x.dtype:
            raise RuntimeError(
                "mixed dtype (CPU): all inputs must share same datatype. Hint: the input is "
                f"{x.dtype} but a parameter or running statistic is {t._data.dtype}; convert the "
                "module (module.double() / module.float()) or the input so they match."
            )


# reductions as einsum on arrays (one pass, no temporaries); dims 1 / 0 on a (rows, K) view,
# (0, 2) per channel on an (N, C, L) view
_EIN = {
    1: ("ij->i", "ij,ij->i"),
    0: ("ij->j", "ij,ij->j"),
    (0, 2): ("ncl->c", "ncl,ncl->c"),
}
try:  # einsum's C entry point skips ~5 us of Python argument handling per call
    from numpy._core.multiarray import c_einsum as _einsum
except ImportError:  # pragma: no cover - other NumPy layouts
    _einsum = np.einsum


def _red(xp: Any, dims: Any, a: Any, b: Any = None) -> Any:
    """sum(a) or sum(a * b) over ``dims`` (dims dropped)."""
    if xp is N:
        one, two = _EIN[dims]
        return _einsum(one, a) if b is None else _einsum(two, a, b)
    return xp.sum(a if b is None else a * b, dims)


def _stats(xp: Any, x: Any, dims: Any, kshape: tuple, n: int, eps: float) -> tuple:
    """(xhat, invstd, mean, var) over ``dims`` (biased variance), for arrays or Tensors alike."""
    inv_n = 1.0 / n if n else float("nan")
    mean = _red(xp, dims, x).reshape(kshape) * inv_n
    xc = x - mean
    var = _red(xp, dims, xc, xc).reshape(kshape) * inv_n
    invstd = (var + eps) ** -0.5
    if xp is N:
        xc *= invstd  # xc is a fresh array: normalise it in place
        return xc, invstd, mean, var
    return xc * invstd, invstd, mean, var


def _dx(xp: Any, gh: Any, xhat: Any, scale: Any, s1: Any, s2: Any) -> Any:
    """scale * (gh - s1 - xhat * s2) (on arrays: one new array, updated in place)."""
    if xp is N:
        dx = xhat * s2
        np.subtract(gh, dx, out=dx)
        dx -= s1
        dx *= scale
        return dx
    return (gh - s1 - xhat * s2) * scale


def _row_dx(xp: Any, gh: Any, xhat: Any, invstd: Any, k: int) -> Any:
    """invstd * (gh - mean(gh) - xhat * mean(gh * xhat)) along the rows of a (R, k) view."""
    kshape = (gh.shape[0], 1)
    inv_n = 1.0 / k
    s1 = _red(xp, 1, gh).reshape(kshape) * inv_n
    s2 = _red(xp, 1, gh, xhat).reshape(kshape) * inv_n
    return _dx(xp, gh, xhat, invstd, s1, s2)


def _grad_needed(*ts: Any) -> bool:
    return STATE.enabled and any(t is not None and t._edge is not None for t in ts)


def _affine(xhat: Any, weight: Any, bias: Any, pshape: tuple, inplace: bool = False) -> Any:
    """xhat * weight + bias; a new array (backward keeps ``xhat``) unless ``inplace``."""
    if inplace:
        if weight is not None:
            xhat *= weight._data.reshape(pshape)
        if bias is not None:
            xhat += bias._data.reshape(pshape)
        return xhat
    if weight is not None:
        out = xhat * weight._data.reshape(pshape)
        if bias is not None:
            out += bias._data.reshape(pshape)
        return out
    if bias is not None:
        return xhat + bias._data.reshape(pshape)
    return xhat.copy()


def _const(xp: Any, a: Any) -> Any:
    """``a`` in the namespace of the gradient (a constant Tensor in ember mode)."""
    return a if xp is N else _new(a, None)


def _write_stat(t: Tensor, value: Any) -> None:
    """Overwrite a running-statistics buffer in place (torch's ``copy_``), bumping its version."""
    d = t._data
    if type(d) is np.ndarray and d.flags.writeable:
        d[...] = value if value.shape == d.shape else value.reshape(d.shape)
    else:
        t._data = np.array(np.reshape(value, np.shape(d)), dtype=d.dtype)
    t._bump()


def _numel(t: Tensor) -> int:
    return t._data.size


def _verify_batch_size(size: tuple) -> None:
    p = size[0]
    for s in size[2:]:
        p *= s
    if p == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {Size(size)}. "
            "Hint: batch statistics need at least 2 values per channel; use a batch of 2 or more "
            "samples, or call model.eval() to normalise with the running statistics."
        )


# ---------------------------------------------------------------------------- batch norm
class NativeBatchNormBackward0(Node):
    """y = xhat * w + b per channel (dim 1); dx, dw, db as in the module docstring."""

    def backward(self, g: Any) -> tuple:
        x, w, xhat, invstd = self._unpack(g)
        xp = ns(g)
        shp3, n, training = self.shp3, self.n, self.training
        C = shp3[1]
        k3 = (1, C, 1)
        if xp is not N:
            x3 = x.reshape(shp3)
            if training:
                xhat, invstd, _, _ = _stats(xp, x3, (0, 2), k3, n, self.eps)
            else:
                invstd = _const(xp, invstd)
                xhat = (x3 - _const(xp, self.mean)) * invstd
        g3 = g.reshape(shp3)
        need_w = w is not None and needs(self, 1)
        need_b = needs(self, 2)
        dx = dw = db = None
        gsum = gxsum = None
        if training or need_b:
            gsum = _red(xp, (0, 2), g3)
        if training or need_w:
            gxsum = _red(xp, (0, 2), g3, xhat)
        if needs(self, 0):
            scale = invstd if w is None else w.reshape(k3) * invstd
            if training:
                inv_n = 1.0 / n
                s1 = gsum.reshape(k3) * inv_n
                s2 = gxsum.reshape(k3) * inv_n
                dx = _dx(xp, g3, xhat, scale, s1, s2)
            else:
                dx = g3 * scale
            dx = dx.reshape(self.shape)
        if need_w:
            dw = gxsum
        if need_b:
            db = gsum
        return dx, dw, db


def _bn_check(
    input: Tensor,
    running_mean: Any,
    running_var: Any,
    weight: Any,
    bias: Any,
    training: bool,
    layer: str | None = None,
) -> int:
    shape = input._data.shape
    C = shape[1] if len(shape) > 1 else 0
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and _numel(t) != C:
            raise RuntimeError(
                f"{name} should contain {C} elements not {_numel(t)}. Hint: the input of shape "
                f"{list(shape)} has {C} channels (dim 1) but {layer or 'the layer'} was built "
                f"for {_numel(t)}; make num_features match the channel dimension of the input."
            )
    if len(shape) < 2:
        raise RuntimeError(
            f"batch_norm(): expected an input with at least 2 dimensions (got {len(shape)}D "
            "input). Hint: pass a batch of shape (N, C, ...)."
        )
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(
            "running_mean must be defined in evaluation mode. Hint: pass running statistics, or "
            "training=True to normalise with the batch statistics."
        )
    _check_dtypes("batch_norm", input._data, running_mean, running_var, weight, bias)
    return C


def _batch_norm(
    input: Tensor,
    running_mean: Any,
    running_var: Any,
    weight: Any,
    bias: Any,
    training: bool,
    momentum: float,
    eps: float,
    channels: int | None = None,
) -> Tensor:
    """batch_norm without the batch-size check; ``channels`` given: arguments already checked."""
    C = channels
    if C is None:
        C = _bn_check(input, running_mean, running_var, weight, bias, training)
    xd = input._data
    shape = xd.shape
    Nb = shape[0]
    L = 1
    for s in shape[2:]:
        L *= s
    shp3 = (Nb, C, L)
    x3 = xd.reshape(shp3)
    n = Nb * L
    mean = None
    grad = _grad_needed(input, weight, bias)
    if training:
        xhat, invstd, bmean, var = _stats(N, x3, (0, 2), (1, C, 1), n, eps)
        if running_mean is not None or running_var is not None:
            m = momentum
            if running_mean is not None:
                rm = running_mean._data
                _write_stat(running_mean, rm * (1 - m) + bmean.reshape(C) * m)
            if running_var is not None:
                rv = running_var._data
                unbiased = var.reshape(C) * (n / (n - 1) if n > 1 else float("nan"))
                _write_stat(running_var, rv * (1 - m) + unbiased * m)
    else:
        mean = np.asarray(running_mean._data).reshape((1, C, 1))
        invstd = (np.asarray(running_var._data).reshape((1, C, 1)) + eps) ** -0.5
        if not grad:  # inference: x * alpha + beta per channel, one pass each
            alpha = invstd if weight is None else invstd * weight._data.reshape((1, C, 1))
            beta = -mean * alpha
            if bias is not None:
                beta = beta + bias._data.reshape((1, C, 1))
            out = x3 * alpha
            out += beta
            return _new(out.reshape(shape), None)
        xhat = (x3 - mean) * invstd
    out = _affine(xhat, weight, bias, (1, C, 1), not grad)
    return record(
        NativeBatchNormBackward0,
        (input, weight, bias),
        out.reshape(shape),
        saved=(input, weight, xhat, invstd),
        shape=shape,
        shp3=shp3,
        n=n,
        training=bool(training),
        eps=eps,
        mean=mean,
    )


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias per channel (dim 1).

    Training: batch mean and biased variance; running stats (when given) become
    ``(1 - momentum) * running + momentum * batch`` with the unbiased variance.  Otherwise the
    running statistics are used.
    """
    if training:
        _verify_batch_size(tuple(input._data.shape))
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch norm of each (sample, channel) plane: the input viewed as (1, N*C, ...)."""
    shape = tuple(input._data.shape)
    if use_input_stats:
        p = 1
        for s in shape[2:]:
            p *= s
        if p == 1:
            raise ValueError(
                f"Expected more than 1 spatial element when training, got input size "
                f"{Size(shape)}. Hint: instance norm normalises over the spatial dims, so they "
                "need more than one element."
            )
    if len(shape) < 2:
        raise RuntimeError(
            f"instance_norm(): expected an input with at least 2 dimensions (got {len(shape)}D "
            "input). Hint: pass a batch of shape (N, C, ...)."
        )
    b, c = shape[0], shape[1]
    x = input.reshape((1, b * c) + shape[2:])
    w = weight.repeat(b) if weight is not None else None
    bb = bias.repeat(b) if bias is not None else None
    with no_grad():
        rm = running_mean.repeat(b) if running_mean is not None else None
        rv = running_var.repeat(b) if running_var is not None else None
    out = _batch_norm(x, rm, rv, w, bb, use_input_stats, momentum, eps)
    if use_input_stats:
        if running_mean is not None:
            _write_stat(running_mean, rm._data.reshape(b, c).mean(0))
        if running_var is not None:
            _write_stat(running_var, rv._data.reshape(b, c).mean(0))
    return out.view(shape)


# ---------------------------------------------------------------------------- layer / group norm
class NativeLayerNormBackward0(Node):
    """y = xhat * w + b over the trailing ``normalized_shape`` (rows of a (M, K) view)."""

    def backward(self, g: Any) -> tuple:
        x, w, xhat, invstd = self._unpack(g)
        xp = ns(g)
        M, K = self.mk
        if xp is not N:
            xhat, invstd, _, _ = _stats(xp, x.reshape((M, K)), 1, (M, 1), K, self.eps)
        g2 = g.reshape((M, K))
        dx = dw = db = None
        if needs(self, 0):
            gh = g2 if w is None else g2 * w.reshape((K,))
            dx = _row_dx(xp, gh, xhat, invstd, K).reshape(self.shape)
        if w is not None and needs(self, 1):
            dw = _red(xp, 0, g2, xhat).reshape(self.wshape)
        if needs(self, 2):
            db = _red(xp, 0, g2).reshape(self.wshape)
        return dx, dw, db


def _as_shape(normalized_shape: Any) -> tuple:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _check_normalized(input: Tensor, ns_: tuple, weight: Any, bias: Any, star: str) -> None:
    shape = tuple(input._data.shape)
    k = len(ns_)
    if k > len(shape) or (k and shape[-k:] != ns_):
        raise RuntimeError(
            f"Given normalized_shape={list(ns_)}, expected input with shape "
            f"[{star}{', '.join(map(str, ns_))}], but got input of size{list(shape)}. Hint: the "
            "last dimensions of the input must equal normalized_shape; build the layer with "
            f"normalized_shape={shape[-k:] if k <= len(shape) else shape} or reshape the input."
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t._data.shape) != ns_:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                f"shape {list(t._data.shape)} and normalized_shape = {list(ns_)}. Hint: "
                f"{name} must have shape {list(ns_)}."
            )


def layer_norm(
    input: Tensor,
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing ``normalized_shape``."""
    ns_ = _as_shape(normalized_shape)
    _check_normalized(input, ns_, weight, bias, "*, ")
    xd = input._data
    _check_dtypes("LayerNormKernelImpl", xd, weight, bias)
    shape = xd.shape
    K = 1
    for s in ns_:
        K *= s
    M = xd.size // K if K else 0
    xhat, invstd, _, _ = _stats(N, xd.reshape((M, K)), 1, (M, 1), K, eps)
    out = _affine(xhat, weight, bias, (K,), not _grad_needed(input, weight, bias))
    return record(
        NativeLayerNormBackward0,
        (input, weight, bias),
        out.reshape(shape),
        saved=(input, weight, xhat, invstd),
        shape=shape,
        mk=(M, K),
        wshape=ns_,
        eps=eps,
    )


class NativeGroupNormBackward0(Node):
    """y = xhat * w + b, xhat normalised per (sample, group) (rows of a (N*G, C/G*L) view)."""

    def backward(self, g: Any) -> tuple:
        x, w, xhat, invstd = self._unpack(g)
        xp = ns(g)
        Nb, C, L = self.shp3
        R, M = self.rm
        if xp is not N:
            xhat, invstd, _, _ = _stats(xp, x.reshape((R, M)), 1, (R, 1), M, self.eps)
        g3 = g.reshape(self.shp3)
        dx = dw = db = None
        if needs(self, 0):
            gh = g3 if w is None else g3 * w.reshape((1, C, 1))
            dx = _row_dx(xp, gh.reshape((R, M)), xhat, invstd, M)
            dx = dx.reshape(self.shape)
        if w is not None and needs(self, 1):
            dw = _red(xp, (0, 2), g3, xhat.reshape(self.shp3))
        if needs(self, 2):
            db = _red(xp, (0, 2), g3)
        return dx, dw, db


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) per (sample, group of channels), then per-channel affine."""
    xd = input._data
    shape = tuple(xd.shape)
    if len(shape) < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {len(shape)}. Hint: "
            "group_norm takes a batch of shape (N, C, ...); add a batch dim with unsqueeze(0)."
        )
    Nb, C = shape[0], shape[1]
    G = int(num_groups)
    L = 1
    for s in shape[2:]:
        L *= s
    _verify_batch_size((Nb * C // G if G else 0, G) + shape[2:])
    if G <= 0 or C % G:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(shape)} and num_groups={G}. Hint: choose num_groups dividing "
            f"{C}."
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t._data.ndim != 1 or _numel(t) != C):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in "
                f"input, but got {name} of shape {list(t._data.shape)} and input of shape "
                f"{list(shape)}. Hint: build GroupNorm with num_channels={C}."
            )
    _check_dtypes("GroupNormKernelImpl", xd, weight, bias)
    R, M = Nb * G, (C // G) * L
    xhat, invstd, _, _ = _stats(N, xd.reshape((R, M)), 1, (R, 1), M, eps)
    grad = _grad_needed(input, weight, bias)
    out = _affine(xhat.reshape((Nb, C, L)), weight, bias, (1, C, 1), not grad)
    return record(
        NativeGroupNormBackward0,
        (input, weight, bias),
        out.reshape(shape),
        saved=(input, weight, xhat, invstd),
        shape=shape,
        shp3=(Nb, C, L),
        rm=(R, M),
        eps=eps,
    )


# ---------------------------------------------------------------------------- composed norms
def rms_norm(
    input: Tensor, normalized_shape: Any, weight: Tensor | None = None, eps: float | None = None
) -> Tensor:
    """x / sqrt(mean(x**2) + eps) * weight over the trailing ``normalized_shape``."""
    ns_ = _as_shape(normalized_shape)
    _check_normalized(input, ns_, weight, None, "*")
    xd = input._data
    _check_dtypes("rms_norm", xd, weight)
    if eps is None:
        eps = float(np.finfo(xd.dtype).eps)
    dims = tuple(range(-len(ns_), 0))
    r = E.rsqrt(input.pow(2).mean(dims, keepdim=True) + eps)
    out = input * r
    return out if weight is None else out * weight


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """x / (k + alpha * mean of x**2 over a window of ``size`` neighbouring channels) ** beta."""
    nd = input.dim()
    if nd < 3:
        raise ValueError(
            f"Expected 3D or higher dimensionality input (got {nd} dimensions). Hint: "
            "local_response_norm takes a batch of shape (N, C, ...)."
        )
    if input.numel() == 0:
        return input
    C = input.shape[1]
    div = input * input
    front, back = size // 2, (size - 1) // 2
    parts = []
    zshape = list(div.shape)
    if front:
        zshape[1] = front
        parts.append(_new(np.zeros(zshape, dtype=div._data.dtype), None))
    parts.append(div)
    if back:
        zshape[1] = back
        parts.append(_new(np.zeros(zshape, dtype=div._data.dtype), None))
    padded = E.cat(parts, 1) if len(parts) > 1 else div
    acc = padded.narrow(1, 0, C)
    for i in range(1, size):
        acc = acc + padded.narrow(1, i, C)
    div = (acc * (1.0 / size)) * alpha + k
    return input / div.pow(beta)
