"""scaled_dot_product_attention, MultiheadAttention, TransformerEncoder(Layer) vs torch."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from ember.nn.functional._attention import (
    multi_head_attention_forward,
    scaled_dot_product_attention,
)
from ember.nn.modules import linear as _linear_mod

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}


def _torch():
    return pytest.importorskip("torch", reason="torch is the reference for attention layers")


def _need_layers():
    if not hasattr(_linear_mod, "Linear"):
        pytest.skip("nn.Linear is not written yet (MultiheadAttention's out_proj needs it)")


def _grads_match(tensors_t, tensors_e, dtype):
    for t, e in zip(tensors_t, tensors_e):
        if t.grad is None:
            assert e.grad is None
            continue
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), **TOL[dtype])


def _backward_pair(torch, to, eo, seed=5):
    g = np.random.default_rng(seed).standard_normal(tuple(to.shape)).astype(
        to.detach().numpy().dtype)
    (to * torch.tensor(g)).sum().backward()
    (eo * ember.tensor(g)).sum().backward()


# ------------------------------------------------------------------ scaled_dot_product_attention
def _mask_cases(rng):
    keep = rng.random((3, 5)) > 0.4
    keep[1] = False  # a fully masked row: torch's CPU kernel returns 0 there
    return [
        ({}, None),
        ({"is_causal": True}, None),
        ({}, keep),
        ({}, rng.standard_normal((2, 1, 3, 5))),
        ({"scale": 0.3}, None),
        ({"dropout_p": 0.0}, rng.standard_normal((3, 5))),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(6))
def test_sdpa_vs_torch(dtype, case):
    torch = _torch()
    rng = np.random.default_rng(case)
    kw, mask = _mask_cases(rng)[case]
    arrs = [rng.standard_normal(s).astype(dtype) for s in [(2, 2, 3, 4), (2, 2, 5, 4),
                                                            (2, 2, 5, 6)]]
    tq = [torch.tensor(a, requires_grad=True) for a in arrs]
    eq = [ember.tensor(a, requires_grad=True) for a in arrs]
    tkw, ekw = dict(kw), dict(kw)
    if mask is not None:
        m = mask.astype(dtype) if mask.dtype != bool else mask
        tkw["attn_mask"], ekw["attn_mask"] = torch.tensor(m), ember.tensor(m)
    to = torch.nn.functional.scaled_dot_product_attention(*tq, **tkw)
    eo = scaled_dot_product_attention(*eq, **ekw)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), **TOL[dtype])
    _backward_pair(torch, to, eo)
    _grads_match(tq, eq, dtype)


def test_sdpa_unbatched_gqa_and_broadcast_vs_torch():
    torch = _torch()
    rng = np.random.default_rng(0)
    F = torch.nn.functional
    for shapes, kw in [([(3, 4), (5, 4), (5, 4)], {}),
                       ([(1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)], {"enable_gqa": True}),
                       ([(2, 2, 3, 4), (1, 1, 5, 4), (1, 1, 5, 4)], {})]:
        arrs = [rng.standard_normal(s) for s in shapes]
        tq = [torch.tensor(a, requires_grad=True) for a in arrs]
        eq = [ember.tensor(a, requires_grad=True) for a in arrs]
        to = F.scaled_dot_product_attention(*tq, **kw)
        eo = scaled_dot_product_attention(*eq, **kw)
        np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), **TOL[np.float64])
        _backward_pair(torch, to, eo)
        _grads_match(tq, eq, np.float64)


def test_sdpa_errors_match_torch():
    torch = _torch()
    bad = [lambda T, f: f(T.randn(1, 3, 4), T.randn(1, 5, 3), T.randn(1, 5, 3)),
           lambda T, f: f(T.randn(1, 3, 4), T.randn(1, 5, 4), T.randn(1, 5, 4).double()),
           lambda T, f: f(T.randn(1, 3, 4), T.randn(1, 5, 4), T.randn(1, 5, 4),
                          attn_mask=T.zeros(3, 4)),
           lambda T, f: f(T.randn(1, 3, 4), T.randn(1, 5, 4), T.randn(1, 5, 4),
                          attn_mask=T.zeros(3, 5), is_causal=True)]
    for f in bad:
        with pytest.raises(Exception) as te:
            f(torch, torch.nn.functional.scaled_dot_product_attention)
        with pytest.raises(type(te.value)) as ee:
            f(ember, scaled_dot_product_attention)
        assert str(ee.value).split(". ")[0][:40] == str(te.value).split(". ")[0][:40]


def test_sdpa_hand_computed_and_gradcheck():
    # zero queries -> uniform weights -> output is the mean of the values
    v = ember.tensor([[1.0, 2.0], [3.0, 6.0]])
    out = scaled_dot_product_attention(ember.zeros(1, 2), ember.ones(2, 2), v)
    np.testing.assert_allclose(out.numpy(), [[2.0, 4.0]])
    # causal: the first query sees only the first key
    q = ember.randn(2, 3)
    k = ember.randn(2, 3)
    out = scaled_dot_product_attention(q, k, v, is_causal=True)
    np.testing.assert_allclose(out[0].numpy(), [1.0, 2.0])
    # fully masked row gives zeros, not NaN
    keep = ember.tensor([[False, False], [True, False]])
    out = scaled_dot_product_attention(q, k, v, attn_mask=keep)
    np.testing.assert_allclose(out.numpy(), [[0.0, 0.0], [1.0, 2.0]])
    args = [ember.randn(2, 3, 4, dtype=ember.float64, requires_grad=True) for _ in range(3)]
    mask = ember.randn(3, 3, dtype=ember.float64)
    assert ember.autograd.gradcheck(
        lambda q, k, v: scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.7), args)


# ------------------------------------------------------------------ F.multi_head_attention_forward
MHA_CASES = [
    dict(),
    dict(need_weights=False),
    dict(average_attn_weights=False),
    dict(attn="bool2d"),
    dict(attn="float3d", need_weights=False),
    dict(kpm=True),
    dict(kpm=True, attn="bool2d", need_weights=False),
    dict(causal=True, need_weights=False),
    dict(bias_kv=True, zero_attn=True, kpm=True, attn="float2d"),
    dict(separate=True),
    dict(unbatched=True),
]


def _mha_inputs(cfg, rng, dtype, e=8, h=2, lq=3, ls=5, n=2):
    sep = cfg.get("separate")
    kd = 6 if sep else e
    inp = {
        "query": rng.standard_normal((lq, e) if cfg.get("unbatched") else (lq, n, e)),
        "key": rng.standard_normal((ls, kd) if cfg.get("unbatched") else (ls, n, kd)),
        "value": rng.standard_normal((ls, kd) if cfg.get("unbatched") else (ls, n, kd)),
        "out_proj_weight": rng.standard_normal((e, e)) / 3,
        "out_proj_bias": rng.standard_normal(e),
        "in_proj_bias": rng.standard_normal(3 * e),
    }
    if sep:
        for nm in "qkv":
            inp[f"{nm}_proj_weight"] = rng.standard_normal((e, e if nm == "q" else kd)) / 3
    else:
        inp["in_proj_weight"] = rng.standard_normal((3 * e, e)) / 3
    if cfg.get("bias_kv"):
        inp["bias_k"] = rng.standard_normal((1, 1, e))
        inp["bias_v"] = rng.standard_normal((1, 1, e))
    masks = {}
    if cfg.get("attn") == "bool2d" or cfg.get("causal"):
        m = np.triu(np.ones((lq, ls), bool), 1) if cfg.get("causal") else rng.random((lq, ls)) > .7
        masks["attn_mask"] = m
    elif cfg.get("attn") == "float2d":
        masks["attn_mask"] = rng.standard_normal((lq, ls)).astype(dtype)
    elif cfg.get("attn") == "float3d":
        masks["attn_mask"] = rng.standard_normal((n * h, lq, ls)).astype(dtype)
    if cfg.get("kpm"):
        kpm = np.zeros((n, ls), bool)
        kpm[0, -2:] = True
        masks["key_padding_mask"] = kpm
    return {k: v.astype(dtype) for k, v in inp.items()}, masks


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ci", range(len(MHA_CASES)))
@pytest.mark.filterwarnings("ignore:Support for mismatched")
def test_mha_functional_vs_torch(dtype, ci):
    torch = _torch()
    cfg = MHA_CASES[ci]
    rng = np.random.default_rng(ci)
    arrs, masks = _mha_inputs(cfg, rng, dtype)
    tt = {k: torch.tensor(v, requires_grad=True) for k, v in arrs.items()}
    et = {k: ember.tensor(v, requires_grad=True) for k, v in arrs.items()}
    kw = dict(embed_dim_to_check=8, num_heads=2, add_zero_attn=bool(cfg.get("zero_attn")),
              dropout_p=0.0, training=True, need_weights=cfg.get("need_weights", True),
              average_attn_weights=cfg.get("average_attn_weights", True),
              is_causal=bool(cfg.get("causal")), use_separate_proj_weight=bool(cfg.get("separate")))
    def call(mod, T, d):
        args = dict(d)
        for nm in ("in_proj_weight", "bias_k", "bias_v"):
            args.setdefault(nm, None)
        extra = {k: T.tensor(v) for k, v in masks.items()}
        return mod(**args, **extra, **kw)
    to, tw = call(torch.nn.functional.multi_head_attention_forward, torch, tt)
    eo, ew = call(multi_head_attention_forward, ember, et)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), **TOL[dtype])
    assert (tw is None) == (ew is None)
    if tw is not None:
        np.testing.assert_allclose(ew.detach().numpy(), tw.detach().numpy(), **TOL[dtype])
    _backward_pair(torch, to, eo)
    _grads_match([tt[k] for k in tt], [et[k] for k in tt], dtype)


# ------------------------------------------------------------------ modules
def _copy(torch, tm, em):
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [dict(), dict(batch_first=True), dict(bias=False),
                                dict(kdim=5, vdim=3), dict(add_bias_kv=True, add_zero_attn=True),
                                dict(dropout=0.0, batch_first=True)])
@pytest.mark.parametrize("train", [False, True])
def test_mha_module_vs_torch(dtype, kw, train):
    torch = _torch()
    _need_layers()
    from ember.nn.modules.transformer import MultiheadAttention

    tm = torch.nn.MultiheadAttention(8, 2, **kw)
    em = MultiheadAttention(8, 2, **kw)
    if dtype is np.float64:
        tm, em = tm.double(), em.double()
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    _copy(torch, tm, em)
    tm.train(train)
    em.train(train)
    rng = np.random.default_rng(0)
    bf = kw.get("batch_first")
    shp = lambda L, d: (2, L, d) if bf else (L, 2, d)  # noqa: E731
    arrs = [rng.standard_normal(shp(3, 8)), rng.standard_normal(shp(4, kw.get("kdim", 8))),
            rng.standard_normal(shp(4, kw.get("vdim", 8)))]
    arrs = [a.astype(dtype) for a in arrs]
    for need in (True, False):
        tq = [torch.tensor(a, requires_grad=True) for a in arrs]
        eq = [ember.tensor(a, requires_grad=True) for a in arrs]
        tm.zero_grad()
        em.zero_grad()
        to, tw = tm(*tq, need_weights=need)
        eo, ew = em(*eq, need_weights=need)
        np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), **TOL[dtype])
        if need:
            np.testing.assert_allclose(ew.detach().numpy(), tw.detach().numpy(), **TOL[dtype])
        _backward_pair(torch, to, eo)
        _grads_match(tq, eq, dtype)
        tp, ep = dict(tm.named_parameters()), dict(em.named_parameters())
        _grads_match([tp[k] for k in tp], [ep[k] for k in tp], dtype)


def test_mha_self_attention_masks_and_init():
    torch = _torch()
    _need_layers()
    from ember.nn.modules.transformer import MultiheadAttention

    tm = torch.nn.MultiheadAttention(8, 2, batch_first=True).double().eval()
    em = MultiheadAttention(8, 2, batch_first=True, dtype=ember.float64).eval()
    b = math.sqrt(6 / 32)
    w = em.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= b and w.std() > b / 4
    assert not em.in_proj_bias.detach().numpy().any() and not em.out_proj.bias.detach().numpy().any()
    assert type(em.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    _copy(torch, tm, em)
    x = np.random.default_rng(1).standard_normal((2, 4, 8))
    kpm = np.array([[False] * 4, [False, False, True, True]])
    causal = np.triu(np.ones((4, 4), bool), 1)
    for kw in [dict(key_padding_mask=kpm), dict(attn_mask=causal),
               dict(attn_mask=causal, key_padding_mask=kpm, average_attn_weights=False),
               dict(attn_mask=causal, is_causal=True, need_weights=False)]:
        tx, ex = torch.tensor(x), ember.tensor(x)
        tk = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        ek = {k: ember.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        with torch.no_grad():
            to, tw = tm(tx, tx, tx, **tk)
        eo, ew = em(ex, ex, ex, **ek)
        np.testing.assert_allclose(eo.detach().numpy(), to.numpy(), rtol=1e-9, atol=1e-11)
        if tw is not None:
            np.testing.assert_allclose(ew.detach().numpy(), tw.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [dict(), dict(batch_first=True, norm_first=True),
                                dict(activation="gelu", bias=False),
                                dict(activation="gelu", batch_first=True)])
@pytest.mark.parametrize("train", [False, True])
def test_encoder_layer_vs_torch(dtype, kw, train):
    torch = _torch()
    _need_layers()
    from ember.nn.modules.transformer import TransformerEncoderLayer

    tm = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **kw)
    em = TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **kw)
    if dtype is np.float64:
        tm, em = tm.double(), em.double()
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    _copy(torch, tm, em)
    tm.train(train)
    em.train(train)
    x = np.random.default_rng(2).standard_normal((3, 5, 8)).astype(dtype)
    mask = np.triu(np.ones((5 if kw.get("batch_first") else 3,) * 2, bool), 1)
    for mkw in ({}, {"src_mask": mask}):
        tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
        tm.zero_grad()
        em.zero_grad()
        to = tm(tx, **{k: torch.tensor(v) for k, v in mkw.items()})
        eo = em(ex, **{k: ember.tensor(v) for k, v in mkw.items()})
        np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), **TOL[dtype])
        _backward_pair(torch, to, eo)
        _grads_match([tx], [ex], dtype)
        tp, ep = dict(tm.named_parameters()), dict(em.named_parameters())
        _grads_match([tp[k] for k in tp], [ep[k] for k in tp], dtype)


def test_encoder_vs_torch_and_warning():
    torch = _torch()
    _need_layers()
    from ember.nn.modules.transformer import TransformerEncoder, TransformerEncoderLayer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tl = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
        tm = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(8)).double().eval()
    el = TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but self.use_nested"):
        em = TransformerEncoder(el, 2, norm=ember.nn.modules.normalization.LayerNorm(8)).double()
    em.eval()
    assert repr(em) == repr(tm)
    _copy(torch, tm, em)
    x = np.random.default_rng(3).standard_normal((5, 2, 8))
    mask = np.triu(np.full((5, 5), -np.inf), 1)
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    to = tm(tx, mask=torch.tensor(mask))
    eo = em(ex, mask=ember.tensor(mask))
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-9, atol=1e-11)
    _backward_pair(torch, to, eo)
    _grads_match([tx], [ex], np.float64)


def test_encoder_layer_dropout_train_vs_eval():
    _need_layers()
    from ember.nn.modules.transformer import TransformerEncoderLayer

    ember.manual_seed(0)
    layer = TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.5)
    x = ember.randn(4, 2, 8)
    layer.eval()
    a, b = layer(x), layer(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    layer.train()
    assert not np.allclose(layer(x).detach().numpy(), a.detach().numpy())
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        TransformerEncoderLayer(8, 2, activation="tanh")


def test_exported_via_nn():
    if not hasattr(ember.nn, "MultiheadAttention"):
        pytest.skip("ember.nn does not star-import transformer yet")
    assert hasattr(ember.nn.functional, "scaled_dot_product_attention")
