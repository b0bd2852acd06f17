"""Layer kinds, one module each (conv.py, pool.py); this registry is the one place that lists them.

A kind module holds its derivation (forward expansion, chain rule, closed-form identities, numbers) and
its format-neutral content side by side; see base.py for what a kind provides. To add a kind, write its
module and add it to KINDS.
"""

from __future__ import annotations

from .base import Derivation, Identity, Intermediate, Kind
from .conv import KIND as CONV, ConvDerivation, derive_conv
from .pool import KIND as POOL, PoolDerivation, derive_pool

KINDS: dict[str, Kind] = {kind.name: kind for kind in (CONV, POOL)}

__all__ = ["ConvDerivation", "Derivation", "Identity", "Intermediate", "KINDS", "Kind", "PoolDerivation", "derive_conv", "derive_pool"]
