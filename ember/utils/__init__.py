"""ember.utils: data loading (``ember.utils.data``) and activation checkpointing."""

from __future__ import annotations

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
