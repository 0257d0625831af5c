"""Op table: matrix products (matmul in all of torch's cases, mm, bmm, mv, dot, outer, einsum,
addmm ...), trace, det, inverse, cross."""

import numpy as np

from tests.op_db import OpInfo


def _mat(lib, a, b):
    return a @ b


def _square(*batch):
    """Well-conditioned square matrices (A + 3 I) for det / inverse."""

    def make(rng):
        out = []
        for shape in batch:
            a = rng.uniform(-1, 1, size=shape) + 3 * np.eye(shape[-1])
            out.append([a.astype(np.float32)])
        return out

    return make


def _ein(name, eq, samples, node, **kw):
    return OpInfo(f"einsum_{name}", lambda lib, *xs, _eq=eq: lib.einsum(_eq, *xs), samples,
                  node, **kw)


BATCH = [((5, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (1, 5, 3, 4)),
         ((5, 2, 3), (1, 3, 4)), ((1, 2, 3), (1, 3, 4))]

OPS = [
    # matmul / @: torch's node is the outermost of its decomposition
    OpInfo("matmul_1d_1d", _mat, [((3,), (3,))], "DotBackward0"),
    OpInfo("matmul_2d_1d", _mat, [((2, 3), (3,))], "MvBackward0"),
    OpInfo("matmul_1d_2d", _mat, [((3,), (3, 4))], "SqueezeBackward4"),
    OpInfo("matmul_2d_2d", _mat, [((2, 3), (3, 4)), ((1, 1), (1, 5)), ((0, 3), (3, 2))],
           "MmBackward0"),
    OpInfo("matmul_batched", _mat, BATCH, "UnsafeViewBackward0"),
    OpInfo("matmul_nd_2d", _mat, [((5, 2, 3), (3, 4)), ((2, 2, 2, 3), (3, 4)), ((1, 2, 3), (3, 4))],
           "UnsafeViewBackward0"),
    OpInfo("matmul_nd_1d", _mat, [((5, 2, 3), (3,)), ((4, 5, 2, 3), (3,))],
           "UnsafeViewBackward0"),
    OpInfo("matmul_1d_nd", _mat, [((3,), (5, 3, 4)), ((3,), (4, 5, 3, 2))],
           "UnsafeViewBackward0"),
    OpInfo("matmul_2d_nd", _mat, [((2, 3), (5, 3, 4)), ((2, 3), (2, 1, 3, 4))], "CloneBackward0"),
    OpInfo("matmul_2d_nd_contig", _mat, [((1, 3), (5, 3, 4)), ((2, 3), (5, 3, 1))],
           "TransposeBackward0"),
    OpInfo("matmul_2d_nd_rhs_grad", _mat, [((2, 3), (5, 3, 4))], "UnsafeViewBackward0",
           requires_grad=(False, True)),
    OpInfo("matmul_2d_2d_lhs_grad", _mat, [((2, 3), (3, 4))], "MmBackward0",
           requires_grad=(True, False)),
    OpInfo("matmul_nd_2d_lhs_grad", _mat, [((5, 2, 3), (3, 4))], "UnsafeViewBackward0",
           requires_grad=(True, False)),
    OpInfo("matmul_fn", lambda lib, a, b: lib.matmul(a, b), [((2, 3), (3, 4))], "MmBackward0"),
    OpInfo("matmul_method", lambda lib, a, b: a.matmul(b), [((4, 2, 3), (3,))],
           "UnsafeViewBackward0"),
    OpInfo("rmatmul", lambda lib, a, b: a.__rmatmul__(b), [((3, 4), (2, 3))], "MmBackward0"),
    OpInfo("matmul_chain", lambda lib, a, b, c: (a @ b).tanh() @ c,
           [((4, 3), (3, 5), (5, 2))], "MmBackward0"),
    OpInfo("matmul_int", lambda lib, a, b: a @ b, [((2, 3), (3, 4)), ((2, 2, 3), (3,))],
           integer=True),
    # the named products
    OpInfo("mm", lambda lib, a, b: lib.mm(a, b), [((2, 3), (3, 4))], "MmBackward0"),
    OpInfo("mm_method_T", lambda lib, a, b: a.mm(b.mT), [((2, 3), (4, 3))], "MmBackward0"),
    OpInfo("bmm", lambda lib, a, b: lib.bmm(a, b), [((5, 2, 3), (5, 3, 4))], "BmmBackward0"),
    OpInfo("mv", lambda lib, a, b: lib.mv(a, b), [((2, 3), (3,))], "MvBackward0"),
    OpInfo("dot", lambda lib, a, b: lib.dot(a, b), [((3,), (3,))], "DotBackward0"),
    OpInfo("vdot", lambda lib, a, b: lib.vdot(a, b), [((3,), (3,))], "VdotBackward0"),
    OpInfo("outer", lambda lib, a, b: lib.outer(a, b), [((3,), (4,))], "MulBackward0"),
    OpInfo("ger", lambda lib, a, b: a.ger(b), [((3,), (2,))], "MulBackward0"),
    OpInfo("inner", lambda lib, a, b: lib.inner(a, b), [((2, 3), (4, 3)), ((3,), (3,))],
           "ViewBackward0"),
    OpInfo("tensordot", lambda lib, a, b: lib.tensordot(a, b, dims=2),
           [((2, 3, 4), (3, 4, 5))], "ViewBackward0"),
    OpInfo("tensordot_lists", lambda lib, a, b: lib.tensordot(a, b, dims=([1, 0], [0, 1])),
           [((3, 4, 5), (4, 3, 2))], "ViewBackward0"),
    OpInfo("linalg_mT_rule", lambda lib, a, b: (a @ b.mT).mT, [((2, 3), (4, 3))],
           "TransposeBackward0"),
    OpInfo("addmm", lambda lib, c, a, b: lib.addmm(c, a, b), [((2, 4), (2, 3), (3, 4)),
           ((4,), (2, 3), (3, 4)), ((1, 4), (2, 3), (3, 4)), ((), (2, 3), (3, 4))],
           "AddmmBackward0"),
    OpInfo("addmm_beta_alpha", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=-2),
           [((2, 4), (2, 3), (3, 4)), ((2, 1), (2, 3), (3, 4))], "AddmmBackward0"),
    OpInfo("addmm_beta0", lambda lib, c, a, b: c.addmm(a, b, beta=0),
           [((2, 4), (2, 3), (3, 4))], "AddmmBackward0"),
    OpInfo("trace", lambda lib, a: lib.trace(a), [((3, 3),), ((3, 5),), ((4, 2),)],
           "TraceBackward0"),
    OpInfo("det", lambda lib, a: lib.det(a), make=_square((3, 3), (2, 4, 4), (1, 1)),
           node="LinalgDetBackward0"),
    OpInfo("inverse", lambda lib, a: lib.inverse(a), make=_square((3, 3), (2, 4, 4)),
           node="LinalgInvExBackward0", atol=1e-4),
    OpInfo("cross", lambda lib, a, b: lib.cross(a, b, dim=-1),
           [((4, 3), (4, 3)), ((2, 1, 3), (2, 5, 3))], "LinalgCrossBackward0"),
    OpInfo("cross_dim0", lambda lib, a, b: a.cross(b, dim=0), [((3, 4), (3, 4))],
           "LinalgCrossBackward0"),
    # einsum: one node, named like torch's root node
    _ein("mm", "ij,jk->ik", [((2, 3), (3, 4))], "ViewBackward0"),
    _ein("bmm", "bij,bjk->bik", [((5, 2, 3), (5, 3, 4)), ((1, 2, 3), (5, 3, 4))],
         "ViewBackward0"),
    _ein("diag", "ii->i", [((3, 3),)], "PermuteBackward0"),
    _ein("trace", "ii", [((3, 3),)], "SumBackward1"),
    _ein("outer", "i,j->ij", [((2,), (3,))], "MulBackward0"),
    _ein("ellipsis_mm", "...ij,...jk", [((5, 2, 3), (5, 3, 4)), ((2, 3), (5, 3, 4)),
                                        ((4, 1, 2, 3), (5, 3, 4))], "ViewBackward0"),
    _ein("transpose", "ij->ji", [((2, 3),)], "PermuteBackward0"),
    _ein("implicit_transpose", "ji", [((2, 3),)], "PermuteBackward0"),
    _ein("attention", "bhqd,bhkd->bhqk", [((2, 3, 4, 5), (2, 3, 6, 5))], "ViewBackward0"),
    _ein("sum_all", "ij->", [((2, 3),)], "SumBackward1"),
    _ein("sum_rows", "ij->j", [((2, 3),)], "SumBackward1"),
    _ein("dot", "i,i", [((3,), (3,))], "ViewBackward0"),
    _ein("hadamard", "ij,ij->ij", [((2, 3), (2, 3)), ((2, 3), (1, 3))], "MulBackward0"),
    _ein("chain3", "ij,jk,kl->il", [((2, 3), (3, 4), (4, 5))], "ViewBackward0"),
    _ein("diag_sum", "iij->j", [((3, 3, 2),)], "SumBackward1"),
    _ein("two_diags", "ii,jj->ij", [((3, 3), (2, 2))], "MulBackward0"),
    _ein("summed_alone", "ij,k->k", [((2, 3), (4,))], "ViewBackward0"),
    _ein("broadcast_contract", "ij,i->j", [((1, 3), (4,)), ((4, 3), (4,))], "ViewBackward0"),
    _ein("scalar", "i,->i", [((3,), ())], "MulBackward0"),
    _ein("ellipsis_sum", "i...->...", [((2, 3, 4),)], "SumBackward1"),
    _ein("mixed", "b i j, b j k -> b k i", [((5, 2, 3), (5, 3, 4))], "ViewBackward0"),
    OpInfo("einsum_sublist", lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2], [2, 0]),
           [((2, 3), (3, 4))], "ViewBackward0"),
    OpInfo("einsum_list_arg", lambda lib, a, b: lib.einsum("ij,jk", [a, b]),
           [((2, 3), (3, 4))], "ViewBackward0"),
]
