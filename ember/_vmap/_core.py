"""Batched values for vmap: ``BatchedTensor``, the level stack and the layout helpers.

A batched value is a ``BatchedTensor`` holding a *physical* ember Tensor ``_p`` whose leading
``len(_lv)`` dims are the vmap dims of the levels in ``_lv`` (level ids, ascending = outermost
first); the remaining dims are the *logical* (per-example) dims that ``shape``, ``dim()``,
``len()``, ``size(-1)`` report.  Nested vmaps share one physical tensor (no wrapper chains).
Batching rules (``rules_*.py``) compute with ordinary ember ops on ``_p``, so autograd records
the batched computation like any other.

A ``BatchedTensor`` refuses ``_data`` and ``_edge``: an ember function that has no batching rule
and reaches for the raw array raises a RuntimeError naming itself instead of computing on the
physical array (which would silently mix the batch into the per-example math).
"""

from __future__ import annotations

import sys
from typing import Any

from .. import _tensor as _T
from .._tensor import Size, Tensor, _wrap_dim

__all__ = ["BatchedTensor", "Level", "STACK", "LIVE", "bt", "parts", "union", "align",
           "with_levels", "relayout", "lndim", "ldim", "no_rule", "check_live"]

_onew = object.__new__


class Level:
    """One active vmap: its unique id (ascending with nesting), batch size and randomness."""

    __slots__ = ("id", "size", "randomness")

    def __init__(self, id: int, size: int, randomness: str) -> None:  # noqa: A002
        self.id, self.size, self.randomness = id, size, randomness


STACK: list[Level] = []  # active levels, outermost first
LIVE: dict[int, Level] = {}  # id -> active level


def _escaped() -> RuntimeError:
    return RuntimeError(
        "vmap: a BatchedTensor escaped from the function being vmapped (it was stored outside "
        "and used after that vmap returned). Hint: return it from the function instead, so vmap "
        "can unbatch it."
    )


def check_live(lv: tuple) -> None:
    """Raise when a batched value belongs to a vmap that already returned."""
    for i in lv:
        if i not in LIVE:
            raise _escaped()


# ------------------------------------------------------------------------ layout helpers
def bt(p: Tensor, lv: tuple) -> Tensor:
    """The value with physical tensor ``p`` batched at levels ``lv`` (plain ``p`` if none)."""
    if not lv:
        return p
    t = _onew(BatchedTensor)
    t._p = p
    t._lv = lv
    return t


def parts(x: Any) -> tuple:
    """(physical tensor, levels) of a value; a plain tensor has no levels."""
    if type(x) is BatchedTensor:
        return x._p, x._lv
    return x, ()


def lndim(x: Any) -> int:
    """Logical number of dims of a tensor (batched or not)."""
    if type(x) is BatchedTensor:
        return x._p._data.ndim - len(x._lv)
    return x._data.ndim


def ldim(d: int, n: int) -> int:
    """A logical dim normalised against logical rank ``n`` (torch's IndexError if out of range)."""
    return _wrap_dim(d, n)


def union(xs: Any) -> tuple:
    """Sorted union of the levels of the batched values in ``xs``."""
    lv: tuple = ()
    for x in xs:
        if type(x) is BatchedTensor:
            xl = x._lv
            if xl != lv:
                lv = xl if not lv else tuple(sorted(set(lv) | set(xl)))
    check_live(lv)
    return lv


def _insert(p: Tensor, lv: tuple, lvs: tuple, pad: int, expand: bool) -> Tensor:
    """``p`` (levels ``lv``) laid out for levels ``lvs``: missing level dims are inserted (size 1,
    or the level's batch size when ``expand``) and ``pad`` size-1 logical dims added in front."""
    shp = p._data.shape
    k = len(lv)
    if lv == lvs and not pad:
        return p
    new, j = [], 0
    for lid in lvs:
        if j < k and lv[j] == lid:
            new.append(shp[j])
            j += 1
        else:
            new.append(1)
    new += [1] * pad
    new += shp[k:]
    q = p.reshape(new) if len(new) != len(shp) else p
    if expand:
        sizes = [LIVE[lid].size for lid in lvs] + [-1] * (len(new) - len(lvs))
        if tuple(new[:len(lvs)]) != tuple(sizes[:len(lvs)]):
            q = q.expand(*sizes)
    return q


def align(xs: list, lvs: tuple | None = None) -> tuple:
    """Physical operands for a broadcasting op on ``xs`` (tensors; anything else passes).

    Batched operands get the batch dims of all levels in ``lvs`` in front (size 1 where they are
    not batched) and size-1 logical dims so that every batched operand has the largest logical
    rank; plain tensors stay as they are (broadcasting right-aligns them).  Returns (lvs, list)."""
    if lvs is None:
        lvs = union(xs)
    R = 0
    for x in xs:
        if isinstance(x, Tensor):
            n = lndim(x)
            if n > R:
                R = n
    out = []
    for x in xs:
        if type(x) is BatchedTensor:
            out.append(_insert(x._p, x._lv, lvs, R - (x._p._data.ndim - len(x._lv)), False))
        else:
            out.append(x)
    return lvs, out


def relayout(x: Any, lvs: tuple, pad: int = 0, expand: bool = False) -> Tensor:
    """Physical tensor of ``x`` (batched or plain) laid out for levels ``lvs``: a vmap dim per
    level in front (size 1 where ``x`` is not batched, or the batch size when ``expand``), then
    ``pad`` size-1 dims, then the logical dims."""
    if type(x) is BatchedTensor:
        return _insert(x._p, x._lv, lvs, pad, expand)
    return _insert(x, (), lvs, pad, expand)


def with_levels(x: Any, lvs: tuple, expand: bool = True) -> Tensor:
    """Physical tensor of ``x`` with the batch dims of every level in ``lvs`` in front (expanded
    to the batch sizes, or size 1 when ``expand`` is False); logical dims unchanged."""
    return relayout(x, lvs, 0, expand)


# ------------------------------------------------------------------------ errors
def _public_name(code: Any, mod: str) -> str:
    import ember

    name = code.co_name
    for where, prefix in ((ember, "ember."), (sys.modules.get("ember.nn.functional"),
                                                 "ember.nn.functional."),
                          (_T.Tensor, "Tensor.")):
        f = getattr(where, name, None) if where is not None else None
        f = getattr(f, "__wrapped__", f)
        if getattr(f, "__code__", None) is code or getattr(
                getattr(f, "fget", None), "__code__", None) is code:
            return prefix + name
    return f"{mod}.{getattr(code, 'co_qualname', name)}"


_SKIP_MODULES = ("ember._vmap", "ember.ops._core", "ember.func")


def no_rule(what: str | None = None, depth: int = 2) -> RuntimeError:
    """RuntimeError for an op that reached a BatchedTensor's raw data (it has no batching rule).

    The op is named from the call stack: the innermost public ember function that is not itself
    covered by a rule (one with a rule was reached through an alias vmap cannot patch)."""
    from ._dispatch import INPLACE_CODES, RULED_CODES

    if what is None:
        f = sys._getframe(depth)
        chain = []
        while f is not None:
            mod = f.f_globals.get("__name__", "")
            if not mod.startswith("ember"):
                break
            code = f.f_code
            name = code.co_name
            if not mod.startswith(_SKIP_MODULES) and not (
                    name.startswith("_") and not name.endswith("__")) and name != "<lambda>":
                chain.append((code, mod))
            f = f.f_back
        pick = next((c for c in chain if c[0] not in RULED_CODES), None)
        if pick is not None:
            what = _public_name(*pick)
        elif chain:
            if any(c[0] in INPLACE_CODES for c in chain):  # plain.add_(batched) & co.
                from .rules_pointwise import INPLACE_MSG

                return RuntimeError(INPLACE_MSG)
            nm = _public_name(*chain[0])
            return RuntimeError(
                f"vmap: {nm} was called without its batching rule: it was reached through a "
                "reference bound before vmap started (e.g. `from ember import "
                f"{chain[0][0].co_name}`), which vmap cannot redirect. Hint: call it as "
                f"ember.{chain[0][0].co_name}(...) or as a Tensor method inside the vmapped "
                "function."
            )
        else:
            what = "this operation"
    return RuntimeError(
        f"vmap: {what} has no batching rule, so it cannot run on a batched (vmapped) tensor; "
        "ember's vmap runs every op once on the whole batch and stops rather than compute "
        "across examples. Hint: move this op out of the vmapped function, or write it with ops "
        "that have batching rules (pointwise math, reductions, views, indexing, matmul/einsum, "
        "cat/stack, common nn.functional ops)."
    )


_ITEM = (
    "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling "
    ".item() on a Tensor, please try to rewrite what you're doing with other operations. Hint: "
    "python numbers and branches on tensor values are per-example data; use ember.where or "
    "other tensor ops instead."
)
_FLOW = (
    "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. "
    "We don't support that yet. Hint: replace the python `if`/`while` on a tensor value with "
    "ember.where (both branches computed)."
)
_STORAGE = (
    "Cannot access data pointer of Tensor that doesn't have storage. Hint: a batched tensor "
    "inside vmap has no per-example array; return it from the function and convert the result."
)


def _raise(msg: str) -> Any:
    def f(self: Any, *a: Any, **k: Any) -> Any:
        raise RuntimeError(msg)

    return f


# ------------------------------------------------------------------------ BatchedTensor
class BatchedTensor(Tensor):
    """A tensor inside vmap: physical ``_p`` with vmap dims in front, levels ``_lv``.

    It reports the logical (per-example) metadata; its ops dispatch to batching rules (methods
    installed by ``_dispatch``).  Logical dims map to physical ones by ``d -> d + len(_lv)``."""

    __slots__ = ("_p", "_lv")

    _p: Tensor
    _lv: tuple

    @property
    def _data(self) -> Any:
        raise no_rule()

    @_data.setter
    def _data(self, value: Any) -> None:
        raise no_rule()

    @property
    def _edge(self) -> Any:
        raise no_rule()

    @_edge.setter
    def _edge(self, value: Any) -> None:
        raise no_rule()

    # metadata -------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._p._data.shape[len(self._lv):])

    def size(self, dim: int | None = None) -> Any:
        """Logical shape, or the logical size of one dim."""
        s = self._p._data.shape[len(self._lv):]
        if dim is None:
            return Size(s)
        return s[_wrap_dim(dim, len(s))]

    def dim(self) -> int:
        """Logical number of dims."""
        return self._p._data.ndim - len(self._lv)

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._p._data.ndim - len(self._lv)

    def numel(self) -> int:
        """Logical number of elements (per example)."""
        n = 1
        for s in self._p._data.shape[len(self._lv):]:
            n *= s
        return n

    nelement = numel

    def __len__(self) -> int:
        s = self._p._data.shape[len(self._lv):]
        if not s:
            raise TypeError("len() of a 0-d tensor")
        return s[0]

    @property
    def dtype(self) -> Any:
        return self._p.dtype

    def is_floating_point(self) -> bool:
        """True for float dtypes."""
        return self._p._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        """True for complex dtypes."""
        return self._p._data.dtype.kind == "c"

    def element_size(self) -> int:
        """Bytes per element."""
        return self._p._data.dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self._p._data.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.numel() * self._p._data.dtype.itemsize

    def stride(self, dim: int | None = None) -> Any:
        """Logical strides (the physical strides of the logical dims)."""
        st = self._p.stride()[len(self._lv):]
        return st if dim is None else st[_wrap_dim(dim, len(st))]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the physical tensor is contiguous."""
        return self._p.is_contiguous()

    # autograd state (of the physical tensor) -------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._p.requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self._p.requires_grad = flag

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad of the physical tensor; returns self."""
        self._p.requires_grad_(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self._p.is_leaf

    @property
    def grad_fn(self) -> Any:
        return self._p.grad_fn

    @property
    def grad(self) -> Any:
        return None

    @property
    def _version(self) -> int:
        return self._p._version

    @property
    def data(self) -> Tensor:
        return bt(self._p.data, self._lv)

    def detach(self) -> Tensor:
        """Batched detach of the physical tensor."""
        return bt(self._p.detach(), self._lv)

    def detach_(self) -> Tensor:
        """Detach the physical tensor in place."""
        self._p.detach_()
        return self

    def backward(self, *args: Any, **kwargs: Any) -> None:
        """Not supported inside vmap (torch's error)."""
        raise RuntimeError(
            "backward() called inside a functorch transform. This is not supported, please use "
            "functorch.grad or functorch.vjp instead or call backward() outside of functorch "
            "transforms. Hint: ember.func.grad / ember.func.vjp work inside ember.func.vmap."
        )

    # data-dependent python conversions ---------------------------------------------------
    item = _raise(_ITEM)
    __float__ = _raise(_ITEM)
    __int__ = _raise(_ITEM)
    __complex__ = _raise(_ITEM)
    __index__ = _raise(_ITEM)
    __bool__ = _raise(_FLOW)
    numpy = _raise(_STORAGE)
    tolist = _raise(_STORAGE)
    __array__ = _raise(_STORAGE)
    data_ptr = _raise(_STORAGE)

    def __deepcopy__(self, memo: dict) -> Tensor:
        raise RuntimeError("vmap: cannot deepcopy a batched tensor inside vmap.")

    def __reduce_ex__(self, proto: int) -> Any:
        raise RuntimeError("vmap: cannot pickle a batched tensor inside vmap.")

    def __hash__(self) -> int:
        return id(self)

    def __format__(self, spec: str) -> str:
        return object.__format__(self, spec)

    def __iter__(self) -> Any:
        if self.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def cpu(self) -> Tensor:
        """This tensor."""
        return self

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        check_live(self._lv)
        depth = {lv.id: i + 1 for i, lv in enumerate(STACK)}
        text = repr(self._p)
        for i in range(len(self._lv)):
            inner = "\n".join("    " + line for line in text.split("\n"))
            text = f"BatchedTensor(lvl={depth[self._lv[i]]}, bdim=0, value=\n{inner}\n)"
        return text

    __str__ = __repr__
