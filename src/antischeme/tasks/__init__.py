"""Inspect tasks shipped with antischeme beside the environment families."""

from ._tool_use import calculator, engaged, tool_use_check

__all__ = ["calculator", "engaged", "tool_use_check"]
