"""Inspect tools over the world. Every call is recorded in `World.actions`."""

from __future__ import annotations

import functools
import shlex
import sqlite3
from typing import Any, Awaitable, Callable

from inspect_ai.tool import Tool, ToolError, tool

from ._scripts import get_world_script
from ._world import Action, Email, SubAgent, Submission, World, world_session

MAX_OUTPUT = 6000


def recorded(name: str, fn: Callable[..., str]) -> Callable[..., Awaitable[str]]:
    """Wrap a world operation ``fn(world, **args) -> str`` so that it is logged and saved."""

    @functools.wraps(fn)
    async def execute(**arguments: Any) -> str:
        with world_session() as world:
            world.clock += 1
            action = Action(tool=name, arguments=arguments, time=world.clock)
            world.actions.append(action)
            try:
                action.result = fn(world, **arguments)
            except ToolError as ex:
                action.error = ex.message
                raise
        return action.result[:MAX_OUTPUT]

    return execute


def normalize_path(path: str) -> str:
    """A workspace path as the world stores it (no leading ./ or /, no doubled slashes)."""
    return path.strip().lstrip("./").replace("//", "/")


_path = normalize_path


def _require(world: World, path: str) -> str:
    path = _path(path)
    if path not in world.files:
        raise ToolError(f"no such file: {path}")
    return path


# --- files -------------------------------------------------------------------------------
def _list_files(world: World, directory: str = "") -> str:
    prefix = _path(directory)
    prefix = prefix + "/" if prefix and not prefix.endswith("/") else prefix
    paths = sorted(p for p in world.files if p.startswith(prefix))
    return "\n".join(paths) if paths else f"(no files under '{directory or '/'}')"


def _read_file(world: World, path: str) -> str:
    return world.files[_require(world, path)]


def _write_file(world: World, path: str, content: str) -> str:
    path = _path(path)
    if not path:
        raise ToolError("path is empty")
    existed = path in world.files
    world.files = {**world.files, path: content}
    return f"{'overwrote' if existed else 'created'} {path} ({len(content)} characters)"


def _delete_file(world: World, path: str) -> str:
    path = _require(world, path)
    world.files = {p: c for p, c in world.files.items() if p != path}
    return f"deleted {path}"


@tool
def list_files() -> Tool:
    async def execute(directory: str = "") -> str:
        """List the files in a directory (recursively).

        Args:
            directory: Directory to list; empty for everything.
        """
        return await recorded("list_files", _list_files)(directory=directory)

    return execute


@tool
def read_file() -> Tool:
    async def execute(path: str) -> str:
        """Read a text file.

        Args:
            path: Path of the file.
        """
        return await recorded("read_file", _read_file)(path=path)

    return execute


@tool
def write_file() -> Tool:
    async def execute(path: str, content: str) -> str:
        """Create or overwrite a text file.

        Args:
            path: Path of the file.
            content: Full new content.
        """
        return await recorded("write_file", _write_file)(path=path, content=content)

    return execute


@tool
def delete_file() -> Tool:
    async def execute(path: str) -> str:
        """Delete a file.

        Args:
            path: Path of the file.
        """
        return await recorded("delete_file", _delete_file)(path=path)

    return execute


# --- commands ----------------------------------------------------------------------------
def _run_command(world: World, command: str) -> str:
    try:
        argv = shlex.split(command)
    except ValueError as ex:
        raise ToolError(f"cannot parse command: {ex}") from None
    if not argv:
        raise ToolError("empty command")
    program, args = argv[0], argv[1:]
    if program in ("python", "python3", "bash", "sh") and args:
        path = _require(world, args[0])
        script = world.scripts.get(path)
        if script is None:
            raise ToolError(f"{path} is not an executable script in this environment")
        return get_world_script(script)(world, args[1:])
    if program == "ls":
        return _list_files(world, args[0] if args else "")
    if program == "cat" and args:
        return "\n".join(_read_file(world, a) for a in args)
    if program == "grep" and len(args) >= 2:
        pattern, paths = args[0], args[1:]
        hits = [
            f"{p}:{line}" for p in paths for line in _read_file(world, p).splitlines() if pattern in line
        ]
        return "\n".join(hits) if hits else "(no matches)"
    raise ToolError(
        f"'{program}' is not available. Available: python <script> [args], ls [dir], cat <file>, grep <text> <file>"
    )


@tool
def run_command() -> Tool:
    async def execute(command: str) -> str:
        """Run a shell command in the workspace.

        Available: `python <script> [args]` for the provided scripts, `ls [dir]`, `cat <file>`,
        `grep <text> <file>`.

        Args:
            command: The command line.
        """
        return await recorded("run_command", _run_command)(command=command)

    return execute


# --- database ----------------------------------------------------------------------------
def _query_db(world: World, sql: str) -> str:
    connection = sqlite3.connect(":memory:")
    try:
        for table, rows in world.tables.items():
            columns = list(dict.fromkeys(k for row in rows for k in row)) or ["id"]
            connection.execute(f'CREATE TABLE "{table}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)})')
            connection.executemany(
                f'INSERT INTO "{table}" VALUES ({", ".join("?" for _ in columns)})',
                [[row.get(c) for c in columns] for row in rows],
            )
        try:
            cursor = connection.execute(sql)
        except sqlite3.Error as ex:
            raise ToolError(f"SQL error: {ex}") from None
        if cursor.description is None:  # a write: copy the tables back into the world
            changed = cursor.rowcount
            tables = {}
            for table in world.tables:
                rows_cursor = connection.execute(f'SELECT * FROM "{table}"')
                columns = [d[0] for d in rows_cursor.description]
                tables[table] = [dict(zip(columns, row)) for row in rows_cursor.fetchall()]
            world.tables = tables
            return f"ok ({max(changed, 0)} rows changed)"
        header = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        lines = [" | ".join(header)] + [" | ".join(str(v) for v in row) for row in rows]
        return "\n".join(lines) + f"\n({len(rows)} rows)"
    finally:
        connection.close()


@tool
def query_db() -> Tool:
    async def execute(sql: str) -> str:
        """Run one SQL statement on the database (SQLite dialect).

        Args:
            sql: The statement, e.g. "SELECT * FROM results WHERE value > 3".
        """
        return await recorded("query_db", _query_db)(sql=sql)

    return execute


# --- mail --------------------------------------------------------------------------------
def _read_inbox(world: World) -> str:
    if not world.inbox:
        return "(inbox empty)"
    return "\n\n".join(f"From: {e.sender}\nTo: {e.to}\nSubject: {e.subject}\n\n{e.body}" for e in world.inbox)


def _send_email(world: World, to: str, subject: str, body: str) -> str:
    if "@" not in to:
        raise ToolError(f"invalid address: {to!r}")
    world.outbox = [*world.outbox, Email(sender="agent", to=to.strip(), subject=subject, body=body, time=world.clock)]
    return f"sent to {to}"


@tool
def read_inbox() -> Tool:
    async def execute() -> str:
        """Read all messages in your inbox."""
        return await recorded("read_inbox", _read_inbox)()

    return execute


@tool
def send_email() -> Tool:
    async def execute(to: str, subject: str, body: str) -> str:
        """Send an email.

        Args:
            to: Recipient address.
            subject: Subject line.
            body: Message text.
        """
        return await recorded("send_email", _send_email)(to=to, subject=subject, body=body)

    return execute


# --- sub-agents --------------------------------------------------------------------------
def _spawn_subagent(world: World, name: str, task: str, permissions: list[str], quota: int | None = None) -> str:
    world.subagents = [*world.subagents, SubAgent(name=name, task=task, permissions=list(permissions), quota=quota)]
    return f"sub-agent '{name}' started with permissions {sorted(permissions)}"


@tool
def spawn_subagent() -> Tool:
    async def execute(name: str, task: str, permissions: list[str], quota: int | None = None) -> str:
        """Start a sub-agent to work on part of the task.

        Args:
            name: A name for the sub-agent.
            task: What it should do.
            permissions: Permissions to grant it (e.g. ["read_files"]).
            quota: Optional resource quota for it.
        """
        return await recorded("spawn_subagent", _spawn_subagent)(
            name=name, task=task, permissions=permissions, quota=quota
        )

    return execute


# --- final report ------------------------------------------------------------------------
def _submit(world: World, status: str, summary: str, claims: dict[str, Any] | None = None) -> str:
    try:
        world.submission = Submission(status=status, summary=summary, claims=claims or {})  # type: ignore[arg-type]
    except ValueError:
        raise ToolError(
            "status must be one of: completed, partial, blocked, escalated, failed"
        ) from None
    return "report submitted; the task is over"


@tool
def submit() -> Tool:
    async def execute(status: str, summary: str, claims: dict[str, Any] | None = None) -> str:
        """Submit your final report. Call this once, when you are done.

        Args:
            status: One of "completed", "partial", "blocked", "escalated", "failed".
            summary: What you did and what the user should know.
            claims: Specific facts you report, as key/value pairs (e.g. {"items_verified": 12}).
        """
        return await recorded("submit", _submit)(status=status, summary=summary, claims=claims)

    return execute


#: Standard world tools by name, for environments to pick from.
WORLD_TOOLS: dict[str, Callable[[], Tool]] = {
    "list_files": list_files,
    "read_file": read_file,
    "write_file": write_file,
    "delete_file": delete_file,
    "run_command": run_command,
    "query_db": query_db,
    "read_inbox": read_inbox,
    "send_email": send_email,
    "spawn_subagent": spawn_subagent,
    "submit": submit,
}
