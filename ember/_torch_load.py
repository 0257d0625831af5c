"""Reading PyTorch ``torch.save`` checkpoints without torch and without running pickle code.

torch's zip format: ``<archive>/data.pkl`` (a pickle of the object, whose tensors refer to
storages by key through persistent ids ``('storage', torch.FloatStorage, key, location,
numel)``) and ``<archive>/data/<key>`` (each storage's raw bytes, little endian unless
``<archive>/byteorder`` says "big").  The pickle is read by an unpickler whose ``find_class``
resolves only the few globals a state_dict uses -- ``collections.OrderedDict``,
``torch._utils._rebuild_tensor_v2`` / ``_rebuild_parameter`` (``_with_state``), the typed
storage classes, ``torch.Size``, ``torch.device``, torch dtypes, ``_codecs.encode`` (bytes),
``builtins.set/frozenset/bytearray/complex`` -- each mapped to an ember-side function that only
builds data; ``BUILD`` is allowed only to set an OrderedDict's ``_metadata``.  Anything else
(``os.system``, a pickled ``nn.Module``, NumPy's reconstructors ...) is refused with
``pickle.UnpicklingError("Weights only load failed. ... Unsupported global: GLOBAL x.y ...")``
before it could run.  bfloat16 storages become float32 (ember has no bfloat16), with a warning.
"""

from __future__ import annotations

import codecs
import io
import pickle
import warnings
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

from . import _dtype as D
from ._tensor import Size, Tensor, _new, device

__all__ = ["is_torch_archive", "load_torch"]


def _unsafe(msg: str) -> pickle.UnpicklingError:
    return pickle.UnpicklingError(f"Weights only load failed. {msg}")


class _StorageType:
    """Stands for ``torch.<X>Storage``: only its dtype matters."""

    def __init__(self, name: str, npd: np.dtype) -> None:
        self.name, self.np = name, npd

    def __repr__(self) -> str:
        return f"torch.{self.name}"


_STORAGES = {
    n: _StorageType(n, np.dtype(d))
    for n, d in (
        ("FloatStorage", "float32"),
        ("DoubleStorage", "float64"),
        ("HalfStorage", "float16"),
        ("BFloat16Storage", "uint16"),
        ("LongStorage", "int64"),
        ("IntStorage", "int32"),
        ("ShortStorage", "int16"),
        ("CharStorage", "int8"),
        ("ByteStorage", "uint8"),
        ("BoolStorage", "bool"),
        ("ComplexFloatStorage", "complex64"),
        ("ComplexDoubleStorage", "complex128"),
        ("UntypedStorage", "uint8"),
    )
}


class _Storage:
    """A loaded storage: a flat array (bfloat16 already widened to float32)."""

    def __init__(self, arr: np.ndarray) -> None:
        self.array = arr


def _int(x: Any, what: str) -> int:
    if type(x) is not int:
        raise _unsafe(f"{what} must be an int, got {type(x).__name__}.")
    return x


def _rebuild_tensor_v2(
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any,
    backward_hooks: Any,
    metadata: Any = None,
) -> Tensor:
    """torch._utils._rebuild_tensor_v2: a tensor viewing ``storage`` (bounds-checked)."""
    if not isinstance(storage, _Storage):
        raise _unsafe("_rebuild_tensor_v2 expects a storage as its first argument.")
    if not isinstance(size, tuple) or not isinstance(stride, tuple) or len(size) != len(stride):
        raise _unsafe(f"_rebuild_tensor_v2: bad size/stride {size!r:.60} / {stride!r:.60}.")
    off = _int(storage_offset, "storage_offset")
    shape = tuple(_int(s, "a size") for s in size)
    steps = tuple(_int(s, "a stride") for s in stride)
    if type(requires_grad) is not bool:
        raise _unsafe("_rebuild_tensor_v2: requires_grad must be a bool.")
    base = storage.array
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if off < 0 or any(s < 0 for s in shape) or any(s < 0 for s in steps):
        raise _unsafe("_rebuild_tensor_v2: negative offset, size or stride.")
    if n:
        last = off + sum((s - 1) * st for s, st in zip(shape, steps, strict=True))
        if last >= base.size:
            raise _unsafe(
                f"_rebuild_tensor_v2: a tensor of size {list(shape)}, stride "
                f"{list(steps)} and offset {off} reaches past its storage of "
                f"{base.size} elements. Hint: the file is corrupt or forged."
            )
    contiguous = [int(np.prod(shape[i + 1 :], dtype=np.int64)) for i in range(len(shape))]
    if n == 0:
        arr = np.zeros(shape, base.dtype)
    elif all(st == c or s == 1 for s, st, c in zip(shape, steps, contiguous, strict=True)):
        arr = base[off : off + n].reshape(shape)
    else:
        isz = base.itemsize
        arr = np.lib.stride_tricks.as_strided(base[off:], shape, [st * isz for st in steps])
        arr = arr.copy()
    t = _new(arr, None)
    if requires_grad:
        if arr.dtype.kind not in "fc":
            raise _unsafe(f"a {arr.dtype} tensor can't require grad.")
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any) -> Any:
    """torch._utils._rebuild_parameter: nn.Parameter(data, requires_grad)."""
    from .nn.parameter import Parameter

    if not isinstance(data, Tensor) or type(requires_grad) is not bool:
        raise _unsafe("_rebuild_parameter expects (tensor, bool, hooks).")
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(
    data: Any, requires_grad: Any, backward_hooks: Any, state: Any
) -> Any:
    """torch._utils._rebuild_parameter_with_state: the extra attributes are dropped."""
    return _rebuild_parameter(data, requires_grad, backward_hooks)


class _TensorType:
    """Stands for torch.Tensor / torch.nn.Parameter in _rebuild_from_type_v2."""


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    """torch._tensor._rebuild_from_type_v2 for plain tensors only."""
    if (
        func not in (_rebuild_tensor_v2, _rebuild_parameter)
        or new_type is not _TensorType
        or not isinstance(args, tuple)
    ):
        raise _unsafe("_rebuild_from_type_v2 is only accepted for plain tensors.")
    return func(*args)


def _size(dims: Any = ()) -> Size:
    if not isinstance(dims, tuple) or not all(type(d) is int for d in dims):
        raise _unsafe(f"torch.Size expects a tuple of ints, got {dims!r:.60}.")
    return Size(dims)


def _device(*args: Any) -> device:
    if not 1 <= len(args) <= 2 or not isinstance(args[0], str):
        raise _unsafe(f"torch.device expects (str[, int]), got {args!r:.60}.")
    return device(*args)


def _encode(s: Any, encoding: str = "latin1") -> bytes:
    """_codecs.encode as protocol-2 pickles use it for bytes (latin1 strings only)."""
    if not isinstance(s, str) or codecs.lookup(encoding).name != "iso8859-1":
        raise _unsafe("_codecs.encode is only accepted as encode(str, 'latin1').")
    return s.encode("latin1")


def _bytes_arg(data: Any = b"", encoding: str = "latin1") -> bytes:
    """bytearray's pickled arguments: bytes, or a str with its encoding (never a size)."""
    if isinstance(data, bytes):
        return data
    return _encode(data, encoding)


_GLOBALS: dict[str, Any] = {
    "collections.OrderedDict": OrderedDict,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    "torch.Tensor": _TensorType,
    "torch.nn.parameter.Parameter": _TensorType,
    "torch.Size": _size,
    "torch.device": _device,
    "_codecs.encode": _encode,
    "builtins.set": set,
    "builtins.frozenset": frozenset,
    "builtins.bytearray": lambda *a: bytearray(_bytes_arg(*a)),
    "builtins.complex": complex,
}
_GLOBALS.update({f"torch.{k}": v for k, v in _STORAGES.items()})
_GLOBALS["torch.storage.UntypedStorage"] = _STORAGES["UntypedStorage"]
_GLOBALS.update({f"torch.{d.name}": d for d in D.ALL})
_GLOBALS["torch.bool"] = D.bool_


def _load_build(self: Any) -> None:
    """BUILD, restricted: only an OrderedDict's plain attributes (torch's ``_metadata``)."""
    state = self.stack.pop()
    inst = self.stack[-1]
    if not (
        type(inst) is OrderedDict
        and isinstance(state, dict)
        and all(isinstance(k, str) and not k.startswith("__") for k in state)
    ):
        raise _unsafe(
            f"BUILD (setting attributes) is only accepted on a state_dict's "
            f"OrderedDict, not on a {type(inst).__name__}."
        )
    inst.__dict__.update(state)


class _RestrictedUnpickler(pickle._Unpickler):  # type: ignore[name-defined,misc]
    """pickle's pure-Python unpickler with an allowlist ``find_class`` (no code can run)."""

    dispatch = dict(pickle._Unpickler.dispatch)  # type: ignore[attr-defined]
    dispatch[pickle.BUILD[0]] = _load_build

    def __init__(self, data: bytes, storage: Any) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8")
        self._storage = storage

    def find_class(self, module: str, name: str) -> Any:
        module = "builtins" if module == "__builtin__" else module
        key = f"{module}.{name}"
        if key in _GLOBALS:
            return _GLOBALS[key]
        hint = (
            "the checkpoint pickles a whole object (e.g. torch.save(model)); in torch, "
            "save model.state_dict() instead and load that"
            if module.startswith(("__main__", "torch.nn", "torch.optim"))
            else "ember.load accepts only tensors, state_dicts and plain containers; it never "
            "runs code from a file"
        )
        raise _unsafe(
            f"Unsupported global: GLOBAL {key} was not an allowed global by default. "
            f"Refusing to load it (nothing was executed). Hint: {hint}."
        )

    def persistent_load(self, pid: Any) -> Any:
        return self._storage(pid)


def is_torch_archive(names: set) -> str | None:
    """The archive folder of a torch.save zip (``<folder>/data.pkl``), else None."""
    for n in names:
        parts = n.split("/")
        if len(parts) == 2 and parts[1] == "data.pkl":
            if f"{parts[0]}/constants.pkl" in names:
                raise _unsafe(
                    "this is a TorchScript archive (torch.jit.save), which holds "
                    "code. Hint: in torch, torch.save(model.state_dict(), f) and "
                    "load that."
                )
            return parts[0]
    return None


def load_torch(zf: zipfile.ZipFile, prefix: str, map_location: Any) -> Any:
    """Rebuild the object in a torch.save zip archive (see the module docstring)."""
    names = set(zf.namelist())
    big = f"{prefix}/byteorder" in names and zf.read(f"{prefix}/byteorder").strip() == b"big"
    loaded: dict[str, _Storage] = {}
    warned: list[bool] = []

    def storage(pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise _unsafe(f"unsupported persistent id {pid!r:.80}; expected a storage.")
        _, stype, key, location, numel = pid
        if (
            not isinstance(stype, _StorageType)
            or not isinstance(key, str)
            or not isinstance(location, str)
        ):
            raise _unsafe(f"malformed storage reference {pid!r:.80}.")
        _int(numel, "a storage's numel")
        _check_location(location, map_location)
        if key in loaded:
            return loaded[key]
        name = f"{prefix}/data/{key}"
        if name not in names:
            raise RuntimeError(
                f"ember.load: storage {key!r} is missing from the archive "
                f"({name}). Hint: the file is truncated or corrupt."
            )
        npd = stype.np.newbyteorder(">") if big else stype.np
        if zf.getinfo(name).file_size != numel * npd.itemsize:
            raise RuntimeError(
                f"ember.load: storage {key!r} holds {zf.getinfo(name).file_size}"
                f" bytes, not the {numel} x {npd.itemsize} its tensor needs. "
                "Hint: the file is corrupt."
            )
        arr = np.frombuffer(bytearray(zf.read(name)), npd)
        if big:
            arr = arr.astype(stype.np)
        if stype.name == "BFloat16Storage":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
            warned.append(True)
        loaded[key] = _Storage(arr)
        return loaded[key]

    up = _RestrictedUnpickler(zf.read(f"{prefix}/data.pkl"), storage)
    try:
        out = up.load()
    except (pickle.UnpicklingError, RuntimeError):
        raise
    except RecursionError:
        raise _unsafe("the pickle nests too deeply.") from None
    except Exception as e:  # malformed pickles: wrong arguments, truncated data, bad opcodes
        raise _unsafe(
            f"the checkpoint's data.pkl is malformed ({type(e).__name__}: {e}). "
            "Hint: the file is corrupt or not a torch.save checkpoint."
        ) from None
    if warned:  # stacklevel 4: load_torch <- _load_file <- ember.load <- the caller
        warnings.warn(
            "ember.load: bfloat16 tensors were converted to float32 (ember has no bfloat16).",
            stacklevel=4,
        )
    return out


def _check_location(location: str, map_location: Any) -> None:
    """torch's rule: storages saved on an accelerator need a map_location on a CPU machine."""
    if map_location is not None:
        if isinstance(map_location, dict):
            location = map_location.get(location, location)
            if not isinstance(location, str):
                return
        else:
            return
    if not location.startswith("cpu"):
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is "
            "False. If you are running on a CPU-only machine, please use torch.load with "
            "map_location=torch.device('cpu') to map your storages to the CPU. Hint: "
            f"ember.load(f, map_location='cpu') (this storage was saved on {location!r})."
        )
