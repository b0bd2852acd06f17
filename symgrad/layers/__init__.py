"""Layer kinds, one module each (conv.py, pool.py); this registry is the one place that lists them.

A kind module holds its derivation (forward expansion, chain rule, closed-form identities, numbers) and
its format-neutral content side by side; see base.py for what a kind provides. To add a kind, write its
module and add it to KINDS (or STAGE_KINDS, the kinds a network's stages are made of).

A kind's module is imported when it is first used (the registries load a kind on lookup, the names
below on first access, PEP 562): `symgrad check` on a conv layer, run once per class, does not load
the pooling or network code.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

# name -> (module, attribute): every public name of the package
_NAMES = {
    "Derivation": ("base", "Derivation"), "Identity": ("base", "Identity"), "Intermediate": ("base", "Intermediate"),
    "Kind": ("base", "Kind"),
    "CONV": ("conv", "KIND"), "ConvDerivation": ("conv", "ConvDerivation"), "derive_conv": ("conv", "derive_conv"),
    "POOL": ("pool", "KIND"), "PoolDerivation": ("pool", "PoolDerivation"), "derive_pool": ("pool", "derive_pool"),
    "CONVTRANSPOSE": ("convtranspose", "KIND"), "ConvTransposeDerivation": ("convtranspose", "ConvTransposeDerivation"),
    "derive_convtranspose": ("convtranspose", "derive_convtranspose"),
    "ACTIVATION": ("activation", "KIND"), "ActivationDerivation": ("activation", "ActivationDerivation"),
    "derive_activation": ("activation", "derive_activation"),
    "DENSE": ("dense", "DENSE"), "FLATTEN": ("dense", "FLATTEN"), "LinearDerivation": ("dense", "LinearDerivation"),
    "derive_dense": ("dense", "derive_dense"), "derive_flatten": ("dense", "derive_flatten"),
    "LOSS": ("loss", "KIND"), "LossDerivation": ("loss", "LossDerivation"), "derive_loss": ("loss", "derive_loss"),
    "NET": ("net", "NET"), "NetDerivation": ("net", "NetDerivation"), "derive_net": ("net", "derive_net"),
}


def _load(name: str):
    module, attribute = _NAMES[name]
    return getattr(importlib.import_module(f".{module}", __name__), attribute)


class _Registry(Mapping):
    """Kinds by name, each module imported on its first lookup (iterating the names imports nothing)."""

    def __init__(self, names: dict[str, str]):
        self._names = names  # kind name -> its public name in _NAMES

    def __getitem__(self, name: str):
        return _load(self._names[name])

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name) -> bool:
        return name in self._names


KINDS: Mapping = _Registry({"conv": "CONV", "pool": "POOL", "convtranspose": "CONVTRANSPOSE"})
# The kinds a network's stages are made of (symgrad net): conv and pool, and these
STAGE_KINDS: Mapping = _Registry({"conv": "CONV", "pool": "POOL", "activation": "ACTIVATION", "dense": "DENSE",
                                  "flatten": "FLATTEN", "loss": "LOSS"})

# What an answer file's [problem] layer may be (symgrad check, template)
PROBLEM_KINDS: Mapping = _Registry({"conv": "CONV", "pool": "POOL", "convtranspose": "CONVTRANSPOSE", "net": "NET"})

__all__ = ["KINDS", "PROBLEM_KINDS", "STAGE_KINDS", *_NAMES]


def __getattr__(name: str):
    if name in _NAMES:
        value = _load(name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
