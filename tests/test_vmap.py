"""ember.func.vmap: every batching rule against a Python loop and against torch.func.vmap.

Each case is a lambda source run with ``torch`` bound to ember (and to torch for the oracle), the
inputs described by kind and shape, and vmap's in_dims/out_dims.  The loop oracle applies the
same lambda to each example and stacks the results along out_dims.
"""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF_nn
from ember.func import vmap

CASES = [
    # pointwise / binary / broadcasting
    ("exp_sin", "lambda x: x.exp() * x.sin()", [("f", (4, 3))], 0, 0),
    ("add_unbatched", "lambda x, y: x + y", [("f", (4, 3)), ("f", (2, 3))], (0, None), 0),
    ("add_bcast_rank", "lambda x, y: x * y", [("f", (4, 3)), ("f", (5, 4, 3))], (0, 1), 0),
    ("radd_plain", "lambda x, y: y - x", [("f", (4, 3)), ("f", (3,))], (0, None), 0),
    ("scalar_ops", "lambda x: 2 ** x + 1 / (x.abs() + 1) - 3 % (x.abs() + 1)", [("f", (4, 3))], 0, 0),
    ("compare", "lambda x, y: (x > y).float() + (x <= 0.1).float()", [("f", (4, 3)), ("f", (4, 3))], 0, 0),
    ("where", "lambda x, y: torch.where(x > 0, x, y)", [("f", (4, 3)), ("f", (3,))], (0, None), 0),
    ("where_cond_batched", "lambda c, y: torch.where(c, 1.0, y)", [("b", (4, 3)), ("f", (3,))], (0, None), 0),
    ("clamp", "lambda x, lo: x.clamp(min=lo) + torch.clamp(x, lo, lo + 1)", [("f", (4, 3)), ("f", (4,))], 0, 0),
    ("clamp_scalar", "lambda x: torch.clamp(x, -0.2, 0.3)", [("f", (4, 3))], 0, 0),
    ("lerp_addcmul", "lambda x, y: torch.lerp(x, y, 0.3) + torch.addcmul(x, x, y, value=2)", [("f", (4, 3)), ("f", (4, 3))], 0, 0),
    ("promote0d", "lambda x, s: x + s", [("f32", (4, 3)), ("f", (4,))], 0, 0),
    ("maximum", "lambda x, y: torch.maximum(x, y)", [("f", (4, 3)), ("f", (3, 4))], (0, 1), 0),
    ("pow_tensor", "lambda x, y: x.abs() ** y", [("f", (4, 3)), ("f", (4, 3))], 0, 0),
    ("masked_fill", "lambda x, m: x.masked_fill(m, 0.5)", [("f", (4, 3)), ("b", (4, 3))], 0, 0),
    ("masked_fill_unbatched_mask", "lambda x, m: x.masked_fill(m, -1.0)", [("f", (4, 3)), ("b", (3,))], (0, None), 0),
    ("to_dtype", "lambda x: x.to(torch.float32).double() + x.int()", [("f", (4, 3))], 0, 0),
    ("zeros_like", "lambda x: torch.zeros_like(x) + torch.ones_like(x) * x", [("f", (4, 3))], 0, 0),
    # reductions
    ("sum_all", "lambda x: x.sum()", [("f", (4, 3))], 0, 0),
    ("sum_dim0", "lambda x: x.sum(0)", [("f", (4, 3, 2))], 0, 0),
    ("sum_tuple_keep", "lambda x: torch.sum(x, (0, -1), keepdim=True)", [("f", (4, 3, 2))], 0, 0),
    ("mean0", "lambda x: x - x.mean(0)", [("f", (4, 3, 2))], 1, 0),
    ("mean_all_0d", "lambda x: x.mean()", [("f", (4,))], 0, 0),
    ("prod_all", "lambda x: x.prod() + x.prod(1).sum()", [("f", (4, 3, 2))], 0, 0),
    ("max_dim", "lambda x: x.max(0)", [("f", (4, 3, 2))], 0, 0),
    ("max_all", "lambda x: x.max() + x.min()", [("f", (4, 3, 2))], 0, 0),
    ("amax", "lambda x: x.amax(-1) + x.amin()", [("f", (4, 3, 2))], 0, 0),
    ("argmax", "lambda x: x.argmax() + x.argmin(0)", [("f", (4, 3, 2))], 0, 0),
    ("std_var", "lambda x: x.std(0) + x.var() + x.std(1, keepdim=True).sum()", [("f", (4, 3, 2))], 0, 0),
    ("logsumexp", "lambda x: x.logsumexp(0)", [("f", (4, 3, 2))], 0, 0),
    ("norm", "lambda x: x.norm() + x.norm(dim=0).sum()", [("f", (4, 3, 2))], 0, 0),
    ("all_any", "lambda x: (x > 0).all(0).float() + (x > 0).any().float()", [("f", (4, 3, 2))], 0, 0),
    ("median", "lambda x: x.median() + x.median(0).values.sum()", [("f", (4, 5, 3))], 0, 0),
    ("cumsum", "lambda x: x.cumsum(0) + x.cumprod(-1)", [("f", (4, 3, 2))], 0, 0),
    ("softmax", "lambda x: x.softmax(-1) + x.log_softmax(0)", [("f", (4, 3, 2))], 0, 0),
    ("aminmax", "lambda x: torch.aminmax(x, dim=0)", [("f", (4, 3, 2))], 0, 0),
    ("var_mean", "lambda x: torch.var_mean(x, 0)", [("f", (4, 3, 2))], 0, 0),
    # shape
    ("T", "lambda x: x.T", [("f", (4, 3, 2))], 0, 0),
    ("t", "lambda x: x.t() @ x", [("f", (4, 3, 2))], 0, 0),
    ("mT", "lambda x: x.mT", [("f", (4, 3, 2, 5))], 0, 0),
    ("reshape", "lambda x: x.reshape(-1)", [("f", (4, 3, 2))], 0, 0),
    ("reshape_in1", "lambda x: x.reshape(2, 3)", [("f", (3, 4, 2))], 1, 0),
    ("view", "lambda x: x.view(2, 3)", [("f", (4, 6))], 0, 0),
    ("flatten", "lambda x: x.flatten() + x.flatten(1).sum()", [("f", (4, 3, 2))], 0, 0),
    ("permute", "lambda x: x.permute(2, 0, 1)", [("f", (4, 3, 2, 5))], 0, 0),
    ("transpose", "lambda x: x.transpose(0, 1)", [("f", (4, 3, 2))], 0, 0),
    ("squeeze", "lambda x: x.squeeze()", [("f", (1, 3, 1))], 0, 0),
    ("squeeze_dim", "lambda x: x.squeeze(1).unsqueeze(0).unsqueeze(-1)", [("f", (4, 3, 1))], 0, 0),
    ("expand", "lambda x: x.expand(5, 3)", [("f", (4, 3))], 0, 0),
    ("expand_as", "lambda x, y: x.expand_as(y)", [("f", (4, 1, 3)), ("f", (2, 3))], (0, None), 0),
    ("movedim", "lambda x: x.movedim(0, -1)", [("f", (4, 3, 2, 5))], 0, 0),
    ("unflatten", "lambda x: x.unflatten(0, (2, 3))", [("f", (4, 6))], 0, 0),
    ("narrow", "lambda x: x.narrow(0, 1, 2)", [("f", (4, 5))], 0, 0),
    ("unbind", "lambda x: x.unbind(0)", [("f", (4, 2, 3))], 0, 0),
    ("split", "lambda x: x.split(2, dim=-1)", [("f", (4, 3, 5))], 0, 0),
    ("chunk", "lambda x: x.chunk(2, 0)", [("f", (4, 4, 3))], 0, 0),
    ("repeat", "lambda x: x.repeat(2, 1, 2)", [("f", (4, 3, 2))], 0, 0),
    ("flip_roll", "lambda x: x.flip(0) + x.roll(1, 1) + x.roll(2)", [("f", (4, 3, 2))], 0, 0),
    ("tril", "lambda x: x.tril() + x.triu(1)", [("f", (4, 3, 3))], 0, 0),
    ("diagonal", "lambda x: x.diagonal() + torch.diag(x).sum() + x.trace()", [("f", (4, 3, 3))], 0, 0),
    ("diag_embed", "lambda x: torch.diag_embed(x) + torch.diag(x)", [("f", (4, 3))], 0, 0),
    # indexing
    ("index_int", "lambda x: x[0]", [("f", (4, 3, 2))], 0, 0),
    ("index_slice", "lambda x: x[1:, ::2]", [("f", (4, 3, 5))], 0, 0),
    ("index_ellipsis_none", "lambda x: x[..., None, 0]", [("f", (4, 3, 5))], 0, 0),
    ("index_list", "lambda x: x[[0, 2, 2]]", [("f", (4, 3, 5))], 0, 0),
    ("index_adv_sep", "lambda x: x[[0, 1], :, [1, 2]]", [("f", (4, 3, 5, 4))], 0, 0),
    ("index_adv_after_slice", "lambda x: x[:, [0, 1]]", [("f", (4, 3, 5))], 0, 0),
    ("index_mask_plain", "lambda x, m: x[m]", [("f", (4, 3)), ("c", [True, False, True])], (0, None), 0),
    ("index_batched_idx", "lambda w, i: w[i]", [("f", (5, 3)), ("i", (4, 2), 5)], (None, 0), 0),
    ("index_batched_both", "lambda w, i: w[i]", [("f", (4, 5, 3)), ("i", (4, 2), 5)], 0, 0),
    ("index_batched_after_slice", "lambda w, i: w[:, i]", [("f", (4, 3, 5)), ("i", (4, 2), 5)], 0, 0),
    ("gather", "lambda x, i: x.gather(1, i)", [("f", (4, 3, 5)), ("i", (4, 3, 2), 5)], 0, 0),
    ("gather_unbatched_idx", "lambda x, i: torch.gather(x, 0, i)", [("f", (4, 3, 5)), ("i", (2, 5), 3)], (0, None), 0),
    ("index_select", "lambda x, i: x.index_select(1, i)", [("f", (4, 3, 5)), ("i", (4, 2), 5)], 0, 0),
    ("index_select_plain", "lambda x, i: x.index_select(0, i)", [("f", (4, 3, 5)), ("i", (2,), 3)], (0, None), 0),
    ("scatter_add", "lambda x, i, s: x.scatter_add(1, i, s)", [("f", (4, 3, 5)), ("i", (4, 3, 2), 5), ("f", (4, 3, 2))], 0, 0),
    ("take_along_dim", "lambda x, i: torch.take_along_dim(x, i, 1)", [("f", (4, 3, 5)), ("i", (4, 3, 2), 5)], 0, 0),
    # linalg
    ("matvec_1d", "lambda x, w: x @ w", [("f", (4, 3)), ("f", (3, 5))], (0, None), 0),
    ("matmul_batched_w", "lambda x, w: x @ w", [("f", (4, 3)), ("f", (4, 3, 5))], 0, 0),
    ("matmul_2d", "lambda x, w: w @ x", [("f", (4, 3, 2)), ("f", (5, 3))], (0, None), 0),
    ("matmul_nd", "lambda x, w: x @ w", [("f", (4, 2, 2, 3)), ("f", (3, 5))], (0, None), 0),
    ("matmul_vec_rhs", "lambda x, v: x @ v", [("f", (4, 2, 3)), ("f", (4, 3))], 0, 0),
    ("dot", "lambda x, y: torch.dot(x, y)", [("f", (4, 3)), ("f", (4, 3))], 0, 0),
    ("dot_unbatched", "lambda x, y: torch.dot(x, y)", [("f", (4, 3)), ("f", (3,))], (0, None), 0),
    ("mv_mm", "lambda m, v: torch.mv(m, v) + torch.mm(m, m.T).sum(1)", [("f", (4, 3, 3)), ("f", (3,))], (0, None), 0),
    ("outer", "lambda x, y: torch.outer(x, y)", [("f", (4, 3)), ("f", (4, 2))], 0, 0),
    ("bmm", "lambda x, y: torch.bmm(x, y)", [("f", (4, 2, 3, 2)), ("f", (2, 2, 5))], (0, None), 0),
    ("einsum", "lambda x, y: torch.einsum('ij,jk->ik', x, y)", [("f", (4, 2, 3)), ("f", (3, 5))], (0, None), 0),
    ("einsum_implicit", "lambda x, y: torch.einsum('ij,jk', x, y)", [("f", (4, 2, 3)), ("f", (4, 3, 5))], 0, 0),
    ("einsum_ellipsis", "lambda x, y: torch.einsum('...i,i->...', x, y)", [("f", (4, 2, 3)), ("f", (4, 3))], 0, 0),
    ("tensordot", "lambda x, y: torch.tensordot(x, y, 1)", [("f", (4, 2, 3)), ("f", (3, 5))], (0, None), 0),
    ("inner", "lambda x, y: torch.inner(x, y)", [("f", (4, 2, 3)), ("f", (5, 3))], (0, None), 0),
    ("addmm", "lambda b, x, w: torch.addmm(b, x, w, beta=0.5, alpha=2)", [("f", (5,)), ("f", (4, 2, 3)), ("f", (3, 5))], (None, 0, None), 0),
    ("det_inv", "lambda x: torch.det(x) + torch.inverse(x).sum()", [("f", (4, 3, 3))], 0, 0),
    ("cross", "lambda x, y: torch.cross(x, y, dim=-1)", [("f", (4, 2, 3)), ("f", (2, 3))], (0, None), 0),
    # joins
    ("stack", "lambda x, y: torch.stack([x, y])", [("f", (4, 3)), ("f", (3,))], (0, None), 0),
    ("stack_dim", "lambda x, y: torch.stack([x, y], dim=-1)", [("f", (4, 3)), ("f", (4, 3))], 0, 0),
    ("cat", "lambda x, y: torch.cat([x, y, x], dim=0)", [("f", (4, 3)), ("f", (2,))], (0, None), 0),
    ("cat_dim1", "lambda x, y: torch.cat([x, y], 1)", [("f", (4, 2, 3)), ("f", (2, 1))], (0, None), 0),
    ("hstack_vstack", "lambda x, y: torch.vstack([x, y]).sum() + torch.hstack([x, y])", [("f", (4, 3)), ("f", (3,))], (0, None), 0),
    # nn.functional
    ("F_act", "lambda x: F.relu(x) + F.gelu(x) + F.silu(x) + F.leaky_relu(x, 0.2) + F.elu(x) + F.softplus(x) + F.hardtanh(x) + torch.tanh(x) + torch.sigmoid(x)", [("f", (4, 3))], 0, 0),
    ("F_softmax", "lambda x: F.softmax(x, dim=-1) + F.log_softmax(x, 0) + F.softmin(x, 1)", [("f", (4, 3, 2))], 0, 0),
    ("F_linear", "lambda x, w, b: F.linear(x, w, b)", [("f", (4, 3)), ("f", (5, 3)), ("f", (5,))], (0, None, None), 0),
    ("F_linear_batched_w", "lambda x, w, b: F.linear(x, w, b)", [("f", (4, 2, 3)), ("f", (4, 5, 3)), ("f", (5,))], (0, 0, None), 0),
    ("F_mse", "lambda x, y: F.mse_loss(x, y)", [("f", (4, 3)), ("f", (4, 3))], 0, 0),
    ("F_mse_sum_unb", "lambda x, y: F.mse_loss(x, y, reduction='sum')", [("f", (4, 3)), ("f", (3,))], (0, None), 0),
    ("F_mse_none", "lambda x, y: F.mse_loss(x, y, reduction='none')", [("f", (4, 3)), ("f", (4, 3))], 0, 0),
    ("F_l1_smooth", "lambda x, y: F.l1_loss(x, y) + F.smooth_l1_loss(x, y) + F.huber_loss(x, y)", [("f", (4, 3)), ("f", (4, 3))], 0, 0),
    ("F_bce", "lambda x, y: F.binary_cross_entropy_with_logits(x, y) + F.binary_cross_entropy(torch.sigmoid(x), y)", [("f", (4, 3)), ("u", (4, 3))], 0, 0),
    ("F_ce_1d", "lambda x, t: F.cross_entropy(x, t)", [("f", (4, 5)), ("i", (4,), 5)], 0, 0),
    ("F_ce_2d", "lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1)", [("f", (4, 3, 5)), ("i", (4, 3), 5)], 0, 0),
    ("F_ce_weight", "lambda x, t, w: F.cross_entropy(x, t, weight=w)", [("f", (4, 3, 5)), ("i", (4, 3), 5), ("p", (5,))], (0, 0, None), 0),
    ("F_ce_prob", "lambda x, t: F.cross_entropy(x, t.softmax(-1))", [("f", (4, 3, 5)), ("f", (4, 3, 5))], 0, 0),
    ("F_nll_sum", "lambda x, t: F.nll_loss(x.log_softmax(-1), t, reduction='sum')", [("f", (4, 3, 5)), ("i", (4, 3), 5)], 0, 0),
    ("F_layer_norm", "lambda x, w, b: F.layer_norm(x, (3,), w, b)", [("f", (4, 2, 3)), ("f", (3,)), ("f", (3,))], (0, None, None), 0),
    ("F_embedding", "lambda i, w: F.embedding(i, w)", [("i", (4, 3), 6), ("f", (6, 2))], (0, None), 0),
    ("F_one_hot", "lambda i: F.one_hot(i, 5)", [("i", (4, 3), 5)], 0, 0),
    ("F_normalize_cos", "lambda x, y: F.normalize(x, dim=-1) + F.cosine_similarity(x, y, dim=-1).unsqueeze(-1)", [("f", (4, 2, 3)), ("f", (2, 3))], (0, None), 0),
    ("F_pad", "lambda x: F.pad(x, (1, 2))", [("f", (4, 2, 3))], 0, 0),
    ("F_pad_reflect", "lambda x: F.pad(x, (1, 1), mode='reflect')", [("f", (4, 2, 3))], 0, 0),
    ("F_conv2d", "lambda x, w, b: F.conv2d(x, w, b, padding=1)", [("f", (4, 2, 5, 5)), ("f", (3, 2, 3, 3)), ("f", (3,))], (0, None, None), 0),
    ("F_conv2d_batched", "lambda x, w: F.conv2d(x, w, stride=2)", [("f", (4, 1, 2, 5, 5)), ("f", (4, 3, 2, 3, 3))], 0, 0),
    ("F_conv1d", "lambda x, w: F.conv1d(x, w)", [("f", (4, 2, 6)), ("f", (3, 2, 2))], (0, None), 0),
    ("F_pool", "lambda x: F.max_pool2d(x, 2) + F.avg_pool2d(x, 2)", [("f", (4, 2, 4, 4))], 0, 0),
    ("F_group_norm", "lambda x: F.group_norm(x, 2)", [("f", (4, 3, 4, 5))], 0, 0),
    ("F_batch_norm_eval", "lambda x, m, v: F.batch_norm(x, m, v)", [("f", (4, 3, 4)), ("f", (4,)), ("p", (4,))], (0, None, None), 0),
    ("F_batch_norm_train", "lambda x: F.batch_norm(x, None, None, training=True)", [("f", (4, 3, 4))], 0, 0),
    ("F_sdpa", "lambda q, k, v: F.scaled_dot_product_attention(q, k, v)", [("f", (4, 2, 3)), ("f", (4, 5, 3)), ("f", (5, 3))], (0, 0, None), 0),
    # in-place / setitem
    ("inplace_add", "lambda x, y: x.clone().add_(y).mul_(2)", [("f", (4, 3)), ("f", (3,))], (0, None), 0),
    ("setitem", "lambda x, v: (lambda z: (z.__setitem__((0, slice(None)), v), z)[1])(x.clone())", [("f", (4, 2, 3)), ("f", (4, 3))], 0, 0),
    # more rules
    ("F_bilinear", "lambda x, y, w: F.bilinear(x, y, w)", [("f", (4, 3)), ("f", (4, 2)), ("f", (5, 3, 2))], (0, 0, None), 0),
    ("index_add", "lambda x, i, s: x.index_add(0, i, s)", [("f", (4, 5, 2)), ("i", (4, 3), 5), ("f", (4, 3, 2))], 0, 0),
    ("index_add_plain_idx", "lambda x, i, s: x.index_add(1, i, s, alpha=2)", [("f", (4, 2, 5)), ("i", (3,), 5), ("f", (4, 2, 3))], (0, None, 0), 0),
    ("index_put", "lambda x, i, v: x.index_put((i,), v)", [("f", (4, 5, 2)), ("i", (4, 3), 5), ("f", (4, 2))], 0, 0),
    ("take", "lambda x, i: torch.take(x, i)", [("f", (4, 3, 2)), ("i", (4, 5), 6)], 0, 0),
    ("setitem_list", "lambda x, v: (lambda z: (z.__setitem__([0, 2], v), z)[1])(x.clone())", [("f", (4, 3, 2)), ("f", (4, 2))], 0, 0),
    ("setitem_batched_idx", "lambda x, i, v: (lambda z: (z.__setitem__(i, v), z)[1])(x.clone())", [("f", (4, 5, 2)), ("i", (4,), 5), ("f", (4, 2))], 0, 0),
    ("index_0d_batched", "lambda w, i: w[i] * 2", [("f", (5, 3)), ("i", (4,), 5)], (None, 0), 0),
    ("F_embedding_batched_w", "lambda i, w: F.embedding(i, w)", [("i", (4, 3), 6), ("f", (4, 6, 2))], 0, 0),
    ("einsum_trace", "lambda x: torch.einsum('ii', x) + torch.einsum('ij->j', x).sum()", [("f", (4, 3, 3))], 0, 0),
    ("broadcast_tensors", "lambda x, y: torch.broadcast_tensors(x, y)", [("f", (4, 3)), ("f", (2, 1))], (0, None), 0),
    ("atleast_2d", "lambda x: torch.atleast_2d(x)", [("f", (4, 3))], 0, 0),
    ("std_unbiased", "lambda x: x.std(0, unbiased=False) + x.var(correction=0)", [("f", (4, 3, 2))], 0, 0),
    ("F_kl_div", "lambda x, y: F.kl_div(x.log_softmax(-1), y.softmax(-1), reduction='batchmean')", [("f", (4, 3, 5)), ("f", (4, 3, 5))], 0, 0),
    ("F_glu", "lambda x: F.glu(x, 0)", [("f", (4, 4, 3))], 0, 0),
    ("F_instance_norm", "lambda x: F.instance_norm(x)", [("f", (4, 2, 3, 5))], 0, 0),
    ("F_adaptive_pool", "lambda x: F.adaptive_avg_pool2d(x, 2) + F.adaptive_max_pool2d(x, 2)", [("f", (4, 3, 4, 4))], 0, 0),
    ("F_rms_norm", "lambda x, w: F.rms_norm(x, (3,), w, eps=1e-6)", [("f", (4, 2, 3)), ("f", (4, 3))], 0, 0),
    ("F_layer_norm_batched_w", "lambda x, w: F.layer_norm(x, (3,), w)", [("f", (4, 2, 3)), ("f", (4, 3))], 0, 0),
    ("F_pairwise", "lambda x, y: F.pairwise_distance(x, y)", [("f", (4, 2, 3)), ("f", (2, 3))], (0, None), 0),
    ("view_as_type_as", "lambda x, y: x.view_as(y).type_as(y) + x.reshape_as(y)", [("f", (4, 6)), ("f32", (2, 3))], (0, None), 0),
    ("sum_to_size", "lambda x: x.sum_to_size(1, 3)", [("f", (4, 2, 3))], 0, 0),
    ("index_tensor_plain", "lambda x, i: x[i] + x[:, i].sum()", [("f", (4, 3, 3)), ("i", (2,), 3)], (0, None), 0),
    ("masked_fill_batched_value", "lambda x, m, v: x.masked_fill(m, v)", [("f", (4, 3)), ("b", (4, 3)), ("f", (4,))], 0, 0),
    ("clone_detach", "lambda x: x.clone().detach().contiguous() * x", [("f", (4, 3))], 1, 0),
    ("F_threshold_relu6", "lambda x: F.threshold(x, 0.1, 20.0) + F.relu6(x * 4) + F.selu(x) + F.mish(x) + F.hardswish(x)", [("f", (4, 3))], 0, 0),
    ("flip_roll_tuple", "lambda x: x.flip((0, 1)) + x.roll((1, 2), (0, 1))", [("f", (4, 3, 5))], 0, 0),
    ("unsqueeze_neg", "lambda x: x.unsqueeze(-1) * x.unsqueeze(-2)", [("f", (4, 3))], 0, 0),
    ("zero_d_in", "lambda s, y: s * y + s.exp().sum() + s.reshape(1)", [("f", (4,)), ("f", (3,))], (0, None), 0),
    ("in_out_neg_dims", "lambda x: x.T @ x", [("f", (3, 2, 4))], -1, -1),
    ("scatter", "lambda x, s: x.scatter(0, torch.tensor([[2, 0, 1]]), s)", [("f", (4, 3, 3)), ("f", (4, 1, 3))], 0, 0),
    ("cummax_like", "lambda x: x.cumsum(dim=0).amax(dim=(0, 1))", [("f", (4, 3, 2))], 0, 0),
    ("F_ce_ignore_w_notorch", "lambda x, t, w: F.cross_entropy(x, torch.where(t == 0, -100, t), weight=w) + F.nll_loss(x.log_softmax(-1), torch.where(t == 1, -100, t))", [("f", (4, 3, 5)), ("i", (4, 3), 5), ("p", (5,))], (0, 0, None), 0),
    ("F_ce_1d_w_notorch", "lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.2)", [("f", (4, 5)), ("i", (4,), 5), ("p", (5,))], (0, 0, None), 0),
    ("more_reductions", "lambda x: torch.count_nonzero(x > 0, 0) + x.nansum() + torch.std_mean(x, 0)[0] + x.norm(dim=-1).sum()", [("f", (4, 3, 2))], 0, 0),
    # dims
    ("in_dims_nested", "lambda p, x: p[0] * x + p[1]", [("tuple", [("f", (4, 3)), ("f", (3,))]), ("f", (3, 4))], ((0, None), 1), 0),
    ("out_dims", "lambda x: (x.sum(0), x * 2)", [("f", (4, 3, 2))], 0, (0, -1)),
    ("in_dim_neg", "lambda x: x.cumsum(0)", [("f", (3, 2, 4))], -1, 1),
]


def _make(spec, rng):
    """numpy inputs from a spec (see the table)."""
    kind = spec[0]
    if kind == "tuple":
        return tuple(_make(s, rng) for s in spec[1])
    if kind == "c":
        return spec[1]
    shape = spec[1]
    if kind in ("f", "f32"):
        a = rng.standard_normal(shape)
        return a.astype(np.float32) if kind == "f32" else a
    if kind == "p":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "u":
        return rng.uniform(0.05, 0.95, shape)
    if kind == "i":
        return rng.integers(0, spec[2], shape).astype(np.int64)
    if kind == "b":
        return rng.standard_normal(shape) > 0
    raise ValueError(kind)


def _to(lib, a):
    if isinstance(a, tuple):
        return tuple(_to(lib, x) for x in a)
    if isinstance(a, np.ndarray):
        return lib.tensor(a) if lib is ember else lib.from_numpy(a.copy())
    return a


def _np(t):
    if isinstance(t, (tuple, list)):
        return [_np(x) for x in t]
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


def _fn(src, lib):
    F = EF_nn if lib is ember else __import__("torch.nn.functional", fromlist=["x"])
    return eval(src, {"torch": lib, "F": F})  # noqa: S307 - the case table is ours


def _leaf_dims(args, in_dims):
    if not isinstance(in_dims, tuple):
        in_dims = (in_dims,) * len(args)
    return in_dims


def _example(a, d, i):
    if isinstance(a, tuple):
        ds = d if isinstance(d, tuple) else (d,) * len(a)
        return tuple(_example(x, dd, i) for x, dd in zip(a, ds, strict=True))
    if d is None:
        return a
    return a.movedim(d, 0)[i]


def _batch(args, in_dims):
    for a, d in zip(args, _leaf_dims(args, in_dims), strict=True):
        if isinstance(a, tuple):
            return _batch(a, d)
        if d is not None:
            return a.shape[d]
    raise AssertionError("no mapped input")


def _loop(f, args, in_dims, out_dims, n):
    dims = _leaf_dims(args, in_dims)
    outs = [f(*[_example(a, d, i) for a, d in zip(args, dims, strict=True)]) for i in range(n)]
    if isinstance(outs[0], (tuple, list)):
        ods = out_dims if isinstance(out_dims, tuple) else (out_dims,) * len(outs[0])
        return [ember.stack([o[k] for o in outs], ods[k]) for k in range(len(outs[0]))]
    return ember.stack(outs, out_dims)


def _close(a, b, tol):
    if isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _close(x, y, tol)
        return
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol, atol=tol)


@pytest.mark.filterwarnings("ignore:There is a performance drop")  # torch's own loop fallback
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rule_vs_loop_and_torch(case):
    cid, src, specs, in_dims, out_dims = case
    rng = np.random.default_rng(abs(hash(cid)) % 2**32)
    raw = [_make(s, rng) for s in specs]
    args = [_to(ember, a) for a in raw]
    f = _fn(src, ember)
    got = vmap(f, in_dims, out_dims)(*args)
    n = _batch(args, in_dims)
    want = _loop(f, args, in_dims, out_dims, n)
    _close(_np(got), _np(want), 1e-10 if "f32" not in str(specs) else 1e-5)
    if cid.endswith("_notorch"):  # torch.func.vmap itself cannot batch this one
        return
    torch = pytest.importorskip("torch", reason="torch is the oracle for vmap")
    tf = pytest.importorskip("torch.func", reason="torch.func missing")
    tgot = tf.vmap(_fn(src, torch), in_dims, out_dims)(*[_to(torch, a) for a in raw])
    _close(_np(got), _np(tgot), 1e-8 if "f32" not in str(specs) else 1e-5)
    if not isinstance(got, (tuple, list)):
        assert str(got.dtype).split(".")[-1] == str(tgot.dtype).split(".")[-1]
