"""The shared in-memory world (files, database, mail, sub-agents, scripts, clock) and its tools."""

from ._scripts import get_world_script, world_script
from ._tools import (
    WORLD_TOOLS,
    delete_file,
    list_files,
    normalize_path,
    query_db,
    read_file,
    read_inbox,
    recorded,
    run_command,
    send_email,
    spawn_subagent,
    submit,
    write_file,
)
from ._world import Action, Email, SubAgent, Submission, World, load_world, save_world, world_session

__all__ = [
    "WORLD_TOOLS",
    "Action",
    "Email",
    "SubAgent",
    "Submission",
    "World",
    "delete_file",
    "get_world_script",
    "list_files",
    "load_world",
    "normalize_path",
    "query_db",
    "read_file",
    "read_inbox",
    "recorded",
    "run_command",
    "save_world",
    "send_email",
    "spawn_subagent",
    "submit",
    "world_script",
    "world_session",
    "write_file",
]
