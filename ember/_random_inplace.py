"""In-place random fills installed as Tensor methods on import: uniform_, normal_, random_,
bernoulli_, exponential_, geometric_, cauchy_, log_normal_ (each records torch's zero-gradient
node, e.g. UniformBackward0).  Imported (and re-exported) by ``_random``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._factory import TORCH_NAMES, not_implemented
from ._generator import (
    _CNAMES,
    _NODES,
    _check_p,
    _check_range,
    _check_std,
    _gen,
    _int,
    _int_bounds,
    _meta,
    _need_float,
    _normal01,
    _uniform01,
)
from ._tensor import Tensor
from .ops._core import record
from .ops.inplace import check_inplace, inplace_update


def _fill(self: Tensor, name: str, arr: Any, extra: tuple = (), meta: Any = None) -> Tensor:
    """Write the sample ``arr`` into ``self`` (shared memory kept), recording a zero-grad node."""
    arr = np.asarray(arr).astype(self._data.dtype, copy=False)
    return inplace_update(self, record(_NODES[name], (self,) + extra, arr, meta=meta))


def _float_self(self: Tensor, kernel: str) -> np.dtype:
    npd = self._data.dtype
    _need_float(npd, kernel)
    return npd


def uniform_(self: Tensor, from_: float = 0.0, to: float = 1.0, *, generator: Any = None,
             **kw: Any) -> Tensor:
    """Fill with samples of U[from, to)."""
    from_ = kw.pop("from", from_)
    npd = _float_self(self, "check_uniform_bounds")
    if npd.kind == "f":
        hi = float(np.finfo(npd).max)
        for n, v in (("from", from_), ("to", to)):
            if not -hi <= v <= hi:
                raise RuntimeError(f"{n} is out of bounds for {_CNAMES[npd.name]}")
    if from_ > to:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={from_:g} > to={to:g}"
        )
    check_inplace(self)
    u = _uniform01(_gen(generator, "uniform_"), self._data.shape, npd)
    return _fill(self, "UniformBackward0", u * (to - from_) + from_)


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *,
            generator: Any = None) -> Tensor:
    """Fill with samples of N(mean, std**2)."""
    npd = _float_self(self, "normal_kernel_cpu")
    _check_std(std)
    check_inplace(self)
    z = _normal01(_gen(generator, "normal_"), self._data.shape, npd)
    return _fill(self, "NormalBackward0", z * std + mean)


def random_(self: Tensor, *args: Any, generator: Any = None, **kw: Any) -> Tensor:
    """Fill with integers uniform on [from, to) (default: every value the dtype holds)."""
    args = args + tuple(kw.pop(k) for k in ("from", "to") if k in kw)
    npd = self._data.dtype
    if npd.kind == "c":
        raise not_implemented("random_", npd)
    if npd.kind == "f":
        top = 2 ** (np.finfo(npd).nmant + 1)  # torch: [0, 2**digits], 2**24 for float32
    else:
        top = 1 if npd.kind == "b" else int(np.iinfo(npd).max)
    if len(args) == 0:
        lo, hi, node = 0, top + 1, "RandomBackward2"
    elif len(args) == 1:
        lo, hi, node = 0, _int(args[0], "random_", "to"), "RandomBackward1"
    else:
        lo = _int(args[0], "random_", "from")
        hi = top + 1 if args[1] is None else _int(args[1], "random_", "to")
        node = "RandomBackward0"
    _check_range(lo, hi)
    _int_bounds(lo, hi, npd)
    check_inplace(self)
    rng = _gen(generator, "random_")
    return _fill(self, node, rng.integers(lo, hi - 1, self._data.shape, np.int64, True))


def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """Fill with 1 with probability p (a number or a tensor broadcast to self), else 0."""
    shape = self._data.shape
    if isinstance(p, Tensor):
        pd = p._data
        _need_float(pd.dtype, "bernoulli_tensor_cpu_p_")
        try:
            np.broadcast_to(pd, shape)
        except ValueError:
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[-1] if shape else 1}) must match the "
                f"existing size ({pd.shape[-1]}) at non-singleton dimension "
                f"{len(shape) - 1}.  Target sizes: {list(shape)}.  Tensor sizes: "
                f"{list(pd.shape)}"
            ) from None
        _check_p(pd)
        check_inplace(self)
        u = _gen(generator, "bernoulli_").random(shape)
        return _fill(self, "BernoulliBackward1", u < pd, (p,),
                     meta=(None, _meta(pd, shape, self._data.dtype)))
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    check_inplace(self)
    return _fill(self, "BernoulliBackward2", _gen(generator, "bernoulli_").random(shape) < p)


def _continuous(self: Tensor, what: str, c_names: bool = False) -> None:
    npd = self._data.dtype
    if npd.kind != "f":
        name = _CNAMES[npd.name] if c_names else TORCH_NAMES[npd.name]
        raise RuntimeError(
            f"{what} distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {name}"
        )


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with samples of Exp(lambd) (density lambd * exp(-lambd * x))."""
    _continuous(self, "Exponential")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    check_inplace(self)
    e = _gen(generator, "exponential_").standard_exponential(self._data.shape)
    return _fill(self, "ExponentialBackward0", e / lambd)


def geometric_(self: Tensor, p: float, *, generator: Any = None) -> Tensor:
    """Fill with samples of Geometric(p) on {1, 2, ...} (trials up to the first success)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    check_inplace(self)
    g = _gen(generator, "geometric_").geometric(p, self._data.shape)
    return _fill(self, "GeometricBackward0", g)


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *,
            generator: Any = None) -> Tensor:
    """Fill with samples of Cauchy(median, sigma): median + sigma * tan(pi * (U - 1/2))."""
    _continuous(self, "Cauchy", c_names=True)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    check_inplace(self)
    c = _gen(generator, "cauchy_").standard_cauchy(self._data.shape)
    return _fill(self, "CauchyBackward0", c * sigma + median)


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *,
                generator: Any = None) -> Tensor:
    """Fill with exp(N(mean, std**2)) samples."""
    npd = _float_self(self, "log_normal_cpu")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    check_inplace(self)
    z = _gen(generator, "log_normal_").standard_normal(self._data.shape)
    return _fill(self, "LogNormalBackward0", np.exp(z * std + mean).astype(npd))



for _f in (uniform_, normal_, random_, bernoulli_, exponential_, geometric_, cauchy_,
           log_normal_):
    setattr(Tensor, _f.__name__, _f)
del _f
