"""ember: PyTorch's tensors and reverse-mode autograd in pure Python on NumPy.

``import ember as torch`` runs PyTorch lessons and small models unchanged.
"""

from __future__ import annotations

import numpy as _np

from . import _dtype
from ._creation import (
    as_tensor,
    asarray,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
    arange,
    linspace,
    logspace,
    meshgrid,
    tril_indices,
    triu_indices,
    empty_strided,
    scalar_tensor,
)
from ._dtype import (
    bool_ as bool,  # noqa: A004 - torch.bool
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from ._dtype import float as float  # noqa: A004 - torch.float
from ._dtype import int as int  # noqa: A004 - torch.int
from ._printing import get_printoptions, printoptions, set_printoptions
from ._tensor import Size, Tensor, device
from .autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from . import autograd  # noqa: E402
from .ops import arith, conversion, indexing, linalg, pointwise, reduction, shape  # noqa: F401
from .ops.arith import *  # noqa: F401,F403
from .ops.conversion import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.pointwise import *  # noqa: F401,F403
from .ops.reduction import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from ._random import *  # noqa: F401,F403
from .ops import inplace as _inplace  # noqa: E402
from .ops.inplace import *  # noqa: F401,F403

_inplace.install()

from . import _random as random  # noqa: E402
# submodules loaded on first use, keeping `import ember` fast
_LAZY = ("nn", "optim", "utils", "func", "viz", "distributed")


def __getattr__(name: str):  # noqa: ANN202 - PEP 562 module attribute hook
    if name in _LAZY:
        import importlib

        mod = importlib.import_module(f".{name}", __name__)
        globals()[name] = mod
        return mod
    if name in ("save", "load"):
        from .serialization import load, save

        globals().update(save=save, load=load)
        return globals()[name]
    raise AttributeError(f"module 'ember' has no attribute '{name}'")
from . import _legacy  # noqa: F401,E402  (FloatTensor & co., cuda stub, is_tensor ...)
from ._legacy import *  # noqa: F401,F403

# torch does not warn on overflow / division by zero; neither do we (float semantics are IEEE).
_np.seterr(all="ignore")

__version__ = "0.1.0"
