"""Random numbers: the samplers (rand, randn, randint, randperm, normal, bernoulli, multinomial,
poisson and the *_like forms).  ``Generator`` and the seeding functions live in ``_generator`` and
the in-place fills installed on Tensor (uniform_, normal_, random_, bernoulli_ ...) in
``_random_inplace``; both are re-exported from here.

Values differ from torch's (another bit generator) but the distributions, shapes, dtypes, errors
and reproducibility rules are torch's: ``manual_seed(s)`` makes every sampler repeat exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _dtype as D
from ._creation import _out_dt, finish_out, size_arg
from ._factory import TORCH_NAMES
from ._generator import (  # noqa: F401  (STATE_SIZE, _from_state: re-exported)
    _I64,
    _NODES,
    STATE_SIZE,
    Generator,
    _check_p,
    _check_range,
    _check_std,
    _from_state,
    _gen,
    _int,
    _int_bounds,
    _meta,
    _need_float,
    _NoGrad,
    _normal01,
    _uniform01,
    default_generator,
    fork_rng,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from ._random_inplace import (  # noqa: F401  (importing installs them on Tensor; re-exported)
    bernoulli_,
    cauchy_,
    exponential_,
    geometric_,
    log_normal_,
    normal_,
    random_,
    uniform_,
)
from ._tensor import Tensor, _check_device
from .ops._core import record

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
    "set_rng_state", "fork_rng", "rand", "randn", "randint", "randperm", "normal", "bernoulli",
    "multinomial", "poisson", "rand_like", "randn_like", "randint_like",
]


# ------------------------------------------------------------------------ samplers
def rand(*shape: Any, size: Any = None, generator: Any = None, out: Any = None,
         dtype: Any = None, layout: Any = None, device: Any = None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    _check_device(device)
    shape = size_arg(shape, size, "rand")
    npd = _out_dt(dtype, out)
    _need_float(npd, "check_uniform_bounds")
    return finish_out(_uniform01(_gen(generator, "rand"), shape, npd), requires_grad, out, "rand")


def randn(*shape: Any, size: Any = None, generator: Any = None, out: Any = None,
          dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Standard normal samples, N(0, 1)."""
    _check_device(device)
    shape = size_arg(shape, size, "randn")
    npd = _out_dt(dtype, out)
    _need_float(npd, "normal_kernel_cpu")
    return finish_out(_normal01(_gen(generator, "randn"), shape, npd), requires_grad, out,
                      "randn")


def _randint(rng: np.random.Generator, low: Any, high: Any, shape: tuple,
             npd: np.dtype, who: str) -> np.ndarray:
    lo, hi = _int(low, who, "low"), _int(high, who, "high")
    _check_range(lo, hi)
    _int_bounds(lo, hi, npd)
    return rng.integers(lo, hi - 1, shape, dtype=np.int64, endpoint=True).astype(npd)


def randint(*args: Any, low: Any = None, high: Any = None, size: Any = None,
            generator: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
            device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Uniform integers on [low, high) (int64 unless dtype= says otherwise)."""
    _check_device(device)
    pos = list(args)
    if size is None:
        if not pos:
            raise TypeError("randint() missing required argument 'size'")
        size = pos.pop()
    if len(pos) == 2:
        low, high = pos
    elif len(pos) == 1:
        low, high = (pos[0], high) if high is not None else (low, pos[0])
    elif len(pos) > 2:
        raise TypeError(f"randint() takes at most 3 positional arguments ({len(args)} given)")
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    if not isinstance(size, (list, tuple)):
        raise TypeError(
            f"randint(): argument 'size' must be tuple of ints, not {type(size).__name__}. "
            f"Hint: pass the shape as a tuple, e.g. randint({high}, (3,))."
        )
    shape = size_arg((size,), None, "randint")
    npd = _out_dt(dtype, out, _I64)
    arr = _randint(_gen(generator, "randint"), 0 if low is None else low, high, shape, npd,
                   "randint")
    return finish_out(arr, requires_grad, out, "randint")


def randperm(n: int, *, generator: Any = None, out: Any = None, dtype: Any = None,
             layout: Any = None, device: Any = None, requires_grad: bool = False,
             pin_memory: bool = False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64)."""
    _check_device(device)
    (n,) = size_arg((_int(n, "randperm", "n"),), None, "randperm")
    npd = _out_dt(dtype, out, _I64)
    if npd.kind in "iub" and n > 0 and n - 1 > (1 if npd.kind == "b" else np.iinfo(npd).max):
        raise RuntimeError(f"n is too large for result tensor type: '{TORCH_NAMES[npd.name]}'")
    arr = _gen(generator, "randperm").permutation(n).astype(npd)
    return finish_out(arr, requires_grad, out, "randperm")


def normal(mean: Any, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
           requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Samples of N(mean, std**2); mean and std are numbers or (broadcast) tensors."""
    _check_device(device)
    rng = _gen(generator, "normal")
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError(
                "normal() received an invalid combination of arguments - got (float, float). "
                "Hint: pass size= (e.g. normal(0., 1., (3,))) or make mean or std a tensor."
            )
        _check_std(std)
        npd = _out_dt(dtype, out)
        _need_float(npd, "normal_kernel_cpu")
        z = _normal01(rng, size_arg((size,), None, "normal"), npd)
        return finish_out((z * std + mean).astype(npd), requires_grad, out, "normal")
    md = mean._data if mt else None
    sd = std._data if st else None
    if mt and st:
        npd = D.promote_types(md.dtype, sd.dtype)
        try:
            shape = np.broadcast_shapes(md.shape, sd.shape)
        except ValueError:
            raise RuntimeError(_broadcast_msg(md.shape, sd.shape)) from None
    else:
        npd, shape = (md if mt else sd).dtype, (md if mt else sd).shape
    _need_float(npd, "normal_kernel_cpu")
    if st:
        if (sd < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    else:
        _check_std(std)
    z = _normal01(rng, shape, npd)
    arr = np.asarray(z * (sd if st else std) + (md if mt else mean)).astype(npd, copy=False)
    if out is not None:
        return finish_out(arr, False, out, "normal")
    if mt and st:
        return record(_NODES["NormalBackward3"], (mean, std), arr,
                      meta=(_meta(md, shape, npd), _meta(sd, shape, npd)))
    return record(_NODES["NormalBackward1" if mt else "NormalBackward2"], (mean if mt else std,),
                  arr)


def _broadcast_msg(a: tuple, b: tuple) -> str:
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and x != 1 and y != 1:
            return (f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                    f"non-singleton dimension {max(len(a), len(b)) - i}")
    return "shapes cannot be broadcast"


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None, out: Any = None) -> Tensor:
    """1 with probability ``input`` (or ``p``), else 0; same shape and dtype as input."""
    rng = _gen(generator, "bernoulli")
    d = input._data
    if p is None:
        _need_float(d.dtype, "bernoulli_tensor_cpu_p_")
        _check_p(d)
        arr = np.asarray(rng.random(d.shape) < d).astype(d.dtype)
        node = _NODES["BernoulliBackward0"]
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
        arr = np.asarray(rng.random(d.shape) < p).astype(d.dtype)
        node = _NoGrad
    if out is not None:
        return finish_out(arr, False, out, "bernoulli")
    return record(node, (input,), arr)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Any = None, out: Any = None) -> Tensor:
    """Indices sampled from the categorical distribution(s) in the rows of ``input`` (int64)."""
    d = input._data
    if d.dtype.kind != "f":
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: "
            f"{TORCH_NAMES[d.dtype.name]}"
        )
    if d.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    k = _int(num_samples, "multinomial", "num_samples")
    if k <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and k > d.shape[-1]:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement. Hint: "
            f"asked for {k} of {d.shape[-1]} categories; pass replacement=True."
        )
    p = np.asarray(d, dtype=np.float64).reshape(-1, d.shape[-1])
    if not (np.isfinite(p) & (p >= 0)).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    total = p.sum(axis=1)
    if (total <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _gen(generator, "multinomial")
    if replacement:  # inverse CDF; side="right" never lands on a zero-probability category
        cdf = np.cumsum(p, axis=1)
        u = rng.random((p.shape[0], k)) * cdf[:, -1:]
        last = p.shape[1] - 1 - np.argmax(p[:, ::-1] > 0, axis=1)
        idx = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, u, strict=True)])
        idx = np.minimum(idx, last[:, None])
    else:  # exponential race: the k smallest E_i / p_i are a draw without replacement
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(p.shape) / p
        idx = np.argsort(keys, axis=1, kind="stable")[:, :k]
    arr = idx.astype(np.int64).reshape(d.shape[:-1] + (k,))
    return finish_out(arr, False, out, "multinomial")


def poisson(input: Tensor, generator: Any = None) -> Tensor:
    """Poisson samples with rates ``input`` (same dtype)."""
    d = input._data
    _need_float(d.dtype, "poisson_cpu")
    if (d < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    arr = np.asarray(_gen(generator, "poisson").poisson(d)).astype(d.dtype)
    return record(_NODES["PoissonBackward0"], (input,), arr)


def rand_like(input: Tensor, *, generator: Any = None, dtype: Any = None, layout: Any = None,
              device: Any = None, requires_grad: bool = False,
              memory_format: Any = None) -> Tensor:
    """rand with the shape (and dtype) of ``input``."""
    return rand(input._data.shape, generator=generator, dtype=dtype or input.dtype,
                device=device, requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator: Any = None, dtype: Any = None, layout: Any = None,
               device: Any = None, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    """randn with the shape (and dtype) of ``input``."""
    return randn(input._data.shape, generator=generator, dtype=dtype or input.dtype,
                 device=device, requires_grad=requires_grad)


def randint_like(input: Tensor, low: Any = 0, high: Any = None, *, generator: Any = None,
                 dtype: Any = None, layout: Any = None, device: Any = None,
                 requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """randint on [low, high) with the shape (and dtype) of ``input``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input._data.shape, generator=generator,
                   dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


for _f in (bernoulli, multinomial):
    setattr(Tensor, _f.__name__, _f)
del _f
