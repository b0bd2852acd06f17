"""Renderers: one printer per output format, each over the same derivation objects."""
