"""dtypes, torch's type-promotion rules and the default dtype."""

from __future__ import annotations

import builtins

import numpy as np

builtins_float, builtins_int, builtins_bool = builtins.float, builtins.int, builtins.bool


class dtype:  # noqa: N801 - torch spells it in lower case
    """A tensor element type (``ember.float32`` ...): a thin name over a NumPy dtype."""

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize")

    def __init__(self, name: str, np_dtype: np.dtype) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_complex = self.np.kind == "c"
        self.is_signed = self.np.kind in "fic"
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return "ember." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_complex(self) -> dtype:
        """Complex counterpart of a float dtype."""
        return {"float32": complex64, "float64": complex128}[self.name]

    def to_real(self) -> dtype:
        """Real counterpart of a complex dtype."""
        return {"complex64": float32, "complex128": float64}.get(self.name, self)


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
complex64 = dtype("complex64", np.complex64)
complex128 = dtype("complex128", np.complex128)
int8 = dtype("int8", np.int8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
uint8 = dtype("uint8", np.uint8)
bool_ = dtype("bool", np.bool_)

half = float16
float = float32  # noqa: A001 - torch.float
double = float64
cfloat = complex64
cdouble = complex128
short = int16
int = int32  # noqa: A001 - torch.int
long = int64

ALL = (float16, float32, float64, complex64, complex128, int8, int16, int32, int64, uint8, bool_)
_FROM_NP: dict[np.dtype, dtype] = {d.np: d for d in ALL}
_NAMES = {d.name: d for d in ALL}


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def from_np(np_dtype: np.dtype) -> dtype:
    """The ember dtype of a NumPy dtype (raises TypeError for unsupported ones)."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        d = np.dtype(np_dtype)
        if d in _FROM_NP:
            return _FROM_NP[d]
        if d.kind == "u" or d.kind == "i":  # uint16/32/64: torch has no such tensors here
            raise TypeError(
                f"can't convert np.ndarray of type numpy.{d}. The only supported types are: "
                "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
                "uint8, and bool."
            ) from None
        raise TypeError(f"ember does not support the NumPy dtype {d}") from None


# The default floating dtype, as a NumPy dtype (the hot path compares NumPy dtypes).
_default = [np.dtype(np.float32)]


def set_default_dtype(d: dtype) -> None:
    """Set the dtype of new float tensors (only float32 and float64, like torch)."""
    if not isinstance(d, dtype) or d.name not in ("float32", "float64", "float16"):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d.np


def get_default_dtype() -> dtype:
    """The dtype of new float tensors."""
    return _FROM_NP[_default[0]]


def default_np() -> np.dtype:
    """The default float dtype as a NumPy dtype."""
    return _default[0]


def to_np(d: dtype | np.dtype | type | str | None) -> np.dtype | None:
    """NumPy dtype for any dtype-like argument (ember dtype, numpy dtype, python type)."""
    if d is None:
        return None
    if isinstance(d, dtype):
        return d.np
    if d is builtins_float:
        return _default[0]
    if d is builtins_int:
        return np.dtype(np.int64)
    if d is builtins_bool:
        return np.dtype(np.bool_)
    if isinstance(d, str) and d in _NAMES:
        return _NAMES[d].np
    return from_np(np.dtype(d)).np



# ---------------------------------------------------------------- promotion (torch's rules)
# Categories: bool < integer < floating < complex.  Python scalars and 0-d tensors only take
# part when their category is higher than that of the dimensioned tensors.
_CAT = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types on NumPy dtypes: int + float gives the float type (not float64)."""
    if a is b or a == b:
        return a
    ka, kb = _CAT[a.kind], _CAT[b.kind]
    if ka != kb:
        hi, lo = (a, b) if ka > kb else (b, a)
        if hi.kind == "c" and lo.kind == "f" and lo.itemsize * 2 > hi.itemsize:
            return np.dtype(np.complex128)
        return hi
    return np.promote_types(a, b)


def scalar_kind(x: object) -> int:
    """Category of a python scalar (bool 0, int 1, float 2, complex 3)."""
    t = type(x)
    if t is builtins_bool or t is np.bool_:
        return 0
    if t is builtins_int or isinstance(x, np.integer):
        return 1
    if t is builtins_float or isinstance(x, np.floating):
        return 2
    if isinstance(x, complex | np.complexfloating):
        return 3
    raise TypeError(f"unsupported scalar type {t.__name__}")


_SCALAR_DTYPE = {0: np.dtype(np.bool_), 1: np.dtype(np.int64)}


def scalar_result(t: np.dtype, x: object) -> np.dtype:
    """Result dtype of a tensor of dtype ``t`` combined with the python scalar ``x``."""
    k = scalar_kind(x)
    if k <= _CAT[t.kind]:
        return t
    if k == 2:
        return _default[0]
    if k == 3:
        return np.dtype(np.complex128) if _default[0] == _F64 else np.dtype(np.complex64)
    return _SCALAR_DTYPE[k]


def result_type(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """Result dtype of two tensors' data (0-d tensors count only for a higher category)."""
    da, db = a.dtype, b.dtype
    if da is db:
        return da
    za, zb = a.ndim == 0, b.ndim == 0
    if za == zb:
        return promote_types(da, db)
    dim, zero = (db, da) if za else (da, db)
    if _CAT[zero.kind] > _CAT[dim.kind]:
        return zero
    return dim
