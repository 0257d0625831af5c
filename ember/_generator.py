"""The random number generator and what every sampler shares: ``Generator`` (NumPy's PCG64
underneath), the default generator and the seeding functions (manual_seed, seed, get_rng_state,
fork_rng ...), the sampling helpers and the zero-gradient nodes the samplers record
(NormalBackward0 ...).  Used by ``_random`` (samplers) and ``_random_inplace`` (in-place fills);
the public names are re-exported from ``_random``."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._factory import not_implemented
from ._tensor import CPU, Tensor, _check_device, _new, device
from .autograd.graph import Node
from .ops._core import ns

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


# ------------------------------------------------------------------------ sampler nodes
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


def _check_p(p: np.ndarray) -> None:
    if not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError(
            "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
            "message be improved?  If so, please report an enhancement request to PyTorch.)"
        )
