"""Randomness inside vmap (torch's ``randomness=`` flag) and the rules of the random ops.

* ``'error'``: any random draw inside the vmapped function raises torch's RuntimeError.  Besides
  the rules below, the default generator's NumPy stream is swapped for a guard while such a vmap
  runs, so samplers without a rule (nn.init, rrelu ...) raise too instead of drawing silently.
* ``'different'``: draws are batched: one independent sample per example (per level).
* ``'same'``: draws have the per-example shape and are shared by every example.

A draw of logical shape ``S`` is made once with shape ``(*sizes of the 'different' levels, *S)``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

import ember

from .. import _generator as G
from .. import _random as R
from .._tensor import Tensor
from ._core import LIVE, STACK, BatchedTensor, bt, lndim, no_rule, parts, relayout
from ._dispatch import bind

ERROR_MSG = (
    "vmap: called random operation while in randomness error mode. Please either use the "
    "'same' or 'different' randomness flags on vmap or perform the randomness operation out of "
    "vmap"
)
UNBATCHED_MSG = (
    "vmap: Cannot ask for different inplace randomness on an unbatched tensor. This will appear "
    "like same randomness. Hint: create the tensor inside vmap from a batched one (e.g. "
    "ember.empty_like(x)) or use randomness='same'."
)


class _Guard:
    """Stands in for the default generator's NumPy stream while a vmap forbids plain draws."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def __getattr__(self, name: str) -> Any:
        if self.mode == "error":
            raise RuntimeError(ERROR_MSG)
        raise no_rule(depth=2)


# the samplers themselves, bound now: while vmap runs, the module attributes are rule wrappers
_rand, _randn, _randint = R.rand, R.randn, R.randint
_REAL: list = [None]  # the default generator's stream while a guard is installed


def sync_guard() -> None:
    """Install / remove the guard to match the active levels (called on vmap entry and exit)."""
    modes = {lv.randomness for lv in STACK}
    want = "error" if "error" in modes else ("different" if "different" in modes else None)
    gen = G.default_generator
    cur = gen._rng
    if isinstance(cur, _Guard):
        if want is None:
            gen._rng = _REAL[0]
            _REAL[0] = None
        else:
            cur.mode = want
    elif want is not None:
        _REAL[0] = cur
        gen._rng = _Guard(want)


@contextlib.contextmanager
def real_rng() -> Iterator[None]:
    """Draw from the real stream inside a rule."""
    gen = G.default_generator
    cur = gen._rng
    if not isinstance(cur, _Guard):
        yield
        return
    gen._rng = _REAL[0]
    try:
        yield
    finally:
        _REAL[0] = gen._rng
        gen._rng = cur


def different() -> tuple:
    """The levels whose draws differ per example; raises in 'error' mode."""
    for lv in STACK:
        if lv.randomness == "error":
            raise RuntimeError(ERROR_MSG)
    return tuple(lv for lv in STACK if lv.randomness == "different")


def draw(sampler: Any, shape: tuple, **kwargs: Any) -> Any:
    """``sampler(shape)`` once per 'different' example: batched at those levels."""
    D = different()
    with real_rng():
        t = sampler((*[lv.size for lv in D], *shape), **kwargs)
    return bt(t, tuple(lv.id for lv in D))


def _plain(orig: Any, args: tuple, kwargs: dict) -> bool:
    return not any(type(a) is BatchedTensor for a in (*args, *kwargs.values()))


def _creation(orig: Any, *args: Any, **kwargs: Any) -> Any:
    """rand / randn (size as varargs, one sequence or size=)."""
    if not different():
        with real_rng():
            return orig(*args, **kwargs)
    if kwargs.get("out") is not None:
        raise RuntimeError("vmap: random ops with out= are not supported inside vmap.")
    size = kwargs.pop("size", None)
    from .._creation import size_arg

    shape = size_arg(args, size, orig.__name__)
    return draw(lambda s, **k: orig(*s, **k), shape, **kwargs)


def _randint(orig: Any, *args: Any, **kwargs: Any) -> Any:
    if not different():
        with real_rng():
            return orig(*args, **kwargs)
    pos = list(args)
    size = kwargs.pop("size", None)
    if size is None:
        size = pos.pop()
    return draw(lambda s, **k: orig(*pos, s, **k), tuple(size), **kwargs)


def _randperm(orig: Any, n: int, **kwargs: Any) -> Any:
    D = different()
    if not D:
        with real_rng():
            return orig(n, **kwargs)
    with real_rng():
        rng = G.default_generator._rng
        base = np.broadcast_to(np.arange(n), (*[lv.size for lv in D], n))
        arr = rng.permuted(base, axis=-1)
    dt = kwargs.get("dtype") or ember.int64
    return bt(ember.tensor(arr, dtype=dt), tuple(lv.id for lv in D))


def _like(orig: Any, input: Any, *args: Any, **kwargs: Any) -> Any:
    """rand_like / randn_like / randint_like: per-example shape and dtype of ``input``."""
    kwargs.setdefault("dtype", input.dtype)
    name = orig.__name__
    if name == "randint_like":
        low, high = (0, args[0]) if len(args) == 1 else args
        if "high" in kwargs:
            low, high = (args[0] if args else 0), kwargs.pop("high")
        kwargs.pop("low", None)
        return draw(lambda s, **k: _randint(low, high, s, **k), tuple(input.shape),
                    **kwargs)
    sampler = _rand if name == "rand_like" else _randn
    return draw(lambda s, **k: sampler(*s, **k), tuple(input.shape), **kwargs)


def _normal(orig: Any, mean: Any, std: Any = 1.0, size: Any = None, **kwargs: Any) -> Any:
    if _plain(orig, (mean, std), {}) and not different():
        with real_rng():
            return orig(mean, std, size, **kwargs)
    if size is not None:
        shape = tuple(size)
    else:
        shape = ember.broadcast_shapes(*(tuple(t.shape) for t in (mean, std)
                                         if isinstance(t, Tensor)))
    dt = kwargs.get("dtype") or next((t.dtype for t in (mean, std) if isinstance(t, Tensor)),
                                     None)
    eps = draw(lambda s, **k: _randn(*s, **k), shape, **({"dtype": dt} if dt else {}))
    return mean + std * eps


def _bernoulli(orig: Any, input: Any, p: Any = None, **kwargs: Any) -> Any:
    if _plain(orig, (input, p), {}) and not different():
        with real_rng():
            return orig(input, p, **kwargs)
    dt = input.dtype if input.is_floating_point() else ember.get_default_dtype()
    u = draw(lambda s, **k: _rand(*s, **k), tuple(input.shape), dtype=dt)
    return (u < (input if p is None else p)).to(input.dtype)


def _no_batched_draw(orig: Any, *args: Any, **kwargs: Any) -> Any:
    if _plain(orig, args, kwargs) and not different():
        with real_rng():
            return orig(*args, **kwargs)
    raise no_rule(f"ember.{orig.__name__} (randomness='different' or a batched input)")


bind(_creation, "rand randn", tensor=False, always=True)
bind(_randint, "randint", tensor=False, always=True)
bind(_randperm, "randperm", tensor=False, always=True)
bind(_like, "rand_like randn_like randint_like", tensor=False, always=True)
bind(_normal, "normal", tensor=False, always=True)
bind(_bernoulli, "bernoulli", always=True)
bind(_no_batched_draw, "multinomial poisson", always=True)


def _inplace_random(orig: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    """uniform_ / normal_ / bernoulli_ ...: fill each example ('different') or all alike."""
    D = {lv.id for lv in different()}
    p, lv = parts(self)
    if any(i not in lv for i in D):
        raise RuntimeError(UNBATCHED_MSG)
    if any(type(a) is BatchedTensor for a in (*args, *kwargs.values())):
        raise no_rule(f"Tensor.{orig.__name__} with batched parameters")
    keep = tuple(i for i in lv if i in D)
    if keep == lv:
        with real_rng():
            orig(p, *args, **kwargs)
        return self
    t = ember.empty(*[LIVE[i].size for i in keep], *self.shape, dtype=self.dtype)
    with real_rng():
        orig(t, *args, **kwargs)
    p.copy_(relayout(bt(t, keep), lv))
    return self


bind(_inplace_random, "uniform_ normal_ random_ bernoulli_ exponential_ geometric_ cauchy_ "
     "log_normal_", ember=False, multi=True, always=True)


# ----------------------------------------------------------------------------- dropout
_F = "ember.nn.functional"


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout(orig: Any, input: Any, p: float = 0.5, training: bool = True,
             inplace: bool = False) -> Any:
    _check_p(p)
    if not training or p == 0:
        return input
    name = orig.__name__
    n = lndim(input)
    shape = tuple(input.shape)
    if name != "dropout":
        if name == "dropout1d" and n not in (2, 3):
            return orig(input, p, training, inplace)  # ember's error
        full = {"dropout1d": 3, "dropout2d": 4, "dropout3d": 5}[name]
        if name == "dropout2d" and n == 3:
            full = 3
        shape = shape[:2] + (1,) * (n - 2) if n == full else shape[:1] + (1,) * (n - 1)
    if p == 1:
        mask: Any = 0.0
    else:
        u = draw(lambda s, **k: _rand(*s, **k), shape, dtype=input.dtype)
        mask = (u >= p).to(input.dtype) * (1.0 / (1.0 - p))
    return input.mul_(mask) if inplace else input * mask


bind(_dropout, "dropout dropout1d dropout2d dropout3d", tensor=False, module=_F, always=True)


def _alpha(orig: Any, input: Any, p: float = 0.5, training: bool = False,
           inplace: bool = False) -> Any:
    _check_p(p)
    if not training or p == 0:
        return input
    different()
    raise no_rule(f"ember.nn.functional.{orig.__name__} (training mode)")


bind(_alpha, "alpha_dropout feature_alpha_dropout", tensor=False, module=_F, always=True)


def _rrelu(orig: Any, input: Any, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False, inplace: bool = False) -> Any:
    if not training:
        from .rules_pointwise import pointwise

        return pointwise(orig, input, lower, upper, training, inplace)
    different()
    raise no_rule("ember.nn.functional.rrelu (training mode)")


bind(_rrelu, "rrelu", tensor=False, module=_F, always=True)
