"""Saving and loading: ``ember.save(obj, f)`` and ``ember.load(f)``.  Loading never runs code
from the file: no arbitrary pickled objects, only data.

What can be saved: tensors (dtype, shape and ``requires_grad`` kept; ``nn.Parameter`` stays a
Parameter), NumPy arrays and scalars, None, bool, int, float (incl. nan/inf), complex, str,
bytes, ember dtypes, devices, ``Size``, and list / tuple / set / frozenset / dict /
OrderedDict containers of these (dict keys may be any of the hashable ones) -- so state_dicts,
optimizer state_dicts and checkpoints like ``{"model": ..., "optim": ..., "epoch": 3}``.  A
tensor object that appears several times (tied weights) is stored once and loaded as one
object; distinct tensors that merely share memory are stored separately.  Other objects (a
whole ``nn.Module``, a namedtuple's class, a lambda) raise TypeError: save ``state_dict()``s.

THE EMBER FORMAT (version 1).  A ZIP archive (stored, not compressed) holding

* ``ember.json`` -- the manifest, UTF-8 JSON:
  ``{"format": "ember", "version": 1, "tensors": [ENTRY, ...], "root": NODE}``
  ENTRY = ``{"file": "data/<i>.npy", "kind": K, "dtype": D, "shape": [..],
  "requires_grad": bool}`` with K one of tensor / parameter / ndarray / numpy_scalar and D one
  of bool, uint8, int8, int16, int32, int64, float16, float32, float64, complex64, complex128.
  NODE is a JSON null / true / false / integer / finite number / string standing for itself,
  or an object with a "type":
  ``{"type": "tensor", "index": i}`` (entry ``i`` of "tensors"),
  ``{"type": "list" | "tuple" | "set" | "frozenset" | "size", "items": [NODE, ...]}``,
  ``{"type": "dict" | "OrderedDict", "items": [[KEY_NODE, NODE], ...]}`` (an OrderedDict may
  carry ``"attrs": {"_metadata": NODE}``), ``{"type": "float", "value": "nan" | "inf" |
  "-inf"}``, ``{"type": "complex", "real": x, "imag": y}``, ``{"type": "bytes", "base64": s}``,
  ``{"type": "dtype", "name": D}``, ``{"type": "device", "name": "cpu"}``.
* ``data/<i>.npy`` -- entry ``i``'s values in NumPy's .npy format (read with
  ``allow_pickle=False``; dtype and shape must equal the manifest's).

Anything else in a manifest (an unknown type, a missing or mismatched array, extra keys) is
refused with ``pickle.UnpicklingError("Weights only load failed. ...")`` naming the place;
nothing is returned half-built.  Saving to a path writes a temporary file next to it and
renames it into place (atomic: a crash never leaves a truncated file).

``ember.load`` also reads PyTorch ``torch.save`` checkpoints (the zip format, torch >= 1.6) of
tensors, state_dicts and optimizer state_dicts, without torch and without executing pickle
code: see ``ember._torch_load``.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import pickle
import re
import tempfile
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from . import _dtype as D
from ._tensor import Size, Tensor, _new, device

__all__ = ["save", "load"]

MANIFEST = "ember.json"
VERSION = 1
_DTYPES = {
    n: np.dtype(n)
    for n in (
        "bool",
        "uint8",
        "int8",
        "int16",
        "int32",
        "int64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
}
_KINDS = ("tensor", "parameter", "ndarray", "numpy_scalar")
_FILE_RE = re.compile(r"data/(0|[1-9][0-9]*)\.npy")
_NPY_SLACK = 1 << 17  # the .npy header's bytes on top of the raw values (header <= 64 KiB)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same object gives the same bytes


def _unsafe(msg: str) -> pickle.UnpicklingError:
    return pickle.UnpicklingError(f"Weights only load failed. {msg}")


def _parameter_cls() -> type:
    from .nn.parameter import Parameter

    return Parameter


# ------------------------------------------------------------------------------- saving
class _Encoder:
    """Turns an object into manifest nodes plus a table of arrays."""

    def __init__(self) -> None:
        self.entries: list[dict] = []
        self.arrays: list[np.ndarray] = []
        self._index: dict[int, int] = {}
        self._keep: list[Any] = []  # keeps objects alive so their ids stay unique
        self._active: set[int] = set()

    def _array(self, x: Any, arr: np.ndarray, kind: str, rg: bool, path: str) -> dict:
        i = self._index.get(id(x))
        if i is None:
            if arr.dtype.name not in _DTYPES:
                raise TypeError(
                    f"ember.save can't store the {arr.dtype} array at {path}. Hint: convert it "
                    f"to one of {', '.join(_DTYPES)} first."
                )
            i = len(self.entries)
            self._index[id(x)] = i
            self._keep.append(x)
            self.entries.append(
                {
                    "file": f"data/{i}.npy",
                    "kind": kind,
                    "dtype": arr.dtype.name,
                    "shape": list(arr.shape),
                    "requires_grad": rg,
                }
            )
            self.arrays.append(arr)
        return {"type": "tensor", "index": i}

    def node(self, x: Any, path: str) -> Any:
        if x is None or x is True or x is False:
            return x
        if isinstance(x, str):
            return str(x)
        if isinstance(x, (bool, np.bool_)) and not isinstance(x, np.generic):
            return bool(x)
        if isinstance(x, int) and not isinstance(x, np.generic):
            return int(x)
        if isinstance(x, float) and not isinstance(x, np.generic):
            if math.isfinite(x):
                return float(x)
            return {"type": "float", "value": "nan" if x != x else ("inf" if x > 0 else "-inf")}
        if isinstance(x, complex) and not isinstance(x, np.generic):
            return {
                "type": "complex",
                "real": self.node(x.real, path),
                "imag": self.node(x.imag, path),
            }
        if isinstance(x, Tensor):
            kind = "parameter" if isinstance(x, _parameter_cls()) else "tensor"
            return self._array(x, np.asarray(x._data), kind, bool(x.requires_grad), path)
        if isinstance(x, np.ndarray):
            return self._array(x, x, "ndarray", False, path)
        if isinstance(x, np.generic):
            return self._array(x, np.asarray(x), "numpy_scalar", False, path)
        if isinstance(x, D.dtype):
            return {"type": "dtype", "name": x.name}
        if isinstance(x, device):
            return {"type": "device", "name": str(x)}
        if isinstance(x, (bytes, bytearray)):
            return {"type": "bytes", "base64": base64.b64encode(bytes(x)).decode("ascii")}
        if isinstance(x, (list, tuple, set, frozenset, Mapping)):
            return self._container(x, path)
        raise TypeError(
            f"ember.save can't store an object of type {type(x).__module__}."
            f"{type(x).__qualname__} (at {path}). ember files hold tensors, arrays, numbers, "
            "strings, None and list/tuple/set/dict containers of them, never arbitrary objects "
            "(loading those would mean running code from the file). Hint: for a model, save "
            "model.state_dict() and restore it with model.load_state_dict(ember.load(f))."
        )

    def _container(self, x: Any, path: str) -> dict:
        if id(x) in self._active:
            raise ValueError(
                f"ember.save: circular reference at {path}. Hint: a container "
                "that contains itself can't be saved."
            )
        self._active.add(id(x))
        try:
            if isinstance(x, Mapping):
                items = [
                    [self.node(k, f"{path} key {k!r}"), self.node(v, f"{path}[{k!r}]")]
                    for k, v in x.items()
                ]
                out: dict = {
                    "type": "OrderedDict" if isinstance(x, OrderedDict) else "dict",
                    "items": items,
                }
                meta = getattr(x, "_metadata", None)
                if isinstance(x, OrderedDict) and meta is not None:
                    out["attrs"] = {"_metadata": self.node(meta, f"{path}._metadata")}
                return out
            if isinstance(x, (set, frozenset)):
                kind = "set" if isinstance(x, set) else "frozenset"
                return {"type": kind, "items": [self.node(v, f"{path} element") for v in x]}
            kind = "size" if isinstance(x, Size) else "tuple" if isinstance(x, tuple) else "list"
            return {"type": kind, "items": [self.node(v, f"{path}[{i}]") for i, v in enumerate(x)]}
        finally:
            self._active.discard(id(x))


def _write_zip(fh: IO[bytes], manifest: bytes, arrays: list[np.ndarray]) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(zipfile.ZipInfo(MANIFEST, _ZIP_TIME), manifest)
        for i, arr in enumerate(arrays):
            info = zipfile.ZipInfo(f"data/{i}.npy", _ZIP_TIME)
            with zf.open(info, "w", force_zip64=arr.nbytes > (1 << 31) - _NPY_SLACK) as out:
                np.lib.format.write_array(out, arr, allow_pickle=False)


def save(
    obj: Any,
    f: Any,
    pickle_module: Any = None,
    pickle_protocol: int = 2,
    _use_new_zipfile_serialization: bool = True,
    _disable_byteorder_record: bool = False,
) -> None:
    """Write ``obj`` (tensors, state_dicts, containers of them) to ``f`` (a path or a binary
    file object) in the ember format (see the module docstring); never pickles objects."""
    enc = _Encoder()
    root = enc.node(obj, "obj")  # every error comes before a byte is written
    manifest = json.dumps(
        {"format": "ember", "version": VERSION, "tensors": enc.entries, "root": root},
        allow_nan=False,
        separators=(",", ":"),
    ).encode()
    if not isinstance(f, (str, os.PathLike)):
        if not hasattr(f, "write"):
            raise AttributeError(
                f"'{type(f).__name__}' object has no attribute 'write'. Hint: pass a path or a "
                "file opened in binary write mode."
            )
        _write_zip(f, manifest, enc.arrays)
        return
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise RuntimeError(
            f"Parent directory {os.path.dirname(path) or folder} does not exist. Hint: create it "
            "first, e.g. os.makedirs(..., exist_ok=True)."
        )
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_zip(fh, manifest, enc.arrays)
            fh.flush()
            os.fsync(fh.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ------------------------------------------------------------------------------- loading
def _check_map_location(map_location: Any) -> None:
    """ember has only the CPU: map_location may be None, 'cpu', a cpu device, a dict or a
    callable (both then taken to mean 'map everything to the CPU')."""
    if map_location is None or callable(map_location) and not isinstance(map_location, str):
        return
    if isinstance(map_location, dict):
        for v in map_location.values():
            _check_map_location(v)
        return
    if isinstance(map_location, (str, device)):
        if device(map_location).type != "cpu":
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() "
                "is False. If you are running on a CPU-only machine, please use torch.load with "
                "map_location=torch.device('cpu') to map your storages to the CPU. Hint: ember "
                f"computes on the CPU only (map_location={str(map_location)!r})."
            )
        return
    raise TypeError(
        "map_location should be either a callable, a string, a device or a dict, not "
        f"{type(map_location).__name__}"
    )


def load(
    f: Any,
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = True,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Read what ``save`` wrote -- or a PyTorch ``torch.save`` state_dict checkpoint -- from
    ``f`` (a path or a binary file object).  Never executes code from the file, whatever
    ``weights_only`` says; unsafe or corrupt files raise, naming what is wrong."""
    _check_map_location(map_location)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return _load_file(fh, map_location, os.fspath(f))
    if not hasattr(f, "read"):
        raise AttributeError(
            f"'{type(f).__name__}' object has no attribute 'read'. Hint: pass a path or a file "
            "opened in binary mode ('rb')."
        )
    if not (hasattr(f, "seek") and getattr(f, "seekable", lambda: True)()):
        f = io.BytesIO(f.read())
    return _load_file(f, map_location, getattr(f, "name", "<file object>"))


def _load_file(fh: IO[bytes], map_location: Any, name: str) -> Any:
    start = fh.tell()
    head = fh.read(8)
    fh.seek(start)
    if isinstance(head, str):
        raise TypeError("ember.load needs a binary file: open it with mode 'rb'.")
    if not head:
        raise EOFError(f"Ran out of input. Hint: {name} is empty (an interrupted save?).")
    if not head.startswith(b"PK"):
        if head[:1] == b"\x80" or head[:1] in (b"(", b"]", b"}", b"c"):
            raise _unsafe(
                f"{name} is a bare pickle (PyTorch's legacy format or pickle.dump output): "
                "ember reads only the zip formats, because unpickling arbitrary files runs "
                "code. Hint: re-save it with torch.save(obj, f) from torch >= 1.6, or "
                "with ember.save."
            )
        raise pickle.UnpicklingError(
            f"invalid load key, {head[:1]!r}. {name} is neither an ember file nor a PyTorch "
            f"checkpoint (its first bytes are {head!r}). Hint: pass a file written by "
            "ember.save or torch.save."
        )
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise RuntimeError(
            "PytorchStreamReader failed reading zip archive: failed finding central directory "
            f"({name}: {e}). Hint: the file is truncated or corrupt; save it again."
        ) from None
    with zf:
        names = set(zf.namelist())
        try:
            if MANIFEST in names:
                return _load_ember(zf, names)
            from ._torch_load import is_torch_archive, load_torch

            prefix = is_torch_archive(names)
            if prefix is not None:
                return load_torch(zf, prefix, map_location)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as e:
            raise RuntimeError(
                f"PytorchStreamReader failed reading file from {name}: {e}. Hint: the file is "
                "truncated or corrupt; save it again."
            ) from None
    raise _unsafe(
        f"{name} is a zip archive but neither an ember file ({MANIFEST} missing) nor a "
        f"PyTorch checkpoint (no <archive>/data.pkl); it holds {sorted(names)[:5]}. Hint: "
        "pass a file written by ember.save or torch.save."
    )


class _Decoder:
    """Validates a manifest and builds the object it describes."""

    def __init__(self, objects: list) -> None:
        self.objects = objects

    def node(self, n: Any, path: str) -> Any:
        if n is None or isinstance(n, (bool, str, int, float)):
            return n
        if not isinstance(n, dict):
            raise _unsafe(
                f"ember manifest: unexpected JSON {type(n).__name__} at {path}; "
                "containers are tagged objects. Hint: the file is corrupt."
            )
        t = n.get("type")
        fields = {
            "tensor": {"index"},
            "list": {"items"},
            "tuple": {"items"},
            "set": {"items"},
            "frozenset": {"items"},
            "size": {"items"},
            "dict": {"items"},
            "OrderedDict": {"items", "attrs"},
            "float": {"value"},
            "complex": {"real", "imag"},
            "bytes": {"base64"},
            "dtype": {"name"},
            "device": {"name"},
        }
        if not isinstance(t, str) or t not in fields:
            raise _unsafe(
                f"ember manifest references an unknown type {t!r} at {path}; "
                f"known: {', '.join(fields)}. Hint: the file is corrupt, forged, or "
                "from a newer ember."
            )
        extra = set(n) - fields[t] - {"type"}
        if extra or (fields[t] - {"attrs"}) - set(n):
            raise _unsafe(
                f"ember manifest: a {t!r} entry at {path} has fields {sorted(n)}, "
                f"expected {sorted(fields[t] | {'type'})}."
            )
        return getattr(self, "_" + t.lower())(n, path)

    def _tensor(self, n: dict, path: str) -> Any:
        i = n["index"]
        if type(i) is not int or not 0 <= i < len(self.objects):
            raise _unsafe(
                f"ember manifest: tensor index {i!r} at {path} is not one of the "
                f"{len(self.objects)} stored arrays."
            )
        return self.objects[i]

    def _items(self, n: dict, path: str) -> list:
        if not isinstance(n["items"], list):
            raise _unsafe(f"ember manifest: 'items' at {path} must be a list.")
        return [self.node(v, f"{path}[{i}]") for i, v in enumerate(n["items"])]

    def _list(self, n: dict, path: str) -> list:
        return self._items(n, path)

    def _tuple(self, n: dict, path: str) -> tuple:
        return tuple(self._items(n, path))

    def _size(self, n: dict, path: str) -> Size:
        items = self._items(n, path)
        if not all(type(v) is int for v in items):
            raise _unsafe(f"ember manifest: the Size at {path} holds non-integers.")
        return Size(items)

    def _set(self, n: dict, path: str) -> set:
        return set(self._hashable(self._items(n, path), path))

    def _frozenset(self, n: dict, path: str) -> frozenset:
        return frozenset(self._hashable(self._items(n, path), path))

    @staticmethod
    def _hashable(values: list, path: str) -> list:
        for v in values:
            try:
                hash(v)
            except TypeError:
                raise _unsafe(
                    f"ember manifest: an unhashable {type(v).__name__} is used as a "
                    f"key or set element at {path}."
                ) from None
        return values

    def _dict(self, n: dict, path: str) -> dict:
        return dict(self._pairs(n, path))

    def _ordereddict(self, n: dict, path: str) -> OrderedDict:
        out = OrderedDict(self._pairs(n, path))
        attrs = n.get("attrs")
        if attrs is not None:
            if not isinstance(attrs, dict) or set(attrs) - {"_metadata"}:
                raise _unsafe(
                    f"ember manifest: OrderedDict attrs at {path} may only hold "
                    f"'_metadata', got {attrs!r:.80}."
                )
            if "_metadata" in attrs:
                out._metadata = self.node(attrs["_metadata"], f"{path}._metadata")  # type: ignore
        return out

    def _pairs(self, n: dict, path: str) -> list:
        items = n["items"]
        if not isinstance(items, list) or not all(
            isinstance(p, list) and len(p) == 2 for p in items
        ):
            raise _unsafe(f"ember manifest: 'items' at {path} must be a list of [key, value].")
        keys = self._hashable([self.node(k, f"{path} key") for k, _ in items], path)
        return [(k, self.node(v, f"{path}[{k!r}]")) for k, (_, v) in zip(keys, items, strict=True)]

    def _float(self, n: dict, path: str) -> float:
        v = n["value"]
        if v not in ("nan", "inf", "-inf"):
            raise _unsafe(f"ember manifest: float value {v!r} at {path} is not nan/inf/-inf.")
        return float(v)

    def _complex(self, n: dict, path: str) -> complex:
        re_, im = (self.node(n[k], path) for k in ("real", "imag"))
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (re_, im)):
            raise _unsafe(f"ember manifest: the complex number at {path} has non-real parts.")
        return complex(re_, im)

    def _bytes(self, n: dict, path: str) -> bytes:
        try:
            return base64.b64decode(n["base64"], validate=True)
        except (ValueError, TypeError):
            raise _unsafe(f"ember manifest: invalid base64 bytes at {path}.") from None

    def _dtype(self, n: dict, path: str) -> D.dtype:
        if n["name"] not in D._NAMES:
            raise _unsafe(f"ember manifest: unknown dtype {n['name']!r} at {path}.")
        return D._NAMES[n["name"]]

    def _device(self, n: dict, path: str) -> device:
        try:
            return device(n["name"])
        except (RuntimeError, ValueError, TypeError):
            raise _unsafe(f"ember manifest: invalid device {n['name']!r} at {path}.") from None


def _read_entry(zf: zipfile.ZipFile, names: set, i: int, e: Any) -> Any:
    """Validate tensor-table entry ``i`` and build its tensor / array."""
    where = f"tensors[{i}]"
    keys = {"file", "kind", "dtype", "shape", "requires_grad"}
    if not isinstance(e, dict) or set(e) != keys:
        raise _unsafe(f"ember manifest: {where} must be an object with keys {sorted(keys)}.")
    file, kind, dt, shape, rg = (e[k] for k in ("file", "kind", "dtype", "shape", "requires_grad"))
    if kind not in _KINDS:
        raise _unsafe(
            f"ember manifest references an unknown kind {kind!r} at {where}; known: "
            f"{', '.join(_KINDS)}."
        )
    if dt not in _DTYPES:
        raise _unsafe(f"ember manifest: unknown dtype {dt!r} at {where}.")
    if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
        raise _unsafe(f"ember manifest: invalid shape {shape!r:.80} at {where}.")
    if type(rg) is not bool or (rg and _DTYPES[dt].kind not in "fc"):
        raise _unsafe(f"ember manifest: invalid requires_grad {rg!r} for a {dt} tensor at {where}.")
    if not isinstance(file, str) or not _FILE_RE.fullmatch(file) or file not in names:
        raise _unsafe(
            f"ember manifest: {where} refers to {file!r:.80}, which is not a data "
            "file in the archive."
        )
    npd = _DTYPES[dt]
    nbytes = math.prod(shape) * npd.itemsize
    info = zf.getinfo(file)
    if info.file_size > nbytes + _NPY_SLACK:
        raise RuntimeError(
            f"ember.load: {file} holds {info.file_size} bytes, far more than "
            f"the {dt} array of shape {shape} it should hold. Hint: the file is "
            "corrupt."
        )
    try:
        arr = np.load(io.BytesIO(zf.read(file)), allow_pickle=False)
    except ValueError as err:
        raise RuntimeError(
            f"ember.load: {file} is not a valid .npy array ({err}). Hint: the file is corrupt."
        ) from None
    if not isinstance(arr, np.ndarray) or arr.dtype.name != dt or list(arr.shape) != shape:
        raise RuntimeError(
            f"ember.load: {file} holds a {arr.dtype} array of shape "
            f"{list(arr.shape)} but the manifest says {dt} {shape}. Hint: the "
            "file is corrupt."
        )
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if kind == "ndarray":
        return arr
    if kind == "numpy_scalar":
        return arr[()]
    t = _new(arr, None)
    if kind == "parameter":
        return _parameter_cls()(t, rg)
    return t.requires_grad_(True) if rg else t


def _load_ember(zf: zipfile.ZipFile, names: set) -> Any:
    try:
        manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise _unsafe(
            f"the ember manifest is not valid JSON ({e}). Hint: the file is corrupt."
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != "ember":
        raise _unsafe("the ember manifest does not start with format 'ember'.")
    version = manifest.get("version")
    if type(version) is not int or version > VERSION or version < 1:
        raise _unsafe(
            f"the ember manifest has version {version!r}; this ember reads version "
            f"{VERSION}. Hint: upgrade ember to load files from a newer release."
        )
    if set(manifest) != {"format", "version", "tensors", "root"}:
        raise _unsafe(
            f"the ember manifest has keys {sorted(manifest)}, expected format, "
            "version, tensors, root."
        )
    table = manifest["tensors"]
    if not isinstance(table, list):
        raise _unsafe("the ember manifest's 'tensors' must be a list.")
    objects = [_read_entry(zf, names, i, e) for i, e in enumerate(table)]
    try:
        return _Decoder(objects).node(manifest["root"], "root")
    except RecursionError:
        raise _unsafe("the ember manifest nests too deeply.") from None
