"""vmap for ember: batched tensors, per-op batching rules and the ``vmap`` transform.

Modules: ``_core`` (BatchedTensor, levels, layout helpers, errors), ``_dispatch`` (how calls
reach the rules without slowing down eager execution), ``_api`` (vmap itself), ``_autodiff``
(ember.func transforms inside vmap) and ``rules_*`` (the batching rules, one family per file).
"""

from ._api import vmap
from ._core import BatchedTensor
from ._dispatch import rule_names

__all__ = ["vmap", "BatchedTensor", "rule_names"]
