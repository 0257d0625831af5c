"""Helpers shared by the matrix-product modules (linalg.py, einsum.py, linalg_extra.py).

torch's scalar-type names for error messages, the ``_err`` message builder (torch's first
sentence + ``Hint:``) and ``_out`` (the ``out=`` write-back used by matmul, mm, tensordot ...).
"""

from __future__ import annotations

import numpy as np

from ._core import write_out

_ST = {"float16": "Half", "float32": "Float", "float64": "Double", "complex64": "ComplexFloat",
       "complex128": "ComplexDouble", "int8": "Char", "int16": "Short", "int32": "Int",
       "int64": "Long", "uint8": "Byte", "bool": "Bool"}
_I64 = np.dtype(np.int64)


def _st(d: np.dtype) -> str:
    return _ST.get(d.name, d.name)


def _err(msg: str, hint: str, cls: type = RuntimeError) -> Exception:
    return cls(f"{msg}{'' if msg.endswith('.') else '.'} Hint: {hint}")


_out = write_out

