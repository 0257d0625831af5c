"""Random numbers: ``Generator`` (NumPy's PCG64 underneath), the seeding functions, the samplers
(rand, randn, randint, randperm, normal, bernoulli, multinomial, poisson and the *_like forms)
and the in-place fills installed on Tensor (uniform_, normal_, random_, bernoulli_ ...).

Values differ from torch's (another bit generator) but the distributions, shapes, dtypes, errors
and reproducibility rules are torch's: ``manual_seed(s)`` makes every sampler repeat exactly.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import _dtype as D
from ._creation import TORCH_NAMES, _out_dt, finish_out, not_implemented, size_arg
from ._tensor import CPU, Tensor, _check_device, _new, device
from .autograd.graph import Node
from .ops._core import ns, record
from .ops.inplace import check_inplace, inplace_update

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
    "set_rng_state", "fork_rng", "rand", "randn", "randint", "randperm", "normal", "bernoulli",
    "multinomial", "poisson", "rand_like", "randn_like", "randint_like",
]

_DEFAULT_SEED = 67280421310721  # torch.Generator().initial_seed()
_MAGIC = b"EMBR1"
STATE_SIZE = len(_MAGIC) + 16 + 16 + 1 + 4 + 8  # PCG64 state, inc, has_uint32, uinteger, seed
_I64, _F16 = np.dtype(np.int64), np.dtype(np.float16)
_CNAMES = {"int8": "signed char", "uint8": "unsigned char", "int16": "short", "int32": "int",
           "int64": "long int", "bool": "bool", "float16": "c10::Half", "float32": "float",
           "float64": "double"}


class Generator:
    """A random number generator with torch.Generator's API, backed by NumPy's PCG64.

    ``get_state()`` returns a uint8 tensor of ``STATE_SIZE`` bytes: b"EMBR1", the PCG64 state
    and increment (16 bytes each, little endian), the cached 32-bit half (1 + 4 bytes) and the
    initial seed (8 bytes); ``set_state`` accepts exactly that.
    """

    def __init__(self, device: Any = "cpu") -> None:
        _check_device(device)
        self.manual_seed(_DEFAULT_SEED)

    @property
    def device(self) -> device:
        return CPU

    def manual_seed(self, seed: Any) -> Generator:
        """Reset the stream from ``seed`` (an int in [-2**63, 2**64)); returns self."""
        s = int(seed)
        if not -(2**63) <= s < 2**64:
            raise ValueError("Overflow when unpacking long long. Hint: seeds are 64-bit ints.")
        self._seed = s % 2**64
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Seed from the OS entropy source and return that seed."""
        s = int.from_bytes(os.urandom(8), "little") >> 1
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed the stream was last (re)started from."""
        return self._seed

    def get_state(self) -> Tensor:
        """The full state as a uint8 tensor (see the class docstring for the layout)."""
        st = self._rng.bit_generator.state
        buf = (_MAGIC + st["state"]["state"].to_bytes(16, "little")
               + st["state"]["inc"].to_bytes(16, "little") + bytes([st["has_uint32"]])
               + st["uinteger"].to_bytes(4, "little") + self._seed.to_bytes(8, "little"))
        return _new(np.frombuffer(buf, np.uint8).copy(), None)

    def set_state(self, new_state: Tensor) -> Generator:
        """Restore a state returned by ``get_state``; returns self."""
        if not isinstance(new_state, Tensor) or new_state._data.dtype != np.uint8:
            raise TypeError(
                "RNG state must be a torch.ByteTensor. Hint: pass what get_state() returned."
            )
        b = np.ascontiguousarray(new_state._data).tobytes()
        if len(b) != STATE_SIZE or not b.startswith(_MAGIC):
            raise RuntimeError(
                f"Expected a CPUGeneratorImplState of size {STATE_SIZE} but found the input RNG "
                f"state size to be {len(b)}. Hint: only states from ember's get_state() fit."
            )
        i = len(_MAGIC)
        bg = np.random.PCG64()
        bg.state = {"bit_generator": "PCG64",
                    "state": {"state": int.from_bytes(b[i:i + 16], "little"),
                              "inc": int.from_bytes(b[i + 16:i + 32], "little")},
                    "has_uint32": b[i + 32], "uinteger": int.from_bytes(b[i + 33:i + 37], "little")}
        self._rng = np.random.Generator(bg)
        self._seed = int.from_bytes(b[i + 37:], "little")
        return self

    def clone_state(self) -> Generator:
        """A new generator in the same state (the two streams then continue identically)."""
        return Generator().set_state(self.get_state())

    def __reduce__(self) -> tuple:
        return (_from_state, (self.get_state()._data.tobytes(),))


def _from_state(b: bytes) -> Generator:
    return Generator().set_state(_new(np.frombuffer(b, np.uint8).copy(), None))


default_generator = Generator()
default_generator.seed()  # like torch: a fresh stream per process until manual_seed


def manual_seed(seed: Any) -> Generator:
    """Seed the default generator (same seed -> same numbers from every sampler)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator non-deterministically; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's initial seed."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state (a uint8 tensor)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the default generator's state."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda") -> Iterator[None]:
    """Run a block and restore the default generator's state afterwards."""
    if not enabled:
        yield
        return
    state = default_generator.get_state()
    try:
        yield
    finally:
        default_generator.set_state(state)


# ------------------------------------------------------------------------ sampling helpers
def _gen(generator: Any, who: str) -> np.random.Generator:
    if generator is None:
        return default_generator._rng
    if isinstance(generator, Generator):
        return generator._rng
    raise TypeError(
        f"{who}(): argument 'generator' must be torch.Generator, not {type(generator).__name__}"
    )


def _part(npd: np.dtype) -> np.dtype:
    return np.dtype(np.float32 if npd == np.complex64 else np.float64)


def _uniform01(rng: np.random.Generator, shape: tuple, npd: np.dtype) -> np.ndarray:
    """U[0, 1) in ``npd`` (complex: independent real and imaginary parts)."""
    if npd.kind == "c":
        p = _part(npd)
        return (_uniform01(rng, shape, p) + 1j * _uniform01(rng, shape, p)).astype(npd)
    if npd == _F16:  # 11 random bits: exactly representable, never rounds up to 1
        return (rng.integers(0, 2048, shape) * 2.0**-11).astype(npd)
    return rng.random(shape, dtype=npd)


def _normal01(rng: np.random.Generator, shape: tuple, npd: np.dtype) -> np.ndarray:
    """N(0, 1) in ``npd`` (complex: E|z|^2 = 1, real and imaginary parts N(0, 1/2))."""
    if npd.kind == "c":
        p = _part(npd)
        z = _normal01(rng, shape, p) + 1j * _normal01(rng, shape, p)
        return (z * np.sqrt(0.5)).astype(npd)
    if npd == _F16:
        return rng.standard_normal(shape, dtype=np.float32).astype(npd)
    return rng.standard_normal(shape, dtype=npd)


def _need_float(npd: np.dtype, kernel: str) -> None:
    if npd.kind not in "fc":
        raise not_implemented(kernel, npd)


def _int(x: Any, who: str, name: str) -> int:
    if isinstance(x, Tensor):
        x = x.item()
    if not isinstance(x, (int, np.integer)):
        raise TypeError(f"{who}(): argument '{name}' must be int, not {type(x).__name__}")
    return int(x)


def _int_bounds(lo: int, hi: int, npd: np.dtype) -> None:
    """torch's range checks of random_/randint for integer dtypes ([lo, hi) must fit)."""
    if npd.kind == "f":
        return
    info = (0, 1) if npd.kind == "b" else (np.iinfo(npd).min, np.iinfo(npd).max)
    name = _CNAMES[npd.name]
    if not info[0] <= lo <= info[1]:
        raise RuntimeError(f"from is out of bounds for {name}")
    if not info[0] <= hi - 1 <= info[1]:
        raise RuntimeError(f"to - 1 is out of bounds for {name}")


def _check_range(lo: int, hi: int) -> None:
    if lo >= hi:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}. "
            "Hint: the upper bound is exclusive, so it must exceed the lower one."
        )


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


class _ZeroGrad(Node):
    """out = a sample whose distribution depends on the inputs;  d(input) = 0 (not reparam.)."""

    def backward(self, g: Any) -> tuple:
        z = ns(g).zeros_like(g)
        return (z,) * len(self._next)


class _NoGrad(Node):
    """bernoulli(input, p): torch defines no derivative; backward raises."""

    _name = "NotImplemented"

    def backward(self, g: Any) -> tuple:
        raise RuntimeError("derivative for aten::bernoulli is not implemented")


_NODES = {n: type(n, (_ZeroGrad,), {"__doc__": _ZeroGrad.__doc__}) for n in (
    "NormalBackward0", "NormalBackward1", "NormalBackward2", "NormalBackward3",
    "UniformBackward0", "RandomBackward0", "RandomBackward1", "RandomBackward2",
    "BernoulliBackward0", "BernoulliBackward1", "BernoulliBackward2", "ExponentialBackward0",
    "GeometricBackward0", "CauchyBackward0", "LogNormalBackward0", "PoissonBackward0")}


def _meta(d: Any, shape: tuple, npd: np.dtype) -> tuple | None:
    if d.shape == shape and d.dtype == npd:
        return None
    return (d.shape, d.dtype if d.dtype != npd else None)


def _check_std(std: Any) -> None:
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


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


def _check_p(p: np.ndarray) -> None:
    if not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError(
            "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
            "message be improved?  If so, please report an enhancement request to PyTorch.)"
        )


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


# ------------------------------------------------------------------------ in-place fills
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
           log_normal_, bernoulli, multinomial):
    setattr(Tensor, _f.__name__, _f)
del _f
