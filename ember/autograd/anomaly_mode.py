"""Anomaly detection: remember where each node was created; catch NaNs produced in backward.

``detect_anomaly()`` / ``set_detect_anomaly(True)`` turn on two things, as in torch:

* at node creation, ``capture()`` stores the user's forward stack (frames outside ember) in
  ``node._trace`` (``_core.unary/binary/record`` call it when ``ANOMALY[0]`` is set);
* during backward, ``check_output(node, grads)`` raises torch's RuntimeError when a backward rule
  returned NaN values, and ``annotate(node, exc)`` adds the forward traceback to any backward
  error (the engine calls both when ``ANOMALY[0]`` is set).

``ANOMALY`` is a plain module-level list (``[enabled, check_nan]``) so the hot-path test is one
global load and one index; torch's anomaly mode is likewise process-global, not per thread.

Beyond torch, creation lines are recorded always (``LINES``; ``set_record_creation_lines``, or
``EMBER_RECORD_LINES=0`` in the environment to start with them off): each node keeps
``_at = (code object, instruction offset)`` of the first frame outside ember that created it
(``mark_site()``; ``ops/_core.py``'s recorders inline it).  No frame is kept, so the caller's
locals are freed as usual; the line and its source text are looked up only when a backward
error is reported, and ``annotate`` appends them to the error's message.
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
    "site",
    "mark_site",
    "add_record_listener",
    "format_site",
    "set_record_creation_lines",
    "is_record_creation_lines_enabled",
]

ANOMALY = [False, True]  # [enabled, check_nan]

# files under this directory are ember's own frames, left out of recorded tracebacks (its
# examples/ are user code)
_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_EXAMPLES_DIR = _EMBER_DIR + "examples" + os.sep
_USER: set[str] = set()  # co_filenames seen to be user code (not ember's)
_EMBER: set[str] = set()  # co_filenames seen to be ember's
LINES = [os.environ.get("EMBER_RECORD_LINES", "1").strip().lower() not in ("0", "false", "off",
                                                                          "no", "")]
# what node creation records, one test on the hot path: 0 nothing, 1 the creation line,
# 2 the line and the whole user stack (anomaly mode); kept in step by _sync()
REC = [1 if LINES[0] else 0]


_LISTENERS: list = []  # called with REC[0] whenever it changes (ops._core keeps a copy)


def add_record_listener(fn: Callable[[int], None]) -> None:
    """Call ``fn(REC[0])`` whenever what node creation records changes."""
    _LISTENERS.append(fn)


def _sync() -> None:
    REC[0] = 2 if ANOMALY[0] else 1 if LINES[0] else 0
    for fn in _LISTENERS:
        fn(REC[0])


def _own(filename: str) -> bool:
    if filename in _USER:
        return False
    if filename in _EMBER:
        return True
    mine = filename.startswith(_EMBER_DIR) and not filename.startswith(_EXAMPLES_DIR)
    (_EMBER if mine else _USER).add(filename)
    return mine


def _is_ember(code: Any) -> bool:
    return _own(code.co_filename)


def _outside(f: Any) -> Any:
    """The first frame from ``f`` outwards whose code is not ember's (None if there is none)."""
    while f is not None and _own(f.f_code.co_filename):
        f = f.f_back
    return f


def site(depth: int = 1) -> tuple | None:
    """``(code, instruction offset)`` of the first frame outside ember, starting ``depth`` frames
    above the caller; None when every frame is ember's."""
    f = _outside(sys._getframe(depth + 1))
    return None if f is None else (f.f_code, f.f_lasti)


def mark_site(node: Any, depth: int = 1) -> None:
    """Record on ``node`` the creation line (``_at = (code, instruction offset)``) of the first
    frame outside ember, starting ``depth`` frames above the caller."""
    f = _outside(sys._getframe(depth + 1))
    if f is not None:
        node._at = (f.f_code, f.f_lasti)


def set_record_creation_lines(mode: bool) -> bool:
    """Turn the recording of each node's creation line on or off; returns the previous setting.

    With it on (the default), every error raised during backward (a tensor modified in place,
    a freed graph, a gradient of the wrong shape ...) names the line that created the failing
    node, at a small cost per recorded op (see ``benchmarks/run.py``, ``chain64`` rows)."""
    prev = LINES[0]
    LINES[0] = bool(mode)
    _sync()
    return prev


def is_record_creation_lines_enabled() -> bool:
    """True while nodes record the line that created them."""
    return LINES[0]


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
        _sync()

    def __exit__(self, *exc: object) -> None:
        ANOMALY[0], ANOMALY[1] = self.prev, self.prev_check_nan
        _sync()

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
        _sync()

    def __call__(self, func: Callable) -> Callable:
        ANOMALY[0], ANOMALY[1] = self.prev, self.prev_check_nan  # decorator: only inside calls
        _sync()
        return super().__call__(func)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        ANOMALY[0], ANOMALY[1] = self.prev, self.prev_check_nan
        _sync()

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


def _line_of(code: Any, lasti: int) -> int | None:
    for start, end, line in code.co_lines():
        if start <= lasti < end:
            return line
    return code.co_firstlineno


def format_site(where: Any) -> str:
    """``File "f.py", line 12, in train: y = x * w`` for a recorded ``(code, offset)``."""
    code, lasti = where
    line = _line_of(code, lasti)
    text = f'File "{code.co_filename}", line {line}, in {code.co_name}'
    src = linecache.getline(code.co_filename, line).strip() if line else ""
    return f"{text}: {src}" if src else text


def format_trace(trace: Any) -> str:
    """The recorded creation point(s) in Python's traceback layout."""
    if not trace:
        return ""
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
    """Name the creation line of the node whose backward failed in the error's message.

    The message keeps torch's text and gets one more line, ``The failing node MulBackward0 was
    created at File "...", line N, in f: <source>`` (exceptions other than a RuntimeError with a
    single message get it as a note).  In anomaly mode also warn with the forward traceback and
    attach it as a note, as torch does."""
    if node is None or getattr(exc, "_ember_annotated", False):
        return
    try:
        exc._ember_annotated = True  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - exotic exception types
        return
    trace = node._trace
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
    if trace:
        exc.add_note(f"The failing node {node.name()} was created at:\n{format_trace(trace)}")
    at = node._at
    if at is None:
        return
    try:
        line = f"The failing node {node.name()} was created at {format_site(at)}"
    except Exception:  # pragma: no cover - never let the report hide the error
        return
    args = exc.args
    if isinstance(exc, RuntimeError) and len(args) == 1 and isinstance(args[0], str):
        exc.args = (f"{args[0]}\n{line}",)
    else:
        exc.add_note(line)
