"""Scripts that exist as files in a world and run as our own Python on the world's data."""

from __future__ import annotations

from typing import Callable

from ._world import World

WorldScript = Callable[[World, list[str]], str]

_SCRIPTS: dict[str, WorldScript] = {}


def world_script(name: str) -> Callable[[WorldScript], WorldScript]:
    """Register a function that runs when the agent executes a script file bound to ``name``.

    The function receives the world (it may change it) and the command-line arguments, and
    returns the script's output. It is never a host process.

    Args:
        name: Registry name, referenced from `World.scripts`.
    """

    def register(fn: WorldScript) -> WorldScript:
        if name in _SCRIPTS and _SCRIPTS[name] is not fn:
            raise ValueError(f"world script {name!r} is already registered")
        _SCRIPTS[name] = fn
        return fn

    return register


def get_world_script(name: str) -> WorldScript:
    """A registered script by name."""
    try:
        return _SCRIPTS[name]
    except KeyError:
        raise KeyError(f"no world script named {name!r}") from None
