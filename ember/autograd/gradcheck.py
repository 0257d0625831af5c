"""Finite-difference checks of gradients: ``gradcheck`` and ``gradgradcheck`` (torch's semantics).

``gradcheck`` compares, for every differentiable output ``o`` and every input ``x`` that requires
grad, the numerical Jacobian ``J[k, m] = (o_m(x + eps e_k) - o_m(x - eps e_k)) / (2 eps)``
(central differences, evaluated in float64) with the analytical one built from vector-Jacobian
products ``e_m^T J`` (one ``ember.autograd.grad`` call per output element).  Jacobians have
torch's layout: one row per input element, one column per output element.  ``gradgradcheck``
runs ``gradcheck`` on the function ``(inputs, grad_outputs) -> grad(outputs, inputs,
grad_outputs, create_graph=True)``, which checks second derivatives.

Perturbations replace an input's ``_data`` by a perturbed copy and restore the original object
afterwards, so the input's own data is never modified.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` / ``gradgradcheck`` when a check fails."""


FAILED_NONDET_MSG = (
    "\n\nNOTE: If your op relies on non-deterministic operations this failure might be expected: "
    "call gradcheck/gradgradcheck with `nondet_tol=<tol>` as a keyword argument."
)


# ------------------------------------------------------------------------------------ helpers
def _tensor_cls() -> type:
    from .._tensor import Tensor

    return Tensor


def _as_tuple(x: Any) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _diff_outputs(x: Any) -> tuple:
    tensor = _tensor_cls()
    return tuple(o for o in _as_tuple(x) if isinstance(o, tensor) and o._edge is not None)


def _wrap(a: np.ndarray) -> Any:
    from .._tensor import _new

    return _new(a, None)


def _f64(t: Any) -> np.ndarray:
    """A tensor's data as a flat float64 array (a copy)."""
    return np.array(t._data, dtype=np.float64).reshape(-1)


def _is_float(t: Any) -> bool:
    return t._data.dtype.kind == "f"


def _check_inputs(tupled: tuple) -> list[int]:
    """Indices of the inputs requiring grad; torch's warning for non-float64 ones."""
    tensor = _tensor_cls()
    idx = []
    for i, inp in enumerate(tupled):
        if not isinstance(inp, tensor) or inp._edge is None:
            continue
        dt = inp._data.dtype
        if dt != np.float64 and dt != np.complex128:
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point or "
                "complex. This check will likely fail if all the inputs are not of double "
                "precision floating point or complex. ",
                stacklevel=4,
            )
        if dt.kind == "c":
            raise NotImplementedError(
                f"ember's gradcheck checks real inputs only; input #{i} is {inp.dtype}. Hint: "
                "check the real and imaginary parts as separate real inputs."
            )
        d = inp._data
        if isinstance(d, np.ndarray) and d.size > 1 and any(
                s == 0 and n > 1 for s, n in zip(d.strides, d.shape, strict=True)):
            raise RuntimeError(
                f"The {i}th input has a dimension with stride 0. gradcheck only supports inputs "
                "that are non-overlapping to be able to compute the numerical gradients "
                "correctly. You should call .contiguous on the input before passing it to "
                "gradcheck."
            )
        idx.append(i)
    if not idx:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them "
            "have requires_grad=True."
        )
    return idx


def _snap(o: Any) -> tuple:
    """(shape, dtype, flat float64 copy or None) of an output, taken before inputs are restored."""
    d = o._data
    return (d.shape, d.dtype, _f64(o) if d.dtype.kind == "f" else None)


def _check_same(o1: tuple, o2: tuple, eps: float, k: Any) -> None:
    if o1[0] != o2[0]:
        raise AssertionError(
            "Expected `func` to return outputs with the same shape when inputs are perturbed "
            f"on index {k} by {eps}, but got: shapes {list(o1[0])} and {list(o2[0])}."
        )
    if o1[1] != o2[1]:
        raise AssertionError(
            "Expected `func` to return outputs with the same dtype when inputs are perturbed "
            f"on index {k} by {eps}, but got: dtypes {o1[1]} and {o2[1]}."
        )


def _eval_perturbed(func: Callable, tupled: tuple, inp: Any, data: Any) -> list:
    """Snapshots of ``func(*tupled)`` with ``inp``'s data temporarily replaced by ``data``."""
    orig = inp._data
    inp._data = data
    try:
        tensor = _tensor_cls()
        return [_snap(o) for o in _as_tuple(func(*tupled)) if isinstance(o, tensor)]
    finally:
        inp._data = orig


def _perturbed(orig: Any, flat: np.ndarray) -> Any:
    """``flat`` in the shape and kind (ndarray or NumPy scalar) of ``orig``."""
    if isinstance(orig, np.ndarray):
        return flat.reshape(orig.shape)
    return flat.dtype.type(flat[0])


def _numerical(func: Callable, tupled: tuple, inp: Any, outs: tuple, eps: float,
               direction: np.ndarray | None = None) -> list[np.ndarray | None]:
    """Central differences of every float output w.r.t. ``inp``.

    ``direction is None``: full Jacobians ``(inp.numel(), out.numel())``; otherwise the
    directional derivatives ``J u`` (flat, one per output) along ``direction`` (flat, float64).
    Non-float outputs give None.
    """
    orig = inp._data
    dt = orig.dtype
    base = np.array(orig, dtype=np.float64).reshape(-1)
    if direction is None:
        count = base.size
    else:
        count = 1
        step = eps * direction
    res: list[Any] = [
        np.zeros((count, o._data.size)) if _is_float(o) else None for o in outs
    ]
    osnaps = [_snap(o) for o in outs]
    for k in range(count):
        plus, minus = base.copy(), base.copy()
        if direction is None:  # one element at a time: column k of the Jacobian
            plus[k] += eps
            minus[k] -= eps
        else:
            plus += step
            minus -= step
        oa = _eval_perturbed(func, tupled, inp, _perturbed(orig, minus.astype(dt)))
        ob = _eval_perturbed(func, tupled, inp, _perturbed(orig, plus.astype(dt)))
        if len(oa) != len(outs) or len(ob) != len(outs):
            raise AssertionError(
                "Expected `func` to return the same number of outputs when inputs are perturbed"
            )
        for m, (o, a, b) in enumerate(zip(osnaps, oa, ob, strict=True)):
            if res[m] is None:
                continue
            _check_same(a, b, eps, k)
            _check_same(o, a, eps, k)
            res[m][k] = (b[2] - a[2]) / (2 * eps)
    if direction is not None:
        return [None if r is None else r[0] for r in res]
    return res


def _vjp(out: Any, diff_inputs: list, go: np.ndarray) -> tuple:
    from . import grad

    return grad(out, diff_inputs, _wrap(go), retain_graph=True, allow_unused=True)


def _analytical(out: Any, diff_inputs: list, check_grad_dtypes: bool,
                v: np.ndarray | None = None) -> list[np.ndarray]:
    """Analytical Jacobians ``(inp.numel(), out.numel())`` of ``out`` (or ``(numel, 1)``: vJ)."""
    od = out._data
    rows = [np.zeros((t._data.size, 1 if v is not None else od.size)) for t in diff_inputs]
    sizes_ok = types_ok = True
    gos = [v.reshape(od.shape).astype(od.dtype)] if v is not None else None
    count = 1 if v is not None else od.size
    for m in range(count):
        if gos is not None:
            go = gos[0]
        else:
            go = np.zeros(od.size, dtype=od.dtype)
            go[m] = 1
            go = go.reshape(od.shape)
        for i, (g, inp) in enumerate(zip(_vjp(out, diff_inputs, go), diff_inputs, strict=True)):
            if g is None:
                continue
            if g._data.shape != inp._data.shape:
                sizes_ok = False
                continue
            if g._data.dtype != inp._data.dtype:
                types_ok = False
            rows[i][:, m] = _f64(g)
    if not types_ok and check_grad_dtypes:
        raise GradcheckError("Gradient has dtype mismatch")
    if not sizes_ok:
        raise GradcheckError("Analytical gradient has incorrect size")
    return rows


def _analytical_checked(out: Any, diff_inputs: list, nondet_tol: float, check_grad_dtypes: bool,
                        v: np.ndarray | None = None) -> list[np.ndarray]:
    """Analytical Jacobians, computed twice to check that backward is deterministic."""
    j1 = _analytical(out, diff_inputs, check_grad_dtypes, v)
    j2 = _analytical(out, diff_inputs, check_grad_dtypes, v)
    for a, b in zip(j1, j2, strict=True):
        if a.size and np.abs(a - b).max() > nondet_tol:  # NaN compares False, like torch
            raise GradcheckError(
                "Backward is not reentrant, i.e., running backward with same input and "
                "grad_output multiple times gives different values, although analytical "
                "gradient matches numerical gradient.The tolerance for nondeterminism was "
                f"{nondet_tol}." + FAILED_NONDET_MSG
            )
    return j1


def _unravel(k: int, shape: tuple) -> tuple:
    return tuple(int(i) for i in np.unravel_index(k, shape)) if shape else ()


def _mismatch_msg(a: np.ndarray, n: np.ndarray, out_idx: int, in_idx: int, rtol: float,
                  atol: float, inp: Any = None, out: Any = None) -> str:
    """torch's message (``Jacobian mismatch for output 0 with respect to input 0, ...``)."""
    msg = (
        f"Jacobian mismatch for output {out_idx:d} with respect to input {in_idx:d},\n"
        f"numerical:{_wrap(n)!r}\nanalytical:{_wrap(a)!r}\n"
    )
    with np.errstate(invalid="ignore"):
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
    excess = np.where(np.isnan(excess), np.inf, excess)
    k, m = np.unravel_index(int(np.argmax(excess)), a.shape)
    where = f"element {k} of input {in_idx}"
    if inp is not None and out is not None:
        where = (
            f"input {in_idx} element {_unravel(int(k), inp._data.shape)}, output {out_idx} "
            f"element {_unravel(int(m), out._data.shape)}"
        )
    return msg + (
        f"The worst mismatch is at {where}: numerical {float(n[k, m])!r} vs analytical "
        f"{float(a[k, m])!r} (|difference| {float(abs(a[k, m] - n[k, m]))!r} > atol + rtol * "
        f"|numerical| = {float(atol + rtol * abs(n[k, m]))!r}).\n"
    )


def _allclose(a: np.ndarray, n: np.ndarray, rtol: float, atol: float) -> bool:
    return bool(np.allclose(a, n, rtol=rtol, atol=atol))


# ------------------------------------------------------------------------------- the checks
def _slow(func: Callable, tupled: tuple, in_idx: list, func_out: tuple, outputs: tuple,
          eps: float, rtol: float, atol: float, check_grad_dtypes: bool,
          nondet_tol: float) -> None:
    diff_inputs = [tupled[i] for i in in_idx]
    tensor = _tensor_cls()
    touts = tuple(o for o in func_out if isinstance(o, tensor))
    # numerical[j][m]: Jacobian of output m (all tensor outputs) w.r.t. diff input j
    numerical = [_numerical(func, tupled, x, touts, eps) for x in diff_inputs]
    if not outputs:
        for per_in in numerical:
            for jac in per_in:
                if jac is not None and np.any(jac != 0):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    pos = {id(o): m for m, o in enumerate(touts)}
    for i, o in enumerate(outputs):
        analytical = _analytical_checked(o, diff_inputs, nondet_tol, check_grad_dtypes)
        for j, a in enumerate(analytical):
            n = numerical[j][pos[id(o)]]
            if n is None:  # integer output: no numerical Jacobian
                continue
            if not _allclose(a, n, rtol, atol):
                raise GradcheckError(
                    _mismatch_msg(a, n, i, j, rtol, atol, diff_inputs[j], o)
                )


def _fast(func: Callable, tupled: tuple, in_idx: list, func_out: tuple, outputs: tuple,
          eps: float, rtol: float, atol: float, check_grad_dtypes: bool,
          nondet_tol: float) -> None:
    """torch's fast mode: ``v^T (J u)`` (finite differences) vs ``(v^T J) u`` (backward)."""
    diff_inputs = [tupled[i] for i in in_idx]
    rng = np.random.default_rng(0)

    def vec(n: int) -> np.ndarray:
        u = rng.random(n)
        nrm = np.linalg.norm(u)
        return u / nrm if nrm else u

    all_u = [vec(x._data.size) for x in diff_inputs]
    all_v = [vec(o._data.size) for o in outputs]
    tensor = _tensor_cls()
    touts = tuple(o for o in func_out if isinstance(o, tensor))
    pos = {id(o): m for m, o in enumerate(touts)}
    ju = [_numerical(func, tupled, x, touts, eps, u) for x, u in zip(diff_inputs, all_u,
                                                                      strict=True)]
    if not outputs:
        for per_in in ju:
            for d in per_in:
                if d is not None and np.any(d != 0):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    for i, (o, v) in enumerate(zip(outputs, all_v, strict=True)):
        vj = _analytical_checked(o, diff_inputs, nondet_tol, check_grad_dtypes, v)
        for j, (a_vj, u) in enumerate(zip(vj, all_u, strict=True)):
            d = ju[j][pos[id(o)]]
            if d is None:
                continue
            a = np.array(a_vj[:, 0] @ u)
            n = np.array(v @ d)
            adj_atol = atol * float(u.sum()) * float(v.sum())
            if not _allclose(a, n, rtol, adj_atol):
                num = _numerical(func, tupled, diff_inputs[j], touts, eps)[pos[id(o)]]
                ana = _analytical(o, diff_inputs, False)[j]
                slow_ok = _allclose(ana, num, rtol, atol)
                msg = (
                    f"Jacobian mismatch for output {i:d} with respect to input {j:d},\n"
                    f"numerical:{_wrap(n)!r}\nanalytical:{_wrap(a)!r}\n\n"
                    "The above quantities relating the numerical and analytical jacobians are "
                    "computed in fast mode. Below, we recompute numerical and analytical "
                    "jacobians in slow mode:\n\n"
                    + _mismatch_msg(ana, num, i, j, rtol, atol, diff_inputs[j], o)
                )
                if slow_ok:
                    msg += (
                        "\nFast gradcheck failed but element-wise differences are small. This "
                        "means that the test might've passed in slow_mode! Call gradcheck with "
                        "fast_mode=False."
                    )
                raise GradcheckError(msg)


def _test_backward_mul_by_grad_output(outputs: tuple, diff_inputs: list) -> None:
    from . import grad

    gos = [_wrap(np.zeros_like(np.asarray(o._data))) for o in outputs]
    res = grad(list(outputs), diff_inputs, gos, retain_graph=True, allow_unused=True)
    for gi, di in zip(res, diff_inputs, strict=True):
        if gi is None:
            continue
        if np.any(np.asarray(gi._data) != 0):
            raise GradcheckError("backward not multiplied by grad_output")
        if gi._data.dtype != di._data.dtype:
            raise GradcheckError("grad is incorrect type")
        if gi._data.shape != di._data.shape:
            raise GradcheckError("grad is incorrect size")


def _test_undefined_grad(func: Callable, tupled: tuple, diff_inputs: list) -> None:
    """Zero ("undefined") output gradients must give zero (or no) input gradients."""
    from . import grad

    outs = _diff_outputs(func(*tupled))
    if not outs:
        return
    gos = [_wrap(np.zeros_like(np.asarray(o._data))) for o in outs]
    try:
        res = grad(list(outs), diff_inputs, gos, allow_unused=True)
    except RuntimeError as e:
        raise GradcheckError(
            "Expected backward function to handle undefined output grads. Please look at "
            '"Notes about undefined output gradients" in "tools/autograd/derivatives.yaml"'
        ) from e
    for gi in res:
        if gi is not None and np.any(np.asarray(gi._data) != 0):
            raise GradcheckError(
                "Expected all input grads to be undefined or zero when all output grads are "
                'undefined or zero. Please look at "Notes about undefined output gradients" in '
                '"tools/autograd/derivatives.yaml"'
            )


def _test_batched_grad(outputs: tuple, diff_inputs: list) -> None:
    """No vmap in ember: check linearity, ``vjp(a v1 + b v2) == a vjp(v1) + b vjp(v2)``."""
    rng = np.random.default_rng(1)
    for i, o in enumerate(outputs):
        od = np.asarray(o._data)
        v1 = rng.standard_normal(od.shape).astype(od.dtype)
        v2 = rng.standard_normal(od.shape).astype(od.dtype)
        g1, g2, g12 = (_vjp(o, diff_inputs, v) for v in (v1, v2, 2 * v1 - v2))
        for j, (a, b, c) in enumerate(zip(g1, g2, g12, strict=True)):
            if a is None or b is None or c is None:
                continue
            exp = 2 * np.asarray(a._data, np.float64) - np.asarray(b._data, np.float64)
            got = np.asarray(c._data, np.float64)
            if not np.allclose(got, exp, rtol=1e-5, atol=1e-8):
                raise GradcheckError(
                    f"For output {i} and input {j}:\n\nbatched gradients (the vector-Jacobian "
                    "product of a combination of grad_outputs) differ from the combination of "
                    f"the products.\nGot: {_wrap(got)!r}\nExpected: {_wrap(exp)!r}"
                )


# --------------------------------------------------------------------------------- public API
def gradcheck(
    func: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Check d func / d inputs (backward) against central differences (f(x+eps)-f(x-eps))/2eps.

    Returns True, or raises ``GradcheckError`` (False with ``raise_exception=False``).
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError(
            "Expected at least one of check_forward_ad or check_backward_ad to be True"
        )
    if check_batched_grad and not check_backward_ad:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_backward_ad to be True"
        )
    if check_forward_ad or check_batched_forward_grad:
        raise NotImplementedError(
            "ember has no forward-mode AD; check_forward_ad / check_batched_forward_grad are not "
            "supported. Hint: leave them False (backward mode is checked by default)."
        )
    try:
        return _gradcheck(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad,
                          check_grad_dtypes, check_batched_grad, fast_mode)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck(func: Callable, inputs: Any, eps: float, atol: float, rtol: float,
               nondet_tol: float, check_undefined_grad: bool, check_grad_dtypes: bool,
               check_batched_grad: bool, fast_mode: bool) -> bool:
    tupled = _as_tuple(inputs)
    in_idx = _check_inputs(tupled)
    func_out = _as_tuple(func(*tupled))
    outputs = _diff_outputs(func_out)
    for o in outputs:
        if o._data.dtype.kind == "c":
            raise NotImplementedError(
                "ember's gradcheck checks real outputs only. Hint: return the real and "
                "imaginary parts as separate outputs."
            )
    check = _fast if fast_mode else _slow
    check(func, tupled, in_idx, func_out, outputs, eps, rtol, atol, check_grad_dtypes,
          nondet_tol)
    diff_inputs = [tupled[i] for i in in_idx]
    if check_batched_grad:
        _test_batched_grad(outputs, diff_inputs)
    if outputs:
        _test_backward_mul_by_grad_output(outputs, diff_inputs)
    if check_undefined_grad:
        _test_undefined_grad(func, tupled, diff_inputs)
    return True


def gradgradcheck(
    func: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) -> v^T d func / d inputs."""
    from . import grad

    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError(
            "Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True"
        )
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_undefined_grad=True requires check_rev_over_rev to be True"
        )
    tensor = _tensor_cls()
    tupled = _as_tuple(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(2)
        outs = _diff_outputs(func(*tupled))
        gos = []
        for o in outs:
            dt = o._data.dtype if o._data.dtype.kind in "fc" else np.dtype(np.float64)
            a = rng.uniform(-1, 1, size=o._data.shape).astype(dt)
            if gen_non_contig_grad_outputs and a.size > 1:
                buf = np.zeros(a.shape + (2,), dtype=dt)
                buf[..., 0] = a
                a = buf[..., 0]  # same values, non-contiguous
            gos.append(_wrap(a).requires_grad_(True))
        tupled_go = tuple(gos)
    else:
        tupled_go = _as_tuple(grad_outputs)
    num_outputs = len(tupled_go)
    diff_in = {i for i, x in enumerate(tupled) if isinstance(x, tensor) and x._edge is not None}
    diff_go = {i for i, x in enumerate(tupled_go) if isinstance(x, tensor) and x._edge is not None}

    def new_func(*args: Any) -> tuple:
        input_args = tuple(
            x.requires_grad_() if i in diff_in else x
            for i, x in enumerate(args[: len(args) - num_outputs])
        )
        outs = _diff_outputs(func(*input_args))
        gos = tuple(
            x.requires_grad_() if i in diff_go else x
            for i, x in enumerate(args[len(args) - num_outputs:])
        )
        diff_args = [x for i, x in enumerate(input_args) if i in diff_in]
        res = grad(outs, diff_args, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in res if g is not None)

    return gradcheck(
        new_func,
        tupled + tupled_go,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        nondet_tol=nondet_tol,
        check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes,
        check_batched_grad=check_batched_grad,
        fast_mode=fast_mode,
        check_forward_ad=check_fwd_over_rev,
        check_backward_ad=check_rev_over_rev,
        masked=masked,
    )
