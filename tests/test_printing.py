"""Tests for ``ember._printing``.

The first part pins hand-checked reprs so it runs without torch; the second part compares
``format_tensor`` against ``repr(torch.Tensor)`` over many arrays when torch is installed.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from ember._printing import format_tensor, get_printoptions, printoptions, set_printoptions

F32 = np.dtype("float32")
DEFAULT_OPTS = {
    "precision": 4,
    "threshold": 1000,
    "edgeitems": 3,
    "linewidth": 80,
    "sci_mode": None,
}


@pytest.fixture(autouse=True)
def _reset_options() -> Iterator[None]:
    """Every test starts and ends with the default print options."""
    set_printoptions(profile="default")
    yield
    set_printoptions(profile="default")


def fmt(a: Any, suffixes: tuple[str, ...] = (), **kwargs: Any) -> str:
    """``format_tensor`` with float32 as the default dtype."""
    return format_tensor(a, default_dtype=F32, suffixes=suffixes, **kwargs)


# ---------------------------------------------------------------------------------------------
# Part 1: pinned expected strings (no torch needed)
# ---------------------------------------------------------------------------------------------

f32 = np.float32
PINNED: list[tuple[str, np.ndarray, tuple[str, ...], str]] = [
    (
        "grad_leaf",
        np.array([1.7603, -1.2176, 0.3986], dtype=f32),
        ("requires_grad=True",),
        "tensor([ 1.7603, -1.2176,  0.3986], requires_grad=True)",
    ),
    (
        "grad_fn_wraps",
        np.array([-3686.8625, 922.6259, 488.6931, 359.5541, 4358.5483], dtype=f32),
        ("grad_fn=<MulBackward0>",),
        (
            "tensor([-3686.8625,   922.6259,   488.6931,   359.5541,  4358.5483],\n"
            "       grad_fn=<MulBackward0>)"
        ),
    ),
    (
        "scalar_grad",
        np.array(49.0, dtype=f32),
        ("grad_fn=<PowBackward0>",),
        "tensor(49., grad_fn=<PowBackward0>)",
    ),
    (
        "sci",
        np.array([204.8, 2048.0, 0.2048, 20.48, 2.048], dtype=f32),
        (),
        "tensor([2.0480e+02, 2.0480e+03, 2.0480e-01, 2.0480e+01, 2.0480e+00])",
    ),
    ("int64", np.array([1, 2, 3]), (), "tensor([1, 2, 3])"),
    ("float64", np.array([1.0, 2.0]), (), "tensor([1., 2.], dtype=ember.float64)"),
    ("empty_2d", np.zeros((0, 3), dtype=f32), (), "tensor([], size=(0, 3))"),
    ("empty_1d", np.zeros((0,), dtype=f32), (), "tensor([])"),
    ("empty_int64", np.zeros((0,), dtype=np.int64), (), "tensor([], dtype=ember.int64)"),
    (
        "empty_bool_3d",
        np.zeros((2, 0, 1), dtype=bool),
        (),
        "tensor([], size=(2, 0, 1), dtype=ember.bool)",
    ),
    ("bool", np.array([True, False]), (), "tensor([ True, False])"),
    ("bool_0d", np.array(True), (), "tensor(True)"),
    ("int_0d", np.array(-7), (), "tensor(-7)"),
    ("int32_0d", np.array(5, dtype=np.int32), (), "tensor(5, dtype=ember.int32)"),
    ("float_0d", np.array(3.14159265, dtype=f32), (), "tensor(3.1416)"),
    ("neg_zero", np.array([-0.0, 0.0, 1.0], dtype=f32), (), "tensor([-0., 0., 1.])"),
    ("neg_zero_frac", np.array([-0.0, 0.5], dtype=f32), (), "tensor([-0.0000, 0.5000])"),
    ("zeros", np.zeros(3, dtype=f32), (), "tensor([0., 0., 0.])"),
    (
        "nan_inf",
        np.array([np.nan, np.inf, -np.inf, 1.5], dtype=f32),
        (),
        "tensor([   nan,    inf,   -inf, 1.5000])",
    ),
    ("nan_inf_int", np.array([np.nan, -np.inf, 2.0], dtype=f32), (), "tensor([nan, -inf, 2.])"),
    ("all_nonfinite", np.array([np.nan, np.inf], dtype=f32), (), "tensor([nan, inf])"),
    (
        "float16",
        np.array([0.1, 1000.0, -2.5], dtype=np.float16),
        (),
        "tensor([ 9.9976e-02,  1.0000e+03, -2.5000e+00], dtype=ember.float16)",
    ),
    (
        "uint8",
        np.array([0, 255, 7], dtype=np.uint8),
        (),
        "tensor([  0, 255,   7], dtype=ember.uint8)",
    ),
    ("int8", np.array([-128, 127], dtype=np.int8), (), "tensor([-128,  127], dtype=ember.int8)"),
    (
        "int16_2d",
        np.array([[1, -300], [20, 4]], dtype=np.int16),
        (),
        "tensor([[   1, -300],\n        [  20,    4]], dtype=ember.int16)",
    ),
    (
        "int32_2d",
        np.arange(6, dtype=np.int32).reshape(2, 3),
        (),
        "tensor([[0, 1, 2],\n        [3, 4, 5]], dtype=ember.int32)",
    ),
    (
        "matrix",
        np.array([[1.5, -2.25], [3.0, 4.125]], dtype=f32),
        (),
        "tensor([[ 1.5000, -2.2500],\n        [ 3.0000,  4.1250]])",
    ),
    (
        "cube",
        np.arange(8, dtype=f32).reshape(2, 2, 2),
        (),
        "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])",
    ),
    (
        "4d",
        np.arange(16).reshape(2, 2, 2, 2),
        (),
        (
            "tensor([[[[ 0,  1],\n          [ 2,  3]],\n\n"
            "         [[ 4,  5],\n          [ 6,  7]]],\n\n\n"
            "        [[[ 8,  9],\n          [10, 11]],\n\n"
            "         [[12, 13],\n          [14, 15]]]])"
        ),
    ),
    ("summarized_1d", np.arange(2000), (), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
    (
        "summarized_2d",
        np.arange(10000, dtype=f32).reshape(100, 100) / 7,
        (),
        (
            "tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 1.3857e+01, 1.4000e+01,\n"
            "         1.4143e+01],\n"
            "        [1.4286e+01, 1.4429e+01, 1.4571e+01,  ..., 2.8143e+01, 2.8286e+01,\n"
            "         2.8429e+01],\n"
            "        [2.8571e+01, 2.8714e+01, 2.8857e+01,  ..., 4.2429e+01, 4.2571e+01,\n"
            "         4.2714e+01],\n"
            "        ...,\n"
            "        [1.3857e+03, 1.3859e+03, 1.3860e+03,  ..., 1.3996e+03, 1.3997e+03,\n"
            "         1.3999e+03],\n"
            "        [1.4000e+03, 1.4001e+03, 1.4003e+03,  ..., 1.4139e+03, 1.4140e+03,\n"
            "         1.4141e+03],\n"
            "        [1.4143e+03, 1.4144e+03, 1.4146e+03,  ..., 1.4281e+03, 1.4283e+03,\n"
            "         1.4284e+03]])"
        ),
    ),
    (
        "wrapped_ints",
        np.arange(30) * 1000,
        (),
        (
            "tensor([    0,  1000,  2000,  3000,  4000,  5000,  6000,  7000,  8000,  9000,\n"
            "        10000, 11000, 12000, 13000, 14000, 15000, 16000, 17000, 18000, 19000,\n"
            "        20000, 21000, 22000, 23000, 24000, 25000, 26000, 27000, 28000, 29000])"
        ),
    ),
    ("large", np.array([1e12, 1.0]), (), "tensor([1.0000e+12, 1.0000e+00], dtype=ember.float64)"),
    ("small", np.array([1e-8, 2e-8], dtype=f32), (), "tensor([1.0000e-08, 2.0000e-08])"),
    ("int_valued_sci", np.array([1e9, 1.0], dtype=f32), (), "tensor([1.0000e+09, 1.0000e+00])"),
    (
        "complex64",
        np.array([1 + 2j, -0.5 - 1j], dtype=np.complex64),
        (),
        "tensor([ 1.0000+2.j, -0.5000-1.j])",
    ),
    ("complex128", np.array([1j]), (), "tensor([0.+1.j], dtype=ember.complex128)"),
]

# (print options, array, expected)
PINNED_OPTS: list[tuple[dict[str, Any], np.ndarray, str]] = [
    ({"precision": 2}, np.array([1.12345, -2.5], dtype=f32), "tensor([ 1.12, -2.50])"),
    ({"precision": 6}, np.array([1.12345, -2.5], dtype=f32), "tensor([ 1.123450, -2.500000])"),
    ({"sci_mode": True}, np.array([1.5, 2.0], dtype=f32), "tensor([1.5000e+00, 2.0000e+00])"),
    ({"sci_mode": True}, np.array([1.0, 2.0], dtype=f32), "tensor([1.0000e+00, 2.0000e+00])"),
    (
        {"sci_mode": False},
        np.array([1e-8, 1e10]),
        "tensor([          0.0000, 10000000000.0000], dtype=ember.float64)",
    ),
    (
        {"profile": "short"},
        np.arange(2000) / 3,
        "tensor([0.00e+00, 3.33e-01,  ..., 6.66e+02, 6.66e+02], dtype=ember.float64)",
    ),
    (
        {"linewidth": 30},
        np.arange(12, dtype=f32),
        "tensor([ 0.,  1.,  2.,  3.,\n         4.,  5.,  6.,  7.,\n         8.,  9., 10., 11.])",
    ),
    ({"threshold": 5}, np.arange(10), "tensor([0, 1, 2,  ..., 7, 8, 9])"),
    (
        {"edgeitems": 1, "threshold": 3},
        np.arange(12).reshape(3, 4),
        "tensor([[ 0,  ...,  3],\n        ...,\n        [ 8,  ..., 11]])",
    ),
    ({"edgeitems": 0, "threshold": 3}, np.arange(12).reshape(3, 4), "tensor([...], size=(3, 4))"),
    ({"edgeitems": 0}, np.arange(3), "tensor([0, 1, 2], size=(3,))"),
]


@pytest.mark.parametrize(
    ("name", "arr", "suffixes", "expected"), PINNED, ids=[case[0] for case in PINNED]
)
def test_pinned(name: str, arr: np.ndarray, suffixes: tuple[str, ...], expected: str) -> None:
    assert fmt(arr, suffixes) == expected


@pytest.mark.parametrize(("opts", "arr", "expected"), PINNED_OPTS)
def test_pinned_with_options(opts: dict[str, Any], arr: np.ndarray, expected: str) -> None:
    with printoptions(**opts):
        assert fmt(arr) == expected
    assert get_printoptions() == DEFAULT_OPTS


def test_numpy_scalar_input() -> None:
    assert fmt(np.float32(2.5)) == "tensor(2.5000)"
    assert fmt(np.int64(3)) == "tensor(3)"
    assert fmt(np.float64(0.5)) == "tensor(0.5000, dtype=ember.float64)"


def test_dtype_name_prefix_and_default_dtype() -> None:
    assert fmt(np.array([1.0, 2.0]), dtype_name="ember.double") == (
        "tensor([1., 2.], dtype=ember.double)"
    )
    assert format_tensor(np.array([1.0, 2.0]), default_dtype=np.dtype("float64")) == (
        "tensor([1., 2.])"
    )
    assert format_tensor(np.array([1.0], dtype=f32), default_dtype=np.dtype("float64")) == (
        "tensor([1.], dtype=ember.float32)"
    )
    assert format_tensor(np.array([1j]), default_dtype=np.dtype("float64")) == "tensor([0.+1.j])"
    assert fmt(np.arange(40.0), prefix="MyT(", suffixes=("requires_grad=True",)) == (
        "MyT([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13., 14.,\n"
        "     15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27., 28., 29.,\n"
        "     30., 31., 32., 33., 34., 35., 36., 37., 38., 39.], dtype=ember.float64,\n"
        "    requires_grad=True)"
    )


def test_profile_full_never_summarizes() -> None:
    set_printoptions(profile="full")
    text = fmt(np.arange(1001))
    assert "..." not in text
    assert text.endswith(" 998,  999, 1000])")
    assert text.count("\n") == 83
    set_printoptions(profile="default")
    assert "..." in fmt(np.arange(1001))


def test_options_api() -> None:
    assert get_printoptions() == DEFAULT_OPTS
    set_printoptions(precision=2, sci_mode=True)
    assert get_printoptions()["precision"] == 2
    assert get_printoptions()["sci_mode"] is True
    set_printoptions(linewidth=120)  # like torch: sci_mode is reset when not passed
    assert get_printoptions() == {**DEFAULT_OPTS, "precision": 2, "linewidth": 120}
    set_printoptions(profile="short")
    assert get_printoptions() == {**DEFAULT_OPTS, "precision": 2, "edgeitems": 2}
    set_printoptions(profile="full", precision=3)
    assert get_printoptions() == {**DEFAULT_OPTS, "precision": 3, "threshold": float("inf")}
    set_printoptions(profile="no-such-profile")  # ignored, as in torch
    assert get_printoptions()["precision"] == 3
    set_printoptions(profile="default")
    assert get_printoptions() == DEFAULT_OPTS


def test_printoptions_restores_on_error() -> None:
    set_printoptions(precision=3, sci_mode=False)
    before = get_printoptions()
    seen: list[str] = []

    def fail_inside() -> None:
        with printoptions(precision=7, linewidth=10, sci_mode=True):
            assert get_printoptions()["precision"] == 7
            seen.append(fmt(np.array([0.5], dtype=f32)))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_inside()
    assert seen == ["tensor([5.0000000e-01])"]
    assert get_printoptions() == before
    assert fmt(np.array([0.5], dtype=f32)) == "tensor([0.500])"


def test_linewidth_moves_suffix() -> None:
    arr = np.array([1.5, 2.5], dtype=f32)
    assert fmt(arr, ("requires_grad=True",)) == "tensor([1.5000, 2.5000], requires_grad=True)"
    with printoptions(linewidth=40):
        assert fmt(arr, ("requires_grad=True",)) == (
            "tensor([1.5000, 2.5000],\n       requires_grad=True)"
        )


# ---------------------------------------------------------------------------------------------
# Part 2: comparison against torch (skipped when torch is not installed)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch() -> Any:
    """Return the torch module, or skip the test when it is missing."""
    return pytest.importorskip(
        "torch", reason="torch not installed: comparison against torch skipped"
    )


GRAD_OPS: dict[str, Callable[[Any], Any]] = {
    "requires_grad=True": lambda t: t.requires_grad_(),
    "grad_fn=<MulBackward0>": lambda t: t.requires_grad_() * 1,
    "grad_fn=<PowBackward0>": lambda t: t.requires_grad_() ** 1,
    "grad_fn=<CloneBackward0>": lambda t: t.requires_grad_().clone(),
}


def torch_repr(torch: Any, arr: np.ndarray, suffixes: tuple[str, ...] = ()) -> str:
    """Return the repr of the equivalent torch tensor (suffixes recreated through autograd)."""
    t = torch.from_numpy(np.array(arr, copy=True))
    for suffix in suffixes:
        t = GRAD_OPS[suffix](t)
    return repr(t).replace("torch.", "ember.")


DTYPES = [
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool",
    "complex64",
    "complex128",
]
SHAPES = [
    (),
    (1,),
    (0,),
    (5,),
    (30,),
    (2, 3),
    (0, 3),
    (3, 0),
    (2, 0, 4),
    (1, 1, 1, 1),
    (7, 11),
    (2, 3, 4),
    (2, 2, 2, 2),
    (3, 1, 5, 2),
    (1001,),
    (40, 40),
    (5, 300),
    (3, 4, 100),
    (12, 9, 11),
    (2, 3, 2, 200),
]
SCALES = [10.0**k for k in range(-8, 13)]


def random_array(
    rng: np.random.Generator, dtype: np.dtype, shape: tuple[int, ...], scale: float, variant: int
) -> np.ndarray:
    """Random array; variant 0 plain, 1 integer-valued, 2 with nan/inf/±0, 3 small integers."""
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        bound = int(min(scale, 1e15)) + 1
        lo, hi = max(int(info.min), -bound), min(int(info.max), bound)
        return np.asarray(rng.integers(lo, hi, size=shape, endpoint=True)).astype(dtype)
    values = np.asarray(rng.standard_normal(shape) * scale)
    if variant == 1:
        values = np.asarray(np.round(values))
    elif variant == 3:
        values = np.asarray(np.round(rng.standard_normal(shape) * 3))
    if dtype.kind == "c":
        values = np.asarray(values + 1j * rng.standard_normal(shape) * scale)
    if variant == 2 and values.size:
        mask = rng.random(shape) < 0.3
        values[mask] = rng.choice([np.nan, np.inf, -np.inf, 0.0, -0.0], size=int(mask.sum()))
    with np.errstate(all="ignore"):
        return values.astype(dtype)


@pytest.mark.parametrize(
    ("name", "arr", "suffixes", "expected"), PINNED, ids=[case[0] for case in PINNED]
)
def test_pinned_strings_match_torch(
    torch: Any, name: str, arr: np.ndarray, suffixes: tuple[str, ...], expected: str
) -> None:
    assert torch_repr(torch, arr, suffixes) == expected


@pytest.mark.parametrize(("opts", "arr", "expected"), PINNED_OPTS)
def test_pinned_options_match_torch(
    torch: Any, opts: dict[str, Any], arr: np.ndarray, expected: str
) -> None:
    with torch._tensor_str.printoptions(**opts):
        assert torch_repr(torch, arr) == expected


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_random_matches_torch(torch: Any, dtype: str, shape: tuple[int, ...]) -> None:
    dt = np.dtype(dtype)
    rng = np.random.default_rng(zlib.crc32(repr((dtype, shape)).encode()))
    floating = dt.kind in "fc"
    for i, scale in enumerate(SCALES if floating else SCALES[::4]):
        for variant in range(4) if floating else (0,):
            arr = random_array(rng, dt, shape, scale, variant)
            suffixes: tuple[str, ...] = ()
            if floating and (i + variant) % 3:
                suffixes = (("requires_grad=True",), ("grad_fn=<CloneBackward0>",))[i % 2]
            expected = torch_repr(torch, arr, suffixes)
            assert fmt(arr, suffixes) == expected, (scale, variant)


OPTION_SETS: list[dict[str, Any]] = [
    {"precision": 2},
    {"precision": 0},
    {"precision": 8},
    {"sci_mode": True},
    {"sci_mode": False},
    {"edgeitems": 0},
    {"edgeitems": 1},
    {"threshold": 0},
    {"threshold": 5, "edgeitems": 2},
    {"linewidth": 20},
    {"linewidth": 200},
    {"linewidth": 1},
    {"profile": "short"},
    {"profile": "full", "linewidth": 120},
    {"edgeitems": 0, "threshold": 0},
    {"edgeitems": 10, "threshold": 10},
]


@pytest.mark.parametrize("opts", OPTION_SETS, ids=str)
def test_options_match_torch(torch: Any, opts: dict[str, Any]) -> None:
    rng = np.random.default_rng(1234)
    for dtype in DTYPES:
        dt = np.dtype(dtype)
        for shape in SHAPES:
            if opts.get("profile") == "full" and int(np.prod(shape)) > 2000:
                continue
            scale = 10.0 ** int(rng.integers(-8, 13))
            arr = random_array(rng, dt, shape, scale, int(rng.integers(4)))
            suffixes = ("requires_grad=True",) if dt.kind in "fc" and rng.random() < 0.5 else ()
            with torch._tensor_str.printoptions(**opts), printoptions(**opts):
                assert get_printoptions() == torch._tensor_str.get_printoptions()
                assert fmt(arr, suffixes) == torch_repr(torch, arr, suffixes), (dtype, shape)
    assert get_printoptions() == torch._tensor_str.get_printoptions() == DEFAULT_OPTS


def test_default_dtype_float64_matches_torch(torch: Any) -> None:
    f64 = np.dtype("float64")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        for arr in [
            np.array([1.0, 2.5]),
            np.array([1.0], dtype=f32),
            np.array([1j]),
            np.array([1j], dtype=np.complex64),
            np.zeros((0,)),
            np.zeros((0,), dtype=f32),
            np.arange(3),
        ]:
            expected = repr(torch.from_numpy(arr.copy())).replace("torch.", "ember.")
            assert format_tensor(arr, default_dtype=f64) == expected
    finally:
        torch.set_default_dtype(previous)


def test_subclass_prefix_matches_torch(torch: Any) -> None:
    class MyT(torch.Tensor):
        pass

    for arr in [np.arange(40.0), np.arange(60, dtype=f32).reshape(3, 4, 5) / 3, np.array(2.0)]:
        t = torch.from_numpy(arr.copy()).as_subclass(MyT).requires_grad_()
        expected = repr(t).replace("torch.", "ember.")
        assert fmt(arr, ("requires_grad=True",), prefix="MyT(") == expected


try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError:  # pragma: no cover - hypothesis is a test-only dependency
    HAVE_HYPOTHESIS = False
else:
    HAVE_HYPOTHESIS = True

if HAVE_HYPOTHESIS:

    @settings(
        max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        arr=hnp.arrays(
            dtype=st.sampled_from([np.dtype("float16"), np.dtype("float32"), np.dtype("float64")]),
            shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7),
        ),
        opts=st.sampled_from(
            [
                {},
                {"threshold": 10, "edgeitems": 2},
                {"precision": 2},
                {"linewidth": 40},
                {"sci_mode": False},
            ]
        ),
        grad=st.booleans(),
    )
    def test_hypothesis_floats_match_torch(
        torch: Any, arr: np.ndarray, opts: dict[str, Any], grad: bool
    ) -> None:
        suffixes = ("requires_grad=True",) if grad else ()
        with torch._tensor_str.printoptions(**opts), printoptions(**opts):
            assert fmt(arr, suffixes) == torch_repr(torch, arr, suffixes)

else:  # pragma: no cover

    def test_hypothesis_floats_match_torch() -> None:
        pytest.skip("hypothesis not installed")
