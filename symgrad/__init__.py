"""symgrad: derive backpropagation through CNN layers symbolically and show every step."""

from .api import conv, pool
from .layers import ConvDerivation, PoolDerivation, derive_conv
from .errors import SymgradError
from .naming import Naming
from .spec import ConvSpec, PoolSpec

__version__ = "0.1.0"

__all__ = [
    "ConvDerivation", "ConvSpec", "Naming", "PoolDerivation", "PoolSpec", "SymgradError", "conv", "derive_conv", "pool", "__version__",
]
