"""ember.autograd.functional and ember.func vs finite differences, torch and Python loops."""

import numpy as np
import pytest

import ember
import ember.func as EF
from ember.autograd import functional as AF

D = ember.float64


def _t(a):
    return ember.tensor(np.asarray(a, dtype=np.float64))


def _fd_jac(f, x, eps=1e-6):
    """Central finite-difference Jacobian of f (numpy in, numpy out) at x."""
    x = np.asarray(x, np.float64)
    y0 = np.asarray(f(x))
    J = np.zeros(y0.shape + x.shape)
    for idx in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[idx] = eps
        J[(...,) + idx] = (np.asarray(f(x + d)) - np.asarray(f(x - d))) / (2 * eps)
    return J


def _np(f):
    return lambda a: f(_t(a)).numpy()


FUNCS = [
    lambda x: x.exp() * x.sin(),
    lambda x: (x ** 3).sum(-1),
    lambda x: x @ x.T if x.dim() == 2 else (x * x).cumsum(0),
    lambda x: x.tanh().sum() * x,
]
RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 2))
SCAL = [lambda x: (x.sin() * x).sum(), lambda x: (x ** 4).sum() + (x[0] * x[1]).sum()]


@pytest.mark.parametrize("k", range(len(FUNCS)))
def test_jacobian_fd(k):
    f = FUNCS[k]
    J = AF.jacobian(f, _t(X))
    np.testing.assert_allclose(J.numpy(), _fd_jac(_np(f), X), atol=1e-6)
    np.testing.assert_allclose(EF.jacrev(f)(_t(X)).numpy(), J.numpy(), atol=1e-12)
    np.testing.assert_allclose(EF.jacfwd(f)(_t(X)).numpy(), J.numpy(), atol=1e-12)
    np.testing.assert_allclose(AF.jacobian(f, _t(X), vectorize=True).numpy(), J.numpy())


@pytest.mark.parametrize("k", range(len(SCAL)))
def test_hessian_hvp_vhp_fd(k):
    f = SCAL[k]
    H = AF.hessian(f, _t(X))
    g = lambda a: AF.vjp(f, _t(a))[1].numpy()  # noqa: E731
    np.testing.assert_allclose(H.numpy(), _fd_jac(g, X), atol=1e-5)
    np.testing.assert_allclose(EF.hessian(f)(_t(X)).numpy(), H.numpy(), atol=1e-10)
    v = RNG.standard_normal(X.shape)
    Hv = np.tensordot(H.numpy(), v, axes=2)
    np.testing.assert_allclose(AF.hvp(f, _t(X), _t(v))[1].numpy(), Hv, atol=1e-10)
    np.testing.assert_allclose(AF.vhp(f, _t(X), _t(v))[1].numpy(), Hv, atol=1e-10)


def test_jvp_and_vjp_fd():
    f = FUNCS[0]
    v = RNG.standard_normal(X.shape)
    J = _fd_jac(_np(f), X)
    out, jv = AF.jvp(f, _t(X), _t(v))
    np.testing.assert_allclose(jv.numpy(), np.tensordot(J, v, axes=2), atol=1e-6)
    np.testing.assert_allclose(out.numpy(), f(_t(X)).numpy())
    out2, jv2 = EF.jvp(f, (_t(X),), (_t(v),))
    np.testing.assert_allclose(jv2.numpy(), jv.numpy(), atol=1e-12)
    _, vj = AF.vjp(f, _t(X), _t(v))
    np.testing.assert_allclose(vj.numpy(), np.tensordot(v, J, axes=2), atol=1e-6)
    _, fn = EF.vjp(f, _t(X))
    np.testing.assert_allclose(fn(_t(v))[0].numpy(), vj.numpy(), atol=1e-12)


def test_multi_input_output_structure():
    def f(a, b):
        return a * b, (a + b).sum()

    a, b = _t([1.0, 2.0]), _t([3.0, 5.0])
    J = AF.jacobian(f, (a, b))
    assert len(J) == 2 and all(len(r) == 2 for r in J)
    np.testing.assert_allclose(J[0][0].numpy(), np.diag([3.0, 5.0]))
    np.testing.assert_allclose(J[0][1].numpy(), np.diag([1.0, 2.0]))
    np.testing.assert_allclose(J[1][1].numpy(), [1.0, 1.0])
    H = AF.hessian(lambda a, b: (a * a * b).sum(), (a, b))
    np.testing.assert_allclose(H[0][1].numpy(), np.diag([2.0, 4.0]))
    np.testing.assert_allclose(H[1][1].numpy(), np.zeros((2, 2)))
    jr = EF.jacrev(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(jr[0][1].numpy(), J[0][1].numpy())


def test_create_graph_gives_differentiable_results():
    x = _t([0.5, -1.0]).requires_grad_()
    _, vj = AF.vjp(lambda a: a ** 3, x, _t([1.0, 1.0]), create_graph=True)
    assert vj.requires_grad
    (g,) = ember.autograd.grad(vj.sum(), x)
    np.testing.assert_allclose(g.numpy(), 6 * x.detach().numpy())
    _, vj = AF.vjp(lambda a: a ** 3, x, _t([1.0, 1.0]))
    assert not vj.requires_grad


def test_grad_argnums_and_aux():
    def f(a, b):
        return (a.sin() * b).sum(), {"b2": b * 2}

    a, b = _t([0.1, 0.2]), _t([1.0, 3.0])
    (ga, gb), aux = EF.grad(f, argnums=(0, 1), has_aux=True)(a, b)
    np.testing.assert_allclose(ga.numpy(), np.cos([0.1, 0.2]) * [1.0, 3.0])
    np.testing.assert_allclose(gb.numpy(), np.sin([0.1, 0.2]))
    np.testing.assert_allclose(aux["b2"].numpy(), [2.0, 6.0])
    g, (val, _) = EF.grad_and_value(f, argnums=1, has_aux=True)(a, b)
    np.testing.assert_allclose(val.item(), float((np.sin([0.1, 0.2]) * [1.0, 3.0]).sum()))
    np.testing.assert_allclose(EF.grad(EF.grad(lambda x: x ** 3))(_t(2.0)).item(), 12.0)


def test_errors_like_torch():
    x = _t([1.0, 2.0])
    with pytest.raises(TypeError, match="The outputs of the user-provided function given to "
                       "jacobian must be either a Tensor or a tuple of Tensors but the given "
                       "outputs of the user-provided function has type <class 'int'>."):
        AF.jacobian(lambda a: 1, x)
    with pytest.raises(RuntimeError, match="The output of the user-provided function is "
                       "independent of input 1. This is not allowed in strict mode."):
        AF.vjp(lambda a, b: a * 2, (x, x), x, strict=True)
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor"):
        EF.grad(lambda a: a * 2)(x)
    with pytest.raises(RuntimeError, match="Got argnum=2, but only 1 positional inputs"):
        EF.grad(lambda a: a.sum(), argnums=2)(x)
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        EF.jvp(lambda a: a, x, x)
    with pytest.raises(RuntimeError, match="v has invalid size"):
        AF.jvp(lambda a: a, x, _t([1.0]))


def test_vmap_matches_loop_with_dims():
    xs = _t(RNG.standard_normal((4, 3)))
    W = _t(RNG.standard_normal((3, 5)))

    def f(x, w):
        return (x @ w).tanh() + x.sum(-1, keepdim=True)

    loop = ember.stack([f(xs[i], W) for i in range(4)])
    np.testing.assert_allclose(EF.vmap(f, in_dims=(0, None))(xs, W).numpy(), loop.numpy())
    got = EF.vmap(f, in_dims=(1, None), out_dims=1)(xs.T.contiguous(), W)
    np.testing.assert_allclose(got.numpy(), loop.numpy().T)
    pair = EF.vmap(lambda a: (a.exp(), a * 2), out_dims=(0, 1))(xs)
    np.testing.assert_allclose(pair[1].numpy(), 2 * xs.numpy().T)
    pg = EF.vmap(EF.grad(lambda a: (a.sin() ** 2).sum()))(xs)
    np.testing.assert_allclose(pg.numpy(), np.sin(2 * xs.numpy()))
    const = EF.vmap(lambda a: W.sum(0), out_dims=None)(xs)
    assert const.shape == (5,)


def test_vmap_errors():
    with pytest.raises(ValueError, match=r"vmap: Expected all tensors to have the same size in "
                       r"the mapped dimension, got sizes \[3, 4\] for the mapped dimension"):
        EF.vmap(ember.add)(ember.ones(3), ember.ones(4))
    # reductions over the per-example dim 0 are batched, not refused (genuine vmap)
    np.testing.assert_allclose(EF.vmap(lambda a: a.sum(0))(ember.ones(4, 3)).numpy(), [3.0] * 4)
    xs = _t(RNG.standard_normal((4, 3)))
    np.testing.assert_allclose(EF.vmap(lambda a: a - a.mean(0))(xs).numpy(),
                               (xs - xs.mean(1, keepdim=True)).numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="must only return Tensors"):
        EF.vmap(lambda a: 1)(ember.ones(3))
    with pytest.raises(ValueError, match="Got in_dim=2 for some input"):
        EF.vmap(ember.sin, in_dims=2)(ember.ones(3))
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        EF.vmap(ember.sin, randomness="x")


def test_against_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle for functional transforms")
    tf = pytest.importorskip("torch.func", reason="torch.func missing")

    def both(f_src):
        return eval(f_src, {"ember": ember}), eval(f_src.replace("ember", "torch"), {"torch": torch})  # noqa: S307,E501

    x = RNG.standard_normal((3, 2))
    for src in ["lambda a: a.exp() * a.sin()", "lambda a: (a ** 3).sum(-1)"]:
        fe, ft = both(src)
        np.testing.assert_allclose(AF.jacobian(fe, _t(x)).numpy(),
                                   torch.autograd.functional.jacobian(ft, torch.tensor(x)).numpy(),
                                   atol=1e-12)
        np.testing.assert_allclose(EF.jacfwd(fe)(_t(x)).numpy(),
                                   tf.jacfwd(ft)(torch.tensor(x)).numpy(), atol=1e-12)
        np.testing.assert_allclose(EF.vmap(fe)(_t(x)).numpy(),
                                   tf.vmap(ft)(torch.tensor(x)).numpy(), atol=1e-12)
    fe, ft = both("lambda a, b: (a.sin() * b * b).sum()")
    a, b = x[0], x[1]
    He = AF.hessian(fe, (_t(a), _t(b)))
    Ht = torch.autograd.functional.hessian(ft, (torch.tensor(a), torch.tensor(b)))
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(He[i][j].numpy(), Ht[i][j].numpy(), atol=1e-12)
    v = (torch.tensor(b), torch.tensor(a))
    np.testing.assert_allclose(AF.hvp(fe, (_t(a), _t(b)), (_t(b), _t(a)))[1][0].numpy(),
                               torch.autograd.functional.hvp(ft, v[::-1], v)[1][0].numpy(), atol=1e-12)
    ge = EF.grad(fe, argnums=(0, 1))(_t(a), _t(b))
    gt = tf.grad(ft, argnums=(0, 1))(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(ge[1].numpy(), gt[1].numpy(), atol=1e-12)
    je = EF.jvp(fe, (_t(a), _t(b)), (_t(b), _t(a)))[1]
    jt = tf.jvp(ft, (torch.tensor(a), torch.tensor(b)), (torch.tensor(b), torch.tensor(a)))[1]
    np.testing.assert_allclose(je.numpy(), jt.numpy(), atol=1e-12)
