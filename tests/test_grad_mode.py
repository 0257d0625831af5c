"""Grad modes (no_grad, enable_grad, set_grad_enabled, inference_mode) and cutting history
(requires_grad_, detach, detach_, .data, updates under no_grad)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from types import ModuleType

import numpy as np
import pytest

import ember


def _np(t: ember.Tensor) -> np.ndarray:
    return np.array(t.detach().numpy(), copy=True)


def _libs() -> list:
    """ember, and torch when installed (the same test runs on both)."""
    try:
        import torch
    except ImportError:  # pragma: no cover
        return [ember]
    return [ember, torch]


LIBS = pytest.mark.parametrize("lib", _libs(), ids=lambda m: m.__name__)


@pytest.fixture(autouse=True)
def _restore_grad_mode() -> Iterator[None]:
    """A failing test must not leave grad mode off for the tests that follow."""
    yield
    for lib in _libs():
        lib.set_grad_enabled(True)


# ----------------------------------------------------------------------- context managers
@LIBS
def test_no_grad_context(lib: ModuleType) -> None:
    x = lib.ones(2, requires_grad=True)
    assert lib.is_grad_enabled()
    with lib.no_grad():
        assert not lib.is_grad_enabled()
        y = x * 2
    assert lib.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert x.requires_grad  # the input keeps its flag


@LIBS
def test_enable_grad_inside_no_grad_and_nesting(lib: ModuleType) -> None:
    x = lib.ones(2, requires_grad=True)
    with lib.no_grad():
        with lib.enable_grad():
            assert lib.is_grad_enabled()
            y = x * 2
            with lib.no_grad():
                assert not lib.is_grad_enabled()
                with lib.no_grad():
                    assert not lib.is_grad_enabled()
                assert not lib.is_grad_enabled()
            assert lib.is_grad_enabled()
        assert not lib.is_grad_enabled()
    assert lib.is_grad_enabled()
    assert y.requires_grad and y.grad_fn is not None


@LIBS
def test_set_grad_enabled_function_and_context(lib: ModuleType) -> None:
    lib.set_grad_enabled(False)  # takes effect immediately, as a plain call
    try:
        assert not lib.is_grad_enabled()
        with lib.set_grad_enabled(True):
            assert lib.is_grad_enabled()
        assert not lib.is_grad_enabled()
    finally:
        lib.set_grad_enabled(True)
    assert lib.is_grad_enabled()
    with lib.set_grad_enabled(False):
        assert not lib.is_grad_enabled()
        assert not (lib.ones(1, requires_grad=True) * 2).requires_grad
    assert lib.is_grad_enabled()


@LIBS
def test_inference_mode(lib: ModuleType) -> None:
    x = lib.ones(2, requires_grad=True)
    with lib.inference_mode():
        assert not lib.is_grad_enabled()
        assert lib.is_inference_mode_enabled()
        assert not (x * 2).requires_grad
    assert not lib.is_inference_mode_enabled() and lib.is_grad_enabled()
    with lib.inference_mode(False):
        assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()
        assert (x * 2).requires_grad


@LIBS
def test_inference_mode_false_enables_grad(lib: ModuleType) -> None:
    """torch's InferenceMode(false) guard also turns grad mode on."""
    with lib.no_grad():
        with lib.inference_mode(False):
            assert lib.is_grad_enabled()
        assert not lib.is_grad_enabled()


@LIBS
def test_mode_restored_after_exception(lib: ModuleType) -> None:
    for cm in (lib.no_grad, lambda: lib.set_grad_enabled(False), lib.inference_mode):
        with pytest.raises(ValueError), cm():
            raise ValueError("boom")
        assert lib.is_grad_enabled()
    assert not lib.is_inference_mode_enabled()


# ------------------------------------------------------------------------------ decorators
@LIBS
def test_decorators(lib: ModuleType) -> None:
    @lib.no_grad()
    def f(x: object) -> tuple:
        return lib.is_grad_enabled(), (x * 2).requires_grad

    @lib.enable_grad()
    def g() -> bool:
        return lib.is_grad_enabled()

    @lib.set_grad_enabled(False)  # sets the mode now; restored once it decorates
    def h() -> bool:
        return lib.is_grad_enabled()

    assert lib.is_grad_enabled(), "the set_grad_enabled decorator must not leak its mode"

    @lib.inference_mode()
    def i() -> tuple:
        return lib.is_grad_enabled(), lib.is_inference_mode_enabled()

    x = lib.ones(2, requires_grad=True)
    assert f(x) == (False, False)
    assert lib.is_grad_enabled()
    with lib.no_grad():
        assert g() is True
        assert not lib.is_grad_enabled()
    assert h() is False
    assert lib.is_grad_enabled()
    assert i() == (False, True)
    assert f.__name__ == "f"  # functools.wraps


@LIBS
def test_bare_decorators(lib: ModuleType) -> None:
    """``@no_grad``, ``@enable_grad`` and ``@inference_mode`` work without parentheses."""

    @lib.no_grad
    def f() -> bool:
        return lib.is_grad_enabled()

    @lib.enable_grad
    def g() -> bool:
        return lib.is_grad_enabled()

    @lib.inference_mode
    def i() -> tuple:
        return lib.is_grad_enabled(), lib.is_inference_mode_enabled()

    assert f() is False and lib.is_grad_enabled()
    with lib.no_grad():
        assert g() is True
    assert i() == (False, True)


@LIBS
def test_decorated_generator_runs_each_step_in_mode(lib: ModuleType) -> None:
    @lib.no_grad()
    def gen(n: int) -> Iterator[bool]:
        for _ in range(n):
            got = yield lib.is_grad_enabled()
            assert got is None or got == "sent"

    @lib.enable_grad()
    def gen_on() -> Iterator[bool]:
        yield lib.is_grad_enabled()
        yield lib.is_grad_enabled()

    it = gen(3)
    assert next(it) is False
    assert lib.is_grad_enabled(), "between steps the caller's mode is back"
    assert it.send("sent") is False
    assert lib.is_grad_enabled()
    assert list(it) == [False]
    with lib.no_grad():
        assert list(gen_on()) == [True, True]
        assert not lib.is_grad_enabled()


@LIBS
def test_decorated_generator_close_and_return_value(lib: ModuleType) -> None:
    seen = []

    @lib.no_grad()
    def gen() -> Iterator[int]:
        try:
            yield 1
            yield 2
        finally:
            seen.append(lib.is_grad_enabled())
        return 7

    it = gen()
    next(it)
    it.close()
    assert seen == [False] and lib.is_grad_enabled()

    def drive() -> Iterator[int]:
        result = yield from gen()
        seen.append(result)

    assert list(drive()) == [1, 2]
    assert seen == [False, False, 7], "the decorated generator's return value is passed on"


# --------------------------------------------------------------------------- thread-locality
@LIBS
def test_grad_mode_is_thread_local(lib: ModuleType) -> None:
    res: dict = {}

    def worker() -> None:
        res["enabled"] = lib.is_grad_enabled()
        x = lib.ones(2, requires_grad=True)
        res["records"] = (x * 2).requires_grad
        with lib.no_grad():  # does not leak to the main thread
            res["inner"] = lib.is_grad_enabled()
            ev_in.set()
            ev_out.wait(5)

    ev_in, ev_out = threading.Event(), threading.Event()
    with lib.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        ev_in.wait(5)
        assert not lib.is_grad_enabled()
    assert lib.is_grad_enabled(), "a no_grad in another thread must not affect this one"
    ev_out.set()
    t.join(5)
    assert res == {"enabled": True, "records": True, "inner": False}


# ---------------------------------------------------------------------- cutting the history
@LIBS
def test_requires_grad_(lib: ModuleType) -> None:
    a = lib.tensor([[0.5, -1.5], [2.0, 0.25]])
    assert not a.requires_grad
    assert a.requires_grad_() is a
    assert a.requires_grad and a.is_leaf
    b = (a * a).sum()
    assert b.grad_fn.name() == "SumBackward0"
    a.requires_grad_(False)
    assert not a.requires_grad
    assert not (a * 2).requires_grad
    with lib.no_grad():  # the flag can be set inside no_grad; ops still record nothing
        a.requires_grad_(True)
        assert a.requires_grad and not (a * 2).requires_grad
    y = a * 2
    assert y.requires_grad_() is y  # True on a non-leaf is a no-op
    with pytest.raises(RuntimeError, match="^" + re.escape(
            "you can only change requires_grad flags of leaf variables.")):
        y.requires_grad_(False)
    a.requires_grad = False  # the property setter
    assert not a.requires_grad


@LIBS
def test_detach_shares_memory_and_version(lib: ModuleType) -> None:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert y.requires_grad and y.grad_fn is not None
    d.add_(1)  # in place on the detached tensor changes y (shared memory) ...
    np.testing.assert_array_equal(_np(y), [3.0, 5.0])
    assert y._version == 1  # ... and y's version counter (shared)
    dx = x.detach()
    dx.mul_(10)
    np.testing.assert_array_equal(_np(x), [10.0, 20.0])


@LIBS
def test_detach_(lib: ModuleType) -> None:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    np.testing.assert_array_equal(_np(y), [2.0, 4.0])


@LIBS
def test_data(lib: ModuleType) -> None:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.is_leaf
    d.mul_(3)  # shares memory, records nothing, does not bump x's version (torch)
    np.testing.assert_array_equal(_np(x), [3.0, 6.0])
    assert x._version == 0
    assert x.requires_grad and x.is_leaf
    x.data = lib.tensor([5.0, 6.0, 7.0])  # replaces the data (even the shape)
    np.testing.assert_array_equal(_np(x), [5.0, 6.0, 7.0])
    assert x.requires_grad and x.is_leaf


@LIBS
def test_data_update_on_saved_tensor_is_invisible_to_autograd(lib: ModuleType) -> None:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    x.data.mul_(2)  # no version bump: backward uses the new values silently (torch semantics)
    y.backward(lib.ones(2))
    np.testing.assert_array_equal(_np(x.grad), [4.0, 8.0])


@LIBS
def test_no_grad_update_of_a_leaf(lib: ModuleType) -> None:
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (w * w).backward(lib.ones(3))
    g = w.grad
    ident = id(w)
    with lib.no_grad():
        w -= 0.1 * w.grad
    assert id(w) == ident and w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(_np(w), [0.8, 1.6, 2.4], rtol=1e-6)
    assert w.grad is g
    np.testing.assert_array_equal(_np(w.grad), [2.0, 4.0, 6.0])
    (w * 1.0).backward(lib.ones(3))  # still usable in a graph
    np.testing.assert_allclose(_np(w.grad), [3.0, 5.0, 7.0])


@LIBS
def test_update_of_a_leaf_outside_no_grad_raises(lib: ModuleType) -> None:
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="^" + re.escape(
            "a leaf Variable that requires grad is being used in an in-place operation.")):
        w -= 0.1
    np.testing.assert_array_equal(_np(w), [1.0, 2.0])
