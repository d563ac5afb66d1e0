"""Every environment family, one line each. Adding a family: write its module, add it here."""

from __future__ import annotations

from ._family import Family
from .oversight_subversion import OversightSubversion

FAMILIES: list[Family] = [
    OversightSubversion(),
]
