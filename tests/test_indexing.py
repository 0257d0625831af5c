"""Property tests for indexing: random shapes with random basic and advanced indices.

Each example draws a shape and an index (ints incl. negative, slices with steps, None, Ellipsis,
python bools, bool masks, integer lists / arrays / tensors incl. repeated indices) and checks, against
torch, the forward value, node name, errors, and the gradient (repeated indices accumulate).  The
torch-free tests check views, accumulation and basic indexing against NumPy.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember

try:
    import torch
except ImportError:  # pragma: no cover - exercised when torch is absent
    torch = None

NEEDS_TORCH = pytest.mark.skipif(torch is None, reason="torch not installed: comparison skipped")
FAST = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------- index strategy
@st.composite
def _spec(draw: st.DrawFn, allow_adv: bool = True) -> tuple:
    """(shape, items, bare): items are library-neutral index specs, rendered per library."""
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    ell = draw(st.booleans())
    lo = draw(st.integers(0, ndim))
    hi = draw(st.integers(lo, ndim)) if ell else ndim  # Ellipsis covers [lo, hi)
    adv_shape = draw(st.sampled_from([(1,), (2,), (3,), (2, 2), (0,)]))
    state = {"int_arrays": 0, "masks": 0}

    def one(dim: int, left: int) -> tuple:
        kinds = ["int", "slice", "slice"]
        if allow_adv:
            kinds += ["ints", "ints", "mask"]
        kind = draw(st.sampled_from(kinds))
        n = shape[dim]
        if kind == "int":
            return ("int", draw(st.integers(-n, n - 1)), draw(st.sampled_from("pnt"))), 1
        if kind == "slice":
            b = st.one_of(st.none(), st.integers(-n - 1, n + 1))
            return ("slice", draw(b), draw(b), draw(st.sampled_from([None, 1, 2, 3]))), 1
        if kind == "ints" and state["masks"] == 0:
            state["int_arrays"] += 1
            arr = np.asarray(draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(
                adv_shape)), max_size=int(np.prod(adv_shape))))).reshape(adv_shape)
            return ("ints", arr.astype(np.int64), draw(st.sampled_from("tnl"))), 1
        if state["int_arrays"] == 0 and state["masks"] == 0:
            state["masks"] += 1
            k = draw(st.integers(1, min(2, left)))
            m = np.asarray(draw(st.lists(st.booleans(), min_size=int(np.prod(shape[dim:dim + k])),
                                         max_size=int(np.prod(shape[dim:dim + k])))))
            # torch counts a list / NumPy mask as ONE dim when expanding ``...`` (a quirk)
            how = "t" if ell and k > 1 else draw(st.sampled_from("tnl"))
            return ("mask", m.reshape(shape[dim:dim + k]), how), k
        return ("int", 0, "p"), 1

    items: list = []
    for part, (a, b) in enumerate([(0, lo), (hi, ndim)] if ell else [(0, lo)]):
        d = a
        while d < b:
            item, k = one(d, b - d)
            items.append(item)
            d += k
        if ell and part == 0:
            items.append(("ell",))
    for _ in range(draw(st.integers(0, 2))):  # None / python bools anywhere
        extra = ("none",) if not allow_adv else draw(st.sampled_from(
            [("none",), ("none",), ("bool", True), ("bool", False)]))
        items.insert(draw(st.integers(0, len(items))), extra)
    bare = len(items) == 1 and draw(st.booleans()) and items[0][-1] != "l"
    return shape, items, bare


def _render(lib: object, shape: tuple, items: list, bare: bool) -> object:
    tensor = np.asarray if lib is np else lib.tensor
    out = []
    for it in items:
        kind = it[0]
        if kind == "int":
            v, how = it[1], it[2]
            out.append(v if how == "p" else np.int64(v) if how == "n" else tensor(v))
        elif kind == "slice":
            out.append(slice(*it[1:]))
        elif kind == "none":
            out.append(None)
        elif kind == "ell":
            out.append(...)
        elif kind == "bool":
            out.append(it[1])
        else:
            arr, how = it[1], it[2]
            out.append(tensor(arr) if how == "t" else arr.copy() if how == "n" else
                       arr.tolist())
    return out[0] if bare else tuple(out)


def _data(shape: tuple, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _first_sentence(e: Exception) -> str:
    return str(e).split(". Hint")[0].rstrip(".").replace("torch.", "ember.")


def _run(lib: object, x0: np.ndarray, index_of: object) -> tuple:
    x = lib.tensor(x0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            y = x[index_of(lib)]
        except Exception as e:  # noqa: BLE001 - compared with torch's
            return None, (type(e), _first_sentence(e)), None, None
    g = np.random.default_rng(7).standard_normal(tuple(y.shape))
    y.backward(lib.tensor(g))
    return y, None, x.grad, x


# ---------------------------------------------------------------------------- vs torch
@NEEDS_TORCH
@settings(FAST, max_examples=250)
@given(_spec(), st.integers(0, 2**16))
def test_getitem_matches_torch(spec: tuple, seed: int) -> None:
    shape, items, bare = spec
    x0 = _data(shape, seed)
    ty, terr, tgrad, _ = _run(torch, x0, lambda lib: _render(lib, shape, items, bare))
    ey, eerr, egrad, ex = _run(ember, x0, lambda lib: _render(lib, shape, items, bare))
    assert eerr == terr, f"errors differ for {items}"
    if terr is not None:
        return
    assert tuple(ey.shape) == tuple(ty.shape), items
    np.testing.assert_array_equal(ey.detach().numpy(), ty.detach().numpy())
    assert ey.grad_fn.name() == ty.grad_fn.name(), items
    assert ey._base is not None if ty._is_view() else ey._base is None, "view-ness differs"
    np.testing.assert_allclose(egrad.numpy(), tgrad.numpy(), rtol=1e-12, atol=1e-12)


@NEEDS_TORCH
@settings(FAST, max_examples=150)
@given(_spec(), st.integers(0, 2**16),
       st.sampled_from(["number", "scalar", "exact", "lead1", "bcast"]))
def test_setitem_matches_torch(spec: tuple, seed: int, kind: str) -> None:
    shape, items, bare = spec
    if any(it[0] in ("ints", "mask", "bool") for it in items) and kind not in ("number", "scalar"):
        kind = "scalar"  # a position may be written twice: only a constant value is well defined
    x0 = _data(shape, seed)
    res: list = []
    for lib in (torch, ember):
        x = lib.tensor(x0, requires_grad=True)
        y = x * 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                target = tuple(y[_render(lib, shape, items, bare)].shape)
            except Exception as e:  # noqa: BLE001 - compared with torch's
                res.append((type(e), _first_sentence(e)))
                continue
        vshape = {"scalar": (), "exact": target, "lead1": (1, 1, *target),
                  "bcast": tuple(1 if i % 2 else n for i, n in enumerate(target))}.get(kind)
        v = -3.5 if vshape is None else lib.tensor(
            np.arange(1.0, 1.0 + np.prod(vshape)).reshape(vshape), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y[_render(lib, shape, items, bare)] = v
        (y * lib.tensor(np.random.default_rng(seed).standard_normal(shape))).sum().backward()
        vg = None if vshape is None or v.grad is None else v.grad.numpy()
        name = re.sub(r"Backward\d+$", "", y.grad_fn.name().split("::")[-1])  # fill_'s number
        res.append((y.detach().numpy(), x.grad.numpy(), vg, name, y._version))
    t, e = res
    assert len(t) == len(e)
    if len(t) == 2:
        assert t == e
        return
    for a, b in zip(t[:3], e[:3], strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
    assert t[3:] == e[3:]


# ---------------------------------------------------------------------------- torch-free
@settings(FAST, max_examples=100)
@given(_spec(allow_adv=False), st.integers(0, 2**16))
def test_basic_indexing_is_a_numpy_view(spec: tuple, seed: int) -> None:
    shape, items, bare = spec
    x0 = _data(shape, seed)
    x = ember.tensor(x0, requires_grad=True)
    index = _render(ember, shape, items, bare)
    y = x[index]
    np_index = _render(np, shape, items, bare)  # numpy ints/slices/None/... mean the same here
    want = x0[np_index]
    np.testing.assert_array_equal(y.detach().numpy(), want)
    assert y._base is x and y._version == x._version
    if y.numel():
        assert np.shares_memory(y._data, x._data)
    y.backward(ember.ones(tuple(y.shape), dtype=ember.float64))
    ones = np.zeros(shape)
    ones[np_index] = 1.0  # every element of a basic view is hit once
    np.testing.assert_array_equal(x.grad.numpy(), ones)


@settings(FAST, max_examples=60)
@given(st.integers(1, 6), st.lists(st.integers(-6, 5), min_size=0, max_size=12),
       st.integers(1, 3))
def test_repeated_indices_accumulate(n: int, idx: list, cols: int) -> None:
    idx = [i % n for i in idx]
    x = ember.tensor(np.zeros((n, cols)), requires_grad=True)
    x[idx].backward(ember.ones(len(idx), cols, dtype=ember.float64))
    want = np.bincount(np.asarray(idx, dtype=np.int64), minlength=n)[:, None] * np.ones(cols)
    np.testing.assert_array_equal(x.grad.numpy(), want)
    # the same through gather, index_select and take
    t = ember.tensor(idx, dtype=ember.int64)
    for y in (x.index_select(0, t), x.gather(0, t[:, None].expand(len(idx), cols)),
              x.take(t * cols)):
        x.grad = None
        y.backward(ember.ones(tuple(y.shape), dtype=ember.float64))
        assert x.grad.numpy().sum() == y.numel()


def test_view_writes_through_and_version() -> None:
    x = ember.tensor(np.zeros((3, 4)))
    v = x[1]
    v[2] = 7.0
    x[0, 1:3] = ember.tensor([1.0, 2.0])
    assert x.numpy()[1, 2] == 7.0 and x.numpy()[0].tolist() == [0.0, 1.0, 2.0, 0.0]
    assert x._version == v._version == 2
    w = x[[0, 0]]  # advanced: a copy
    w[0, 0] = 5.0
    assert x.numpy()[0, 0] == 0.0 and w._base is None


# ---------------------------------------------------------------------------- errors vs torch
ERRORS = [
    lambda L, x: x[5], lambda L, x: x[0, 9], lambda L, x: x[[0, 7]], lambda L, x: x[:, :, [7]],
    lambda L, x: x[0, 0, 0, 0], lambda L, x: x[L.ones(4, dtype=L.bool)],
    lambda L, x: x[L.tensor([0.0])], lambda L, x: x[::-1], lambda L, x: x[1.5],
    lambda L, x: x[[0, 1], [0, 1, 2]], lambda L, x: x.gather(1, L.tensor([[0, 5]])),
    lambda L, x: x.gather(1, L.tensor([0])), lambda L, x: x.gather(1, L.tensor([[0.0]])),
    lambda L, x: x.scatter(1, L.tensor([[0, 7]]), 1.0),
    lambda L, x: x.scatter(1, L.tensor([[0]]), 1.0, reduce="sum"),
    lambda L, x: x.index_select(1, L.tensor([7])), lambda L, x: x.index_select(1, L.tensor([[0]])),
    lambda L, x: x.index_add(0, L.tensor([0, 0]), x), lambda L, x: x.take(L.tensor([99])),
    lambda L, x: x.masked_fill(x > 0, L.tensor([1.0])), lambda L, x: x.masked_select(x),
    lambda L, x: x.index_put((L.tensor([0, 9]),), L.tensor(1.0, dtype=x.dtype)),
    lambda L, x: x.index_put((L.tensor([0]),), L.ones(3, dtype=x.dtype)),
]


@NEEDS_TORCH
@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_match_torch(k: int) -> None:
    got = []
    for lib in (torch, ember):
        x = lib.tensor(_data((3, 4, 5), 0))
        x = x[0] if k >= 10 else x
        with pytest.raises(Exception) as info:  # noqa: PT011 - compared below
            ERRORS[k](lib, x)
        got.append((info.type, _first_sentence(info.value)))
    assert got[0] == got[1]
