"""Op table: arithmetic operators."""

from tests.op_db import OpInfo

B = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (3,)), ((), ())]

OPS = [
    OpInfo("add", lambda lib, a, b: a + b, B, "AddBackward0"),
    OpInfo("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=2.5), B, "AddBackward0"),
    OpInfo("add_scalar", lambda lib, a: a + 2, [((3, 4),), ((),)], "AddBackward0"),
    OpInfo("radd_scalar", lambda lib, a: 2.5 + a, [((3, 4),)], "AddBackward0"),
    OpInfo("sub", lambda lib, a, b: a - b, B, "SubBackward0"),
    OpInfo("rsub_scalar", lambda lib, a: 2 - a, [((3, 4),), ((),)], "RsubBackward1"),
    OpInfo("mul", lambda lib, a, b: a * b, B, "MulBackward0"),
    OpInfo("mul_scalar", lambda lib, a: a * 3, [((3, 4),)], "MulBackward0"),
    OpInfo("div", lambda lib, a, b: a / b, B, "DivBackward0", domain=(0.5, 2.0)),
    OpInfo("rdiv_scalar", lambda lib, a: 2 / a, [((3, 4),)], "MulBackward0", domain=(0.5, 2)),
    OpInfo("neg", lambda lib, a: -a, [((3, 4),), ((),)], "NegBackward0"),
    OpInfo("pow_scalar", lambda lib, a: a**3, [((3, 4),), ((),)], "PowBackward0"),
    OpInfo("pow_frac", lambda lib, a: a**2.5, [((3, 4),)], "PowBackward0", domain=(0.5, 2)),
    OpInfo("pow_tensor", lambda lib, a, b: a**b, B[:3], "PowBackward1", domain=(0.5, 2)),
    OpInfo("rpow", lambda lib, a: 2**a, [((3, 4),)], "PowBackward2"),
    OpInfo("square", lambda lib, a: lib.square(a), [((3, 4),)], "PowBackward0"),
    OpInfo("mixed_chain", lambda lib, a, b: (a * b + a / (b * b + 1) - 3) ** 2, B,
           "PowBackward0"),
]
