"""Helpers shared by the matrix-product modules (linalg.py, einsum.py, linalg_extra.py).

torch's scalar-type names for error messages, the ``_err`` message builder (torch's first
sentence + ``Hint:``) and ``_out`` (the ``out=`` write-back used by matmul, mm, tensordot ...).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._core import STATE, Tensor

_ST = {"float16": "Half", "float32": "Float", "float64": "Double", "complex64": "ComplexFloat",
       "complex128": "ComplexDouble", "int8": "Char", "int16": "Short", "int32": "Int",
       "int64": "Long", "uint8": "Byte", "bool": "Bool"}
_I64 = np.dtype(np.int64)


def _st(d: np.dtype) -> str:
    return _ST.get(d.name, d.name)


def _err(msg: str, hint: str, cls: type = RuntimeError) -> Exception:
    return cls(f"{msg}{'' if msg.endswith('.') else '.'} Hint: {hint}")


def _out(fn: str, out: Tensor, r: Any, *inputs: Tensor) -> Tensor:
    if STATE.enabled and any(t._edge is not None for t in inputs):
        raise _err(f"{fn}(): functions with out=... arguments don't support automatic "
                   "differentiation, but one of the arguments requires grad.",
                   "drop out= or run under ember.no_grad()")
    r = np.asarray(r)
    if out._data.shape != r.shape:
        out._data = np.array(r, dtype=out._data.dtype)
    else:
        out._array()[...] = r
    out._bump()
    return out

