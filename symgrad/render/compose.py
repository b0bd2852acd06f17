"""Which document a derivation makes: a layer's (document.Builder, section by section) or a network's
(net_document.build_net, its stages' sections linked). Every renderer builds its document here."""

from __future__ import annotations

from . import document
from .document import Document, DocumentSettings
from .net_document import build_net
from .notation import LATEX, Notation


def build(d, settings: DocumentSettings | None = None, notation: Notation = LATEX) -> Document:
    settings = settings or DocumentSettings.choose(d)
    if hasattr(d, "stages"):
        return build_net(d, settings, notation)
    return document.build(d, settings, notation)
