"""Pictures of the autograd graph: ``make_dot`` (graphviz), ``graph_text`` (terminal tree).

``make_dot(y, params=model)`` draws one box per node with torch's node name, plus the shape and
dtype of the tensor it produced; leaves (``AccumulateGrad``) show the parameter name when given
a module or a ``{name: tensor}`` dict.  Needs the optional ``graphviz`` package (and the
``dot`` program to render): ``pip install ember[viz]`` and ``apt-get install graphviz``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_dot", "graph_text", "Graph"]

_HINT = (
    "ember.viz needs the graphviz Python package. Hint: pip install ember[viz] and "
    "apt-get install graphviz (the `dot` program renders the pictures)."
)


def _graphviz() -> Any:
    try:
        import graphviz
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(_HINT) from e
    return graphviz


def _roots(tensor_or_tensors: Any) -> list:
    from ._tensor import Tensor

    ts = [tensor_or_tensors] if isinstance(tensor_or_tensors, Tensor) else list(tensor_or_tensors)
    return [t for t in ts if isinstance(t, Tensor)]


def _param_names(params: Any) -> dict:
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = dict(params.named_parameters())
    return {id(v): k for k, v in dict(params).items()}


def _desc(data: Any) -> str:
    shape = tuple(getattr(data, "shape", ()))
    return f"({', '.join(map(str, shape))}) {str(getattr(data, 'dtype', ''))}"


def _walk(roots: list) -> tuple[list, dict]:
    """All nodes reachable from the roots' grad_fns (iterative), and each node's output info."""
    info: dict = {}
    order: list = []
    seen: set = set()
    stack = []
    for t in roots:
        if t._edge is not None:
            info.setdefault(t._edge[0], t._data)
            stack.append(t._edge[0])
    while stack:
        n = stack.pop()
        if n is None or n in seen:
            continue
        seen.add(n)
        order.append(n)
        for c, _ in n._next:
            if c is not None and c not in seen:
                stack.append(c)
    return order, info


def _leaf_label(node: Any, names: dict) -> str:
    var = node.variable
    if var is None:
        return "AccumulateGrad\n(freed)"
    name = names.get(id(var))
    head = name if name is not None else "AccumulateGrad"
    return f"{head}\n{_desc(var._data)}"


def _saved_items(node: Any) -> list:
    from ._tensor import Tensor

    s = node._saved
    if s is None or not isinstance(s, tuple) or (s and s[0] == "<freed>"):
        return []
    return [(i, x) for i, x in enumerate(s) if isinstance(x, Tensor)]


def make_dot(tensor_or_tensors: Any, params: Any = None, show_saved: bool = False,
             show_attrs: bool = False) -> Any:
    """A ``graphviz.Digraph`` of the graph behind ``tensor_or_tensors`` (gradients flow up)."""
    graphviz = _graphviz()
    names = _param_names(params)
    roots = _roots(tensor_or_tensors)
    order, info = _walk(roots)
    from .autograd.graph import AccumulateGrad

    dot = graphviz.Digraph(
        node_attr=dict(style="filled", shape="box", align="left", fontsize="10", ranksep="0.1",
                       height="0.2", fontname="monospace"),
        graph_attr=dict(size="12,12"),
    )
    for i, t in enumerate(roots):
        rid = f"out{i}"
        dot.node(rid, f"output\n{_desc(t._data)}", fillcolor="darkolivegreen1")
        if t._edge is not None:
            dot.edge(str(id(t._edge[0])), rid)
    for n in order:
        nid = str(id(n))
        if type(n) is AccumulateGrad:
            dot.node(nid, _leaf_label(n, names), fillcolor="lightblue")
            continue
        label = n.name()
        if n in info:
            label += f"\n{_desc(info[n])}"
        if show_attrs:
            for k, v in sorted(vars(n).items()):
                if not k.startswith("_") and not callable(v):
                    label += f"\n{k}: {str(v)[:40]}"
        dot.node(nid, label, fillcolor="lightgrey")
        for c, _ in n._next:
            if c is not None:
                dot.edge(str(id(c)), nid)
        if show_saved:
            for j, x in _saved_items(n):
                sid = f"{nid}_s{j}"
                dot.node(sid, f"saved {j}\n{_desc(x._data)}", fillcolor="orange")
                dot.edge(sid, nid, style="dotted", dir="none")
    return Graph(dot)


class Graph:
    """A drawn graph: ``_repr_svg_`` for notebooks, ``render(path, format)`` for files."""

    def __init__(self, dot: Any) -> None:
        self.dot = dot

    def __getattr__(self, name: str) -> Any:  # the graphviz.Digraph API (node, edge, source ...)
        return getattr(self.__dict__["dot"], name)

    @property
    def source(self) -> str:
        return self.dot.source

    def _repr_svg_(self) -> str:
        return self.dot.pipe(format="svg").decode("utf-8")

    def render(self, path: str, format: str = "svg") -> str:  # noqa: A002 - graphviz's name
        """Write the picture to ``path`` (``.svg``/``.png`` added if missing); returns the path."""
        if format not in ("svg", "png", "pdf"):
            raise ValueError(
                f"render(): format must be 'svg', 'png' or 'pdf', got {format!r}. Hint: "
                "format='svg' for browsers and notebooks."
            )
        data = self.dot.pipe(format=format)
        if not path.endswith("." + format):
            path = f"{path}.{format}"
        with open(path, "wb") as f:
            f.write(data)
        return path


def graph_text(tensor: Any, max_depth: int = 50) -> str:
    """The graph as an indented tree; nodes seen before are printed once and then referenced."""
    from .autograd.graph import AccumulateGrad

    roots = _roots(tensor)
    lines: list = []
    ids: dict = {}
    for t in roots:
        if t._edge is None:
            lines.append(f"(no grad_fn) {_desc(t._data)}")
            continue
        stack = [(t._edge[0], 0, t._data)]
        while stack:
            n, depth, data = stack.pop()
            pad = "  " * depth
            if n is None:
                continue
            if n in ids:
                lines.append(f"{pad}{n.name()} [#{ids[n]}, see above]")
                continue
            ids[n] = len(ids)
            if type(n) is AccumulateGrad:
                var = n.variable
                lines.append(f"{pad}AccumulateGrad [#{ids[n]}] "
                             f"{_desc(var._data) if var is not None else '(freed)'}")
                continue
            desc = f" {_desc(data)}" if data is not None else ""
            lines.append(f"{pad}{n.name()} [#{ids[n]}]{desc}")
            if depth + 1 > max_depth:
                if any(c is not None for c, _ in n._next):
                    lines.append(f"{pad}  ... (depth limit {max_depth})")
                continue
            for c, _ in reversed(n._next):
                if c is not None:
                    stack.append((c, depth + 1, None))
    return "\n".join(lines)
