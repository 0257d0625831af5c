"""Tests for ``ember._creation`` (tensor, zeros ..., arange, linspace, logspace, meshgrid,
tril/triu_indices) and ``ember._random`` (Generator, seeding, samplers, in-place fills).

Hand-checked expectations run without torch; the parts marked ``torch`` compare dtypes, shapes,
values (non-random functions), node names and exception classes against torch and skip without
it.  Random values are never compared with torch's (another bit generator): reproducibility and
distributions are checked instead.
"""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ember

NO_TORCH = "torch (the correctness oracle) is not installed"


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch", reason=NO_TORCH)


def _dt(t: Any) -> str:
    return str(t.dtype).split(".")[-1]


def _node(t: Any) -> str | None:
    return None if t.grad_fn is None else t.grad_fn.name()


# ---------------------------------------------------------------------------- random samplers
# name -> fn(lib, generator_kwargs) running unchanged on ember and torch
SAMPLERS: dict[str, Callable[..., Any]] = {
    "rand": lambda L, **g: L.rand(2, 3, **g),
    "rand_tuple_f64": lambda L, **g: L.rand((4,), dtype=L.float64, **g),
    "rand_f16": lambda L, **g: L.rand(5, dtype=L.float16, **g),
    "randn": lambda L, **g: L.randn(3, 2, **g),
    "randn_size_kw": lambda L, **g: L.randn(size=(2, 2), **g),
    "randn_c64": lambda L, **g: L.randn(3, dtype=L.complex64, **g),
    "randint_high": lambda L, **g: L.randint(10, (5,), **g),
    "randint_low_high": lambda L, **g: L.randint(-3, 3, (2, 3), **g),
    "randint_kw": lambda L, **g: L.randint(low=2, high=9, size=(4,), **g),
    "randint_f32": lambda L, **g: L.randint(0, 5, (3,), dtype=L.float32, **g),
    "randint_u8": lambda L, **g: L.randint(0, 256, (6,), dtype=L.uint8, **g),
    "randperm": lambda L, **g: L.randperm(7, **g),
    "randperm_f32": lambda L, **g: L.randperm(4, dtype=L.float32, **g),
    "normal_ff": lambda L, **g: L.normal(2.0, 3.0, (4,), **g),
    "normal_tf": lambda L, **g: L.normal(L.zeros(3, dtype=L.float64), 2.0, **g),
    "normal_ft": lambda L, **g: L.normal(1.0, L.ones(2, 2), **g),
    "normal_tt": lambda L, **g: L.normal(L.zeros(2, 3), L.ones(3), **g),
    "bernoulli": lambda L, **g: L.bernoulli(L.full((6,), 0.5), **g),
    "bernoulli_p": lambda L, **g: L.bernoulli(L.zeros(6), 0.3, **g),
    "multinomial": lambda L, **g: L.multinomial(L.tensor([0.1, 0.2, 0.7]), 2, **g),
    "multinomial_repl": lambda L, **g: L.multinomial(L.ones(2, 4), 6, True, **g),
    "poisson": lambda L, **g: L.poisson(L.full((5,), 3.0), **g),
    "rand_like": lambda L, **g: L.rand_like(L.zeros(2, dtype=L.float64), **g),
    "randn_like": lambda L, **g: L.randn_like(L.zeros(3), **g),
    "randint_like": lambda L, **g: L.randint_like(L.zeros(3, dtype=L.int32), 5, **g),
    "randint_like_lh": lambda L, **g: L.randint_like(L.zeros(4), 3, 9, **g),
    "uniform_": lambda L, **g: L.zeros(4).uniform_(-2, 5, **g),
    "normal_": lambda L, **g: L.zeros(4, dtype=L.float64).normal_(1, 2, **g),
    "random_": lambda L, **g: L.zeros(4).random_(**g),
    "random_to": lambda L, **g: L.zeros(4, dtype=L.int32).random_(7, **g),
    "random_from_to": lambda L, **g: L.zeros(4, dtype=L.int8).random_(-5, 5, **g),
    "random_bool": lambda L, **g: L.zeros(8, dtype=L.bool).random_(**g),
    "bernoulli_": lambda L, **g: L.zeros(5, dtype=L.int64).bernoulli_(0.4, **g),
    "bernoulli_t": lambda L, **g: L.zeros(2, 3).bernoulli_(L.full((3,), 0.3), **g),
    "exponential_": lambda L, **g: L.zeros(4).exponential_(2.0, **g),
    "geometric_": lambda L, **g: L.zeros(4, dtype=L.int64).geometric_(0.3, **g),
    "cauchy_": lambda L, **g: L.zeros(4).cauchy_(1.0, 2.0, **g),
    "log_normal_": lambda L, **g: L.zeros(4).log_normal_(0.0, 0.5, **g),
}
# samplers that accept generator= (every one; *_like too)
_ENTROPY = {"randint_u8", "rand", "randn", "normal_tt", "uniform_", "random_", "cauchy_"}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_manual_seed_reproduces_every_sampler(name: str) -> None:
    f = SAMPLERS[name]
    assert ember.manual_seed(123) is ember.default_generator
    a = f(ember).numpy().copy()
    ember.manual_seed(123)
    b = f(ember).numpy()
    np.testing.assert_array_equal(a, b)
    assert ember.initial_seed() == 123
    if name in _ENTROPY:  # another seed gives other numbers
        ember.manual_seed(124)
        assert not np.array_equal(a, f(ember).numpy())


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_generator_objects_are_independent_of_the_global_stream(name: str) -> None:
    f = SAMPLERS[name]
    g = ember.Generator().manual_seed(7)
    a = f(ember, generator=g).numpy().copy()
    # the global stream neither disturbs nor is disturbed by g
    ember.manual_seed(0)
    ref = ember.rand(5).numpy().copy()
    ember.manual_seed(0)
    g.manual_seed(7)
    ember.rand(3)
    b = f(ember, generator=g).numpy()
    np.testing.assert_array_equal(a, b)
    ember.manual_seed(0)
    f(ember, generator=g)
    np.testing.assert_array_equal(ember.rand(5).numpy(), ref)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_sampler_dtype_shape_node_match_torch(torch: Any, name: str) -> None:
    f = SAMPLERS[name]
    e, t = f(ember), f(torch)
    assert (_dt(e), tuple(e.shape), e.requires_grad) == (_dt(t), tuple(t.shape), t.requires_grad)


def test_same_seed_same_numbers_across_processes() -> None:
    code = (
        "import ember; ember.manual_seed(2024); "
        "print(ember.rand(3).tolist(), ember.randn(2).tolist(), ember.randint(9, (3,)).tolist(),"
        " ember.randperm(5).tolist(), ember.zeros(3).normal_().tolist())"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       cwd=str(Path(ember.__file__).parents[1])).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1] and runs[0].strip()


def test_generator_api() -> None:
    g = ember.Generator()
    assert g.initial_seed() == 67280421310721  # torch's default seed for a new Generator
    assert g.device == ember.device("cpu")
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    assert ember.Generator("cpu").manual_seed(-1).initial_seed() == 2**64 - 1
    assert ember.Generator().manual_seed(1.7).initial_seed() == 1
    s = g.seed()
    assert isinstance(s, int) and g.initial_seed() == s
    st = g.get_state()
    assert st.dtype == ember.uint8 and st.dim() == 1
    a = ember.rand(4, generator=g)
    assert g.set_state(st) is g
    np.testing.assert_array_equal(ember.rand(4, generator=g.set_state(st)).numpy(), a.numpy())
    assert g.initial_seed() == s
    for clone in (g.set_state(st).clone_state(), copy.deepcopy(g.set_state(st)),
                  pickle.loads(pickle.dumps(g.set_state(st)))):
        np.testing.assert_array_equal(ember.rand(4, generator=clone).numpy(), a.numpy())


def test_global_state_functions_and_fork_rng() -> None:
    ember.manual_seed(3)
    st = ember.get_rng_state()
    a = ember.randn(5).numpy().copy()
    ember.set_rng_state(st)
    np.testing.assert_array_equal(ember.randn(5).numpy(), a)
    ember.set_rng_state(st)
    with ember._random.fork_rng():
        ember.randn(100)
    np.testing.assert_array_equal(ember.randn(5).numpy(), a)
    s = ember.seed()
    assert ember.initial_seed() == s


@pytest.mark.parametrize("bad, exc, msg", [
    (2**64, ValueError, "Overflow when unpacking long long"),
    (-(2**63) - 1, ValueError, "Overflow when unpacking long long"),
    ("a", ValueError, "invalid literal for int"),
])
def test_manual_seed_errors(bad: Any, exc: type, msg: str) -> None:
    with pytest.raises(exc, match=msg):
        ember.Generator().manual_seed(bad)


def test_set_state_errors() -> None:
    with pytest.raises(TypeError, match="^RNG state must be a torch.ByteTensor"):
        ember.set_rng_state(ember.zeros(3))
    with pytest.raises(RuntimeError, match="^Expected a CPUGeneratorImplState of size"):
        ember.Generator().set_state(ember.zeros(3, dtype=ember.uint8))
    with pytest.raises(TypeError, match="argument 'generator' must be torch.Generator"):
        ember.rand(2, generator=5)


# ---------------------------------------------------------------------------- distributions
def _stats(x: Any) -> tuple[float, float]:
    a = np.asarray(x.numpy(), dtype=np.float64)
    return a.mean(), a.std()


def test_distribution_sanity() -> None:
    ember.manual_seed(0)
    n = 40_000
    u = ember.rand(n)
    assert u.dtype == ember.float32 and 0 <= u.min().item() and u.max().item() < 1
    m, s = _stats(u)
    assert abs(m - 0.5) < 0.01 and abs(s - (1 / 12) ** 0.5) < 0.01
    h = ember.rand(n, dtype=ember.float16).numpy()
    assert (h >= 0).all() and (h < 1).all()
    m, s = _stats(ember.randn(n))
    assert abs(m) < 0.02 and abs(s - 1) < 0.02
    z = ember.randn(n, dtype=ember.complex128).numpy()
    assert abs(np.mean(np.abs(z) ** 2) - 1) < 0.03
    r = ember.randint(-2, 3, (n,)).numpy()
    assert set(np.unique(r)) == {-2, -1, 0, 1, 2}
    assert np.abs(np.bincount(r + 2) / n - 0.2).max() < 0.01
    assert sorted(ember.randperm(50).tolist()) == list(range(50))
    m, s = _stats(ember.normal(3.0, 2.0, (n,)))
    assert abs(m - 3) < 0.05 and abs(s - 2) < 0.05
    m, s = _stats(ember.normal(ember.full((n,), -1.0), 0.5))
    assert abs(m + 1) < 0.02 and abs(s - 0.5) < 0.02
    m, _ = _stats(ember.bernoulli(ember.full((n,), 0.3)))
    assert abs(m - 0.3) < 0.01
    m, s = _stats(ember.poisson(ember.full((n,), 4.0)))
    assert abs(m - 4) < 0.05 and abs(s - 2) < 0.05


def test_multinomial_sanity() -> None:
    ember.manual_seed(1)
    p = ember.tensor([0.0, 0.2, 0.0, 0.8])
    s = ember.multinomial(p, 20_000, replacement=True).numpy()
    assert s.dtype == np.int64 and set(np.unique(s)) == {1, 3}
    assert abs((s == 3).mean() - 0.8) < 0.01
    rows = ember.multinomial(ember.tensor([[1.0, 1, 1, 1], [0, 0, 5, 1]]), 2).numpy()
    assert rows.shape == (2, 2)
    assert len(set(rows[0])) == 2 and sorted(rows[1]) == [2, 3]
    # without replacement: first pick follows p
    firsts = np.array([ember.multinomial(ember.tensor([0.1, 0.9]), 1).item() for _ in range(2000)])
    assert abs(firsts.mean() - 0.9) < 0.03
    # more samples than nonzero categories: zero-probability ones come last, like torch
    assert ember.multinomial(ember.tensor([1.0, 0, 0]), 2).tolist()[0] == 0


def test_inplace_fill_distributions() -> None:
    ember.manual_seed(2)
    n = 40_000
    u = ember.empty(n).uniform_(-2, 4).numpy()
    assert u.min() >= -2 and u.max() < 4 and abs(u.mean() - 1) < 0.05
    m, s = _stats(ember.empty(n).normal_(5, 3))
    assert abs(m - 5) < 0.1 and abs(s - 3) < 0.1
    r = ember.empty(n).random_(3, 8).numpy()
    assert set(np.unique(r)) == {3, 4, 5, 6, 7}
    big = ember.empty(n).random_().numpy()
    assert big.min() >= 0 and big.max() <= 2**24 and big.max() > 2**23
    i8 = ember.zeros(n, dtype=ember.int8).random_().numpy()
    assert i8.min() >= 0 and i8.max() == 127
    b = ember.zeros(n, dtype=ember.bool).random_().numpy()
    assert 0.45 < b.mean() < 0.55
    m, _ = _stats(ember.zeros(n, dtype=ember.int64).bernoulli_(0.25))
    assert abs(m - 0.25) < 0.01
    m, _ = _stats(ember.zeros(n).exponential_(4.0))
    assert abs(m - 0.25) < 0.01
    g = ember.zeros(n).geometric_(0.25).numpy()
    assert g.min() == 1 and abs(g.mean() - 4) < 0.1
    c = ember.zeros(n).cauchy_(2.0, 1.0).numpy()
    assert abs(np.median(c) - 2) < 0.05
    ln = ember.zeros(n).log_normal_(1.0, 0.5).numpy()
    assert ln.min() > 0 and abs(np.median(ln) - np.e) < 0.05


# ---------------------------------------------------------------------------- in-place semantics
def test_inplace_fills_keep_memory_version_and_return_self() -> None:
    a = np.zeros(6, np.float32)
    t = ember.from_numpy(a)
    v0 = t._version
    for call in (lambda x: x.uniform_(), lambda x: x.normal_(), lambda x: x.random_(5),
                 lambda x: x.bernoulli_(0.5), lambda x: x.exponential_(),
                 lambda x: x.geometric_(0.5), lambda x: x.cauchy_(), lambda x: x.log_normal_()):
        assert call(t) is t
        np.testing.assert_array_equal(a, t.numpy())
    assert t._version == v0 + 8
    base = ember.zeros(2, 3)
    view = base[0]
    view.normal_()
    assert (base.numpy()[0] != 0).all() and (base.numpy()[1] == 0).all()
    s = ember.tensor(0.0)  # 0-d
    s.uniform_(3, 4)
    assert 3 <= s.item() < 4


def test_inplace_fill_autograd() -> None:
    leaf = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being used"):
        leaf.normal_()
    with ember.no_grad():  # nn.init style
        leaf.uniform_(-1, 1)
    assert leaf.requires_grad and leaf.is_leaf and (leaf.detach().numpy() != 0).all()
    x = leaf * 2
    x.exponential_()
    assert _node(x) == "ExponentialBackward0"
    (x * 3).sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), np.zeros(3, np.float32))


def test_inplace_fill_nodes_match_torch(torch: Any) -> None:
    calls = [lambda x, L: x.uniform_(), lambda x, L: x.normal_(), lambda x, L: x.random_(),
             lambda x, L: x.random_(4), lambda x, L: x.random_(1, 4),
             lambda x, L: x.bernoulli_(0.3), lambda x, L: x.bernoulli_(L.full((3,), 0.5)),
             lambda x, L: x.exponential_(), lambda x, L: x.geometric_(0.5),
             lambda x, L: x.cauchy_(), lambda x, L: x.log_normal_()]
    for c in calls:
        names = [_node(c(L.zeros(3, requires_grad=True) * 2, L)) for L in (ember, torch)]
        assert names[0] == names[1]


def test_sampler_nodes_and_zero_grads_match_torch(torch: Any) -> None:
    def run(L: Any) -> tuple:
        m = L.zeros(3, requires_grad=True)
        s = L.ones(2, 3, requires_grad=True)
        p = L.full((3,), 0.5, requires_grad=True)
        outs = [L.normal(m, 1.0), L.normal(0.0, s), L.normal(m, s), L.bernoulli(p),
                L.poisson(L.ones(3, requires_grad=True))]
        sum(o.sum() for o in outs).backward()
        return [_node(o) for o in outs], m.grad.tolist(), s.grad.tolist(), p.grad.tolist()

    assert run(ember) == run(torch)


# ---------------------------------------------------------------------------- creation: shapes
@pytest.mark.parametrize("fn", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_forms(fn: str) -> None:
    f = getattr(ember, fn)
    for args, kw in [((2, 3), {}), (((2, 3),), {}), (([2, 3],), {}), ((ember.Size([2, 3]),), {}),
                     ((), {"size": (2, 3)}), ((np.int64(2), 3), {}), ((ember.tensor(2), 3), {})]:
        t = f(*args, **kw)
        assert t.shape == (2, 3) and t.dtype == ember.float32 and not t.requires_grad
    assert f(()).shape == () and f([]).shape == ()
    t = f(4, dtype=ember.float64, requires_grad=True)
    assert t.dtype == ember.float64 and t.requires_grad and t.is_leaf
    if fn in ("zeros", "ones", "empty"):
        assert f(2, dtype=ember.int32).dtype == ember.int32
        assert f(2, dtype=ember.bool).dtype == ember.bool
    with pytest.raises(TypeError, match="must be tuple of ints, not float"):
        f(2.5)
    with pytest.raises(TypeError, match="failed to unpack the object at pos 2"):
        f((2, 2.5))


def test_full_and_like_dtypes() -> None:
    assert ember.full((2,), 1).dtype == ember.int64
    assert ember.full((2,), 1.5).dtype == ember.float32
    assert ember.full([2], True).dtype == ember.bool
    assert ember.full((2,), 1 + 1j).dtype == ember.complex64
    assert ember.full((2,), np.float64(2.5)).dtype == ember.float32
    assert ember.full((2,), ember.tensor(2)).tolist() == [2, 2]
    assert ember.full((2,), 1, dtype=ember.float64).dtype == ember.float64
    with pytest.raises(TypeError, match=r"^full\(\): argument 'size' \(position 1\) must be tuple"):
        ember.full(3, 1.0)
    i = ember.zeros(2, dtype=ember.int64)
    assert ember.full_like(i, 2.7).tolist() == [2, 2]
    assert ember.ones_like(i, dtype=ember.float64).dtype == ember.float64
    assert ember.rand_like(ember.zeros(2, dtype=ember.float64)).dtype == ember.float64
    out = ember.ones(3)
    assert ember.zeros(3, out=out) is out and out.tolist() == [0, 0, 0]
    assert ember.arange(5, out=out) is out and out.tolist() == [0, 1, 2, 3, 4]
    assert ember.scalar_tensor(3).dtype == ember.float32 and ember.scalar_tensor(3).dim() == 0
    e = ember.empty_strided((2, 3), (1, 2))
    assert e.shape == (2, 3) and e.stride() == (1, 2)
    assert ember.eye(3, 2, dtype=ember.int64).tolist() == [[1, 0], [0, 1], [0, 0]]


# ---------------------------------------------------------------------------- creation: errors
# (expression, exception class, start of torch's message); run on ember, and on torch too
ERRORS = [
    ("L.zeros(-1, 2)", RuntimeError, "zeros: Dimension size must be non-negative"),
    ("L.ones(2, -3)", RuntimeError, "Trying to create tensor with negative dimension -3: [2, -3]"),
    ("L.empty(-1)", RuntimeError, "Trying to create tensor with negative dimension -1: [-1]"),
    ("L.full((-1,), 1.)", RuntimeError, "Trying to create tensor with negative dimension -1"),
    ("L.rand(2, -1)", RuntimeError, "Trying to create tensor with negative dimension -1: [2, -1]"),
    ("L.randn(-2)", RuntimeError, "Trying to create tensor with negative dimension -2: [-2]"),
    ("L.randint(3, (-1,))", RuntimeError, "Trying to create tensor with negative dimension -1"),
    ("L.randperm(-1)", RuntimeError, "Trying to create tensor with negative dimension -1: [-1]"),
    ("L.eye(-1)", RuntimeError, "n must be greater or equal to 0, got -1"),
    ("L.eye(2, -1)", RuntimeError, "m must be greater or equal to 0, got -1"),
    ("L.zeros(2, dtype=L.int64, requires_grad=True)", RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
    ("L.tensor([1, 2], requires_grad=True)", RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
    ("L.arange(5, requires_grad=True)", RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
    ("L.randint(0, 5, (3,), requires_grad=True)", RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
    ("L.randperm(3, requires_grad=True)", RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
    ("L.full((2,), 3, requires_grad=True)", RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
    ("L.randint(5, 5, (3,))", RuntimeError,
     "random_ expects 'from' to be less than 'to', but got from=5 >= to=5"),
    ("L.randint(5, 3, (3,))", RuntimeError,
     "random_ expects 'from' to be less than 'to', but got from=5 >= to=3"),
    ("L.randint(0, 300, (2,), dtype=L.uint8)", RuntimeError,
     "to - 1 is out of bounds for unsigned char"),
    ("L.randint(5, 3)", TypeError, "randint(): argument 'size'"),
    ("L.rand(2, dtype=L.int64)", NotImplementedError,
     "\"check_uniform_bounds\" not implemented for 'Long'"),
    ("L.randn(2, dtype=L.int32)", NotImplementedError,
     "\"normal_kernel_cpu\" not implemented for 'Int'"),
    ("L.normal(0., -1., (2,))", RuntimeError, "normal expects std >= 0.0, but found std -1"),
    ("L.normal(L.zeros(2), -L.ones(2))", RuntimeError,
     "normal expects all elements of std >= 0.0"),
    ("L.normal(L.zeros(2, 3), L.ones(4))", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ("L.normal(L.zeros(3, dtype=L.int64), 1.)", NotImplementedError,
     "\"normal_kernel_cpu\" not implemented for 'Long'"),
    ("L.bernoulli(L.full((3,), 2.))", RuntimeError, "Expected p_in >= 0 && p_in <= 1"),
    ("L.bernoulli(L.ones(3, dtype=L.int64))", NotImplementedError,
     "\"bernoulli_tensor_cpu_p_\" not implemented for 'Long'"),
    ("L.multinomial(L.ones(3), 4)", RuntimeError,
     "cannot sample n_sample > prob_dist.size(-1) samples without replacement"),
    ("L.multinomial(L.zeros(3), 2)", RuntimeError,
     "invalid multinomial distribution (sum of probabilities <= 0)"),
    ("L.multinomial(L.tensor([-1., 1.]), 1)", RuntimeError,
     "probability tensor contains either `inf`, `nan` or element < 0"),
    ("L.multinomial(L.ones(3), 0)", RuntimeError, "cannot sample n_sample <= 0 samples"),
    ("L.multinomial(L.ones(2, 2, 2), 1)", RuntimeError, "prob_dist must be 1 or 2 dim"),
    ("L.multinomial(L.ones(3, dtype=L.int64), 1)", RuntimeError,
     "multinomial only supports floating-point dtypes for input, got: Long"),
    ("L.poisson(-L.ones(3))", RuntimeError,
     "invalid Poisson rate, expected rate to be non-negative"),
    ("L.zeros(3).uniform_(2, 1)", RuntimeError,
     "uniform_ expects to return a [from, to) range, but found from=2 > to=1"),
    ("L.zeros(3).uniform_(0, float('inf'))", RuntimeError, "to is out of bounds for float"),
    ("L.zeros(3, dtype=L.int64).uniform_()", NotImplementedError,
     "\"check_uniform_bounds\" not implemented for 'Long'"),
    ("L.zeros(3).normal_(0, -1)", RuntimeError, "normal expects std >= 0.0, but found std -1"),
    ("L.zeros(3).random_(5, 3)", RuntimeError,
     "random_ expects 'from' to be less than 'to', but got from=5 >= to=3"),
    ("L.zeros(3).random_(-5)", RuntimeError,
     "random_ expects 'from' to be less than 'to', but got from=0 >= to=-5"),
    ("L.zeros(3, dtype=L.uint8).random_(-1, 3)", RuntimeError,
     "from is out of bounds for unsigned char"),
    ("L.zeros(3).bernoulli_(2)", RuntimeError, "bernoulli_ expects p to be in [0, 1], but got p=2"),
    ("L.zeros(3).bernoulli_(L.full((2,), 0.3))", RuntimeError,
     "The expanded size of the tensor (3) must match the existing size (2)"),
    ("L.zeros(3).exponential_(0)", RuntimeError,
     "exponential_ expects lambda > 0.0, but found lambda=0"),
    ("L.zeros(3, dtype=L.int64).exponential_()", RuntimeError,
     "Exponential distribution is a continuous probability distribution. dtype must be a "
     "floating point but you specified Long"),
    ("L.zeros(3).geometric_(1)", RuntimeError, "geometric_ expects p to be in (0, 1), but got p=1"),
    ("L.zeros(3).cauchy_(0, -1)", RuntimeError, "cauchy_ expects sigma > 0.0, but found sigma=-1"),
    ("L.zeros(3).log_normal_(1, -2)", RuntimeError,
     "log_normal_ expects std > 0.0, but found std=-2"),
    ("L.zeros(3, dtype=L.int64).log_normal_()", NotImplementedError,
     "\"log_normal_cpu\" not implemented for 'Long'"),
    ("L.arange(0, 10, 0)", RuntimeError, "step must be nonzero"),
    ("L.arange(0, 1, 0.5, dtype=L.int64)", ValueError, "step must be nonzero"),
    ("L.arange(10, 0, 3)", RuntimeError, "upper bound and lower bound inconsistent with step sign"),
    ("L.arange(-3)", RuntimeError, "upper bound and lower bound inconsistent with step sign"),
    ("L.arange(float('inf'))", RuntimeError, "unsupported range: 0 -> inf"),
    ("L.arange(float('nan'))", RuntimeError, "unsupported range: 0 -> nan"),
    ("L.arange(5, dtype=L.bool)", NotImplementedError, "\"arange_cpu\" not implemented for 'Bool'"),
    ("L.arange('a')", TypeError, "arange(): argument 'end' (position 1) must be Number, not str"),
    ("L.linspace(0, 1, -1)", RuntimeError, "number of steps must be non-negative"),
    ("L.linspace(L.tensor([0.]), 1, 3)", RuntimeError,
     "linspace only supports 0-dimensional start and end tensors, but got start with 1 dim"),
    ("L.linspace(0, 1, 3, dtype=L.bool)", NotImplementedError,
     "\"linspace_cpu\" not implemented for 'Bool'"),
    ("L.meshgrid(L.arange(3), indexing='foo')", RuntimeError,
     'torch.meshgrid: indexing must be one of "xy" or "ij", but received: foo'),
    ("L.meshgrid(L.zeros(3), L.zeros(2, dtype=L.int64), indexing='ij')", RuntimeError,
     "meshgrid expects all tensors to have the same dtype"),
    ("L.meshgrid(L.zeros(3, 2), indexing='ij')", RuntimeError,
     "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got"),
    ("L.meshgrid(indexing='ij')", RuntimeError, "meshgrid expects a non-empty TensorList"),
    ("L.tril_indices(-1, 3)", RuntimeError, "row must be non-negative, got-1"),
    ("L.triu_indices(3, 3, dtype=L.float32)", NotImplementedError,
     "\"triu_indices\" not implemented for 'Float'"),
    ("L.tensor('abc')", TypeError, "new(): invalid data type 'str'"),
    ("L.tensor([None])", RuntimeError, "Could not infer dtype of NoneType"),
    ("L.tensor({1: 2})", RuntimeError, "Could not infer dtype of dict"),
    ("L.tensor([[1, 2], [3]])", ValueError, "expected sequence of length 2 at dim 1 (got 1)"),
    ("L.tensor([[1, 2], 3])", TypeError, "not a sequence"),
    ("L.tensor([2**63])", ValueError, "Overflow when unpacking long long"),
    ("L.tensor([L.ones(2), L.ones(2)])", ValueError,
     "only one element tensors can be converted to Python scalars"),
]


def _raises(lib: Any, expr: str, exc: type, msg: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc) as info:
            eval(expr, {"L": lib})
    assert str(info.value).startswith(msg), str(info.value)


@pytest.mark.parametrize("expr, exc, msg", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(expr: str, exc: type, msg: str) -> None:
    _raises(ember, expr, exc, msg)


@pytest.mark.parametrize("expr, exc, msg", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_torchs(torch: Any, expr: str, exc: type, msg: str) -> None:
    _raises(torch, expr, exc, msg)


# ---------------------------------------------------------------------------- ranges
RANGES = [
    "L.arange(5)", "L.arange(5.)", "L.arange(1, 4)", "L.arange(10, 0, -3)", "L.arange(0, 0)",
    "L.arange(0, 1, 0.1)", "L.arange(1, 1.3, 0.1)", "L.arange(0, 1, 1/3)", "L.arange(1, 2.5, 0.5)",
    "L.arange(-1, 1, 0.2)", "L.arange(10, 0, -0.3)", "L.arange(0, 5, 1.5)", "L.arange(0.5, 3.7)",
    "L.arange(-2.5, 7.25, 0.75)", "L.arange(0, 100, 0.7)", "L.arange(3.3, -4.4, -1.1)",
    "L.arange(0.5, 3.7, dtype=L.int64)", "L.arange(-0.5, 3.7, dtype=L.int64)",
    "L.arange(0.5, 3.7, dtype=L.int32)", "L.arange(0.5, 3.7, 0.5, dtype=L.int32)",
    "L.arange(0, 3, 1.5, dtype=L.int64)", "L.arange(0, 3, 1.5, dtype=L.int32)",
    "L.arange(0, 10, 3, dtype=L.uint8)", "L.arange(0, 1, 0.1, dtype=L.float16)",
    "L.arange(0, 1, 0.1, dtype=L.float64)", "L.arange(5, dtype=L.float64)",
    "L.arange(L.tensor(5))", "L.arange(L.tensor(5.))", "L.arange(L.tensor(2), 5.)",
    "L.arange(0, 5, L.tensor(2))", "L.arange(np.float64(2.5))", "L.arange(np.int32(3))",
    "L.arange(True)", "L.arange(start=1, end=4)", "L.arange(end=4)", "L.arange(0, 2**62, 2**60)",
    "L.arange(0, 1e18, 1e17)", "L.arange(5., requires_grad=True)",
    "L.linspace(0, 1, 5)", "L.linspace(0, 1, 1)", "L.linspace(0, 1, 0)", "L.linspace(-10, 10, 7)",
    "L.linspace(0, 10, 4, dtype=L.int64)", "L.linspace(0, 100, 50, dtype=L.int64)",
    "L.linspace(10, -10, 6, dtype=L.int32)", "L.linspace(0.5, 3.7, 3, dtype=L.int64)",
    "L.linspace(0, 1, 3, dtype=L.int8)", "L.linspace(0, 1, 3, dtype=L.float64)",
    "L.linspace(L.tensor(0.), L.tensor(1.), 3)", "L.linspace(0, 1, L.tensor(3))",
    "L.linspace(0, 1 + 1j, 3)", "L.linspace(-3.3, 7.7, 101)",
    "L.linspace(0, 1, 3, requires_grad=True)",
    "L.logspace(0, 2, 3)", "L.logspace(0, 2, 3, base=2)", "L.logspace(-2, 2, 5)",
    "L.logspace(0, 3, 4, dtype=L.int64)", "L.logspace(0, 2, 5, base=3, dtype=L.int32)",
    "L.logspace(0.5, 2.5, 3, dtype=L.int64)", "L.logspace(0, 1, 1)", "L.logspace(0, 1, 0)",
    "L.logspace(0, 2, 3, dtype=L.float64)", "L.logspace(-1, 1, 33, base=2.5)",
]


@pytest.mark.parametrize("expr", RANGES)
def test_ranges_match_torch(torch: Any, expr: str) -> None:
    e = eval(expr, {"L": ember, "np": np})
    t = eval(expr, {"L": torch, "np": np})
    assert (_dt(e), tuple(e.shape), e.requires_grad) == (_dt(t), tuple(t.shape), t.requires_grad)
    ev, tv = e.detach().numpy(), t.detach().numpy()
    if ev.dtype.kind in "iub":
        np.testing.assert_array_equal(ev, tv)
    else:
        np.testing.assert_allclose(ev, tv, rtol=1e-6 if ev.dtype != np.float16 else 1e-3,
                                   atol=1e-6)


def test_ranges_hand_checked() -> None:
    assert ember.arange(5).dtype == ember.int64 and ember.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert ember.arange(5.0).dtype == ember.float32
    assert len(ember.arange(0, 1, 0.1)) == 10
    assert len(ember.arange(1, 1.3, 0.1)) == 4  # ceil((1.3 - 1) / 0.1) = ceil(3.0000000000000004)
    assert ember.arange(0.5, 3.7, dtype=ember.int64).tolist() == [0, 1, 2]
    assert ember.arange(0.5, 3.7, dtype=ember.int32).tolist() == [0, 1, 2, 3]
    assert ember.arange(10, 0, -3).tolist() == [10, 7, 4, 1]
    np.testing.assert_allclose(ember.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    assert ember.linspace(0, 10, 4, dtype=ember.int64).tolist() == [0, 3, 6, 10]
    assert ember.linspace(2, 3, 1).tolist() == [2.0] and ember.linspace(0, 1, 0).shape == (0,)
    np.testing.assert_allclose(ember.logspace(0, 2, 3, base=2).numpy(), [1, 2, 4])
    assert ember.logspace(0, 2, 5, base=3, dtype=ember.int32).tolist() == [1, 1, 3, 5, 9]
    lin = ember.linspace(-1, 1, 11).numpy()
    assert lin[0] == -1 and lin[-1] == 1  # endpoints exact


def test_meshgrid_and_tri_indices() -> None:
    a, b = ember.arange(3), ember.arange(2)
    with pytest.warns(UserWarning, match="required to pass the indexing argument"):
        x, y = ember.meshgrid(a, b)
    assert x.tolist() == [[0, 0], [1, 1], [2, 2]] and y.tolist() == [[0, 1], [0, 1], [0, 1]]
    x, y = ember.meshgrid([a, b], indexing="xy")
    assert x.tolist() == [[0, 1, 2], [0, 1, 2]] and y.tolist() == [[0, 0, 0], [1, 1, 1]]
    x, y, z = ember.meshgrid(ember.tensor(3.0), ember.zeros(2), ember.ones(4), indexing="ij")
    assert x.shape == y.shape == z.shape == (1, 2, 4)
    assert ember.tril_indices(3, 3).tolist() == [[0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2]]
    assert ember.triu_indices(4, 3, 1).tolist() == [[0, 0, 1], [1, 2, 2]]
    assert ember.tril_indices(0, 3).shape == (2, 0)
    assert ember.tril_indices(3, 3, dtype=ember.int32).dtype == ember.int32


def test_meshgrid_gradients() -> None:
    a = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = ember.tensor([4.0, 5.0], requires_grad=True)
    x, y = ember.meshgrid(a, b, indexing="xy")
    assert x.shape == (2, 3) and _node(x) == "ExpandBackward0"
    (x * y).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [9, 9, 9])
    np.testing.assert_allclose(b.grad.numpy(), [6, 6])


TRI = ["L.tril_indices(3, 4, 1)", "L.tril_indices(3, 4, -1)", "L.triu_indices(3, 3)",
       "L.triu_indices(4, 3, -10)", "L.tril_indices(5, 2, 0)", "L.triu_indices(2, 5, 3)"]


@pytest.mark.parametrize("expr", TRI)
def test_tri_indices_match_torch(torch: Any, expr: str) -> None:
    e, t = eval(expr, {"L": ember}), eval(expr, {"L": torch})
    assert _dt(e) == _dt(t) and e.tolist() == t.tolist()


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_torch(torch: Any, indexing: str) -> None:
    def run(L: Any) -> list:
        return [g.tolist() for g in L.meshgrid(L.arange(3), L.arange(4), L.arange(2),
                                               indexing=indexing)]

    assert run(ember) == run(torch)


# ---------------------------------------------------------------------------- tensor() inference
def _inputs(L: Any) -> dict[str, Any]:
    return {
        "int": 3, "float": 3.5, "bool": True, "complex": 1 + 2j, "ints": [1, 2],
        "floats": [1.0, 2.0], "bools": [True, False], "int_float": [1, 2.5], "bool_int": [True, 2],
        "bool_float": [True, 2.5], "nested": [[1, 2], [3, 4]], "nested_mixed": [[1, 2], [3, 4.0]],
        "tuple": (1, 2), "range": range(3), "empty": [], "empty2": [[]], "empty3": [[], []],
        "big": [2**62], "nan": float("nan"), "int_complex": [1, 2j],
        "np_f64": np.array([1.0, 2.0]), "np_f32": np.array([1.0], np.float32),
        "np_f16": np.array([1.0], np.float16), "np_i32": np.array([1], np.int32),
        "np_i64": np.array([1]), "np_i16": np.array([1], np.int16),
        "np_i8": np.array([1], np.int8), "np_u8": np.array([1], np.uint8),
        "np_bool": np.array([True]), "np_c64": np.array([1j], np.complex64),
        "np_c128": np.array([1j]), "np_0d_f64": np.array(1.5),
        "npsc_f64": np.float64(1.5), "npsc_f32": np.float32(1.5), "npsc_i32": np.int32(3),
        "npsc_i64": np.int64(3), "npsc_bool": np.bool_(True), "npsc_u8": np.uint8(3),
        "list_npf64": [np.float64(1.0), np.float64(2.0)], "list_npf32": [np.float32(1.0)],
        "list_npi32": [np.int32(1), np.int32(2)], "list_npi8": [np.int8(1)],
        "int_npf64": [1, np.float64(2.0)], "npf64_int": [np.float64(2.0), 1],
        "float_npf32": [1.0, np.float32(2)], "bool_npi32": [True, np.int32(3)],
        "npf16_int": [np.float16(1), 2], "npu8_npi8": [np.uint8(1), np.int8(1)],
        "list_np_arrays": [np.array([1.0, 2.0]), np.array([3.0, 4.0])],
        "list_np_i32_arrays": [np.array([1], np.int32)],
        "list_0d_float": [L.tensor(1.5), L.tensor(2.5)], "list_0d_int": [L.tensor(1), 2],
        "list_0d_f64": [L.tensor(1.5, dtype=L.float64)],
        "list_0d_i32_int": [L.tensor(1, dtype=L.int32), 2],
        "list_0d_i32": [L.tensor(1, dtype=L.int32)], "list_0d_bool": [L.tensor(True)],
        "list_1elem": [L.tensor([1.5])],
        "tensor_f64": L.tensor([1.0], dtype=L.float64), "tensor_i32": L.tensor([1], dtype=L.int32),
    }


# hand-checked against torch 2.13 (default dtype float32)
EXPECTED = {
    "int": "int64", "float": "float32", "bool": "bool", "complex": "complex64", "ints": "int64",
    "floats": "float32", "bools": "bool", "int_float": "float32", "bool_int": "int64",
    "bool_float": "float32", "nested": "int64", "nested_mixed": "float32", "tuple": "int64",
    "range": "int64", "empty": "float32", "empty2": "float32", "empty3": "float32", "big": "int64",
    "nan": "float32", "int_complex": "complex64", "np_f64": "float64", "np_f32": "float32",
    "np_f16": "float16", "np_i32": "int32", "np_i64": "int64", "np_i16": "int16",
    "np_i8": "int8", "np_u8": "uint8", "np_bool": "bool", "np_c64": "complex64",
    "np_c128": "complex128", "np_0d_f64": "float64", "npsc_f64": "float64",
    "npsc_f32": "float32", "npsc_i32": "int32", "npsc_i64": "int64", "npsc_bool": "bool",
    "npsc_u8": "uint8", "list_npf64": "float64", "list_npf32": "float32", "list_npi32": "int32",
    "list_npi8": "int8", "int_npf64": "float64", "npf64_int": "float64", "float_npf32": "float32",
    "bool_npi32": "int32", "npf16_int": "float16", "npu8_npi8": "int16",
    "list_np_arrays": "float64", "list_np_i32_arrays": "int32", "list_0d_float": "float32",
    "list_0d_int": "int64", "list_0d_f64": "float64", "list_0d_i32_int": "int64",
    "list_0d_i32": "int32", "list_0d_bool": "bool", "list_1elem": "float32",
    "tensor_f64": "float64", "tensor_i32": "int32",
}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_tensor_inference_table(key: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = ember.tensor(_inputs(ember)[key])
    assert _dt(t) == EXPECTED[key]


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_tensor_inference_matches_torch(torch: Any, key: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e, t = ember.tensor(_inputs(ember)[key]), torch.tensor(_inputs(torch)[key])
    assert (_dt(e), tuple(e.shape)) == (_dt(t), tuple(t.shape))
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_tensor_details() -> None:
    with pytest.warns(UserWarning, match="^To copy construct from a tensor"):
        c = ember.tensor(ember.ones(2))
    assert c.tolist() == [1, 1]
    src = np.array([1.0, 2.0])
    t = ember.tensor(src)
    src[0] = 9
    assert t.tolist() == [1, 2]  # a copy
    assert ember.tensor([-1], dtype=ember.uint8).tolist() == [255]  # wraps like torch
    assert ember.tensor([1.7], dtype=ember.int64).tolist() == [1]
    assert ember.tensor([1, 2], dtype=ember.float64).dtype == ember.float64
    x = ember.tensor([1.0], requires_grad=True)
    assert x.requires_grad and x.is_leaf
    prev = ember.get_default_dtype()
    try:
        ember.set_default_dtype(ember.float64)
        assert ember.tensor([1.5]).dtype == ember.float64
        assert ember.tensor(1j).dtype == ember.complex128
        assert ember.rand(2).dtype == ember.float64 and ember.arange(2.0).dtype == ember.float64
        assert ember.linspace(0, 1, 2).dtype == ember.float64
    finally:
        ember.set_default_dtype(prev)
