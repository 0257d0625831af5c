"""Shape ops: property tests (round trips vs NumPy and torch, gradients included), view
semantics, multi-output nodes, errors, warnings and higher-order gradients."""

from __future__ import annotations

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

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _np(t: object) -> np.ndarray:
    if torch is not None and isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.detach()._data)


def _need_torch() -> object:
    return pytest.importorskip("torch", reason="torch not installed: comparison skipped")


# ------------------------------------------------------------------------ strategies
@st.composite
def arrays(draw: st.DrawFn, min_dims: int = 0, max_dims: int = 4) -> np.ndarray:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=min_dims, max_size=max_dims)))
    seed = draw(st.integers(0, 2**16))
    return np.random.default_rng(seed).uniform(-2, 2, size=shape).astype(np.float64)


@st.composite
def factorization(draw: st.DrawFn, n: int) -> tuple:
    """A random shape with ``n`` elements (possibly with one -1 and some size-1 dims)."""
    dims, left = [], n
    while left > 1 and len(dims) < 4:
        divs = [d for d in range(2, left + 1) if left % d == 0]
        d = draw(st.sampled_from(divs))
        dims.append(d)
        left //= d
    if left > 1:
        dims.append(left)
    dims += [1] * draw(st.integers(0, 1))
    dims = draw(st.permutations(dims))
    if dims and draw(st.booleans()):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return tuple(dims)


@st.composite
def view_chain(draw: st.DrawFn) -> tuple:
    """An input array and a list of view steps that are valid for it (applied in order)."""
    a = draw(arrays())
    shape, steps = a.shape, []
    for _ in range(draw(st.integers(1, 4))):
        nd = len(shape)
        kinds = ["reshape", "unsqueeze", "flatten"] + (["permute", "transpose"] if nd else [])
        kinds += ["squeeze"] if 1 in shape or not nd else []
        kind = draw(st.sampled_from(kinds))
        if kind == "reshape":
            arg = draw(factorization(int(np.prod(shape))))
            shape = np.empty(shape).reshape(arg).shape
        elif kind == "permute":
            arg = tuple(draw(st.permutations(range(nd))))
            shape = tuple(shape[p] for p in arg)
        elif kind == "transpose":
            arg = (draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1)))
            s = list(shape)
            s[arg[0]], s[arg[1]] = s[arg[1]], s[arg[0]]
            shape = tuple(s)
        elif kind == "unsqueeze":
            arg = draw(st.integers(-nd - 1, nd))
            shape = np.expand_dims(np.empty(shape), arg).shape
        elif kind == "squeeze":
            ones = [i for i, s in enumerate(shape) if s == 1]
            arg = draw(st.sampled_from([None] + ones)) if ones else None
            shape = np.squeeze(np.empty(shape), arg).shape
        else:
            arg = None
            shape = (int(np.prod(shape)),)
        steps.append((kind, arg))
    return a, steps


def _apply(x: object, steps: list) -> object:
    for kind, arg in steps:
        if kind == "reshape":
            x = x.reshape(arg)
        elif kind == "permute":
            x = x.permute(*arg)
        elif kind == "transpose":
            x = x.transpose(*arg)
        elif kind == "unsqueeze":
            x = x.unsqueeze(arg)
        elif kind == "squeeze":
            x = x.squeeze() if arg is None else x.squeeze(arg)
        else:
            x = x.flatten()
    return x


def _apply_np(a: np.ndarray, steps: list) -> np.ndarray:
    for kind, arg in steps:
        if kind == "reshape":
            a = a.reshape(arg)
        elif kind == "permute":
            a = a.transpose(arg)
        elif kind == "transpose":
            a = a.swapaxes(*arg) if a.ndim else a
        elif kind == "unsqueeze":
            a = np.expand_dims(a, arg)
        elif kind == "squeeze":
            a = np.squeeze(a, arg)
        else:
            a = a.reshape(-1)
    return a


# ------------------------------------------------------------------------ property tests
@SETTINGS
@given(view_chain())
def test_view_chains_match_numpy_and_share_memory(case: tuple) -> None:
    a, steps = case
    x = ember.tensor(a, requires_grad=True)
    y = _apply(x, steps)
    want = _apply_np(a, steps)
    assert tuple(y.shape) == want.shape
    np.testing.assert_array_equal(_np(y), want)
    # reshape of a non-viewable layout copies (like torch); every other step is a view
    cur, copied = x, False
    for step in steps:
        cur = _apply(cur, [step])
        copied = copied or (cur.grad_fn is not None
                            and cur.grad_fn.name() == "UnsafeViewBackward0")
    assert copied == (y._base is not x and y is not x), steps
    assert copied or a.size == 0 or np.shares_memory(y._data, x._data), steps
    w = np.random.default_rng(0).uniform(-1, 1, size=want.shape)
    (y * ember.tensor(w)).sum().backward()
    # every step is a permutation of the elements: the gradient is w moved back
    expect = np.zeros_like(a)
    idx = _apply_np(np.arange(a.size).reshape(a.shape), steps)
    expect.reshape(-1)[idx.reshape(-1)] = w.reshape(-1)
    np.testing.assert_allclose(_np(x.grad), expect)


@SETTINGS
@given(view_chain())
def test_view_chains_match_torch(case: tuple) -> None:
    tch = _need_torch()
    a, steps = case
    xs = [lib.tensor(a, requires_grad=True) for lib in (ember, tch)]
    ys = [_apply(x, steps) for x in xs]
    np.testing.assert_array_equal(_np(ys[0]), _np(ys[1]))
    names = [None if y.grad_fn is None else y.grad_fn.name() for y in ys]
    assert names[0] == names[1], steps
    assert ys[0].is_contiguous() == ys[1].is_contiguous(), steps
    w = np.random.default_rng(1).uniform(-1, 1, size=tuple(ys[1].shape))
    for y, lib in zip(ys, (ember, tch), strict=True):
        (y * lib.tensor(w)).sum().backward()
    np.testing.assert_allclose(_np(xs[0].grad), _np(xs[1].grad))


@SETTINGS
@given(arrays(min_dims=1), st.data())
def test_round_trips_are_identity(a: np.ndarray, data: st.DataObject) -> None:
    """reshape/view/permute/transpose/squeeze/unsqueeze/flatten undone give x back, grad = w."""
    nd = a.ndim
    perm = tuple(data.draw(st.permutations(range(nd))))
    inv = tuple(int(i) for i in np.argsort(perm))
    d0, d1 = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    k = data.draw(st.integers(-nd - 1, nd))
    start = data.draw(st.integers(0, nd - 1))
    end = data.draw(st.integers(start, nd - 1))
    trips = {
        "reshape": lambda x: x.reshape(data.draw(factorization(a.size))).reshape(a.shape),
        "view": lambda x: x.view(-1).view(a.shape),
        "permute": lambda x: x.permute(perm).permute(inv),
        "transpose": lambda x: x.transpose(d0, d1).swapaxes(d1, d0),
        "unsqueeze": lambda x: x.unsqueeze(k).squeeze(k),
        "flatten": lambda x: x.flatten(start, end).unflatten(start, a.shape[start:end + 1]),
        "movedim": lambda x: x.movedim(start, end).movedim(end, start),
    }
    w = np.random.default_rng(2).uniform(-1, 1, size=a.shape)
    for name, f in trips.items():
        x = ember.tensor(a, requires_grad=True)
        y = f(x)
        np.testing.assert_array_equal(_np(y), a, err_msg=name)
        (y * ember.tensor(w)).sum().backward()
        np.testing.assert_allclose(_np(x.grad), w, err_msg=name)


@SETTINGS
@given(arrays(min_dims=1, max_dims=3), st.data())
def test_joins_and_splits_match_torch(a: np.ndarray, data: st.DataObject) -> None:
    tch = _need_torch()
    nd = a.ndim
    dim = data.draw(st.integers(-nd, nd - 1))
    size = a.shape[dim]
    step = data.draw(st.integers(1, size + 1))
    parts = data.draw(st.integers(1, size + 1))
    reps = tuple(data.draw(st.lists(st.integers(0, 2), min_size=nd, max_size=nd + 1)))
    fns = [
        lambda lib, x: lib.cat(x.split(step, dim)[::-1], dim),
        lambda lib, x: lib.cat(x.chunk(parts, dim)[::-1], dim),
        lambda lib, x: lib.stack(x.unbind(dim), -1),
        lambda lib, x: x.repeat(reps),
        lambda lib, x: x.flip(dim).roll(step, dim),
        lambda lib, x: x.narrow(dim, size - 1, 1).expand(*([3] + list(x.shape[:dim % nd])
                                                         + [4] + list(x.shape[dim % nd + 1:]))),
    ]
    w_rng = np.random.default_rng(3)
    for i, f in enumerate(fns):
        xs = [lib.tensor(a, requires_grad=True) for lib in (ember, tch)]
        ys = [f(lib, x) for lib, x in zip((ember, tch), xs, strict=True)]
        np.testing.assert_array_equal(_np(ys[0]), _np(ys[1]), err_msg=str(i))
        assert ys[0].grad_fn.name() == ys[1].grad_fn.name()
        w = w_rng.uniform(-1, 1, size=tuple(ys[1].shape))
        for y, lib in zip(ys, (ember, tch), strict=True):
            (y * lib.tensor(w)).sum().backward()
        np.testing.assert_allclose(_np(xs[0].grad), _np(xs[1].grad), err_msg=str(i))


# ------------------------------------------------------------------------ view semantics
def test_views_share_data_version_and_base() -> None:
    x = ember.tensor(np.arange(24.0).reshape(2, 3, 4))
    views = [x.view(6, 4), x.reshape(4, 6), x.permute(2, 0, 1), x.transpose(0, 1), x.mT,
             x.unsqueeze(0), x[:1].squeeze(0), x.narrow(2, 1, 2), x.diagonal(0, 1, 2),
             x[:, :1].expand(2, 5, 4), x.flatten(1), x.movedim(0, 2), x[0].t(),
             *x.split(2, 2), *x.chunk(2, 0), *x.unbind(1)]
    for v in views:
        assert v._base is x
        assert np.shares_memory(v._data, x._data)
    x.add_(1)
    assert x._version == 1 and all(v._version == 1 for v in views)
    np.testing.assert_array_equal(_np(views[0]), np.arange(1.0, 25.0).reshape(6, 4))
    assert views[2].unsqueeze(0)._base is x  # a view of a view points at the root


def test_copies_are_not_views() -> None:
    x = ember.tensor(np.arange(12.0).reshape(3, 4))
    for y in (x.t().reshape(-1), x.flip(0), x.roll(1), x.repeat(1, 1), x.tril(),
              ember.cat([x, x]), ember.stack([x, x]), x.diag()):
        assert y._base is None
        assert not np.shares_memory(y._data, x._data)


def test_flatten_returns_self_when_nothing_to_do() -> None:
    x = ember.ones(3, requires_grad=True)
    assert x.flatten() is x
    y = ember.ones(2, 3)
    assert y.flatten(1, 1) is y and y.flatten(-1, 1) is y
    assert ember.tensor(1.0).flatten().shape == (1,)


def test_view_of_0d_scalar_shares_memory() -> None:
    x = ember.tensor(np.float32(3.0))
    x._data = np.float32(3.0)  # ember's fast 0-d graphs hold NumPy scalars
    v = x.view(1)
    v._data[0] = 5.0
    assert x.item() == 5.0


def test_multi_output_node_is_shared() -> None:
    x = ember.ones(2, 5, requires_grad=True)
    outs = x.split(2, 1)
    node = outs[0].grad_fn
    assert [o.grad_fn for o in outs] == [node] * 3 and node._nout == 3
    assert [o.output_nr for o in outs] == [0, 1, 2]
    assert [tuple(o.shape) for o in outs] == [(2, 2), (2, 2), (2, 1)]
    (outs[2] * 3).sum().backward()  # outputs 0 and 1 got no gradient: zeros there
    np.testing.assert_array_equal(_np(x.grad), [[0, 0, 0, 0, 3]] * 2)
    u = ember.ones(3, 2, requires_grad=True)
    a, b, c = u.unbind(0)
    (b * 2).sum().backward()
    np.testing.assert_array_equal(_np(u.grad), [[0, 0], [2, 2], [0, 0]])


def test_cat_promotes_and_casts_gradients_back() -> None:
    a = ember.ones(2, dtype=ember.float32, requires_grad=True)
    b = ember.ones(3, dtype=ember.float64, requires_grad=True)
    i = ember.tensor([1, 2])
    y = ember.cat([a, b, i])
    assert y.dtype == ember.float64 and y.grad_fn.name() == "CatBackward0"
    y.sum().backward()
    assert a.grad.dtype == ember.float32 and b.grad.dtype == ember.float64
    assert ember.cat([i, ember.tensor([True, False])]).dtype == ember.int64


# ------------------------------------------------------------------------ properties / warnings
def test_transpose_properties() -> None:
    m = ember.ones(2, 3, requires_grad=True)
    b = ember.ones(4, 2, 3, requires_grad=True)
    assert m.T.shape == (3, 2) and m.T.grad_fn.name() == "PermuteBackward0"
    assert b.mT.shape == (4, 3, 2) and b.mT.grad_fn.name() == "TransposeBackward0"
    assert b.mH.shape == (4, 3, 2) and m.H.shape == (3, 2)
    with pytest.warns(UserWarning, match="The use of `x.T` on tensors of dimension other than 2"):
        assert b.T.shape == (3, 2, 4)
    s = ember.tensor(2.0, requires_grad=True)
    with pytest.warns(UserWarning, match="Tensor.mT is deprecated on 0-D tensors"):
        assert s.mT is s
    with pytest.warns(UserWarning, match="Tensor.T is deprecated on 0-D tensors"):
        assert s.T.grad_fn.name() == "PermuteBackward0"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _ = m.T  # no warning for 2-D
    with pytest.raises(RuntimeError, match="tensor.mT is only supported on matrices"):
        _ = ember.ones(3).mT


# ------------------------------------------------------------------------ errors
ERRORS = [
    ("view_numel", lambda lib: lib.ones(2, 3).view(4), RuntimeError,
     "shape '[4]' is invalid for input of size 6"),
    ("reshape_numel", lambda lib: lib.ones(2, 3).reshape(5, -1), RuntimeError,
     "shape '[5, -1]' is invalid for input of size 6"),
    ("view_two_infer", lambda lib: lib.ones(6).view(-1, -1), RuntimeError,
     "only one dimension can be inferred"),
    ("view_neg", lambda lib: lib.ones(6).view(-2, 3), RuntimeError,
     "invalid shape dimension -2 at index 0 of shape [-2, 3]"),
    ("view_noncontig", lambda lib: lib.ones(3, 4).t().view(12), RuntimeError,
     "view size is not compatible with input tensor's size and stride (at least one dimension "
     "spans across two contiguous subspaces). Use .reshape(...) instead."),
    ("view_empty_infer", lambda lib: lib.ones(0, 2).view(-1, 0), RuntimeError,
     "cannot reshape tensor of 0 elements into shape [-1, 0]"),
    ("reshape_float", lambda lib: lib.ones(6).reshape(2, 3.0), TypeError,
     "reshape(): argument 'shape' failed to unpack the object at pos 2"),
    ("permute_len", lambda lib: lib.ones(2, 3).permute(0), RuntimeError,
     "permute(sparse_coo): number of dimensions in the tensor input does not match"),
    ("permute_dup", lambda lib: lib.ones(2, 3).permute(1, 1), RuntimeError,
     "permute(): duplicate dims are not allowed."),
    ("permute_range", lambda lib: lib.ones(2, 3).permute(0, 2), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("transpose_range", lambda lib: lib.ones(2, 3).transpose(0, -3), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got -3)"),
    ("t_3d", lambda lib: lib.ones(2, 3, 4).t(), RuntimeError,
     "t() expects a tensor with <= 2 dimensions, but self is 3D"),
    ("squeeze_dup", lambda lib: lib.ones(1, 3).squeeze((0, 0)), RuntimeError,
     "dim 0 appears multiple times in the list of dims"),
    ("unsqueeze_range", lambda lib: lib.ones(2, 3).unsqueeze(3), IndexError,
     "Dimension out of range (expected to be in range of [-3, 2], but got 3)"),
    ("flatten_order", lambda lib: lib.ones(2, 3).flatten(1, 0), RuntimeError,
     "flatten() has invalid args: start_dim cannot come after end_dim"),
    ("unflatten", lambda lib: lib.ones(2, 6).unflatten(1, (4, 2)), RuntimeError,
     "unflatten: Provided sizes [4, 2] don't multiply up to the size of dim 1 (6)"),
    ("expand_fewer", lambda lib: lib.ones(2, 3).expand(3), RuntimeError,
     "expand(ember.FloatTensor{[2, 3]}, size=[3]): the number of sizes provided (1) must be "
     "greater or equal to the number of dimensions in the tensor (2)"),
    ("expand_mismatch", lambda lib: lib.ones(2, 3).expand(2, 4), RuntimeError,
     "The expanded size of the tensor (4) must match the existing size (3) at non-singleton "
     "dimension 1.  Target sizes: [2, 4].  Tensor sizes: [2, 3]"),
    ("expand_lead", lambda lib: lib.ones(3).expand(-1, 3), RuntimeError,
     "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension 0"),
    ("broadcast_tensors", lambda lib: lib.broadcast_tensors(lib.ones(2, 3), lib.ones(4)),
     RuntimeError, "The size of tensor a (3) must match the size of tensor b (4) at "
     "non-singleton dimension 1"),
    ("repeat_few", lambda lib: lib.ones(2, 3).repeat(2), RuntimeError,
     "Number of dimensions of repeat dims can not be smaller than number of dimensions of "
     "tensor"),
    ("cat_ndim", lambda lib: lib.cat([lib.ones(2, 3), lib.ones(3)]), RuntimeError,
     "Tensors must have same number of dimensions: got 2 and 1"),
    ("cat_sizes", lambda lib: lib.cat([lib.ones(2, 3), lib.ones(2, 4)]), RuntimeError,
     "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for "
     "tensor number 1 in the list."),
    ("cat_0d", lambda lib: lib.cat([lib.ones(()), lib.ones(())]), RuntimeError,
     "zero-dimensional tensor (at position 0) cannot be concatenated"),
    ("cat_empty", lambda lib: lib.cat([]), ValueError,
     "ember.cat(): expected a non-empty list of Tensors"),
    ("cat_tensor", lambda lib: lib.cat(lib.ones(2, 3)), TypeError,
     "cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"),
    ("stack_sizes", lambda lib: lib.stack([lib.ones(2), lib.ones(3)]), RuntimeError,
     "stack expects each tensor to be equal size, but got [2] at entry 0 and [3] at entry 1"),
    ("stack_empty", lambda lib: lib.stack([]), RuntimeError,
     "stack expects a non-empty TensorList"),
    ("split_sizes", lambda lib: lib.ones(4).split([1, 2]), RuntimeError,
     "split_with_sizes expects split_sizes to sum exactly to 4 (input tensor's size at "
     "dimension 0), but got split_sizes=[1, 2]"),
    ("split_zero", lambda lib: lib.ones(4).split(0), RuntimeError,
     "split_size can only be 0 if dimension size is 0, but got dimension size of 4"),
    ("chunk_zero", lambda lib: lib.ones(4).chunk(0), RuntimeError,
     "chunk expects `chunks` to be greater than 0, got: 0"),
    ("unbind_0d", lambda lib: lib.ones(()).unbind(), IndexError,
     "Dimension specified as 0 but tensor has no dimensions"),
    ("narrow_len", lambda lib: lib.ones(2, 3).narrow(1, 2, 2), RuntimeError,
     "start (2) + length (2) exceeds dimension size (3)."),
    ("narrow_start", lambda lib: lib.ones(2, 3).narrow(1, -4, 1), IndexError,
     "start out of range (expected to be in range of [-3, 3], but got -4)"),
    ("flip_dup", lambda lib: lib.ones(2, 3).flip(0, -2), RuntimeError,
     "dim 0 appears multiple times in the list of dims"),
    ("roll_align", lambda lib: lib.ones(2, 3).roll(1, (0, 1)), RuntimeError,
     "shifts and dimensions must align. shifts: 1, dims:2"),
    ("tril_1d", lambda lib: lib.ones(3).tril(), RuntimeError,
     "tril: input tensor must have at least 2 dimensions"),
    ("movedim_repeat", lambda lib: lib.ones(2, 3).movedim((0, 0), (0, 1)), RuntimeError,
     "movedim: repeated dim in `source` ([0, 0])"),
    ("diagonal_same", lambda lib: lib.ones(2, 3).diagonal(0, 1, 1), RuntimeError,
     "diagonal dimensions cannot be identical 1, 1"),
    ("diag_3d", lambda lib: lib.ones(2, 3, 4).diag(), RuntimeError,
     "diag(): Supports 1D or 2D tensors. Got 3D"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_error_messages(case: tuple) -> None:
    _, fn, exc, first = case
    with pytest.raises(exc) as info:
        fn(ember)
    assert str(info.value).startswith(first), str(info.value)


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_error_messages_are_torchs(case: tuple) -> None:
    tch = _need_torch()
    _, fn, exc, first = case
    with pytest.raises(exc) as info:
        fn(tch)
    assert str(info.value).replace("torch.", "ember.").startswith(first), str(info.value)


# ------------------------------------------------------------------------ higher order
HIGHER = {
    "reshape": lambda lib, x: x.reshape(6, 4),
    "reshape_copy": lambda lib, x: x.transpose(0, 2).reshape(-1),
    "permute": lambda lib, x: x.permute(2, 0, 1),
    "transpose": lambda lib, x: x.transpose(0, 2),
    "squeeze_unsqueeze": lambda lib, x: x.unsqueeze(1).squeeze(),
    "expand": lambda lib, x: x[:, :1].expand(2, 5, 4),
    "repeat": lambda lib, x: x.repeat(2, 1, 2),
    "cat": lambda lib, x: lib.cat([x, x * 2], 1),
    "stack": lambda lib, x: lib.stack([x, x * 2], 1),
    "split": lambda lib, x: x.split([1, 3], 2)[1],
    "unbind": lambda lib, x: x.unbind(1)[2],
    "narrow": lambda lib, x: x.narrow(2, 1, 2),
    "flip_roll": lambda lib, x: x.flip(0, 2).roll((1, 2), (0, 2)),
    "tril": lambda lib, x: x.tril(1),
    "diagonal": lambda lib, x: x.diagonal(1, 1, 2),
    "diag_embed": lambda lib, x: x.diag_embed(),
}
_X = np.random.default_rng(5).standard_normal((2, 3, 4))
_V = np.cos(np.arange(24.0)).reshape(2, 3, 4)


def _grad(lib: object, f: object, x: object, create: bool) -> object:
    y = f(lib, x)
    w = lib.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)))
    return lib.autograd.grad((y ** 3 * w).sum(), x, create_graph=create)[0]


def _double(lib: object, f: object) -> tuple:
    x = lib.tensor(_X, requires_grad=True)
    g = _grad(lib, f, x, True)
    (gg,) = lib.autograd.grad((g * lib.tensor(_V)).sum(), x, create_graph=True)
    (ggg,) = lib.autograd.grad((gg * gg).sum(), x)
    return _np(g), _np(gg), _np(ggg)


@pytest.mark.parametrize("name", list(HIGHER))
def test_double_backward_finite_differences(name: str) -> None:
    """d/dx <grad f(x), v> by create_graph equals central differences of the first gradient."""
    f = HIGHER[name]
    _, gg, _ = _double(ember, f)
    num = np.zeros_like(_X)
    eps = 1e-6
    for j in range(_X.size):
        vals = []
        for sgn in (1, -1):
            xp = _X.copy()
            xp.reshape(-1)[j] += sgn * eps
            g = _grad(ember, f, ember.tensor(xp, requires_grad=True), False)
            vals.append(float(np.sum(_np(g) * _V)))
        num.reshape(-1)[j] = (vals[0] - vals[1]) / (2 * eps)
    np.testing.assert_allclose(gg, num, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(HIGHER))
def test_higher_order_matches_torch(name: str) -> None:
    tch = _need_torch()
    for a, b in zip(_double(ember, HIGHER[name]), _double(tch, HIGHER[name]), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


# ------------------------------------------------------------------------ namespaces
NS_CASES = [
    ("reshape", ((4, 6),)), ("permute", ((2, 0, 1),)), ("transpose", (0, 2)), ("unsqueeze", (1,)),
    ("squeeze", ()), ("expand", ((3, 2, 3, 4),)), ("mT", ()), ("narrow", (2, 1, 2)),
    ("unbind", (1,)), ("flip", ((0, 2),)), ("roll", ((1, -1), (0, 2))), ("tril", (1,)),
    ("triu", (-1,)), ("diagonal", (1, 1, 2)),
]


@pytest.mark.parametrize("case", NS_CASES, ids=[c[0] for c in NS_CASES])
def test_backward_namespaces_agree(case: tuple) -> None:
    """N.<name> on arrays and E.<name> on Tensors (used by backward rules) compute the same."""
    from ember.ops._ns import E, N

    name, args = case
    a = np.random.default_rng(7).standard_normal((2, 3, 4))
    want, got = getattr(N, name)(a, *args), getattr(E, name)(ember.tensor(a), *args)
    for w, g in zip(want if name == "unbind" else [want], got if name == "unbind" else [got],
                    strict=True):
        np.testing.assert_array_equal(np.asarray(w), _np(g), err_msg=name)
    parts = [a, a[:, :1]]
    np.testing.assert_array_equal(N.cat(parts, 1), _np(E.cat([ember.tensor(p) for p in parts], 1)))
    np.testing.assert_array_equal(N.stack([a, a], -1),
                                  _np(E.stack([ember.tensor(a), ember.tensor(a)], -1)))
    src = np.ones((2, 3))
    np.testing.assert_array_equal(
        N.diagonal_scatter(a, src, 0, 1, 2),
        _np(E.diagonal_scatter(ember.tensor(a), ember.tensor(src), 0, 1, 2)))
