"""How batched values reach their batching rules, at zero cost to ordinary eager execution.

* ``BatchedTensor`` gets a method per rule (installed once, on the subclass only), so
  ``bx.sum()`` / ``bx + y`` / ``y + bx`` (Python tries a subclass's reflected operator first)
  dispatch to the rule without ``Tensor``'s own methods knowing about vmap.
* Namespace functions (``ember.sum``, ``ember.nn.functional.linear`` ...) and the ``Tensor``
  methods that take other tensors (``w.add(bx)``, ``w[bidx]``) are swapped for dispatching
  wrappers only while a vmap is running (``enter``/``leave``); outside vmap nothing is patched.

A rule is ``rule(orig, *args, **kwargs)``: ``orig`` is the original ember function/method, which
the rule calls on physical tensors.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import Any

from .._tensor import Tensor
from ._core import BatchedTensor

__all__ = ["rule", "bind", "enter", "leave", "RULED_CODES", "rule_names"]

_METHODS: dict[str, Callable] = {}  # Tensor attribute -> rule
_MULTI: set[str] = set()  # methods that take other tensors: patched on Tensor during vmap
_ALWAYS: set[str] = set()  # methods whose Tensor patch calls the rule even without batched args
_NS: list[tuple] = []  # (module name, attribute, rule, always)
_PATCHES: list[tuple] = []  # (object, name, original, wrapper)
RULED_CODES: set = set()  # code objects of functions that have a rule (for error messages)
INPLACE_CODES: set = set()  # ... of the in-place ones (add_, __setitem__ ...)
_STATE = {"installed": False, "depth": 0}
# Not patched on Tensor (fewer class attribute swaps per vmap call): binary operators, since for
# ``plain + batched`` Python calls the subclass's reflected method (BatchedTensor.__radd__) first,
# and in-place ops on a plain tensor, which are errors anyway (``no_rule`` raises torch's message)
_REFLECTED = frozenset(
    f"__{p}{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul",
                              "and", "or", "xor") for p in ("", "r")
) | frozenset(f"__{op}__" for op in ("eq", "ne", "lt", "le", "gt", "ge"))
_LOCK = threading.RLock()


def bind(fn: Callable, names: Any, *, ember: bool = True, tensor: bool = True,
         multi: bool = False, always: bool = False, module: str = "ember") -> Callable:
    """Use ``fn`` as the batching rule of ``names`` (in ``module`` and/or as Tensor methods).

    ``multi``: the Tensor methods also take other tensors (patched on Tensor during vmap);
    ``always``: the namespace wrapper calls the rule even without batched arguments (random
    ops, which must see vmap's randomness mode)."""
    if isinstance(names, str):
        names = names.split()
    for n in names:
        if ember:
            _NS.append((module, n, fn, always))
        if tensor:
            _METHODS[n] = fn
            if multi:
                _MULTI.add(n)
            if always:
                _ALWAYS.add(n)
    return fn


def rule(names: Any, **kw: Any) -> Callable:
    """Decorator form of :func:`bind`."""

    def deco(fn: Callable) -> Callable:
        return bind(fn, names, **kw)

    return deco


def is_inplace(name: str) -> bool:
    """``add_``, ``__iadd__``, ``__setitem__``: ops that write into their first argument."""
    if name.startswith("__"):
        return name == "__setitem__" or name.startswith("__i") and name not in (
            "__invert__", "__index__", "__int__", "__iter__")
    return name.endswith("_")


def _any_batched(args: tuple, kwargs: dict) -> bool:
    for a in args:
        t = type(a)
        if t is BatchedTensor:
            return True
        if t is list or t is tuple:
            for b in a:
                if type(b) is BatchedTensor:
                    return True
    if kwargs:
        for a in kwargs.values():
            if type(a) is BatchedTensor:
                return True
    return False


def _method(fn: Callable, orig: Callable) -> Callable:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(orig, self, *args, **kwargs)

    method.__name__ = getattr(orig, "__name__", "method")
    method.__doc__ = getattr(orig, "__doc__", None)
    return method


def _wrapper(fn: Callable, orig: Callable, always: bool) -> Callable:
    if always:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(orig, *args, **kwargs)
    else:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if _any_batched(args, kwargs):
                return fn(orig, *args, **kwargs)
            return orig(*args, **kwargs)

    functools.update_wrapper(wrapper, orig)
    return wrapper


def _code(f: Any) -> Any:
    f = getattr(f, "fget", f)
    return getattr(f, "__code__", None)


def _install() -> None:
    """Import the rule modules and build the BatchedTensor methods and the patch list."""
    import ember.nn.functional  # noqa: F401 - rules bind F functions; import before patching

    from . import (  # noqa: F401
        rules_index,
        rules_linalg,
        rules_nn,
        rules_pointwise,
        rules_random,
        rules_reduce,
        rules_shape,
    )

    for name, fn in _METHODS.items():
        orig = getattr(Tensor, name, None)
        if orig is None:
            continue
        if isinstance(orig, property):
            setattr(BatchedTensor, name, property(functools.partial(fn, orig.fget)))
        else:
            setattr(BatchedTensor, name, _method(fn, orig))
            if name in _MULTI and name not in _REFLECTED and (
                    name in _ALWAYS or not is_inplace(name)):
                _PATCHES.append((Tensor, name, orig, _wrapper(fn, orig, name in _ALWAYS)))
        RULED_CODES.add(_code(orig))
        if is_inplace(name):
            INPLACE_CODES.add(_code(orig))
    wrappers: dict = {}  # id(original function) -> (original, wrapper)
    for modname, name, fn, always in _NS:
        mod = sys.modules.get(modname)
        orig = getattr(mod, name, None) if mod is not None else None
        if orig is None or not callable(orig) or id(orig) in wrappers:
            continue
        wrappers[id(orig)] = (orig, _wrapper(fn, orig, always))
        RULED_CODES.add(_code(orig))
    # patch every ember module attribute bound to a ruled function (nn modules call e.g.
    # ``_misc.linear`` or a private alias ``_relu`` of ember.relu)
    for modname, mod in list(sys.modules.items()):
        if not modname.startswith("ember") or modname.startswith(("ember._vmap", "ember.func")):
            continue
        for attr, val in list(vars(mod).items()):
            hit = wrappers.get(id(val))
            if hit is not None and hit[0] is val:
                _PATCHES.append((mod, attr, val, hit[1]))
    RULED_CODES.discard(None)
    for obj, name, orig, wrapper in _PATCHES:  # module namespaces: one dict update each
        if obj is not Tensor:
            on, off = _BULK.setdefault(id(obj), (vars(obj), {}, {}))[1:]
            on[name], off[name] = wrapper, orig
    _STATE["installed"] = True


_BULK: dict = {}  # id(module) -> (module dict, {name: wrapper}, {name: original})


def enter() -> None:
    """Called when a vmap starts: patch the namespaces (outermost vmap only)."""
    with _LOCK:
        if not _STATE["installed"]:
            _install()
        if _STATE["depth"] == 0:
            for obj, name, _orig, wrapper in _PATCHES:
                if obj is Tensor:
                    setattr(obj, name, wrapper)
            for d, on, _off in _BULK.values():
                d.update(on)
        _STATE["depth"] += 1


def leave() -> None:
    """Called when a vmap returns: restore the namespaces after the outermost vmap."""
    with _LOCK:
        _STATE["depth"] -= 1
        if _STATE["depth"] == 0:
            for obj, name, orig, _wrapper in _PATCHES:
                if obj is Tensor:
                    setattr(obj, name, orig)
            for d, _on, off in _BULK.values():
                d.update(off)


def rule_names() -> list:
    """Sorted names of the functions and Tensor methods that have a batching rule."""
    if not _STATE["installed"]:
        with _LOCK:
            if not _STATE["installed"]:
                _install()
    out = {f"Tensor.{n}" for n in _METHODS if hasattr(Tensor, n)}
    out |= {f"{m}.{n}" for m, n, _f, _a in _NS if hasattr(sys.modules.get(m), n)}
    return sorted(out)
