"""Inspect tasks shipped with antischeme (the covert-action suite builds on these)."""

from ._tool_use import calculator, engaged, tool_use_check

#: Tasks `antischeme run` runs by default, by registry name.
DEFAULT_TASKS = ["antischeme/tool_use_check"]

__all__ = ["DEFAULT_TASKS", "calculator", "engaged", "tool_use_check"]
