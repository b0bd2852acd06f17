"""Layer kinds, one module each (conv.py, pool.py); this registry is the one place that lists them.

A kind module holds its derivation (forward expansion, chain rule, closed-form identities, numbers) and
its format-neutral content side by side; see base.py for what a kind provides. To add a kind, write its
module and add it to KINDS.
"""

from __future__ import annotations

from .base import Derivation, Identity, Intermediate, Kind
from .conv import KIND as CONV, ConvDerivation, derive_conv
from .pool import KIND as POOL, PoolDerivation, derive_pool
from .convtranspose import KIND as CONVTRANSPOSE, ConvTransposeDerivation, derive_convtranspose

KINDS: dict[str, Kind] = {kind.name: kind for kind in (CONV, POOL, CONVTRANSPOSE)}

# The kinds a network's stages are made of (symgrad net): conv and pool, and these
from .activation import KIND as ACTIVATION, ActivationDerivation, derive_activation  # noqa: E402
from .dense import DENSE, FLATTEN, LinearDerivation, derive_dense, derive_flatten  # noqa: E402
from .loss import KIND as LOSS, LossDerivation, derive_loss  # noqa: E402
from .net import NET, NetDerivation, derive_net  # noqa: E402

STAGE_KINDS: dict[str, Kind] = {kind.name: kind for kind in (CONV, POOL, ACTIVATION, DENSE, FLATTEN, LOSS)}

__all__ = ["ConvTransposeDerivation", "derive_convtranspose", "ActivationDerivation", "LinearDerivation", "LossDerivation", "NET", "NetDerivation", "STAGE_KINDS", "derive_activation", "derive_dense", "derive_flatten", "derive_loss", "derive_net", "ConvDerivation", "Derivation", "Identity", "Intermediate", "KINDS", "Kind", "PoolDerivation", "derive_conv", "derive_pool"]
