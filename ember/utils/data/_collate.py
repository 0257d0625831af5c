"""Collation (how a list of samples becomes a batch): ``default_collate``, ``default_convert``,
the extensible ``collate`` with ``default_collate_fn_map`` -- torch.utils.data's rules: tensors
are stacked, NumPy arrays become tensors, floats float64 tensors, ints int64 (bools bool)
tensors, strings stay lists, mappings/namedtuples/sequences are collated field by field
(tuples become lists, as in torch)."""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ..._creation import as_tensor, tensor
from ..._dtype import float64
from ..._tensor import Tensor
from ...ops.join import stack

__all__ = [
    "collate",
    "default_collate",
    "default_convert",
    "default_collate_fn_map",
    "default_collate_err_msg_format",
]

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def default_convert(data: Any) -> Any:
    """Convert NumPy arrays/scalars (also inside mappings and sequences) to tensors."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # torch's backwards compatibility: a list
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def collate(batch: Any, *, collate_fn_map: dict | None = None) -> Any:
    """Collate ``batch`` (a list of samples) using ``collate_fn_map`` (type -> function) for the
    leaves and recursing through mappings, namedtuples and sequences."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):

        def sub() -> dict:
            return {
                key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem
            }

        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(sub())
                return clone
            return elem_type(sub())
        except TypeError:
            return sub()
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        fields = zip(*batch, strict=False)
        return elem_type(*(collate(s, collate_fn_map=collate_fn_map) for s in fields))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            sizes = sorted({len(e) for e in batch})
            raise RuntimeError(
                "each element in list of batch should be of equal size. Hint: the samples have "
                f"lengths {sizes}; pad them or pass a collate_fn that handles ragged samples."
            )
        transposed = list(zip(*batch, strict=False))
        if isinstance(elem, tuple):
            return [collate(s, collate_fn_map=collate_fn_map) for s in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, s in enumerate(transposed):
                    clone[i] = collate(s, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(s, collate_fn_map=collate_fn_map) for s in transposed])
        except TypeError:
            return [collate(s, collate_fn_map=collate_fn_map) for s in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Tensor:
    """Tensors -> one tensor with a new leading batch dimension."""
    return stack(list(batch), 0)


def collate_numpy_array_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Any:
    """NumPy arrays -> tensors, then stacked (string/object arrays are refused)."""
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Tensor:
    """NumPy scalars -> a 1-d tensor of their dtype."""
    return as_tensor(np.asarray(batch))


def collate_float_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Tensor:
    """Python floats -> a float64 tensor (torch's rule, whatever the default dtype)."""
    return tensor(list(batch), dtype=float64)


def collate_int_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Tensor:
    """Python ints -> an int64 tensor (bools -> a bool tensor)."""
    return tensor(list(batch))


def collate_str_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Any:
    """Strings and bytes stay as they are (a list)."""
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch: Any) -> Any:
    """Put a list of samples into batch form (see the module docstring for the rules)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
