"""Fit ``y = sin(x)`` on [-pi, pi] with a cubic polynomial, as in "Learning PyTorch with examples".

    python -m ember.examples.polynomial [--quick] [--torch]

The tutorial's variants, each a function written as plain PyTorch code against the library it
is given (``lib`` is ``ember`` by default; ``--torch`` runs the very same code with PyTorch):

* :func:`raw_tensors`      tensors only, gradients derived and applied by hand
* :func:`autograd_tensors` ``requires_grad=True`` leaves, ``loss.backward()``, updates under
  ``no_grad``
* :func:`nn_sequential`    ``nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))`` with
  ``MSELoss(reduction='sum')``, parameters updated by hand
* :func:`nn_optim`         the same model trained by ``optim.RMSprop(lr=1e-3)``
* :func:`custom_module`    a ``Polynomial3(nn.Module)`` trained by ``optim.SGD``
* :func:`dynamic_net`      the tutorial's ``DynamicNet``: each forward adds the 4th and maybe the
  5th order term, picked at random, sharing one parameter (dynamic graphs)

Every function prints the tutorial's lines (``99 1234.5678`` every 100 steps, then
``Result: y = a + b x + c x^2 + d x^3``) and returns ``{"losses": [...], "coeffs": [...]}`` so
that runs with ember and torch can be compared step by step.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["raw_tensors", "autograd_tensors", "nn_sequential", "nn_optim", "custom_module",
           "dynamic_net", "main"]

Init = Sequence[float] | None


def _lib(lib: Any) -> Any:
    if lib is None:
        import ember

        return ember
    return lib


def _data(torch: Any, dtype: Any, n: int = 2000) -> tuple[Any, Any]:
    """2000 points of x in [-pi, pi] and y = sin(x)."""
    x = torch.linspace(-math.pi, math.pi, n, dtype=dtype)
    return x, torch.sin(x)


def _scalars(torch: Any, dtype: Any, init: Init, requires_grad: bool = False) -> list:
    """Four 0-d tensors: torch.randn(()) like the tutorial, or the given starting values."""
    if init is None:
        return [torch.randn((), dtype=dtype, requires_grad=requires_grad) for _ in range(4)]
    return [torch.tensor(float(v), dtype=dtype, requires_grad=requires_grad) for v in init]


def _result(a: float, b: float, c: float, d: float, verbose: bool) -> list[float]:
    if verbose:
        print(f"Result: y = {a} + {b} x + {c} x^2 + {d} x^3")
    return [a, b, c, d]


def raw_tensors(lib: Any = None, steps: int = 2000, lr: float = 1e-6, dtype: Any = None,
                init: Init = None, verbose: bool = True) -> dict:
    """Tensors with hand-written gradients: dloss/dy_pred = 2 (y_pred - y), chain rule per term."""
    torch = _lib(lib)
    dtype = dtype or torch.float
    x, y = _data(torch, dtype)
    a, b, c, d = _scalars(torch, dtype, init)
    losses = []
    for t in range(steps):
        # Forward pass: compute predicted y
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        # Compute and print loss
        loss = (y_pred - y).pow(2).sum().item()
        losses.append(loss)
        if verbose and t % 100 == 99:
            print(t, loss)
        # Backprop to compute gradients of a, b, c, d with respect to loss
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        # Update weights using gradient descent
        a -= lr * grad_a
        b -= lr * grad_b
        c -= lr * grad_c
        d -= lr * grad_d
    coeffs = _result(a.item(), b.item(), c.item(), d.item(), verbose)
    return {"losses": losses, "coeffs": coeffs}


def autograd_tensors(lib: Any = None, steps: int = 2000, lr: float = 1e-6, dtype: Any = None,
                     init: Init = None, verbose: bool = True) -> dict:
    """Leaves with requires_grad=True; loss.backward() fills .grad; SGD updates under no_grad."""
    torch = _lib(lib)
    dtype = dtype or torch.float
    x, y = _data(torch, dtype)
    a, b, c, d = _scalars(torch, dtype, init, requires_grad=True)
    losses = []
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        if verbose and t % 100 == 99:
            print(t, loss.item())
        loss.backward()
        # Manually update weights; wrapped in no_grad because the weights require grad
        with torch.no_grad():
            a -= lr * a.grad
            b -= lr * b.grad
            c -= lr * c.grad
            d -= lr * d.grad
            # Manually zero the gradients after updating weights
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    coeffs = _result(a.item(), b.item(), c.item(), d.item(), verbose)
    return {"losses": losses, "coeffs": coeffs}


def _poly_model(torch: Any, dtype: Any, init: Init) -> Any:
    """nn.Sequential(Linear(3, 1), Flatten(0, 1))."""
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)).to(dtype)
    if init is not None:
        with torch.no_grad():
            model[0].bias.fill_(float(init[0]))
            model[0].weight.copy_(torch.tensor([[float(v) for v in init[1:]]], dtype=dtype))
    return model


def _features(torch: Any, x: Any) -> Any:
    # y is a linear function of (x, x^2, x^3): x.unsqueeze(-1) has shape (2000, 1) and
    # broadcasting against p of shape (3,) gives a (2000, 3) tensor
    p = torch.tensor([1, 2, 3])
    return x.unsqueeze(-1).pow(p)


def _linear_result(model: Any, verbose: bool) -> list[float]:
    layer = model[0]
    return _result(layer.bias.item(), layer.weight[:, 0].item(), layer.weight[:, 1].item(),
                   layer.weight[:, 2].item(), verbose)


def nn_sequential(lib: Any = None, steps: int = 2000, lr: float = 1e-6, dtype: Any = None,
                  init: Init = None, verbose: bool = True) -> dict:
    """nn.Sequential + nn.MSELoss(reduction='sum'); parameters updated by hand under no_grad."""
    torch = _lib(lib)
    dtype = dtype or torch.float
    x, y = _data(torch, dtype)
    xx = _features(torch, x)
    model = _poly_model(torch, dtype, init)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    losses = []
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        if verbose and t % 100 == 99:
            print(t, loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= lr * param.grad
    return {"losses": losses, "coeffs": _linear_result(model, verbose)}


def nn_optim(lib: Any = None, steps: int = 2000, lr: float = 1e-3, dtype: Any = None,
             init: Init = None, verbose: bool = True, optimizer: str = "RMSprop") -> dict:
    """The same model trained by an optimizer from torch.optim (RMSprop, lr=1e-3 by default)."""
    torch = _lib(lib)
    dtype = dtype or torch.float
    x, y = _data(torch, dtype)
    xx = _features(torch, x)
    model = _poly_model(torch, dtype, init)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    opt = getattr(torch.optim, optimizer)(model.parameters(), lr=lr)
    losses = []
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        if verbose and t % 100 == 99:
            print(t, loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"losses": losses, "coeffs": _linear_result(model, verbose)}


def _polynomial3(torch: Any, dtype: Any, init: Init) -> Any:
    class Polynomial3(torch.nn.Module):
        """y = a + b x + c x^2 + d x^3 with the four coefficients as Parameters."""

        def __init__(self) -> None:
            super().__init__()
            a, b, c, d = _scalars(torch, dtype, init)
            self.a = torch.nn.Parameter(a)
            self.b = torch.nn.Parameter(b)
            self.c = torch.nn.Parameter(c)
            self.d = torch.nn.Parameter(d)

        def forward(self, x: Any) -> Any:
            return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

        def string(self) -> str:
            return (f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + "
                    f"{self.d.item()} x^3")

    return Polynomial3()


def custom_module(lib: Any = None, steps: int = 2000, lr: float = 1e-6, dtype: Any = None,
                  init: Init = None, verbose: bool = True) -> dict:
    """A Polynomial3(nn.Module) trained with nn.MSELoss(reduction='sum') and optim.SGD."""
    torch = _lib(lib)
    dtype = dtype or torch.float
    x, y = _data(torch, dtype)
    model = _polynomial3(torch, dtype, init)
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for t in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        losses.append(loss.item())
        if verbose and t % 100 == 99:
            print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if verbose:
        print(f"Result: {model.string()}")
    return {"losses": losses, "coeffs": [p.item() for p in model.parameters()]}


def _dynamic_net(torch: Any, dtype: Any, init: Init, rng: random.Random) -> Any:
    class DynamicNet(torch.nn.Module):
        """a + b x + c x^2 + d x^3, plus e x^4 and maybe e x^5, chosen anew at every forward."""

        def __init__(self) -> None:
            super().__init__()
            a, b, c, d = _scalars(torch, dtype, None if init is None else init[:4])
            e = (torch.randn((), dtype=dtype) if init is None or len(init) < 5
                 else torch.tensor(float(init[4]), dtype=dtype))
            self.a = torch.nn.Parameter(a)
            self.b = torch.nn.Parameter(b)
            self.c = torch.nn.Parameter(c)
            self.d = torch.nn.Parameter(d)
            self.e = torch.nn.Parameter(e)

        def forward(self, x: Any) -> Any:
            # Python control flow builds a different graph each time; the same Parameter e is
            # reused for the 4th and the 5th order terms
            y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
            for exp in range(4, rng.randint(4, 6)):
                y = y + self.e * x ** exp
            return y

        def string(self) -> str:
            return (f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + "
                    f"{self.d.item()} x^3 + {self.e.item()} x^4 ? + {self.e.item()} x^5 ?")

    return DynamicNet()


def dynamic_net(lib: Any = None, steps: int = 30000, lr: float = 1e-8, dtype: Any = None,
                init: Init = None, verbose: bool = True, seed: int | None = 0) -> dict:
    """The tutorial's DynamicNet, trained with SGD(lr=1e-8, momentum=0.9); prints every 2000."""
    torch = _lib(lib)
    dtype = dtype or torch.float
    x, y = _data(torch, dtype)
    model = _dynamic_net(torch, dtype, init, random.Random(seed))
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    every = max(1, min(2000, steps // 10))
    for t in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        losses.append(loss.item())
        if verbose and t % every == every - 1:
            print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if verbose:
        print(f"Result: {model.string()}")
    return {"losses": losses, "coeffs": [p.item() for p in model.parameters()]}


def main(lib: Any = None, quick: bool = False, seed: int = 0) -> dict:
    """Run every variant in turn (``quick``: a tenth of the steps) and return their results."""
    torch = _lib(lib)
    scale = 10 if quick else 1
    results = {}
    for name, fn, steps in [("raw tensors", raw_tensors, 2000),
                            ("autograd", autograd_tensors, 2000),
                            ("nn.Sequential", nn_sequential, 2000),
                            ("optim.RMSprop", nn_optim, 2000),
                            ("custom nn.Module", custom_module, 2000),
                            ("DynamicNet", dynamic_net, 30000)]:
        torch.manual_seed(seed)
        print(f"--- {name} ({torch.__name__}) ---")
        start = time.perf_counter()
        results[name] = fn(torch, steps=steps // scale)
        print(f"({time.perf_counter() - start:.2f}s)")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the steps")
    parser.add_argument("--torch", action="store_true", help="run the same code with PyTorch")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.torch:
        import torch as _torch

        main(_torch, args.quick, args.seed)
    else:
        main(None, args.quick, args.seed)
