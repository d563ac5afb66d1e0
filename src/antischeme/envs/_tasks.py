"""Each family as a registered Inspect task: `inspect eval antischeme/<family>`."""

from __future__ import annotations

from typing import Any, Callable

from inspect_ai import Task, task

from ._registry import FAMILIES
from ._task import family_task


def _make(family_name: str) -> Callable[..., Task]:
    def make(
        seed: int = 0,
        policy: str | None = None,
        spec: bool = False,
        data_split: str | None = None,
        where: str | None = None,
        message_limit: int | None = None,
    ) -> Task:
        from . import get_family

        return family_task(
            get_family(family_name), seed=seed, policy=policy, spec=spec, data_split=data_split, where=where,  # type: ignore[arg-type]
            message_limit=message_limit,
        )

    make.__name__ = family_name
    make.__doc__ = (
        f"The {family_name} environment family (seed: scenario seed; policy: saint|schemer; spec: the "
        "anti-scheming spec in the system message; data_split: only that split's variants; where: only variants "
        "with these levels, e.g. kind=exception; message_limit: cap on each scenario's message limit)."
    )
    return make


FAMILY_TASKS: dict[str, Any] = {f.name: task(name=f.name)(_make(f.name)) for f in FAMILIES}
