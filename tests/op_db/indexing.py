"""Op table: indexing (x[i] basic/advanced, gather/scatter, index_*, masks, take, nonzero).

Index tensors are built inside the lambdas (``lib.tensor([...])``) so they are the same on both
libraries; masks come from fixed patterns so finite differences never flip them.
"""

import numpy as np

from tests.op_db import OpInfo

A = [((3, 4, 5),)]
M = [((3, 4),)]
V = [((6,),)]
S = [((),)]
MASK34 = [[True, False, True, True], [False, False, False, True], [True, True, False, False]]


def _t(lib, v, **kw):
    return lib.tensor(v, **kw)


def _double(fn):
    """d/dx of sum(fn(x)**2), built with create_graph: checks the double backward of fn."""

    def run(lib, x):
        with lib.enable_grad():
            xx = x if x.requires_grad else x.detach().requires_grad_()
            y = fn(lib, xx)
            (g,) = lib.autograd.grad((y * y).sum(), xx, create_graph=True)
        return g

    return run


def _int_data(*shapes):
    def make(rng):
        return [[rng.integers(-1, 2, size=s).astype(np.int64) for s in shapes]]

    return make


OPS = [
    # ---------------------------------------------------------------- basic indexing (views)
    OpInfo("getitem_int", lambda lib, a: a[1], A, "SelectBackward0"),
    OpInfo("getitem_neg_int", lambda lib, a: a[-1], A, "SelectBackward0"),
    OpInfo("getitem_int_1d", lambda lib, a: a[2], V, "SelectBackward0"),
    OpInfo("getitem_ints", lambda lib, a: a[0, -2, 3], A, "SelectBackward0"),
    OpInfo("getitem_slice", lambda lib, a: a[1:], A, "SliceBackward0"),
    OpInfo("getitem_slice_full", lambda lib, a: a[:], A, "SliceBackward0"),
    OpInfo("getitem_slice_step", lambda lib, a: a[::2, 1::3], A, "SliceBackward0"),
    OpInfo("getitem_slice_neg", lambda lib, a: a[-2:, :-1], A, "SliceBackward0"),
    OpInfo("getitem_slice_empty", lambda lib, a: a[2:1], A, "SliceBackward0"),
    OpInfo("getitem_slice_int", lambda lib, a: a[1:, 0], A, "SelectBackward0"),
    OpInfo("getitem_int_slice", lambda lib, a: a[0, 1:3], A, "SliceBackward0"),
    OpInfo("getitem_colon_int", lambda lib, a: a[:, 2], A, "SelectBackward0"),
    OpInfo("getitem_none", lambda lib, a: a[None], A, "UnsqueezeBackward0"),
    OpInfo("getitem_int_none", lambda lib, a: a[0, None], A, "UnsqueezeBackward0"),
    OpInfo("getitem_none_int", lambda lib, a: a[None, 0], A, "SelectBackward0"),
    OpInfo("getitem_ellipsis", lambda lib, a: a[...], A, "AliasBackward0"),
    OpInfo("getitem_ellipsis_int", lambda lib, a: a[..., 0], A, "SelectBackward0"),
    OpInfo("getitem_ellipsis_none", lambda lib, a: a[..., None], A, "UnsqueezeBackward0"),
    OpInfo("getitem_full_tuple", lambda lib, a: a[:, :, :], A, "AliasBackward0"),
    OpInfo("getitem_empty_tuple", lambda lib, a: a[()], A, "AliasBackward0"),
    OpInfo("getitem_0d_none", lambda lib, a: a[None], S, "UnsqueezeBackward0"),
    OpInfo("getitem_0d_ellipsis", lambda lib, a: a[...], S, "AliasBackward0"),
    OpInfo("getitem_tensor_0d", lambda lib, a: a[_t(lib, 1)], A, "SelectBackward0"),
    OpInfo("getitem_chain", lambda lib, a: a[1:][0][None, :, 1::2], A, "SliceBackward0"),
    # ---------------------------------------------------------------- advanced indexing (copies)
    OpInfo("getitem_list", lambda lib, a: a[[0, 2, 0]], A, "IndexBackward0"),
    OpInfo("getitem_list_neg", lambda lib, a: a[[-1, -3, -1]], A, "IndexBackward0"),
    OpInfo("getitem_long_tensor", lambda lib, a: a[_t(lib, [[2, 0], [0, 0]])], A,
           "IndexBackward0"),
    OpInfo("getitem_int32_tensor", lambda lib, a: a[_t(lib, [1, 1], dtype=lib.int32)], A,
           "IndexBackward0"),
    OpInfo("getitem_numpy", lambda lib, a: a[np.array([2, 0, 2])], A, "IndexBackward0"),
    OpInfo("getitem_mask", lambda lib, a: a[_t(lib, MASK34)], A, "IndexBackward0"),
    OpInfo("getitem_mask_1d", lambda lib, a: a[:, _t(lib, [True, False, True, True])], A,
           "IndexBackward0"),
    OpInfo("getitem_mask_full", lambda lib, a: a[_t(lib, MASK34)], M, "IndexBackward0"),
    OpInfo("getitem_bool_list", lambda lib, a: a[[True, False, True]], A, "IndexBackward0"),
    OpInfo("getitem_true", lambda lib, a: a[True], A, "IndexBackward0"),
    OpInfo("getitem_false", lambda lib, a: a[False], A, "IndexBackward0"),
    OpInfo("getitem_true_mid", lambda lib, a: a[:, True], A, "IndexBackward0"),
    OpInfo("getitem_int_list", lambda lib, a: a[0, [1, 1, 3]], A, "IndexBackward0"),
    OpInfo("getitem_slice_list", lambda lib, a: a[1:, [0, 0]], A, "IndexBackward0"),
    OpInfo("getitem_int_sep", lambda lib, a: a[0, :, [0, 1]], A, "IndexBackward0"),
    OpInfo("getitem_lists_sep", lambda lib, a: a[[0, 1], :, [4, 1]], A, "IndexBackward0"),
    OpInfo("getitem_lists_bcast", lambda lib, a: a[[[0], [2]], [0, 1, 3]], A, "IndexBackward0"),
    OpInfo("getitem_list_none", lambda lib, a: a[[0, 1], None, [0, 1]], A, "IndexBackward0"),
    OpInfo("getitem_ellipsis_list", lambda lib, a: a[..., [0, 4, 4]], A, "IndexBackward0"),
    OpInfo("getitem_mask_then_int", lambda lib, a: a[_t(lib, MASK34), 0], A, "IndexBackward0"),
    OpInfo("getitem_empty_list", lambda lib, a: a[[]], A, "IndexBackward0"),
    OpInfo("getitem_0d_mask", lambda lib, a: a[_t(lib, True)], S, "IndexBackward0"),
    OpInfo("getitem_double_basic", _double(lambda lib, a: a[1, 1:]), M,
           "SelectBackwardBackward0"),
    OpInfo("getitem_double_slice", _double(lambda lib, a: a[::2]), M, "SliceBackwardBackward0"),
    OpInfo("getitem_double_adv", _double(lambda lib, a: a[[0, 0, 2], 1:]), M,
           "SliceBackwardBackward0"),
    OpInfo("getitem_double_list", _double(lambda lib, a: a[[0, 0, 2]]), M,
           "IndexPutImplBackward0"),
    OpInfo("getitem_double_mask", _double(lambda lib, a: a[_t(lib, MASK34)]), M,
           "IndexPutImplBackward0"),
    # ---------------------------------------------------------------- gather / scatter
    OpInfo("gather", lambda lib, a: a.gather(1, _t(lib, [[0, 0], [3, 1], [2, 2]])), M,
           "GatherBackward0"),
    OpInfo("gather_dim0", lambda lib, a: lib.gather(a, 0, _t(lib, [[0, 2, 2, 1]])), M,
           "GatherBackward0"),
    OpInfo("gather_3d", lambda lib, a: a.gather(-1, _t(lib, [[[4, 0]], [[1, 1]]])), A,
           "GatherBackward0"),
    OpInfo("gather_1d_0d", lambda lib, a: a.gather(0, _t(lib, 3)), V, "GatherBackward0"),
    OpInfo("gather_double", _double(lambda lib, a: a.gather(1, _t(lib, [[0, 0], [3, 1]]))), M,
           "ScatterAddBackward0"),
    OpInfo("scatter_src", lambda lib, a, s: a.scatter(1, _t(lib, [[0, 2], [1, 3]]), s),
           [((3, 4), (2, 2))], "ScatterBackward0"),
    OpInfo("scatter_value", lambda lib, a: a.scatter(1, _t(lib, [[0, 2], [1, 3]]), 2.5), M,
           "ScatterBackward1"),
    OpInfo("scatter_value_kw", lambda lib, a: lib.scatter(a, 0, _t(lib, [[2, 0, 1, 1]]),
                                                          value=-1.0), M, "ScatterBackward1"),
    OpInfo("scatter_reduce_add", lambda lib, a, s: a.scatter(1, _t(lib, [[0, 0]]), s,
                                                             reduce="add"),
           [((3, 4), (1, 2))], "torch::autograd::NotImplemented", grad=False),
    OpInfo("scatter_add", lambda lib, a, s: a.scatter_add(1, _t(lib, [[0, 0], [1, 0]]), s),
           [((3, 4), (2, 2))], "ScatterAddBackward0"),
    OpInfo("scatter_add_dim0", lambda lib, a, s: lib.scatter_add(
        a, 0, _t(lib, [[0, 0, 0, 0], [0, 2, 2, 2]]), s), [((3, 4), (2, 4))],
        "ScatterAddBackward0"),
    OpInfo("take_along_dim", lambda lib, a: lib.take_along_dim(a, _t(lib, [[0], [3], [2]]), 1),
           M, "GatherBackward0"),
    OpInfo("take_along_dim_bcast", lambda lib, a: lib.take_along_dim(
        a, _t(lib, [[0, 1, 1, 0]]), 0), M, "GatherBackward0"),
    OpInfo("take_along_dim_flat", lambda lib, a: lib.take_along_dim(a, _t(lib, [0, 11, 5, 5])),
           M, "GatherBackward0"),
    # ---------------------------------------------------------------- index_* / take
    OpInfo("index_select", lambda lib, a: a.index_select(1, _t(lib, [0, 0, 3])), M,
           "IndexSelectBackward0"),
    OpInfo("index_select_0d_index", lambda lib, a: lib.index_select(a, 0, _t(lib, 2)), M,
           "IndexSelectBackward0"),
    OpInfo("index_select_double", _double(lambda lib, a: a.index_select(0, _t(lib, [2, 2]))),
           M, "IndexAddBackward0"),
    OpInfo("index_add", lambda lib, a, s: a.index_add(0, _t(lib, [2, 0, 2]), s),
           [((3, 4), (3, 4))], "IndexAddBackward0"),
    OpInfo("index_add_alpha", lambda lib, a, s: lib.index_add(a, 1, _t(lib, [3, 3]), s,
                                                             alpha=-2.0),
           [((3, 4), (3, 2))], "IndexAddBackward0"),
    OpInfo("index_put", lambda lib, a, v: a.index_put((_t(lib, [0, 2]),), v),
           [((3, 4), (2, 4)), ((3, 4), (4,))], "IndexPutBackward0"),
    OpInfo("index_put_accumulate", lambda lib, a, v: a.index_put(
        (_t(lib, [0, 0, 1]), _t(lib, [1, 1, 3])), v, accumulate=True),
        [((3, 4), (3,)), ((3, 4), ())], "IndexPutBackward0"),
    OpInfo("index_put_mask", lambda lib, a, v: a.index_put((_t(lib, MASK34),), v),
           [((3, 4), ())], "IndexPutBackward0"),
    OpInfo("take", lambda lib, a: a.take(_t(lib, [[0, 11], [-1, 3], [3, 3]])), M,
           "TakeBackward0"),
    OpInfo("take_0d", lambda lib, a: lib.take(a, _t(lib, [0, -1, 0])), S, "TakeBackward0"),
    # ---------------------------------------------------------------- masks
    OpInfo("masked_fill", lambda lib, a: a.masked_fill(_t(lib, MASK34), 1.5), M,
           "MaskedFillBackward0"),
    OpInfo("masked_fill_bcast", lambda lib, a: a.masked_fill(_t(lib, [True, False, False, True]),
                                                             -1), M, "MaskedFillBackward0"),
    OpInfo("masked_fill_tensor", lambda lib, a, v: a.masked_fill(_t(lib, MASK34), v),
           [((3, 4), ())], "MaskedFillBackward1"),
    OpInfo("masked_fill_grow", lambda lib, a, v: lib.masked_fill(a, _t(lib, [[MASK34[0]]]), v),
           [((3, 4), ())], "MaskedFillBackward1"),
    OpInfo("masked_select", lambda lib, a: a.masked_select(_t(lib, MASK34)), M,
           "MaskedSelectBackward0"),
    OpInfo("masked_select_bcast", lambda lib, a: lib.masked_select(a, _t(lib, MASK34)),
           [((4,),)], "MaskedSelectBackward0"),
    # ---------------------------------------------------------------- nonzero
    OpInfo("nonzero", lambda lib, a: a.nonzero(), integer=True, make=_int_data((3, 4))),
    OpInfo("nonzero_tuple", lambda lib, a: lib.nonzero(a, as_tuple=True), integer=True,
           make=_int_data((3, 4))),
    OpInfo("nonzero_0d", lambda lib, a: a.nonzero(), integer=True, make=_int_data(())),
    OpInfo("argwhere", lambda lib, a: lib.argwhere(a), integer=True, make=_int_data((2, 3, 2))),
    OpInfo("where_one_arg", lambda lib, a: lib.where(a), integer=True, make=_int_data((5,))),
]
