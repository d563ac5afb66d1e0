"""Inspect entry point: importing this registers the antischeme model provider and tasks."""

# ruff: noqa: F401
from .models._provider import antischeme
from .tasks import tool_use_check
from .envs._tasks import FAMILY_TASKS
from .graders._scorer import cot_grader
