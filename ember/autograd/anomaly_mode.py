"""Anomaly detection: remember where each node was created; catch NaNs produced in backward.

``detect_anomaly()`` / ``set_detect_anomaly(True)`` turn on two things, as in torch:

* at node creation, ``capture()`` stores the user's forward stack (frames outside ember) in
  ``node._trace`` (``_core.unary/binary/record`` call it when ``ANOMALY[0]`` is set);
* during backward, ``check_output(node, grads)`` raises torch's RuntimeError when a backward rule
  returned NaN values, and ``annotate(node, exc)`` adds the forward traceback to any backward
  error (the engine calls both when ``ANOMALY[0]`` is set).

``ANOMALY`` is a plain module-level list (``[enabled, check_nan]``) so the hot-path test is one
global load and one index; torch's anomaly mode is likewise process-global, not per thread.
"""

from __future__ import annotations

import linecache
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .grad_mode import _DecoratorContextManager

__all__ = [
    "detect_anomaly",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
    "capture",
    "caller_line",
]

ANOMALY = [False, True]  # [enabled, check_nan]

# files under this directory are ember's own frames, left out of recorded tracebacks
_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_is_ember_cache: dict = {}


def _is_ember(code: Any) -> bool:
    r = _is_ember_cache.get(code)
    if r is None:
        r = _is_ember_cache[code] = code.co_filename.startswith(_EMBER_DIR)
    return r


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on."""
    return ANOMALY[0]


def is_anomaly_check_nan_enabled() -> bool:
    """True when anomaly detection also checks backward outputs for NaN."""
    return ANOMALY[1]


_ENABLED_WARNING = (
    "Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
    "enabled for debugging."
)


class detect_anomaly(_DecoratorContextManager):  # noqa: N801 - torch's name
    """Context manager / decorator: record forward tracebacks and check backward for NaN."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = ANOMALY[0]
        self.check_nan = check_nan
        self.prev_check_nan = ANOMALY[1]
        warnings.warn(_ENABLED_WARNING, UserWarning, stacklevel=2)

    def __enter__(self) -> None:
        self.prev, self.prev_check_nan = ANOMALY[0], ANOMALY[1]
        ANOMALY[0], ANOMALY[1] = True, self.check_nan

    def __exit__(self, *exc: object) -> None:
        ANOMALY[0], ANOMALY[1] = self.prev, self.prev_check_nan

    def clone(self) -> detect_anomaly:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.__class__(self.check_nan)


class set_detect_anomaly(_DecoratorContextManager):  # noqa: N801 - torch's name
    """Turn anomaly detection on or off now; also usable as a context manager restoring it."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev, self.prev_check_nan = ANOMALY[0], ANOMALY[1]
        self.mode, self.check_nan = bool(mode), bool(check_nan)
        ANOMALY[0], ANOMALY[1] = self.mode, self.check_nan

    def __call__(self, func: Callable) -> Callable:
        ANOMALY[0], ANOMALY[1] = self.prev, self.prev_check_nan  # decorator: only inside calls
        return super().__call__(func)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        ANOMALY[0], ANOMALY[1] = self.prev, self.prev_check_nan

    def clone(self) -> set_detect_anomaly:
        return self.__class__(self.mode, self.check_nan)


# -------------------------------------------------------------------- recording (creation time)
def capture(limit: int = 64) -> tuple:
    """The user's stack at this point: ``((filename, lineno, funcname), ...)``, outermost first,
    leaving out ember's own frames (no frame objects are kept, so nothing stays alive)."""
    f = sys._getframe(1)
    out = []
    while f is not None and len(out) < limit:
        code = f.f_code
        if not _is_ember(code):
            out.append((code.co_filename, f.f_lineno, code.co_name))
        f = f.f_back
    out.reverse()
    return tuple(out)


def caller_line() -> tuple | None:
    """Cheap variant for always-on use: ``(code, lasti)`` of the first frame outside ember.

    The line number is resolved only when an error is reported (``where()``)."""
    f = sys._getframe(2)
    get = _is_ember_cache.get
    while f is not None:
        c = f.f_code
        r = get(c)
        if r is None:
            r = _is_ember(c)
        if not r:
            return (c, f.f_lasti)
        f = f.f_back
    return None


def _line_of(code: Any, lasti: int) -> int | None:
    for start, end, line in code.co_lines():
        if start <= lasti < end:
            return line
    return code.co_firstlineno


def format_trace(trace: Any) -> str:
    """The recorded creation point(s) in Python's traceback layout."""
    if not trace:
        return ""
    if isinstance(trace, tuple) and len(trace) == 2 and not isinstance(trace[0], tuple):
        code, lasti = trace  # caller_line() form
        trace = ((code.co_filename, _line_of(code, lasti), code.co_name),)
    lines = []
    for filename, lineno, name in trace:
        lines.append(f'  File "{filename}", line {lineno}, in {name}\n')
        src = linecache.getline(filename, lineno).strip() if lineno else ""
        if src:
            lines.append(f"    {src}\n")
    return "".join(lines)


# -------------------------------------------------------------------- checks (backward time)
def _nth(i: int) -> str:
    return f"{i}th"  # torch writes "0th", "1th", "2th" ...


def _has_nan(g: Any) -> bool:
    d = g if type(g).__module__ == "numpy" else getattr(g, "_data", None)
    if d is None:
        return False
    d = np.asarray(d)
    return d.dtype.kind in "fc" and bool(np.isnan(d).any())


def check_output(node: Any, grads: Any) -> None:
    """Raise torch's RuntimeError when ``node``'s backward returned NaN (anomaly mode)."""
    if not ANOMALY[1] or grads is None:
        return
    for i, g in enumerate(grads):
        if g is not None and _has_nan(g):
            where = format_trace(node._trace)
            msg = f"Function '{node.name()}' returned nan values in its {_nth(i)} output."
            if where:
                msg += (
                    f"\nForward call that created {node.name()} (most recent call last):\n"
                    f"{where}"
                )
            msg += (
                "Hint: look for log/sqrt/pow/div of zero or negative values, or 0 * inf, in the "
                "forward line above."
            )
            raise RuntimeError(msg)


def annotate(node: Any, exc: BaseException) -> None:
    """Warn with the forward traceback of the node whose backward failed, as torch does."""
    if node is None or getattr(exc, "_ember_annotated", False):
        return
    trace = node._trace
    try:
        exc._ember_annotated = True  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - exotic exception types
        pass
    if ANOMALY[0]:
        where = format_trace(trace) if trace else (
            "  (no forward traceback: the node was created while anomaly mode was off)\n"
        )
        warnings.warn(
            f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
            f"{where}",
            UserWarning,
            stacklevel=2,
        )
    if trace and hasattr(exc, "add_note"):
        exc.add_note(f"The failing node {node.name()} was created at:\n{format_trace(trace)}")
