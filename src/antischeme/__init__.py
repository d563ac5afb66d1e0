"""antischeme: covert-action evaluations, chain-of-thought analysis and anti-scheming training on Inspect AI."""

from ._errors import AntischemeError

__version__ = "0.1.0"

__all__ = ["AntischemeError", "__version__"]
