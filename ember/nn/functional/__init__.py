"""ember.nn.functional: the functional forms of layers, activations and losses."""

from ._activation import *  # noqa: F401,F403
from ._attention import *  # noqa: F401,F403
from ._conv import *  # noqa: F401,F403
from ._loss import *  # noqa: F401,F403
from ._misc import *  # noqa: F401,F403
from ._norm import *  # noqa: F401,F403
