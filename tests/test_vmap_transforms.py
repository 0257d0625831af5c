"""ember.func.vmap beyond single ops: per-example gradients, nesting, in_dims/out_dims
properties (hypothesis), randomness, chunking, errors (torch's classes and messages) and the
promise that vmap is one vectorized call that leaves eager execution untouched."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.func as EF
import ember.nn as enn
import ember.nn.functional as F

RNG = np.random.default_rng(7)


def _t(a):
    return ember.tensor(np.asarray(a, dtype=np.float64))


def _torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle for vmap")
    return torch, pytest.importorskip("torch.func", reason="torch.func missing")


# ----------------------------------------------------------------------------- per-example grads
def _linear_loss(lib, fn):
    def loss(w, b, x, y):
        return ((fn.linear(x, w, b) - y) ** 2).mean()

    return loss


def test_per_example_grads_linear_model():
    X, Y = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 2))
    W, B = RNG.standard_normal((2, 3)), RNG.standard_normal(2)
    loss = _linear_loss(ember, F)
    gw, gb = EF.vmap(EF.grad(loss, argnums=(0, 1)), in_dims=(None, None, 0, 0))(
        _t(W), _t(B), _t(X), _t(Y))
    assert gw.shape == (6, 2, 3) and gb.shape == (6, 2)
    for i in range(6):
        lw, lb = EF.grad(loss, argnums=(0, 1))(_t(W), _t(B), _t(X[i]), _t(Y[i]))
        np.testing.assert_allclose(gw[i].numpy(), lw.numpy(), atol=1e-12)
        np.testing.assert_allclose(gb[i].numpy(), lb.numpy(), atol=1e-12)
    torch, tf = _torch()
    tl = _linear_loss(torch, torch.nn.functional)
    tw, tb = tf.vmap(tf.grad(tl, argnums=(0, 1)), in_dims=(None, None, 0, 0))(
        *[torch.tensor(a) for a in (W, B, X, Y)])
    np.testing.assert_allclose(gw.numpy(), tw.numpy(), atol=1e-12)
    np.testing.assert_allclose(gb.numpy(), tb.numpy(), atol=1e-12)


def _mlp(lib):
    torch_nn = lib.nn
    m = torch_nn.Sequential(torch_nn.Linear(3, 4), torch_nn.Tanh(), torch_nn.Linear(4, 2))
    return m.double()


def test_per_example_grads_functional_call_mlp():
    model = _mlp(ember)
    params = {k: v.detach() for k, v in model.named_parameters()}
    X = RNG.standard_normal((5, 3))
    y = RNG.integers(0, 2, 5)

    def loss(p, x, t):
        out = EF.functional_call(model, p, (x.unsqueeze(0),))
        return F.cross_entropy(out, t.unsqueeze(0))

    g = EF.vmap(EF.grad(loss), in_dims=(None, 0, 0))(params, _t(X), ember.tensor(y))
    for i in range(5):
        gi = EF.grad(loss)(params, _t(X[i]), ember.tensor(y[i]))
        for k in params:
            np.testing.assert_allclose(g[k][i].numpy(), gi[k].numpy(), atol=1e-12)
    torch, tf = _torch()
    tm = _mlp(torch)
    with torch.no_grad():
        for k, v in tm.named_parameters():
            v.copy_(torch.tensor(params[k].numpy()))
    tp = {k: v.detach() for k, v in tm.named_parameters()}

    def tloss(p, x, t):
        out = tf.functional_call(tm, p, (x.unsqueeze(0),))
        return torch.nn.functional.cross_entropy(out, t.unsqueeze(0))

    tg = tf.vmap(tf.grad(tloss), in_dims=(None, 0, 0))(tp, torch.tensor(X), torch.tensor(y))
    for k in params:
        np.testing.assert_allclose(g[k].numpy(), tg[k].numpy(), atol=1e-12)


def test_per_example_grads_cnn():
    """Batched conv weights (per-example grads) become one grouped convolution."""
    conv_w, lin_w = _t(RNG.standard_normal((3, 1, 3, 3))), _t(RNG.standard_normal((2, 12)))
    X = _t(RNG.standard_normal((4, 1, 6, 6)))

    def loss(cw, lw, x):
        h = F.max_pool2d(F.relu(F.conv2d(x.unsqueeze(0), cw, padding=1)), 3)
        return F.linear(h.flatten(1), lw).logsumexp(-1).sum()

    g = EF.vmap(EF.grad(loss, argnums=(0, 1)), in_dims=(None, None, 0))(conv_w, lin_w, X)
    for i in range(4):
        gi = EF.grad(loss, argnums=(0, 1))(conv_w, lin_w, X[i])
        np.testing.assert_allclose(g[0][i].numpy(), gi[0].numpy(), atol=1e-10)
        np.testing.assert_allclose(g[1][i].numpy(), gi[1].numpy(), atol=1e-10)


# ----------------------------------------------------------------------------- composition
def test_nested_vmap_against_loop_and_torch():
    A, Bm = RNG.standard_normal((3, 4, 5)), RNG.standard_normal((4, 5))

    def f(x, y):
        return (x * y).sum() + x.max() - y.softmax(0)[1]

    got = EF.vmap(EF.vmap(f), in_dims=(0, None))(_t(A), _t(Bm))
    want = [[f(_t(A[i, j]), _t(Bm[j])) for j in range(4)] for i in range(3)]
    np.testing.assert_allclose(got.numpy(), np.array([[w.item() for w in r] for r in want]),
                               atol=1e-12)
    inner = EF.vmap(lambda x, y: (x @ y).unsqueeze(0), in_dims=(None, 0), out_dims=1)
    got2 = EF.vmap(inner, in_dims=(0, None), out_dims=2)(_t(A[0]), _t(Bm))
    np.testing.assert_allclose(got2.numpy(), (A[0] @ Bm.T).T[None], atol=1e-12)
    torch, tf = _torch()
    tg = tf.vmap(tf.vmap(lambda x, y: (x * y).sum() + x.max() - y.softmax(0)[1]),
                 in_dims=(0, None))(torch.tensor(A), torch.tensor(Bm))
    np.testing.assert_allclose(got.numpy(), tg.numpy(), atol=1e-12)


def test_grad_of_vmap_and_backward_through_vmap():
    X, W = RNG.standard_normal((5, 3)), RNG.standard_normal((2, 3))

    def per(w, x):
        return (w @ x).tanh().sum()

    g = EF.grad(lambda w: EF.vmap(per, in_dims=(None, 0))(w, _t(X)).sum())(_t(W))
    want = sum(EF.grad(per)(_t(W), _t(X[i])).numpy() for i in range(5))
    np.testing.assert_allclose(g.numpy(), want, atol=1e-12)
    x = _t(X).requires_grad_()
    EF.vmap(lambda r: (r.sin() * r.sum()).mean(), in_dims=1)(x).sum().backward()
    x2 = _t(X).requires_grad_()
    ember.stack([(x2[:, j].sin() * x2[:, j].sum()).mean() for j in range(3)]).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), atol=1e-12)


def test_vmap_of_jacobians_vjp_jvp():
    X = RNG.standard_normal((4, 3))
    f = lambda x: x.sin() * x.sum()  # noqa: E731
    J = EF.vmap(EF.jacrev(f))(_t(X))
    H = EF.vmap(EF.hessian(lambda x: f(x).sum()))(_t(X))
    for i in range(4):
        np.testing.assert_allclose(J[i].numpy(), EF.jacrev(f)(_t(X[i])).numpy(), atol=1e-12)
        np.testing.assert_allclose(H[i].numpy(), EF.hessian(lambda x: f(x).sum())(_t(X[i]))
                                   .numpy(), atol=1e-12)
    v = EF.vmap(lambda x: EF.vjp(f, x)[1](x.cos())[0])(_t(X))
    j = EF.vmap(lambda x: EF.jvp(f, (x,), (x.cos(),))[1])(_t(X))
    for i in range(4):
        np.testing.assert_allclose(v[i].numpy(), EF.vjp(f, _t(X[i]))[1](_t(np.cos(X[i])))[0]
                                   .numpy(), atol=1e-12)
        np.testing.assert_allclose(j[i].numpy(), EF.jvp(f, (_t(X[i]),), (_t(np.cos(X[i])),))[1]
                                   .numpy(), atol=1e-12)


# ----------------------------------------------------------------------------- in_dims/out_dims
_OPS = [
    ("sin", lambda x: x.sin() * 2 + 1),
    ("sum", lambda x: x.sum(0, keepdim=True) + x),
    ("mean_last", lambda x: x.mean(-1)),
    ("amax", lambda x: x.amax()),
    ("softmax", lambda x: x.softmax(0)),
    ("cumsum", lambda x: x.cumsum(-1)),
    ("square_sub", lambda x: (x - x.mean()) ** 2),
]


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4), op=st.sampled_from(_OPS),
       data=st.data())
def test_property_in_dims_out_dims(shape, op, data):
    """vmap(f, in_dims=d, out_dims=o)(x) == stack([f(x.select(d, i))], o) on random shapes."""
    n = len(shape)
    d = data.draw(st.integers(-n, n - 1), label="in_dim")
    x = _t(np.random.default_rng(len(shape)).standard_normal(shape))
    f = op[1]
    per = [f(x.movedim(d, 0)[i]) for i in range(shape[d])]
    o = data.draw(st.integers(-(per[0].dim() + 1), per[0].dim()), label="out_dim")
    got = EF.vmap(f, in_dims=d, out_dims=o)(x)
    np.testing.assert_allclose(got.numpy(), ember.stack(per, o).numpy(), atol=1e-12)


_BINARY = [
    ("add", lambda a, b: a + b),
    ("mul_sum", lambda a, b: (a * b).sum(-1)),
    ("where", lambda a, b: ember.where(a > b, a, b)),
    ("maximum", lambda a, b: ember.maximum(a, b)),
    ("sub_mean", lambda a, b: a - b.mean()),
    ("stack", lambda a, b: ember.stack([a, b.expand_as(a)], -1)),
]


@settings(max_examples=60, deadline=None)
@given(logical=st.lists(st.integers(1, 3), min_size=1, max_size=3), bsz=st.integers(1, 4),
       op=st.sampled_from(_BINARY), data=st.data())
def test_property_binary_in_dims(logical, bsz, op, data):
    """Two operands, each mapped at a random dim or unmapped (None), broadcasting logically."""
    k = data.draw(st.integers(0, len(logical)), label="b drops leading dims")
    shapes = [list(logical), list(logical[k:])]
    dims, args = [], []
    rng = np.random.default_rng(bsz)
    for i, shp in enumerate(shapes):
        mapped = i == 0 or data.draw(st.booleans(), label=f"map {i}")
        if not mapped:
            dims.append(None)
            args.append(_t(rng.standard_normal(shp)))
            continue
        d = data.draw(st.integers(0, len(shp)), label=f"in_dim {i}")
        args.append(_t(rng.standard_normal(shp[:d] + [bsz] + shp[d:])))
        dims.append(d)
    f = op[1]
    per = [f(*[a if d is None else a.movedim(d, 0)[j] for a, d in zip(args, dims, strict=True)])
           for j in range(bsz)]
    got = EF.vmap(f, in_dims=tuple(dims))(*args)
    np.testing.assert_allclose(got.numpy(), ember.stack(per).numpy(), atol=1e-12)


def test_in_dims_nested_tuples_and_kwargs():
    x, y = _t(RNG.standard_normal((2, 4))), _t(RNG.standard_normal((4, 3)))
    got = EF.vmap(lambda p, s=1.0: p[0].sum() * p[1] * s, in_dims=((1, 0),))((x, y), s=2.0)
    want = ember.stack([x[:, i].sum() * y[i] * 2 for i in range(4)])
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-12)
    d = EF.vmap(lambda m: {"a": m["a"] * 2}, in_dims=({"a": 1},), out_dims={"a": 1})({"a": x})
    np.testing.assert_allclose(d["a"].numpy(), 2 * x.numpy())
    const = EF.vmap(lambda a: (a * 2, ember.ones(2)), out_dims=(0, None))(x.T)
    assert const[1].shape == (2,)


def test_chunk_size_matches_full_batch():
    x = _t(RNG.standard_normal((7, 3)))
    f = lambda a: (a.softmax(0), a.sum())  # noqa: E731
    full = EF.vmap(f)(x)
    for c in (1, 3, 7, 10):
        got = EF.vmap(f, chunk_size=c)(x)
        for a, b in zip(got, full, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-14)


# ----------------------------------------------------------------------------- vectorized
def test_one_call_and_logical_metadata():
    seen = []

    def f(a):
        seen.append((tuple(a.shape), a.dim(), len(a), a.size(-1), a.numel(), a.ndim))
        return a * 2

    EF.vmap(f, in_dims=1)(ember.ones(3, 5, 2))
    assert seen == [((3, 2), 2, 3, 2, 6, 2)]  # called once, per-example metadata
    seen.clear()
    EF.vmap(EF.vmap(f))(ember.ones(3, 5, 2))
    assert seen == [((2,), 1, 2, 2, 2, 1)]


def test_eager_namespace_untouched_after_vmap():
    before_t = dict(vars(ember.Tensor))
    before_e = dict(vars(ember))
    before_f = dict(vars(F))
    EF.vmap(lambda a: F.relu(a) + ember.sin(a))(ember.ones(2, 3))
    with pytest.raises(RuntimeError):
        EF.vmap(lambda a: a.item())(ember.ones(2))
    assert all(vars(ember.Tensor)[k] is v for k, v in before_t.items())
    assert all(vars(ember)[k] is v for k, v in before_e.items())
    assert all(vars(F)[k] is v for k, v in before_f.items())


# ----------------------------------------------------------------------------- randomness
def test_randomness_modes():
    x = ember.zeros(4, 3)
    ember.manual_seed(0)
    diff = EF.vmap(lambda a: a + ember.randn(3), randomness="different")(x)
    same = EF.vmap(lambda a: a + ember.randn(3), randomness="same")(x)
    assert not np.allclose(diff[0].numpy(), diff[1].numpy())
    np.testing.assert_array_equal(same.numpy(), np.broadcast_to(same[0].numpy(), (4, 3)))
    d = EF.vmap(lambda a: F.dropout(ember.ones_like(a), 0.5), randomness="different")(
        ember.zeros(64, 8))
    assert set(np.unique(d.numpy())) <= {0.0, 2.0} and not (d.numpy() == d[0].numpy()).all()
    s = EF.vmap(lambda a: F.dropout(a + 1, 0.5), randomness="same")(ember.zeros(8, 16))
    np.testing.assert_array_equal(s.numpy(), np.broadcast_to(s[0].numpy(), (8, 16)))
    r = EF.vmap(lambda a: ember.rand_like(a), randomness="different")(x)
    assert r.shape == (4, 3) and len({tuple(row) for row in r.numpy().tolist()}) == 4
    n = EF.vmap(lambda a: ember.empty_like(a).normal_(), randomness="same")(x)
    np.testing.assert_array_equal(n.numpy(), np.broadcast_to(n[0].numpy(), (4, 3)))
    assert EF.vmap(lambda a: F.dropout(a, 0.5, training=False))(x).shape == (4, 3)


_RAND = ("vmap: called random operation while in randomness error mode. Please either use the "
         "'same' or 'different' randomness flags on vmap or perform the randomness operation "
         "out of vmap")


@pytest.mark.parametrize("f", [
    lambda a: a + ember.randn(3),
    lambda a: ember.rand_like(a),
    lambda a: F.dropout(a),
    lambda a: a + enn.init.normal_(ember.empty(3)),
])
def test_randomness_error_mode(f):
    with pytest.raises(RuntimeError, match=_RAND.replace("(", r"\(").replace(")", r"\)")):
        EF.vmap(f)(ember.zeros(4, 3))


# ----------------------------------------------------------------------------- errors
def _msg(fn, *args, exc=Exception):
    with pytest.raises(exc) as e:
        fn(*args)
    return str(e.value)


ERRORS = [
    ("mismatched sizes", lambda: EF.vmap(ember.add)(ember.ones(3), ember.ones(4)), ValueError,
     "vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
     "[3, 4] for the mapped dimension"),
    ("in_dim range", lambda: EF.vmap(ember.sin, in_dims=2)(ember.ones(3)), ValueError,
     "vmap(sin, in_dims=2, ...)(<inputs>): Got in_dim=2 for some input, but that input is a "
     "Tensor of dimensionality 1 so expected in_dim to satisfy -1 <= in_dim < 1."),
    ("in_dims type", lambda: EF.vmap(ember.sin, in_dims=[0])(ember.ones(3)), ValueError,
     "vmap(sin, in_dims=[0], ...)(<inputs>): expected `in_dims` to be int or a (potentially "
     "nested) tuple matching the structure of inputs, got: <class 'list'>."),
    ("in_dims structure", lambda: EF.vmap(ember.add, in_dims=(0,))(ember.ones(3), ember.ones(3)),
     ValueError, "vmap(add, in_dims=(0,), ...)(<inputs>): in_dims is not compatible with the "
     "structure of `inputs`. in_dims has structure TreeSpec(tuple, None, [*]) but inputs has "
     "structure TreeSpec(tuple, None, [*,\n  *])."),
    ("non-tensor in", lambda: EF.vmap(lambda a, b: a * b, in_dims=(0, 0))(ember.ones(3), 2.0),
     ValueError, "vmap(<lambda>, in_dims=(0, 0), ...)(<inputs>): Got in_dim=0 for an input but "
     "the input is of type <class 'float'>. We cannot vmap over non-Tensor arguments, please "
     "use None as the respective in_dim"),
    ("all None", lambda: EF.vmap(ember.sin, in_dims=(None,))(ember.ones(3)), ValueError,
     "vmap: Expected at least one Tensor to vmap over"),
    ("no inputs", lambda: EF.vmap(lambda: ember.ones(3))(), ValueError,
     "vmap(<lambda>)(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are trying "
     "to vmap over a function with no inputs. The latter is unsupported."),
    ("non-tensor out", lambda: EF.vmap(lambda a: 1)(ember.ones(3)), ValueError,
     "vmap(<lambda>, ...): `<lambda>` must only return Tensors, got type <class 'int'>. Did you "
     "mean to set out_dims= to None for output?"),
    ("out_dim None", lambda: EF.vmap(lambda a: a, out_dims=None)(ember.ones(3)), ValueError,
     "vmap(<lambda>, ...): `<lambda>` can not return a BatchedTensor when out_dim is None"),
    ("out_dims structure", lambda: EF.vmap(lambda a: (a, a), out_dims=(0, 0, 0))(ember.ones(3)),
     ValueError, "vmap(<lambda>, ..., out_dims=(0, 0, 0))(<inputs>): out_dims is not compatible "
     "with the structure of `outputs`. out_dims has structure TreeSpec(tuple, None, [*,\n  *,\n"
     "  *]) but outputs has structure TreeSpec(tuple, None, [*,\n  *])."),
    ("out_dims type", lambda: EF.vmap(lambda a: a, out_dims="a")(ember.ones(3)), ValueError,
     "vmap(<lambda>, ..., out_dims=a): `out_dims` must be an int, None or a python collection of "
     "ints representing where in the outputs the vmapped dimension should appear."),
    ("out_dim range", lambda: EF.vmap(lambda a: a, out_dims=2)(ember.ones(3)), IndexError,
     "Dimension out of range (expected to be in range of [-1, 0], but got 2)"),
    ("randomness", lambda: EF.vmap(ember.sin, randomness="x"), RuntimeError,
     "Only allowed values for randomness are 'error', 'different', or 'same'. Got x"),
    ("chunk_size", lambda: EF.vmap(ember.sin, chunk_size=0), ValueError,
     "vmap: chunk_size should be None or greater than 0. (got 0)"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(case):
    _, fn, exc, msg = case
    assert _msg(fn, exc=exc) == msg


def test_error_messages_are_torchs():
    """The same calls through torch.func raise the same class with the same text."""
    torch, tf = _torch()
    checks = [
        (lambda v: v(torch.add)(torch.ones(3), torch.ones(4)), ERRORS[0]),
        (lambda v: v(torch.sin, in_dims=2)(torch.ones(3)), ERRORS[1]),
        (lambda v: v(torch.add, in_dims=(0,))(torch.ones(3), torch.ones(3)), ERRORS[3]),
        (lambda v: v(lambda a: (a, a), out_dims=(0, 0, 0))(torch.ones(3)), ERRORS[9]),
    ]
    for call, (_, _, exc, msg) in checks:
        with pytest.raises(exc) as e:
            call(tf.vmap)
        assert str(e.value) == msg


NO_RULE = [
    ("F.prelu", lambda a: F.prelu(a, ember.ones(1)), "vmap: ember.nn.functional.prelu has no "
     "batching rule"),
    ("allclose", lambda a: a.allclose(a), "vmap: ember.allclose has no batching rule"),
    ("conv_transpose1d", lambda a: F.conv_transpose1d(a.reshape(1, 3, 1), ember.ones(3, 2, 2)),
     "vmap: ember.nn.functional.conv_transpose1d has no batching rule"),
    ("item", lambda a: a.sum().item(), "vmap: It looks like you're calling .item() on a Tensor."),
    ("if", lambda a: a if a.sum() > 0 else -a, "vmap: It looks like you're attempting to use a "
     "Tensor in some data-dependent control flow."),
    ("numpy", lambda a: a.numpy(), "Cannot access data pointer of Tensor that doesn't have "
     "storage"),
    ("nonzero", lambda a: a.nonzero(), "vmap: We do not support batching operators that can "
     "output dynamic shape. Attempted to vmap over aten::nonzero."),
    ("mask", lambda a: a[a > 0], "vmap: We do not support batching operators that can support "
     "dynamic shape. Attempting to batch over indexing with a boolean mask."),
    ("inplace", lambda a: ember.zeros(3).add_(a), "vmap: inplace arithmetic(self, *extra_args) "
     "is not possible because there exists a Tensor `other` in extra_args"),
    ("backward", lambda a: a.sum().backward(), "backward() called inside a functorch "
     "transform."),
]


@pytest.mark.parametrize("case", NO_RULE, ids=[c[0] for c in NO_RULE])
def test_unbatchable_ops_raise_runtime_error(case):
    _, f, start = case
    with pytest.raises(RuntimeError) as e:
        EF.vmap(f)(_t(RNG.standard_normal((4, 3))))
    assert str(e.value).startswith(start), str(e.value)


def test_alias_bound_before_vmap_and_escaped_tensor():
    from ember import relu as early_relu

    with pytest.raises(RuntimeError, match="reached through a reference bound before vmap"):
        EF.vmap(lambda a: early_relu(a))(ember.ones(2, 3))
    leaked = []
    EF.vmap(lambda a: leaked.append(a) or a)(ember.ones(2, 3))
    with pytest.raises(RuntimeError, match="escaped from the function being vmapped"):
        leaked[0] + 1


def test_rule_names_cover_the_core():
    from ember._vmap import rule_names

    names = set(rule_names())
    for n in ("ember.add", "ember.sum", "ember.matmul", "ember.einsum", "ember.stack",
              "Tensor.__getitem__", "Tensor.reshape", "ember.nn.functional.linear",
              "ember.nn.functional.cross_entropy", "ember.where", "Tensor.T"):
        assert n in names, n


def test_model_ensembling_and_module_call():
    """vmap over stacked parameters (ensembles) and vmap of an nn.Module call."""
    models = [enn.Sequential(enn.Linear(3, 4), enn.ReLU(), enn.Linear(4, 2)).double()
              for _ in range(3)]
    names = [k for k, _ in models[0].named_parameters()]
    params = {k: ember.stack([dict(m.named_parameters())[k].detach() for m in models])
              for k in names}
    x = _t(RNG.standard_normal((5, 3)))
    out = EF.vmap(lambda p, a: EF.functional_call(models[0], p, (a,)), in_dims=(0, None))(
        params, x)
    np.testing.assert_allclose(out.detach().numpy(),
                               ember.stack([m(x) for m in models]).detach().numpy(), atol=1e-12)
    per = EF.vmap(models[1])(x)  # each example through the module on its own
    np.testing.assert_allclose(per.detach().numpy(), models[1](x).detach().numpy(), atol=1e-12)


def test_result_type_sees_logical_zero_dim():
    f32, f64 = ember.ones(2, dtype=ember.float32), ember.ones(2, dtype=ember.float64)
    got = EF.vmap(lambda a, b: (a + b, ember.tensor(str(ember.result_type(a, b)) == "ember."
                                                      "float64")))(f32, f64)
    assert got[0].dtype == ember.float64 and bool(got[1].all())
    mixed = EF.vmap(lambda a, b: a + b, in_dims=(None, 0))(ember.ones(3, dtype=ember.float32),
                                                          f64)
    assert mixed.dtype == ember.float32  # a batched 0-d operand does not promote a 1-d one
