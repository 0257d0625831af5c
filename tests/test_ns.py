"""The two namespaces backward rules use: every NumPy-side name has an ember twin that agrees."""

from __future__ import annotations

import numpy as np

import ember
from ember.ops._ns import E, N


def test_every_numpy_name_has_an_ember_twin() -> None:
    names = [n for n in vars(N) if not n.startswith("_")]
    missing = [n for n in names if not hasattr(E, n)]
    assert not missing, f"N functions without an E counterpart: {missing}"


def test_twins_agree_on_common_calls() -> None:
    x = np.random.default_rng(0).uniform(0.5, 2.0, (2, 3))
    t = ember.tensor(x)
    cases = [
        ("sum_to", (x, (1, 3)), (t, (1, 3))),
        ("sum", (x, ()), (t, ())),
        ("sum", (x, [0]), (t, [0])),
        ("sum", (x, (1,), True), (t, (1,), True)),
        ("expand", (x[:1], (4, 3)), (t[:1], (4, 3))),
        ("exp", (x,), (t,)),
        ("sign", (np.array([np.nan, -2.0, 0.0]),), (ember.tensor(np.array([np.nan, -2.0, 0.0])),)),
        ("sigmoid", (np.array([-40.0, 0.0, 40.0]),), (ember.tensor(np.array([-40.0, 0.0, 40.0])),)),
        ("cast", (x, np.dtype(np.float32)), (t, np.dtype(np.float32))),
    ]
    for name, a_np, a_e in cases:
        got_np = np.asarray(getattr(N, name)(*a_np))
        got_e = getattr(E, name)(*a_e).detach().numpy()
        np.testing.assert_allclose(got_np, got_e, rtol=1e-12, err_msg=name)
        assert got_np.dtype == got_e.dtype, name
