"""``Tensor``: data, autograd state, repr and conversions.  No math lives here.

Operations (``+``, ``sum``, ``reshape`` ...) are installed onto the class by the modules in
``ember/ops`` (see ``ops/_core.register``), next to their backward rules.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import _dtype as D
from . import _printing
from .autograd.engine import execute as _execute
from .autograd.grad_mode import STATE
from .autograd.graph import AccumulateGrad, _ver, accumulate_into, link_out, type_name

_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool
_ndarray = np.ndarray


class Size(tuple):
    """A tensor's shape: a tuple that prints like ``ember.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"ember.Size([{', '.join(str(s) for s in self)}])"

    __str__ = __repr__

    def numel(self) -> int:
        """Number of elements of a tensor of this shape."""
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i: Any) -> Any:
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))


class device:  # noqa: N801 - torch spells it in lower case
    """A device: ember computes on the CPU (``device(type='cpu')``)."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | device = "cpu", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index
        name, _, idx = str(type).partition(":")
        if name not in ("cpu", "cuda", "meta", "mps"):
            raise RuntimeError(
                "Expected one of cpu, cuda, meta, mps device type at start of device "
                f"string: {type}"
            )
        self.type = name
        self.index = _pyint(idx) if idx else index

    def __repr__(self) -> str:
        idx = f", index={self.index}" if self.index is not None else ""
        return f"device(type='{self.type}'{idx})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")
_default_device = [CPU]


def _check_device(dev: Any) -> None:
    """Raise for devices ember cannot compute on (anything but the CPU)."""
    if dev is None:
        return
    d = dev if isinstance(dev, device) else device(dev if not isinstance(dev, _pyint) else "cuda")
    if d.type != "cpu":
        raise RuntimeError(
            f"ember computes on the CPU only; device '{d}' is not available. "
            "Hint: leave device= out or pass device='cpu'."
        )


def _new(data: Any, edge: Any) -> Tensor:
    """A Tensor around ``data`` (ndarray or NumPy scalar) with autograd edge ``edge``."""
    t = _object_new(Tensor)
    t._data = data
    t._edge = edge
    return t


_object_new = object.__new__


class Tensor:
    """A multi-dimensional array that records operations for reverse-mode autodiff."""

    __slots__ = ("_data", "_edge", "__dict__", "__weakref__")
    __array_priority__ = 1000  # NumPy defers to our reflected operators

    # rarely set attributes live in __dict__; these class attributes are their defaults
    _grad: Tensor | None = None
    _vc: list | None = None  # version counter cell, shared with views
    _base: Tensor | None = None
    _view_fn: Any = None  # replays the view from its base (set by ops._core.as_view)
    _retains: bool = False
    _post_acc: Any = None

    _data: Any
    _edge: Any

    def __new__(cls, *args: Any, **kwargs: Any) -> Tensor:
        # legacy constructor: Tensor([1, 2]) -> float data; Tensor(2, 3) -> uninitialised shape
        from ._creation import _legacy_new

        return _legacy_new(cls, *args, **kwargs)

    # ------------------------------------------------------------------ autograd state
    @property
    def requires_grad(self) -> bool:
        return self._edge is not None

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self._set_requires_grad(flag, "Only Tensors of floating point and complex dtype")

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place (leaves only); returns self."""
        return self._set_requires_grad(requires_grad, "only Tensors of floating point dtype")

    def _set_requires_grad(self, requires_grad: bool, which: str) -> Tensor:
        e = self._edge
        if e is not None and type(e[0]) is not AccumulateGrad:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach()."
                )
            return self
        if requires_grad:
            if e is None:
                if self._data.dtype.kind not in "fc":
                    raise RuntimeError(
                        f"{which} can require gradients (got {self.dtype}). Hint: convert "
                        "first, e.g. x.float()."
                    )
                self._edge = (AccumulateGrad(self), 0)
        else:
            self._edge = None
        return self

    @property
    def is_leaf(self) -> bool:
        e = self._edge
        return e is None or type(e[0]) is AccumulateGrad

    @property
    def grad_fn(self) -> Any:
        e = self._edge
        if e is None or type(e[0]) is AccumulateGrad:
            return None
        return e[0]

    @property
    def output_nr(self) -> int:
        e = self._edge
        return 0 if e is None else e[1]

    @property
    def grad(self) -> Tensor | None:
        if self._grad is None and not self.is_leaf and not self._retains:
            import warnings

            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed "
                "want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() "
                "on the non-leaf Tensor.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    "assigned grad has data of a different type: expected "
                    f"{self.dtype}, got {value.dtype}"
                )
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    "assigned grad has data of a different size: expected "
                    f"{list(self._data.shape)}, got {list(value._data.shape)}"
                )
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def _version(self) -> int:
        return _ver(self) or 0

    @property
    def retains_grad(self) -> bool:
        return self._retains

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor during backward."""
        e = self._edge
        if e is None:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if type(e[0]) is AccumulateGrad or self._retains:
            return
        import weakref

        e[0]._get_hooks().retain[e[1]] = weakref.ref(self)
        self._retains = True

    def register_hook(self, hook: Any) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        e = self._edge
        if e is None:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient"
            )
        return e[0]._get_hooks().add("tensor", hook, e[1])

    def register_post_accumulate_grad_hook(self, hook: Any) -> Any:
        """Call ``hook(tensor)`` after the gradient has been accumulated into ``.grad``."""
        e = self._edge
        if e is None or type(e[0]) is not AccumulateGrad:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        return e[0]._get_hooks().add("post_acc", hook)

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (chain rule, reverse mode)."""
        e = self._edge
        if inputs is None and not create_graph and e is not None:
            # the common call, validated here without autograd.backward's general machinery
            d = self._data
            keep = False if retain_graph is None else retain_graph
            if gradient is None:
                if d.size == 1 and d.dtype.kind in "fc":
                    # a 0-d seed is a NumPy scalar: scalar math is much cheaper than 0-d arrays'
                    seed = d.dtype.type(1) if d.ndim == 0 else np.ones(d.shape, d.dtype)
                    _execute([e], [seed], keep, False)
                    return
            elif type(gradient) is Tensor:
                gd = gradient._data
                gk, k = gd.dtype.kind, d.dtype.kind
                if gd.shape == d.shape and (gk == k or (gk in "fc" and k in "fc")):
                    _execute([e], [gd], keep, False)
                    return
        _autograd().backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A new tensor sharing data, cut from the graph."""
        d = self._data
        t = _new(d if type(d) is _ndarray else self._array(), None)  # a NumPy scalar can't be
        t._vc = self._share_vc()  # shared: it becomes a 0-d array both tensors see
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place."""
        self._edge = None
        return self

    def _share_vc(self) -> list:
        """The version counter cell, created on first use (views and detach share it)."""
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
            if self._edge is not None:
                link_out(self, vc, 0)
        return vc

    def _bump(self) -> None:
        """Increment the version counter (after an in-place change)."""
        vc = self._vc
        if vc is None:
            vc = self._vc = [1]
            if self._edge is not None:
                link_out(self, vc, 0)
        else:
            vc[0] += 1

    @property
    def data(self) -> Tensor:
        d = self._data
        return _new(d if type(d) is _ndarray else self._array(), None)  # shares memory, not
        # the version counter (torch)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size of one dimension."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        """Number of elements."""
        return self._data.size

    nelement = numel

    @property
    def dtype(self) -> D.dtype:
        return D.from_np(self._data.dtype)

    @property
    def device(self) -> device:
        return CPU

    is_cuda = False
    is_sparse = False
    is_quantized = False
    is_meta = False
    layout = "strided"

    def is_floating_point(self) -> bool:
        """True for float dtypes."""
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        """True for complex dtypes."""
        return self._data.dtype.kind == "c"

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """True when the data is C-contiguous."""
        d = self._data
        return not isinstance(d, np.ndarray) or d.flags.c_contiguous

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.dtype.itemsize

    def stride(self, dim: int | None = None) -> Any:
        """Strides in elements."""
        a = np.asarray(self._data)
        st = tuple(s // a.itemsize for s in a.strides)
        return st if dim is None else st[_wrap_dim(dim, a.ndim)]

    def data_ptr(self) -> int:
        return np.asarray(self._data).__array_interface__["data"][0]

    def get_device(self) -> int:
        return -1

    def is_inference(self) -> bool:
        return False

    @property
    def is_shared(self) -> bool:
        return False

    # ------------------------------------------------------------------ conversions
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a NumPy array sharing memory (requires no grad, like torch)."""
        if self._edge is not None and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._array()

    def _array(self) -> np.ndarray:
        """The data as an ndarray (0-d NumPy scalars are turned into arrays in place)."""
        d = self._data
        if not isinstance(d, np.ndarray):
            d = self._data = np.array(d)
        return d

    def tolist(self) -> Any:
        """The data as (nested) python lists of numbers."""
        return self._data.tolist()

    def item(self) -> Any:
        """The value of a one-element tensor as a python number."""
        d = self._data
        if d.size != 1:
            raise RuntimeError(
                f"a Tensor with {d.size} elements cannot be converted to Scalar. Hint: reduce it "
                "first (e.g. .sum() or .mean()) or index one element (t[0].item())."
            )
        return d.item() if d.ndim == 0 else d.reshape(()).item()

    def __float__(self) -> float:
        return _pyfloat(self.item())

    def __int__(self) -> int:
        return _pyint(self.item())

    def __bool__(self) -> bool:
        d = self._data
        if d.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous "
                f"(it has {d.size} elements). Hint: use .any() or .all()."
            )
        return _pybool(d.reshape(()).item()) if d.ndim else _pybool(d)

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return _pyint(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = np.asarray(self._data)
        return a if dtype is None else a.astype(dtype, copy=False)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return id(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        suffixes = []
        e = self._edge
        if e is not None:
            if type(e[0]) is AccumulateGrad:
                suffixes.append("requires_grad=True")
            else:
                suffixes.append(f"grad_fn=<{type_name(e[0])}>")
        return _printing.format_tensor(
            self._data, default_dtype=D.default_np(), suffixes=suffixes
        )

    def __str__(self) -> str:
        return self.__repr__()

    def __deepcopy__(self, memo: dict) -> Tensor:
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may "
                "be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        if id(self) in memo:
            return memo[id(self)]
        t = object.__new__(type(self))
        t._data = np.array(self._data, copy=True)
        t._edge = None
        if self.requires_grad:
            t.requires_grad_(True)
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        if type(self) is not Tensor:
            t.__dict__.update({k: v for k, v in self.__dict__.items() if not k.startswith("_")})
        memo[id(self)] = t
        return t

    def __reduce_ex__(self, proto: int) -> Any:
        return (_rebuild, (np.asarray(self._data), self.requires_grad))

    @property
    def itemsize(self) -> int:
        return self._data.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def cpu(self) -> Tensor:
        """This tensor (ember tensors live on the CPU)."""
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        _check_device("cuda")
        return self  # pragma: no cover

    # in-place autograd bookkeeping used by ops/inplace.py
    def _check_inplace(self) -> None:
        e = self._edge
        if e is not None and type(e[0]) is AccumulateGrad and STATE.enabled:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation. "
                "Hint: wrap the update in `with ember.no_grad():` (e.g. for an optimizer step), "
                "or work on a copy: x = x.clone()."
            )


def _autograd() -> Any:
    import sys

    return sys.modules["ember.autograd"]


def _rebuild(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = _new(np.array(arr), None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _wrap_dim(dim: int, ndim: int) -> int:
    """Normalise a possibly negative dim, with torch's IndexError for out-of-range dims."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim + n if dim < 0 else dim


_ = accumulate_into  # re-exported for engine users
