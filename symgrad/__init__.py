"""symgrad: derive backpropagation through CNN layers symbolically and show every step.

The public names are imported when first used (PEP 562), so that `symgrad --help`, `--version` and a
usage error load neither numpy nor the layers.
"""

from .errors import SymgradError

__version__ = "0.1.0"

_LAZY = {
    "conv": ".api", "pool": ".api", "ConvDerivation": ".layers", "PoolDerivation": ".layers",
    "derive_conv": ".layers", "Naming": ".naming", "ConvSpec": ".spec", "PoolSpec": ".spec",
    "net": ".api", "NetDerivation": ".layers", "NetSpec": ".netspec",
    "convtranspose": ".api", "ConvTransposeDerivation": ".layers", "ConvTransposeSpec": ".spec",
}

__all__ = ["ConvTransposeDerivation", "ConvTransposeSpec", "convtranspose", "ConvDerivation", "ConvSpec", "Naming", "NetDerivation", "NetSpec", "PoolDerivation", "PoolSpec", "SymgradError", "conv",
           "derive_conv", "net", "pool", "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
