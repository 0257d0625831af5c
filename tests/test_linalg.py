"""Matrix products beyond the op table: torch's error texts, double backward, float64 accuracy,
saved-tensor rules and the performance-relevant behaviour (no work for inputs without grad)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import ember

F64 = "float64"


def T(L, *shape, dt="float32", rg=False):
    return L.ones(*shape, dtype=getattr(L, dt)).requires_grad_(rg)


# (name, fn(L), exception class, torch's first sentence) -- checked without torch, and the
# torch-comparison test below makes sure the text really is torch's
ERRORS = [
    ("matmul_0d", lambda L: L.matmul(L.tensor(1.0), T(L, 3)), RuntimeError,
     "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    ("matmul_1d_1d", lambda L: T(L, 3) @ T(L, 4), RuntimeError,
     "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of "
     "elements, but got 3 and 4 elements respectively"),
    ("matmul_2d_1d", lambda L: T(L, 2, 3) @ T(L, 2), RuntimeError,
     "size mismatch, got input (2), mat (2x3), vec (2)"),
    ("matmul_1d_2d", lambda L: T(L, 3) @ T(L, 2, 3), RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (1x3 and 2x3)"),
    ("matmul_2d_2d", lambda L: T(L, 2, 3) @ T(L, 2, 3), RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    ("matmul_3d_2d", lambda L: T(L, 5, 2, 3) @ T(L, 2, 3), RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (10x3 and 2x3)"),
    ("matmul_3d_3d", lambda L: T(L, 5, 2, 3) @ T(L, 5, 2, 3), RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [5, 3] but got: [5, 2]."),
    ("matmul_2d_3d_grad", lambda L: T(L, 2, 2, rg=True) @ T(L, 5, 3, 4), RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (20x3 and 2x2)"),
    ("matmul_1d_3d_grad", lambda L: T(L, 2, rg=True) @ T(L, 5, 3, 4), RuntimeError,
     "size mismatch, got input (20), mat (20x3), vec (2)"),
    ("matmul_batch", lambda L: T(L, 4, 2, 3) @ T(L, 5, 3, 4), RuntimeError,
     "The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 0"),
    ("matmul_dtype", lambda L: T(L, 2, 3) @ T(L, 3, 4, dt=F64), RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: float != double"),
    ("matmul_dtype_long", lambda L: T(L, 2, 3, dt="int64") @ T(L, 3, 4), RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: long int != float"),
    ("matmul_dtype_dot", lambda L: T(L, 3) @ T(L, 3, dt=F64), RuntimeError,
     "dot : expected both vectors to have same dtype, but found Float and Double"),
    ("matmul_dtype_mv", lambda L: T(L, 2, 3) @ T(L, 3, dt=F64), RuntimeError,
     "addmv input tensors must have the same dtype, but got Double, Float, and Double"),
    ("matmul_dtype_bmm", lambda L: T(L, 5, 2, 3) @ T(L, 5, 3, 4, dt=F64), RuntimeError,
     "expected scalar type Float but found Double"),
    ("matmul_bool", lambda L: T(L, 2, 3, dt="bool") @ T(L, 3, 4, dt="bool"), NotImplementedError,
     "\"addmm_impl_cpu_\" not implemented for 'Bool'"),
    ("matmul_not_tensor", lambda L: L.matmul(T(L, 2, 3), 2), TypeError,
     "matmul(): argument 'other' (position 2) must be Tensor, not int"),
    ("matmul_op_list", lambda L: T(L, 2, 3) @ [1.0, 2.0, 3.0], TypeError,
     "unsupported operand type(s) for @"),
    ("mm_1d", lambda L: L.mm(T(L, 3), T(L, 3, 4)), RuntimeError, "self must be a matrix"),
    ("mm_rhs_1d", lambda L: L.mm(T(L, 2, 3), T(L, 3)), RuntimeError, "mat2 must be a matrix"),
    ("bmm_2d", lambda L: L.bmm(T(L, 2, 3), T(L, 3, 4)), RuntimeError,
     "batch1 must be a 3D tensor"),
    ("bmm_batch", lambda L: L.bmm(T(L, 2, 2, 3), T(L, 3, 3, 4)), RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3]."),
    ("dot_2d", lambda L: L.dot(T(L, 2, 3), T(L, 2, 3)), RuntimeError,
     "1D tensors expected, but got 2D and 2D tensors"),
    ("dot_size", lambda L: L.dot(T(L, 3), T(L, 4)), RuntimeError,
     "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of "
     "elements, but got 3 and 4 elements respectively"),
    ("mv_1d", lambda L: L.mv(T(L, 3), T(L, 3)), RuntimeError,
     "vector + matrix @ vector expected, got 1, 1, 1"),
    ("outer_2d", lambda L: L.outer(T(L, 2, 3), T(L, 3)), RuntimeError,
     "outer: Expected 1-D argument self, but got 2-D"),
    ("addmm_shape", lambda L: L.addmm(T(L, 2, 4), T(L, 2, 3), T(L, 2, 3)), RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    ("addmm_dtype", lambda L: L.addmm(T(L, 2, 4, dt=F64), T(L, 2, 3), T(L, 3, 4)), RuntimeError,
     "self and mat2 must have the same dtype, but got Double and Float"),
    ("addmm_bias", lambda L: L.addmm(T(L, 3, 4), T(L, 2, 3), T(L, 3, 4)), RuntimeError,
     "The expanded size of the tensor (2) must match the existing size (3) at non-singleton "
     "dimension 0.  Target sizes: [2, 4].  Tensor sizes: [3, 4]"),
    ("trace_3d", lambda L: L.trace(T(L, 2, 3, 3)), RuntimeError,
     "trace: expected a matrix, but got tensor with dim 3"),
    ("einsum_size", lambda L: L.einsum("ij,jk->ik", T(L, 2, 3), T(L, 4, 5)), RuntimeError,
     "einsum(): subscript j has size 4 for operand 1 which does not broadcast with previously "
     "seen size 3"),
    ("einsum_fewer", lambda L: L.einsum("ij,jk->ik", T(L, 2, 3)), RuntimeError,
     "einsum(): fewer operands were provided than specified in the equation"),
    ("einsum_ndim", lambda L: L.einsum("ijk,jk->ik", T(L, 2, 3), T(L, 3, 4)), RuntimeError,
     "einsum(): the number of subscripts in the equation (3) does not match the number of "
     "dimensions (2) for operand 0 and no ellipsis was given"),
    ("einsum_out_twice", lambda L: L.einsum("ij->ii", T(L, 2, 3)), RuntimeError,
     "einsum(): output subscript i appears more than once in the output"),
    ("einsum_out_unknown", lambda L: L.einsum("ij->ik", T(L, 2, 3)), RuntimeError,
     "einsum(): output subscript k does not appear in the equation for any input operand"),
    ("einsum_char", lambda L: L.einsum("i1,j->ij", T(L, 2, 3), T(L, 3)), RuntimeError,
     "einsum(): invalid subscript given at index 1 in the equation string, subscripts must be "
     "in [a-zA-Z]"),
    ("einsum_diag", lambda L: L.einsum("ii->i", T(L, 2, 3)), RuntimeError,
     "einsum(): subscript i is repeated for operand 0 but the sizes don't match, 3 != 2"),
    ("einsum_dtype", lambda L: L.einsum("ij,jk->ik", T(L, 2, 3), T(L, 3, 4, dt=F64)),
     RuntimeError, "expected scalar type Float but found Double"),
    ("det_1d", lambda L: L.det(T(L, 3)), RuntimeError,
     "linalg.det: The input tensor A must have at least 2 dimensions."),
    ("det_nonsquare", lambda L: L.det(T(L, 2, 3)), RuntimeError,
     "linalg.det: A must be batches of square matrices, but they are 2 by 3 matrices"),
    ("inverse_singular", lambda L: L.inverse(L.tensor([[1.0, 2.0], [2.0, 4.0]])), RuntimeError,
     "linalg.inv: The diagonal element 2 is zero, the inversion could not be completed because "
     "the input matrix is singular."),
    ("inverse_singular_batch", lambda L: L.inverse(L.zeros(2, 3, 3)), RuntimeError,
     "linalg.inv: (Batch element 0): The diagonal element 1 is zero"),
    ("cross_len", lambda L: L.cross(T(L, 2, 4), T(L, 2, 4), dim=-1), RuntimeError,
     "linalg.cross: inputs dimension -1 must have length 3. Got 4 and 4"),
    ("tensordot_dims", lambda L: L.tensordot(T(L, 2, 3), T(L, 4, 5), dims=1), RuntimeError,
     "contracted dimensions need to match, but first has size 3 in dim -1 and second has size 4 "
     "in dim 0"),
]


@pytest.mark.parametrize("fn,cls,msg", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_text(fn, cls, msg):
    with pytest.raises(cls, match="^" + re.escape(msg)):
        fn(ember)


@pytest.mark.parametrize("fn,cls,msg", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_text_is_torchs(fn, cls, msg):
    torch = pytest.importorskip("torch", reason="torch not installed: comparison skipped")
    with pytest.raises(cls) as info:
        fn(torch)
    assert str(info.value).startswith(msg.rstrip("."))


def test_errors_change_nothing():
    w = ember.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Hint:"):
        w @ ember.ones(2, 3)
    assert w.grad is None and w._version == 0


def test_linalg_error_is_runtime_error():
    with pytest.raises(RuntimeError) as info:
        ember.inverse(ember.zeros(3, 3))
    assert type(info.value).__name__ == "LinAlgError"


def test_cross_default_dim_warns():
    a, b = ember.tensor([[1.0, 0, 0]]), ember.tensor([[0.0, 1, 0]])
    with pytest.warns(UserWarning, match="Using torch.cross without specifying the dim arg"):
        r = ember.cross(a, b)
    assert r.tolist() == [[0.0, 0.0, 1.0]]


# ------------------------------------------------------------------------------ double backward
def _hvp(L, f, arrays, vs):
    """Hessian-vector product: d/dx <grad f(x), v> for every input."""
    xs = [L.tensor(a, requires_grad=True) for a in arrays]
    loss = f(L, *xs)
    gs = L.autograd.grad(loss, xs, create_graph=True)
    dot = sum((g * L.tensor(v)).sum() for g, v in zip(gs, vs, strict=True))
    return [h.detach().numpy() for h in L.autograd.grad(dot, xs)]


HVP = [
    ("mm", lambda L, x, w: ((x @ w) ** 3).sum(), [(4, 3), (3, 5)]),
    ("batched_broadcast", lambda L, x, w: ((x @ w) ** 2 * (x @ w)).sum(), [(2, 1, 4, 3), (5, 3, 2)]),
    ("nd_2d", lambda L, x, w: ((x @ w).tanh()).sum(), [(2, 4, 3), (3, 5)]),
    ("2d_nd", lambda L, x, w: ((x @ w) ** 3).sum(), [(4, 3), (2, 3, 5)]),
    ("vec", lambda L, x, w: ((w @ x) ** 3).sum() + (x @ x) ** 2, [(3,), (2, 3)]),
    ("vec_left", lambda L, x, w: ((x @ w) ** 3).sum() + L.outer(x, x).sum() ** 2, [(3,), (3, 4)]),
    ("nd_1d", lambda L, x, w: ((w @ x) ** 3).sum() + ((x @ w.mT) ** 2).sum(), [(3,), (2, 4, 3)]),
    ("addmm", lambda L, b, x, w: (L.addmm(b, x, w, beta=0.5, alpha=2) ** 3).sum(),
     [(5,), (4, 3), (3, 5)]),
    ("bmm", lambda L, x, w: (L.bmm(x, w) ** 3).sum(), [(2, 4, 3), (2, 3, 5)]),
    ("einsum", lambda L, x, w: (L.einsum("bij,jk->bki", x, w) ** 3).sum()
     + L.einsum("ii", w[:, :3]) ** 2, [(2, 4, 3), (3, 5)]),
    ("einsum_diag", lambda L, x: (L.einsum("ii->i", x) ** 3).sum() + L.einsum("ij,ij", x, x) ** 2,
     [(3, 3)]),
    ("det_inverse", lambda L, a: L.det(a) ** 2 + (L.inverse(a) ** 2).sum(), [(3, 3)]),
    ("trace_cross", lambda L, a, b: L.trace(a @ a) ** 2 + (L.cross(a, b, dim=-1) ** 2).sum(),
     [(3, 3), (3, 3)]),
]


@pytest.mark.parametrize("f,shapes", [h[1:] for h in HVP], ids=[h[0] for h in HVP])
def test_double_backward_matches_torch(f, shapes):
    torch = pytest.importorskip("torch", reason="torch not installed: comparison skipped")
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(-1, 1, size=s) + (np.eye(s[0]) * 3 if len(s) == 2 and s[0] == s[1]
                                            else 0) for s in shapes]
    vs = [rng.uniform(-1, 1, size=s) for s in shapes]
    got = _hvp(ember, f, arrays, vs)
    want = _hvp(torch, f, arrays, vs)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-10)


def test_double_backward_finite_differences():
    """Hessian-vector product through matmul against differences of the gradient (no torch)."""
    rng = np.random.default_rng(1)
    x, w, v = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))

    def grad_w(wa):
        wt = ember.tensor(wa, requires_grad=True)
        ((ember.tensor(x) @ wt) ** 3).sum().backward()
        return wt.grad.numpy()

    wt = ember.tensor(w, requires_grad=True)
    (g,) = ember.autograd.grad(((ember.tensor(x) @ wt) ** 3).sum(), [wt], create_graph=True)
    (hv,) = ember.autograd.grad((g * ember.tensor(v)).sum(), [wt])
    eps = 1e-6
    num = (grad_w(w + eps * v) - grad_w(w - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv.numpy(), num, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------------ accuracy, dtypes
def test_float64_large_matches_numpy():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 257, 129)), rng.standard_normal((129, 65))
    g = rng.standard_normal((3, 257, 65))
    at, bt = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    out = at @ bt
    assert out.dtype == ember.float64
    np.testing.assert_allclose(out.detach().numpy(), a @ b, rtol=1e-12, atol=1e-12)
    out.backward(ember.tensor(g))
    np.testing.assert_allclose(at.grad.numpy(), g @ b.T, rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(bt.grad.numpy(), np.einsum("bij,bik->jk", a, g), rtol=1e-12,
                               atol=1e-11)


def test_float64_large_matches_torch():
    torch = pytest.importorskip("torch", reason="torch not installed: comparison skipped")
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 1, 130, 70)), rng.standard_normal((3, 70, 90))
    g = rng.standard_normal((2, 3, 130, 90))
    res = []
    for L in (ember, torch):
        x, y = L.tensor(a, requires_grad=True), L.tensor(b, requires_grad=True)
        out = L.einsum("...ij,...jk->...ik", x, y) + x @ y
        out.backward(L.tensor(g))
        res.append([out.detach().numpy(), x.grad.numpy(), y.grad.numpy()])
    for e, t in zip(*res, strict=True):
        np.testing.assert_allclose(e, t, rtol=1e-11, atol=1e-10)


def test_no_promotion_and_integer_results():
    a = ember.tensor([[1, 2], [3, 4]])
    assert (a @ a).dtype == ember.int64 and (a @ a).tolist() == [[7, 10], [15, 22]]
    i32 = ember.tensor([1, 2, 3], dtype=ember.int32)
    assert (i32 @ i32).dtype == ember.int32 and (i32 @ i32).item() == 14
    assert ember.trace(ember.ones(2, 3, dtype=ember.int32)).dtype == ember.int64
    assert ember.trace(ember.ones(2, 2, dtype=ember.float16)).dtype == ember.float16
    assert ember.einsum("ii->", ember.ones(3, 3, dtype=ember.int32)).dtype == ember.int64
    assert ember.outer(ember.ones(2, dtype=ember.int64), ember.ones(3)).dtype == ember.float32
    h = ember.ones(2, 3, dtype=ember.float16)
    assert (h @ h.mT).dtype == ember.float16


def test_out_argument():
    out = ember.zeros(2, 4)
    r = ember.matmul(ember.ones(2, 3), ember.ones(3, 4), out=out)
    assert r is out and out.tolist() == [[3.0] * 4] * 2 and out._version == 1
    with pytest.raises(RuntimeError, match="functions with out=... arguments don't support"):
        ember.mm(ember.ones(2, 3, requires_grad=True), ember.ones(3, 4), out=out)


# ------------------------------------------------------------------------------ graph behaviour
def test_no_grad_records_nothing():
    w = ember.ones(3, 3, requires_grad=True)
    with ember.no_grad():
        assert (w @ w).grad_fn is None and ember.einsum("ij,jk", w, w).grad_fn is None
    assert (ember.ones(3, 3) @ ember.ones(3, 3)).grad_fn is None


def test_gradient_only_for_inputs_that_need_it():
    x, w = ember.ones(4, 3), ember.ones(3, 2, requires_grad=True)
    out = x @ w
    ga, gb = out.grad_fn(ember.ones(4, 2))
    assert ga is None and gb.tolist() == [[4.0, 4.0]] * 3
    # x is saved (for w's gradient) but w is not: changing w in place is allowed, x is not
    y = x @ w
    with ember.no_grad():
        w.mul_(2)
    y.backward(ember.ones(4, 2))
    x2 = ember.ones(4, 3)
    y2 = x2 @ w
    x2.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y2.backward(ember.ones(4, 2))


def test_batch_gradients_are_summed_to_input_shapes():
    a = ember.ones(2, 1, 4, 3, requires_grad=True)
    b = ember.ones(5, 3, 2, requires_grad=True)
    (a @ b).sum().backward()
    assert a.grad.shape == (2, 1, 4, 3) and b.grad.shape == (5, 3, 2)
    assert a.grad.tolist()[0][0][0] == [10.0, 10.0, 10.0]  # 5 batches x 2 columns
    assert b.grad.tolist()[0][0] == [8.0, 8.0]  # 2 batches x 4 rows


def test_rmatmul_with_numpy_and_scalars():
    assert ember.ones(2, 3).__rmatmul__([1.0, 2.0]) is NotImplemented
    with pytest.raises(TypeError):
        np.ones((2, 2)) @ ember.ones(2, 2)  # noqa: B018


def test_einsum_permutation_is_a_view():
    x = ember.zeros(2, 3)
    y = ember.einsum("ij->ji", x)
    y.add_(1)
    assert x.tolist() == [[1.0] * 3] * 2 and x._version == y._version == 1
    d = ember.einsum("ii->i", ember.zeros(3, 3))
    assert d._base is not None


def test_mT_function_and_warning():
    from ember.ops.linalg import mT

    x = ember.ones(2, 3, 4, requires_grad=True)
    y = mT(x)
    assert y.shape == (2, 4, 3) and y.grad_fn.name() == "TransposeBackward0"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="deprecated on 0-D tensors"):
            mT(ember.tensor(1.0))
    with pytest.raises(RuntimeError, match="only supported on matrices or batches of matrices"):
        mT(ember.ones(3))
