"""The seed lesson: a (Vietnamese) PyTorch autograd notebook, cell by cell, run on ember.

Run it with ``python -m ember.examples.seed``.  The lesson drew its inputs with ``randn``; here
they are fixed to the values it printed, so the output matches the lesson line for line.
``main(lib)`` takes the library, so the same code runs on torch for comparison.
"""

from __future__ import annotations

from types import ModuleType


def main(lib: ModuleType | None = None) -> None:
    """Run the lesson's cells in order, printing what the notebook printed."""
    if lib is None:
        import ember as lib
    torch = lib  # the lesson's code, unchanged, with `import ember as torch`

    # In this part we learn how to compute derivatives with PyTorch's autograd package.

    # 1 - The autograd package
    # Autograd differentiates every tensor operation automatically: mark a tensor with
    # requires_grad=True and every operation on it is tracked in a computational graph.
    x = torch.tensor([1.76027, -1.21763, 0.39857], requires_grad=True)  # randn(3) in the lesson
    y = x + 2

    # y was created by the operation x + 2, so it has a grad_fn attribute.
    # grad_fn: a reference to the function that created the tensor.
    print(x)  # created by the user -> its grad_fn is None
    print(y)
    print(y.grad_fn)

    # More operations on y
    z = y * 3
    print(z)
    z = z + 3
    print(z)

    # 2 - Computing gradients with backpropagation
    # When the computation is done, call .backward() and all gradients are computed
    # automatically.  They are accumulated into the .grad attribute: the partial derivative of
    # the output with respect to that tensor.
    z = z.mean()
    z.backward()
    print(x.grad)  # dz/dx

    # A non-scalar output: backward() needs a gradient of matching shape (the vector in the
    # vector-Jacobian product).
    x = torch.tensor([-1.8002259, 0.45050094, 0.23861969, 0.17556353, 2.1281974],
                     requires_grad=True)  # randn(5) in the lesson
    print(x)
    y = x * 2
    for _ in range(10):
        y = y * 2

    print(y)
    print(y.shape)

    w = torch.tensor([0.1, 1.0, 0.0001, 0.01, 0.001], dtype=torch.float32)
    y.backward(w)
    print(x.grad)

    # 3 - Stop a tensor from tracking history
    # During training, updating the weights must not be part of the gradient computation.
    # Three ways to stop tracking:
    # - x.requires_grad_(False)
    # - x.detach()
    # - wrap the code in `with torch.no_grad():`

    # .requires_grad_(...) changes the flag in place.
    a = torch.tensor([[0.5, -1.5], [2.0, 0.25]])  # randn(2, 2)
    print(a.requires_grad)
    b = (a * 3) / (a - 1)
    print(b.grad_fn)
    a.requires_grad_(True)
    print(a.requires_grad)
    b = (a * a).sum()
    print(b.grad_fn)
    a.requires_grad_(False)
    print(a.requires_grad)

    # .detach(): a new tensor with the same content that does not require gradients.
    a = torch.tensor([[0.5, -1.5], [2.0, 0.25]], requires_grad=True)
    print(a.requires_grad)
    b = a.detach()
    print(b.requires_grad)
    print(b)

    # with torch.no_grad(): operations inside are not tracked.
    print(a.requires_grad)
    with torch.no_grad():
        y = x * 2
        print(y.requires_grad)
        print((a ** 2).requires_grad)

    # 4 - Gradients accumulate
    # backward() adds into .grad: reset it with .zero_() before the next optimisation step.
    weights = torch.ones(4, requires_grad=True)

    for _epoch in range(3):
        # a dummy model
        model_output = (weights * 3).sum()
        model_output.backward()

        print(weights.grad)

        # a hand-written optimiser step: not part of the graph
        with torch.no_grad():
            weights -= 0.01 * weights.grad

        # important: otherwise the next backward adds to this gradient
        weights.grad.zero_()

    print(weights)
    print(model_output)


if __name__ == "__main__":
    main()
