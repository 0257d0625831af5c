"""Op table: shape ops (views, joins, splits, repeats, flips, rolls, triangles, diagonals)."""

import numpy as np

from tests.op_db import OpInfo

A = [((2, 3, 4),)]
M = [((3, 4),)]
V = [((5,),)]
S = [((),)]


def _mixed(*dtypes: type, shape: tuple = (3, 4)):
    """make= for inputs of several dtypes (promotion): float inputs uniform, ints small."""

    def make(rng: np.random.Generator) -> list:
        out = []
        for dt in dtypes:
            if np.dtype(dt).kind == "f":
                out.append(rng.uniform(-2, 2, size=shape).astype(dt))
            else:
                out.append(rng.integers(-3, 4, size=shape).astype(dt))
        return [out]

    return make


OPS = [
    # ---------------------------------------------------------------- reshape / view
    OpInfo("reshape", lambda lib, a: a.reshape(6, 4), A, "ViewBackward0"),
    OpInfo("reshape_infer", lambda lib, a: a.reshape(4, -1), A, "ViewBackward0"),
    OpInfo("reshape_tuple", lambda lib, a: lib.reshape(a, (-1, 2)), A, "ViewBackward0"),
    OpInfo("reshape_nonviewable", lambda lib, a: a.t().reshape(-1), M, "UnsafeViewBackward0"),
    OpInfo("reshape_alias", lambda lib, a: a.t().reshape(4, 1, 3), M, "ReshapeAliasBackward0"),
    OpInfo("flatten_alias", lambda lib, a: a.narrow(2, 1, 1).flatten(), A,
           "ReshapeAliasBackward0"),
    OpInfo("reshape_0d_to_1", lambda lib, a: a.reshape(1, 1), S, "ViewBackward0"),
    OpInfo("reshape_1_to_0d", lambda lib, a: a.reshape(()), [((1, 1),)], "ViewBackward0"),
    OpInfo("reshape_as", lambda lib, a, b: a.reshape_as(b), [((3, 4), (2, 6))], "ViewBackward0"),
    OpInfo("view", lambda lib, a: a.view(3, 8), A, "ViewBackward0"),
    OpInfo("view_infer", lambda lib, a: a.view(-1), A, "ViewBackward0"),
    OpInfo("view_list", lambda lib, a: a.view([2, 12]), A, "ViewBackward0"),
    OpInfo("view_0d", lambda lib, a: a.view(-1), S, "ViewBackward0"),
    OpInfo("view_as", lambda lib, a, b: a.view_as(b), [((2, 6), (3, 4))], "ViewBackward0"),
    OpInfo("view_chain", lambda lib, a: (a.view(6, 4) * 2).view(24).view(2, 3, 4), A,
           "ViewBackward0"),
    OpInfo("flatten", lambda lib, a: a.flatten(), A, "ViewBackward0"),
    OpInfo("flatten_range", lambda lib, a: a.flatten(1, -1), A, "ViewBackward0"),
    OpInfo("flatten_neg", lambda lib, a: a.flatten(-3, -2), A, "ViewBackward0"),
    OpInfo("flatten_noop", lambda lib, a: (a * 1).flatten(1, 1), A, "MulBackward0"),
    OpInfo("flatten_0d", lambda lib, a: a.flatten(), S, "ViewBackward0"),
    OpInfo("flatten_nonviewable", lambda lib, a: a.mT.flatten(1), A, "UnsafeViewBackward0"),
    OpInfo("unflatten", lambda lib, a: a.unflatten(2, (2, 2)), A, "ViewBackward0"),
    OpInfo("unflatten_infer", lambda lib, a: lib.unflatten(a, -2, (-1, 1)), A,
           "ViewBackward0"),
    # ---------------------------------------------------------------- permutations
    OpInfo("permute", lambda lib, a: a.permute(2, 0, 1), A, "PermuteBackward0"),
    OpInfo("permute_neg", lambda lib, a: a.permute(-1, 0, -2), A, "PermuteBackward0"),
    OpInfo("permute_tuple", lambda lib, a: lib.permute(a, (1, 2, 0)), A, "PermuteBackward0"),
    OpInfo("permute_0d", lambda lib, a: a.permute(()), S, "PermuteBackward0"),
    OpInfo("transpose", lambda lib, a: a.transpose(0, 2), A, "TransposeBackward0"),
    OpInfo("transpose_neg", lambda lib, a: lib.transpose(a, -1, -2), A, "TransposeBackward0"),
    OpInfo("transpose_same", lambda lib, a: a.transpose(1, 1), A, "TransposeBackward0"),
    OpInfo("transpose_0d", lambda lib, a: a.transpose(0, -1), S, "TransposeBackward0"),
    OpInfo("swapaxes", lambda lib, a: a.swapaxes(0, 1), A, "TransposeBackward0"),
    OpInfo("swapdims", lambda lib, a: lib.swapdims(a, 2, 0), A, "TransposeBackward0"),
    OpInfo("t", lambda lib, a: a.t(), M, "TBackward0"),
    OpInfo("t_1d", lambda lib, a: lib.t(a), V, "TBackward0"),
    OpInfo("t_0d", lambda lib, a: a.t(), S, "TBackward0"),
    OpInfo("T_2d", lambda lib, a: a.T, M, "PermuteBackward0"),
    OpInfo("mT", lambda lib, a: a.mT, A + M, "TransposeBackward0"),
    OpInfo("mH_real", lambda lib, a: a.mH, A, "TransposeBackward0"),
    OpInfo("H_real", lambda lib, a: a.H, M, "TransposeBackward0"),
    OpInfo("adjoint_real", lambda lib, a: a.adjoint(), M, "TransposeBackward0"),
    OpInfo("movedim", lambda lib, a: a.movedim(0, 2), A, "PermuteBackward0"),
    OpInfo("movedim_tuple", lambda lib, a: lib.movedim(a, (0, -1), (-1, 0)), A,
           "PermuteBackward0"),
    OpInfo("moveaxis", lambda lib, a: lib.moveaxis(a, 1, 0), A, "PermuteBackward0"),
    # ---------------------------------------------------------------- squeeze / unsqueeze
    OpInfo("squeeze", lambda lib, a: a.squeeze(), [((2, 1, 3, 1),)], "SqueezeBackward0"),
    OpInfo("squeeze_dim", lambda lib, a: a.squeeze(1), [((2, 1, 3),)], "SqueezeBackward1"),
    OpInfo("squeeze_dim_noop", lambda lib, a: a.squeeze(0), [((2, 1, 3),)],
           "SqueezeBackward1"),
    OpInfo("squeeze_neg", lambda lib, a: lib.squeeze(a, -1), [((2, 3, 1),)],
           "SqueezeBackward1"),
    OpInfo("squeeze_dims", lambda lib, a: a.squeeze((0, 2, 3)), [((1, 3, 1, 1),)],
           "SqueezeBackward2"),
    OpInfo("squeeze_0d", lambda lib, a: a.squeeze(), S, "SqueezeBackward0"),
    OpInfo("squeeze_0d_dim", lambda lib, a: a.squeeze(-1), S, "SqueezeBackward1"),
    OpInfo("unsqueeze", lambda lib, a: a.unsqueeze(1), A, "UnsqueezeBackward0"),
    OpInfo("unsqueeze_last", lambda lib, a: a.unsqueeze(-1), A, "UnsqueezeBackward0"),
    OpInfo("unsqueeze_first", lambda lib, a: lib.unsqueeze(a, 0), M, "UnsqueezeBackward0"),
    OpInfo("unsqueeze_0d", lambda lib, a: a.unsqueeze(0), S, "UnsqueezeBackward0"),
    OpInfo("unsqueeze_squeeze", lambda lib, a: a.unsqueeze(2).squeeze(2), M,
           "SqueezeBackward1"),
    OpInfo("atleast_2d", lambda lib, a: lib.atleast_2d(a), V, "UnsqueezeBackward0"),
    # ---------------------------------------------------------------- broadcasting / repeat
    OpInfo("expand", lambda lib, a: a.expand(2, 3, 4), [((3, 1),)], "ExpandBackward0"),
    OpInfo("expand_infer", lambda lib, a: a.expand(5, -1, 4), [((2, 1),)], "ExpandBackward0"),
    OpInfo("expand_same", lambda lib, a: a.expand(3, 4), M, "ExpandBackward0"),
    OpInfo("expand_0d", lambda lib, a: a.expand(2, 3), S, "ExpandBackward0"),
    OpInfo("expand_tuple", lambda lib, a: a.expand((4, 3, 4)), M, "ExpandBackward0"),
    OpInfo("expand_noncontig", lambda lib, a: a.t().expand(2, 4, 3), M, "ExpandBackward0"),
    OpInfo("expand_as", lambda lib, a, b: a.expand_as(b), [((4,), (3, 4))], "ExpandBackward0"),
    OpInfo("broadcast_to", lambda lib, a: lib.broadcast_to(a, (2, 3, 4)), [((3, 1),)],
           "ExpandBackward0"),
    OpInfo("broadcast_tensors", lambda lib, a, b: lib.broadcast_tensors(b, a),
           [((3, 1), (4,)), ((2, 3, 4), (3, 4))], "ExpandBackward0"),
    OpInfo("repeat", lambda lib, a: a.repeat(2, 1, 3), A, "RepeatBackward0"),
    OpInfo("repeat_lead", lambda lib, a: a.repeat(2, 3, 1), M, "RepeatBackward0"),
    OpInfo("repeat_0d", lambda lib, a: a.repeat(3, 2), S, "RepeatBackward0"),
    OpInfo("repeat_zero", lambda lib, a: a.repeat(0, 2), M, "RepeatBackward0"),
    OpInfo("tile", lambda lib, a: a.tile(2), M, "RepeatBackward0"),
    OpInfo("tile_func", lambda lib, a: lib.tile(a, (2, 1, 1)), M, "RepeatBackward0"),
    # ---------------------------------------------------------------- joins
    OpInfo("cat", lambda lib, a, b: lib.cat([a, b]), [((2, 4), (3, 4))], "CatBackward0"),
    OpInfo("cat_dim", lambda lib, a, b: lib.cat((a, b, a), -1), [((3, 2), (3, 4))],
           "CatBackward0"),
    OpInfo("cat_one", lambda lib, a: lib.cat([a], 1), M, "CatBackward0"),
    OpInfo("cat_legacy_empty", lambda lib, a, b: lib.cat([a, b], 1), [((3, 4), (0,))],
           "CatBackward0"),
    OpInfo("concat", lambda lib, a, b: lib.concat([a, b], 1), [((2, 1), (2, 3))],
           "CatBackward0"),
    OpInfo("concatenate", lambda lib, a, b: lib.concatenate([a, b], axis=0),
           [((1, 3), (2, 3))], "CatBackward0"),
    OpInfo("cat_promote_f64", lambda lib, a, b: lib.cat([a, b]), node="CatBackward0",
           make=_mixed(np.float32, np.float64)),
    OpInfo("cat_promote_int", lambda lib, a, b: lib.cat([b, a], 1), node="CatBackward0",
           make=_mixed(np.float32, np.int64)),
    OpInfo("cat_ints", lambda lib, a, b: lib.cat([a, b]), [((2, 3), (1, 3))], integer=True),
    OpInfo("stack", lambda lib, a, b: lib.stack([a, b]), [((3, 4), (3, 4))], "StackBackward0"),
    OpInfo("stack_dim", lambda lib, a, b: lib.stack((a, b, a), -1), [((3, 4), (3, 4))],
           "StackBackward0"),
    OpInfo("stack_0d", lambda lib, a, b: lib.stack([a, b]), [((), ())], "StackBackward0"),
    OpInfo("stack_promote", lambda lib, a, b: lib.stack([a, b], 1), node="StackBackward0",
           make=_mixed(np.float64, np.float32)),
    OpInfo("hstack", lambda lib, a, b: lib.hstack([a, b]), [((3, 2), (3, 4)), ((3,), (2,))],
           "CatBackward0"),
    OpInfo("vstack", lambda lib, a, b: lib.vstack([a, b]), [((2, 4), (4,))], "CatBackward0"),
    # ---------------------------------------------------------------- splits (multi-output)
    OpInfo("split", lambda lib, a: a.split(2, 2), A, "SplitBackward0"),
    OpInfo("split_uneven", lambda lib, a: lib.split(a, 3, dim=-1), A, "SplitBackward0"),
    OpInfo("split_single", lambda lib, a: a.split(4, 2), A, "SplitBackward0"),
    OpInfo("split_sizes", lambda lib, a: a.split([1, 3], 2), A, "SplitWithSizesBackward0"),
    OpInfo("split_sizes_zero", lambda lib, a: a.split([2, 0, 1], 1), A,
           "SplitWithSizesBackward0"),
    OpInfo("split_partial", lambda lib, a: a.split(1, 1)[2], A, "SplitBackward0"),
    OpInfo("split_stacked", lambda lib, a: lib.stack(a.split(2, 2)), A, "StackBackward0"),
    OpInfo("split_some", lambda lib, a: a.split([1, 2, 1], 2)[0] * a.split([1, 2, 1], 2)[2],
           A, "MulBackward0"),
    OpInfo("chunk", lambda lib, a: a.chunk(2, 2), A, "SplitBackward0"),
    OpInfo("chunk_uneven", lambda lib, a: lib.chunk(a, 3, -1), A, "SplitBackward0"),
    OpInfo("chunk_more", lambda lib, a: a.chunk(5, 1), A, "SplitBackward0"),
    OpInfo("chunk_partial", lambda lib, a: a.chunk(3, 1)[1], A, "SplitBackward0"),
    OpInfo("unbind", lambda lib, a: a.unbind(1), A, "UnbindBackward0"),
    OpInfo("unbind_1d", lambda lib, a: lib.unbind(a), V, "UnbindBackward0"),
    OpInfo("unbind_neg", lambda lib, a: a.unbind(-1), M, "UnbindBackward0"),
    OpInfo("unbind_partial", lambda lib, a: a.unbind(0)[1] * 2, M, "MulBackward0"),
    OpInfo("unbind_iter", lambda lib, a: [r * 1 for r in a], M, "MulBackward0"),
    OpInfo("narrow", lambda lib, a: a.narrow(1, 1, 2), A, "SliceBackward0"),
    OpInfo("narrow_neg", lambda lib, a: lib.narrow(a, -1, -3, 2), A, "SliceBackward0"),
    OpInfo("narrow_empty", lambda lib, a: a.narrow(0, 3, 0), M, "SliceBackward0"),
    # ---------------------------------------------------------------- flips, rolls, triangles
    OpInfo("flip", lambda lib, a: a.flip(0), A, "FlipBackward0"),
    OpInfo("flip_dims", lambda lib, a: lib.flip(a, (0, -1)), A, "FlipBackward0"),
    OpInfo("flip_none", lambda lib, a: a.flip(()), A, "FlipBackward0"),
    OpInfo("flip_0d", lambda lib, a: a.flip(0), S, "FlipBackward0"),
    OpInfo("fliplr", lambda lib, a: a.fliplr(), M, "FlipBackward0"),
    OpInfo("flipud", lambda lib, a: lib.flipud(a), A, "FlipBackward0"),
    OpInfo("roll", lambda lib, a: a.roll(1, 0), A, "RollBackward0"),
    OpInfo("roll_flat", lambda lib, a: a.roll(5), A, "RollBackward0"),
    OpInfo("roll_dims", lambda lib, a: lib.roll(a, (1, -2), (0, -1)), A, "RollBackward0"),
    OpInfo("roll_big", lambda lib, a: a.roll(-13, 2), A, "RollBackward0"),
    OpInfo("roll_0d", lambda lib, a: a.roll(1), S, "RollBackward0"),
    OpInfo("tril", lambda lib, a: a.tril(), M + A, "TrilBackward0"),
    OpInfo("tril_k", lambda lib, a: lib.tril(a, -1), M, "TrilBackward0"),
    OpInfo("triu", lambda lib, a: a.triu(), M + A, "TriuBackward0"),
    OpInfo("triu_k", lambda lib, a: lib.triu(a, 2), M, "TriuBackward0"),
    # ---------------------------------------------------------------- diagonals
    OpInfo("diagonal", lambda lib, a: a.diagonal(), M, "DiagonalBackward0"),
    OpInfo("diagonal_offset", lambda lib, a: lib.diagonal(a, 1, 2, 0), A,
           "DiagonalBackward0"),
    OpInfo("diagonal_neg", lambda lib, a: a.diagonal(-1), M, "DiagonalBackward0"),
    OpInfo("diag_matrix", lambda lib, a: lib.diag(a, 1), M, "DiagonalBackward0_copy"),
    OpInfo("diag_vector", lambda lib, a: a.diag(), V, "DiagEmbedBackward0"),
    OpInfo("diag_vector_k", lambda lib, a: lib.diag(a, -2), V, "DiagEmbedBackward0"),
    OpInfo("diag_embed", lambda lib, a: a.diag_embed(), M, "DiagEmbedBackward0"),
    OpInfo("diag_embed_dims", lambda lib, a: lib.diag_embed(a, 1, 0, 2), M,
           "DiagEmbedBackward0"),
    OpInfo("diagonal_scatter", lambda lib, a, b: lib.diagonal_scatter(a, b, 1),
           [((3, 4), (3,))], "DiagonalScatterBackward0"),
    # ---------------------------------------------------------------- compositions
    OpInfo("view_ops_chain", lambda lib, a: a.permute(2, 0, 1).reshape(4, 6).t().unsqueeze(0)
           .expand(2, 6, 4).narrow(1, 1, 3).flatten(), A, "UnsafeViewBackward0"),
    OpInfo("split_cat_roundtrip", lambda lib, a: lib.cat(a.chunk(3, 1)[::-1], 1) * a, A,
           "MulBackward0"),
]
