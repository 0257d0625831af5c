"""Reverse-mode automatic differentiation: ``backward``, ``grad`` and grad-mode switches."""

from __future__ import annotations

from typing import Any

import numpy as np

from .anomaly_mode import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    is_record_creation_lines_enabled,
    set_detect_anomaly,
    set_record_creation_lines,
)
from .engine import execute
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import AccumulateGrad, Node

__all__ = [
    "detect_anomaly",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
    "set_record_creation_lines",
    "is_record_creation_lines_enabled",
    "Function",
    "FunctionCtx",
    "once_differentiable",
    "functional",
    "gradcheck",
    "gradgradcheck",
    "GradcheckError",
    "backward",
    "grad",
    "Variable",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "Node",
    "AccumulateGrad",
]


def _tensors(x: Any) -> list:
    from .._tensor import Tensor

    if isinstance(x, Tensor):
        return [x]
    if x is None:
        return []
    return list(x)


def _size(shape: tuple) -> str:
    return f"ember.Size([{', '.join(map(str, shape))}])"


def _make_grads(outputs: list, grad_outputs: list, create_graph: bool) -> list:
    """Validate / create the seed gradients (ones for scalar outputs)."""
    from .._tensor import Tensor, _new

    out = []
    for i, (o, g) in enumerate(zip(outputs, grad_outputs, strict=True)):
        if g is None:
            if o._data.size != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs. Hint: the output "
                    f"has shape {list(o._data.shape)}; call .sum() first or pass "
                    "gradient=ember.ones_like(output)."
                )
            if o._data.dtype.kind not in "fc":
                raise RuntimeError(
                    "grad can be implicitly created only for real scalar outputs but got "
                    f"{o.dtype}"
                )
            g = np.ones(o._data.shape, o._data.dtype)
            out.append(_new(g, None) if create_graph else g)
            continue
        if not isinstance(g, Tensor):
            g = _new(np.asarray(g, dtype=o._data.dtype), None)
        if g._data.shape != o._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {_size(g._data.shape)} and "
                f"output[{i}] has a shape of {_size(o._data.shape)}."
            )
        if g._data.dtype.kind != o._data.dtype.kind and not (
            g._data.dtype.kind in "fc" and o._data.dtype.kind in "fc"
        ):
            raise RuntimeError(
                f"For complex Tensors, both grad_output and output are required to have the same "
                f"dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and "
                f"output[{i}] has a dtype of {o.dtype}."
            )
        out.append(g if create_graph else g._data)
    return out


def _roots(outputs: list) -> list:
    roots = []
    for i, o in enumerate(outputs):
        e = o._edge
        if e is None:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn. "
                "Hint: create the inputs with requires_grad=True (or call .requires_grad_()), "
                "and make sure the output was not computed under ember.no_grad()."
            )
        roots.append(e)
    return roots


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    grad_variables: Any = None,
    inputs: Any = None,
) -> None:
    """Accumulate gradients of ``tensors`` w.r.t. graph leaves into their ``.grad``."""
    outputs = _tensors(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    gl = _tensors(grad_tensors) if grad_tensors is not None else [None] * len(outputs)
    if len(gl) != len(outputs):
        raise RuntimeError(
            f"grad_tensors has {len(gl)} elements but tensors has {len(outputs)}"
        )
    if retain_graph is None:
        retain_graph = create_graph
    roots = _roots(outputs)
    seeds = _make_grads(outputs, gl, create_graph)
    if inputs is not None:
        ins = _tensors(inputs)
        if not ins:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        caps = [_input_edge(t, i) for i, t in enumerate(ins)]
        got = execute(roots, seeds, retain_graph, create_graph, capture=caps, accumulate=True)
        from ..autograd.graph import accumulate_into

        for t, g, e in zip(ins, got or [], caps, strict=True):
            if g is not None and type(e[0]) is not AccumulateGrad:
                accumulate_into(t, g)
        return
    execute(roots, seeds, retain_graph, create_graph)


def _input_edge(t: Any, i: int) -> tuple:
    e = t._edge
    if e is None:
        raise RuntimeError(
            "One of the differentiated Tensors does not require grad. Hint: input "
            f"{i} (shape {list(t._data.shape)}) has requires_grad=False; set "
            "requires_grad=True on it or leave it out of inputs."
        )
    return e


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """Gradients of ``outputs`` w.r.t. ``inputs`` (returned, not accumulated into ``.grad``)."""
    from .._tensor import Tensor, _new

    outs = _tensors(outputs)
    ins = _tensors(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and not allow_unused:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True"
        )
    gl = _tensors(grad_outputs) if grad_outputs is not None else [None] * len(outs)
    if len(gl) != len(outs):
        raise RuntimeError(f"grad_outputs has {len(gl)} elements but outputs has {len(outs)}")
    if retain_graph is None:
        retain_graph = create_graph
    roots = _roots(outs)
    caps = [_input_edge(t, i) for i, t in enumerate(ins)]
    seeds = _make_grads(outs, gl, create_graph)
    got = execute(roots, seeds, retain_graph, create_graph, capture=caps, accumulate=False)
    res = []
    for i, (t, g) in enumerate(zip(ins, got or [], strict=True)):
        if g is None:
            if materialize_grads:
                res.append(_new(np.zeros_like(t._data), None))
                continue
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior. Hint: input "
                    f"{i} (shape {list(t._data.shape)}) does not influence the outputs."
                )
            res.append(None)
            continue
        if not isinstance(g, Tensor):
            g = _new(g if g.dtype == t._data.dtype else g.astype(t._data.dtype), None)
        res.append(g)
    return tuple(res)


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:  # noqa: N802
    """Legacy wrapper: returns the tensor itself (optionally requiring grad), like torch."""
    from .._tensor import Tensor

    if not isinstance(data, Tensor):
        raise TypeError("Variable data has to be a tensor, but got " + type(data).__name__)
    if requires_grad:
        data.requires_grad_(True)
    return data


_LAZY = {"functional": None, "Function": "function", "FunctionCtx": "function",
         "once_differentiable": "function"}


def __getattr__(name: str):  # noqa: ANN202 - PEP 562: loaded on first use
    # these modules import Tensor, whose module imports this package: load them lazily
    if name in _LAZY:
        import importlib

        mod = importlib.import_module("." + (_LAZY[name] or name), __name__)
        value = mod if _LAZY[name] is None else getattr(mod, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ember.autograd' has no attribute '{name}'")
