"""Tensor, node and module backward hooks: values and call order compared with torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

NO_TORCH = "torch is not installed; torch comparisons need it as the oracle"


def _mod(kind: str):
    return ember if kind == "ember" else pytest.importorskip("torch", reason=NO_TORCH)


def _both(fn) -> None:
    """Run ``fn(torch_like)`` on ember and torch; their logs must be equal."""
    _mod("torch")
    ours, theirs = fn(ember), fn(_mod("torch"))
    assert ours == theirs, (ours, theirs)
    return ours


def _l(t) -> list:
    return np.round(t.detach().numpy().astype(np.float64), 6).tolist()


def test_tensor_hook_replaces_gradient_and_order():
    def run(torch):
        log = []
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.register_hook(lambda g: log.append(("h1", _l(g))) or g * 2)
        y.register_hook(lambda g: log.append(("h2", _l(g))))
        h3 = y.register_hook(lambda g: log.append(("h3", _l(g))) or g + 1)
        (y * y).sum().backward(retain_graph=True)
        log.append(("x", _l(x.grad)))
        h3.remove()
        x.grad = None
        (y * y).sum().backward()
        log.append(("x2", _l(x.grad)))
        return log

    log = _both(run)
    assert log[0] == ("h1", [6.0, 12.0]) and log[3] == ("x", [39.0, 75.0])


def test_leaf_hook_and_post_accumulate_order():
    def run(torch):
        log = []
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: log.append(("pre", _l(g))) or g * 10)
        x.register_post_accumulate_grad_hook(lambda t: log.append(("post", _l(t.grad))))
        (x * 2).sum().backward()
        (x * 2).sum().backward()
        log.append(("grad", _l(x.grad)))
        return log

    log = _both(run)
    assert log[-1] == ("grad", [40.0, 40.0])


def test_post_accumulate_hook_on_non_leaf_raises():
    def run(torch):
        y = torch.ones(2, requires_grad=True) * 2
        with pytest.raises(RuntimeError) as e:
            y.register_post_accumulate_grad_hook(lambda t: None)
        return str(e.value).split(". Hint")[0]

    _both(run)


def test_hook_on_tensor_without_grad_raises():
    def run(torch):
        with pytest.raises(RuntimeError) as e:
            torch.ones(2).register_hook(lambda g: g)
        return str(e.value).split(". Hint")[0]

    _both(run)


def test_retain_grad_sees_hooked_gradient():
    """retain_grad's hook runs after the user's tensor hooks, whenever either was registered."""

    def run(torch):
        log = []
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        y.register_hook(lambda g: g * 2)
        z = x * 4
        z.register_hook(lambda g: g * 5)
        z.retain_grad()
        (y * z).sum().backward()
        log.append(("y", _l(y.grad), y.retains_grad))
        log.append(("z", _l(z.grad)))
        log.append(("x", _l(x.grad)))
        return log

    log = _both(run)
    assert log[0][1] == [8.0, 16.0]


def test_hook_wrong_shape_raises():
    def run(torch):
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: torch.ones(3))
        with pytest.raises(RuntimeError) as e:
            y.sum().backward()
        return str(e.value).split(": expected")[0]

    _both(run)


def test_node_hooks_signature_and_replacement():
    def run(torch):
        log = []
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        b = torch.tensor([3.0, 4.0], requires_grad=True)
        y = a * b
        fn = y.grad_fn

        def pre(grad_outputs):
            log.append(("pre", type(grad_outputs).__name__, [_l(g) for g in grad_outputs]))
            return (grad_outputs[0] * 2,)

        def post(grad_inputs, grad_outputs):
            log.append(("post", [_l(g) for g in grad_inputs], [_l(g) for g in grad_outputs]))
            return (grad_inputs[0] + 1, grad_inputs[1])

        fn.register_prehook(pre)
        h = fn.register_hook(post)
        y.sum().backward(retain_graph=True)
        log.append(("grads", _l(a.grad), _l(b.grad)))
        h.remove()
        a.grad = b.grad = None
        y.sum().backward()
        log.append(("grads2", _l(a.grad), _l(b.grad)))
        return log

    log = _both(run)
    assert log[0] == ("pre", "tuple", [[1.0, 1.0]])
    assert log[2] == ("grads", [7.0, 9.0], [2.0, 4.0])


def test_tensor_hook_runs_before_node_prehook():
    def run(torch):
        log = []
        x = torch.tensor([0.0], requires_grad=True)
        y = x.exp()
        y.grad_fn.register_prehook(lambda go: log.append(("node_pre", _l(go[0]))))
        y.register_hook(lambda g: log.append(("tensor", _l(g))) or g * 3)
        y.grad_fn.register_hook(lambda gi, go: log.append(("node_post", _l(gi[0]), _l(go[0]))))
        y.sum().backward()
        return log

    log = _both(run)
    assert log == [("tensor", [1.0]), ("node_pre", [3.0]), ("node_post", [3.0], [3.0])]


def test_hooks_multiple_outputs():
    def run(torch):
        log = []
        x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        a, b = x.split(2)
        b.register_hook(lambda g: log.append(("b", _l(g))) or g * 10)
        fn = a.grad_fn
        fn.register_prehook(
            lambda go: log.append(("pre", [None if g is None else _l(g) for g in go]))
        )
        (a.sum() * 2 + b.sum()).backward()
        log.append(("x", _l(x.grad)))
        return log

    _both(run)


def test_handle_context_manager_and_double_remove():
    def run(torch):
        log = []
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        with y.register_hook(lambda g: log.append("h")):
            pass
        h = y.register_hook(lambda g: log.append("k"))
        h.remove()
        h.remove()
        y.sum().backward()
        log.append(_l(x.grad))
        return log

    assert _both(run) == [[2.0, 2.0]]


def test_hooks_in_create_graph_mode():
    def run(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x**3
        y.register_hook(lambda g: g * x)
        (gx,) = torch.autograd.grad(y.sum(), x, create_graph=True)
        (ggx,) = torch.autograd.grad(gx.sum(), x)
        return [_l(gx), _l(ggx)]

    _both(run)


# ------------------------------------------------------------------ module full backward hooks
def test_module_full_backward_hooks():
    def run(torch):
        torch.manual_seed(0)
        log = []
        lin = torch.nn.Linear(3, 2)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]]))
            lin.bias.copy_(torch.tensor([0.1, -0.2]))

        def pre(m, go):
            log.append(("pre", type(m).__name__, [_l(g) for g in go]))

        def hook(m, gi, go):
            log.append(("hook", [None if g is None else _l(g) for g in gi], [_l(g) for g in go]))
            return (gi[0] * 2,)

        lin.register_full_backward_pre_hook(pre)
        h = lin.register_full_backward_hook(hook)
        x = torch.tensor([[1.0, -1.0, 2.0]], requires_grad=True)
        (lin(x) ** 2).sum().backward()
        log.append(("x", _l(x.grad), _l(lin.weight.grad)))
        h.remove()
        x.grad = None
        (lin(x) ** 2).sum().backward()
        log.append(("x2", _l(x.grad)))
        return log

    log = _both(run)
    assert [e[0] for e in log] == ["pre", "hook", "x", "pre", "x2"]


def test_module_hook_input_without_grad():
    def run(torch):
        log = []
        lin = torch.nn.Linear(2, 1)
        lin.register_full_backward_hook(
            lambda m, gi, go: log.append(("hook", [g is None for g in gi], len(go)))
        )
        with warnings.catch_warnings():  # torch warns "Full backward hook is firing ..."
            warnings.simplefilter("ignore")
            lin(torch.ones(1, 2)).sum().backward()
        return log

    _both(run)
