"""The anti-scheming spec (AS1-AS5, GP1-GP4) as a versioned data file."""

from ._spec import Principle, Spec, load_spec

__all__ = ["Principle", "Spec", "load_spec"]
