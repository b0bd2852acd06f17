"""symgrad: derive backpropagation through CNN layers symbolically and show every step."""

from .api import conv
from .convolution import derive_conv
from .derivation import ConvDerivation
from .errors import SymgradError
from .naming import Naming
from .spec import ConvSpec

__version__ = "0.1.0"

__all__ = ["ConvDerivation", "ConvSpec", "Naming", "SymgradError", "conv", "derive_conv", "__version__"]
