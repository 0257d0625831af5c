"""The math: one module per family of ops, each op's backward rule next to its forward."""
