"""nn.utils: gradient clipping, parameter vectors (being written)."""
