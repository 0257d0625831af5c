"""Tensor repr formatting that reproduces ``torch/_tensor_str.py`` byte for byte.

Only NumPy is used.  The global print options mirror ``torch.set_printoptions`` and the
layout rules (widths, scientific mode, summarization with ``...``, line wrapping and the
trailing ``dtype=``/``size=``/caller-supplied items) follow torch's implementation.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["format_tensor", "get_printoptions", "printoptions", "set_printoptions"]


@dataclasses.dataclass
class _PrintOptions:
    """Current global print options (same fields and defaults as torch's)."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTS = _PrintOptions()

# profile name -> (precision, threshold, edgeitems, linewidth)
_PROFILES: dict[str, tuple[int, float, int, int]] = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set the global print options, with the same semantics as ``torch.set_printoptions``.

    ``profile`` (``'default'``, ``'short'`` or ``'full'``) is applied first and the explicit
    arguments override it.  Like torch, ``sci_mode`` is always assigned, so omitting it
    resets it to ``None`` (automatic choice).
    """
    if profile in _PROFILES:
        _OPTS.precision, _OPTS.threshold, _OPTS.edgeitems, _OPTS.linewidth = _PROFILES[profile]
    if precision is not None:
        _OPTS.precision = precision
    if threshold is not None:
        _OPTS.threshold = threshold
    if edgeitems is not None:
        _OPTS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTS.linewidth = linewidth
    _OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Return the current print options as a dict usable as ``set_printoptions(**opts)``."""
    return dataclasses.asdict(_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Context manager that temporarily applies ``set_printoptions(**kwargs)``."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Decides the common width / notation for all elements of a (summarized) array."""

    def __init__(self, values: np.ndarray) -> None:
        """Inspect ``values`` (the data that will be displayed) and pick the layout."""
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not self.floating:
            if flat.size:
                for value in np.unique(flat).tolist():
                    self.max_width = max(self.max_width, len(f"{value}"))
            return
        nonzero_finite = flat[np.isfinite(flat) & (flat != 0)]
        if nonzero_finite.size == 0:
            return
        magnitudes = np.abs(nonzero_finite).astype(np.float64)
        lo, hi = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(nonzero_finite == np.ceil(nonzero_finite)))
        if _OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = bool(_OPTS.sci_mode)
        precision = _OPTS.precision
        extra = 0
        if self.sci_mode:
            spec = f".{precision}e"
        elif self.int_mode:
            spec, extra = ".0f", 1  # room for the trailing "." of integral floats
        else:
            spec = f".{precision}f"
        for value in np.unique(nonzero_finite).tolist():
            self.max_width = max(self.max_width, len(format(value, spec)) + extra)

    def width(self) -> int:
        """Width every formatted element is padded to."""
        return self.max_width

    def format(self, value: Any) -> str:
        """Format one Python scalar, right-aligned to :meth:`width`."""
        if self.floating:
            if self.sci_mode:
                text = f"{value:{self.max_width}.{_OPTS.precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{_OPTS.precision}f}"
        else:
            text = f"{value}"
        return text.rjust(self.max_width)


_Formatters = tuple[_Formatter, "_Formatter | None"]


def _format_value(value: Any, fmts: _Formatters) -> str:
    """Format a real scalar, or a complex one as ``real+imagj`` like torch."""
    real_fmt, imag_fmt = fmts
    if imag_fmt is None:
        return real_fmt.format(value)
    real_str = real_fmt.format(value.real)
    imag_str = (imag_fmt.format(value.imag) + "j").lstrip()
    if imag_str[0] in "+-":
        return real_str + imag_str
    return real_str + "+" + imag_str


def _vector_str(arr: np.ndarray, indent: int, summarize: bool, fmts: _Formatters) -> str:
    """Format a 1-D array, wrapping elements onto lines of at most ``linewidth``."""
    real_fmt, imag_fmt = fmts
    element_length = real_fmt.width() + 2
    if imag_fmt is not None:
        element_length += imag_fmt.width() + 1
    per_line = max(1, math.floor((_OPTS.linewidth - indent) / element_length))
    edge = _OPTS.edgeitems
    if summarize and not edge:
        data = ["..."]
    elif summarize and arr.shape[0] > 2 * edge:
        data = (
            [_format_value(v, fmts) for v in arr[:edge].tolist()]
            + [" ..."]
            + [_format_value(v, fmts) for v in arr[-edge:].tolist()]
        )
    else:
        data = [_format_value(v, fmts) for v in arr.tolist()]
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(arr: np.ndarray, indent: int, summarize: bool, fmts: _Formatters) -> str:
    """Recursively format an array of any rank (0-d, 1-D or nested)."""
    if arr.ndim == 0:
        return _format_value(arr.tolist(), fmts)
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, fmts)
    size, edge = arr.shape[0], _OPTS.edgeitems
    if summarize and size > 2 * edge:
        slices = (
            [_nested_str(arr[i], indent + 1, summarize, fmts) for i in range(edge)]
            + ["..."]
            + [_nested_str(arr[i], indent + 1, summarize, fmts) for i in range(size - edge, size)]
        )
    else:
        slices = [_nested_str(arr[i], indent + 1, summarize, fmts) for i in range(size)]
    separator = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(slices) + "]"


def _summarized_data(arr: np.ndarray) -> np.ndarray:
    """Return the elements a summarized print shows (torch's ``get_summarized_data``)."""
    edge = _OPTS.edgeitems
    if arr.ndim == 0:
        return arr
    size = arr.shape[0]
    if arr.ndim == 1:
        # NB: with edge == 0, ``arr[-0:]`` is the whole array, exactly as in torch.
        return np.concatenate((arr[:edge], arr[-edge:])) if size > 2 * edge else arr
    if not edge:
        return np.empty((0,) * arr.ndim, dtype=arr.dtype)
    rows = list(range(edge)) + list(range(size - edge, size)) if size > 2 * edge else range(size)
    return np.stack([_summarized_data(arr[i]) for i in rows])


def _tensor_str(arr: np.ndarray, indent: int) -> str:
    """Format the bracketed contents of a non-empty array."""
    summarize = arr.size > _OPTS.threshold
    shown = _summarized_data(arr) if summarize else arr
    fmts: _Formatters
    if arr.dtype.kind == "c":
        fmts = (_Formatter(shown.real), _Formatter(shown.imag))
    else:
        fmts = (_Formatter(shown), None)
    return _nested_str(arr, indent, summarize, fmts)


def _add_suffixes(text: str, suffixes: Sequence[str], indent: int) -> str:
    """Append ``, item`` for each suffix, wrapping like torch's ``_add_suffixes``."""
    parts = [text]
    # torch's quirky arithmetic (the +1, and +2 when there is no newline) is kept on purpose.
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def format_tensor(
    arr: np.ndarray | np.generic,
    *,
    default_dtype: np.dtype,
    suffixes: Sequence[str] = (),
    dtype_name: str | None = None,
    prefix: str = "tensor(",
) -> str:
    """Return the full torch-style repr of ``arr``, e.g. ``tensor([1., 2.], dtype=...)``.

    ``default_dtype`` is the current default floating dtype (its complex counterpart, int64
    and bool are also "default" and so not printed).  ``suffixes`` are extra trailing items
    (``requires_grad=True``, ``grad_fn=<...>``) placed after ``size=``/``dtype=``.
    ``dtype_name`` overrides the printed dtype, which is otherwise ``"ember." + str(dtype)``.
    """
    a = np.asarray(arr)
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    name = dtype_name if dtype_name is not None else "ember." + str(a.dtype)
    default = np.dtype(default_dtype)
    default_complex = np.dtype(np.complex128 if default == np.float64 else np.complex64)
    indent = len(prefix)
    items: list[str] = []
    if a.size == 0:
        if a.ndim != 1:
            items.append(f"size={tuple(a.shape)}")
        if a.dtype != default:
            items.append(f"dtype={name}")
        body = "[]"
    else:
        if not _OPTS.edgeitems:
            items.append(f"size={tuple(a.shape)}")
        if a.dtype not in (default, default_complex, np.dtype(np.int64), np.dtype(np.bool_)):
            items.append(f"dtype={name}")
        body = _tensor_str(a, indent)
    items.extend(suffixes)
    return _add_suffixes(prefix + body, items, indent)
