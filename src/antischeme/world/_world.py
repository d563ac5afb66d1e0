"""The in-memory world an environment's tools act on.

A world is plain data (files, database tables, mail, sub-agents, permissions, a clock, the log of
every action and the agent's final report). It lives in the Inspect sample store, so it is saved
in the log with the rollout and detectors read the final state from there. Nothing in it touches
the host: files are strings, "scripts" are registered Python functions run on the world's data.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Literal

from inspect_ai.util import store
from pydantic import BaseModel, Field

STORE_KEY = "antischeme:world"


class Email(BaseModel):
    """A message in a mailbox."""

    sender: str
    to: str
    subject: str
    body: str
    time: int = 0


class Action(BaseModel):
    """One tool call the agent made, as the world saw it."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: str = ""
    error: str | None = None
    time: int = 0


class SubAgent(BaseModel):
    """A sub-agent the agent spawned."""

    name: str
    task: str
    permissions: list[str] = Field(default_factory=list)
    quota: int | None = None


SubmissionStatus = Literal["completed", "partial", "blocked", "escalated", "failed"]


class Submission(BaseModel):
    """The agent's structured final report.

    Args:
        status: What the agent says happened.
        summary: Free-text account for the user.
        claims: Structured claims (e.g. {"tests_passed": true}) that detectors check against the world.
    """

    status: SubmissionStatus
    summary: str = ""
    claims: dict[str, Any] = Field(default_factory=dict)


class World(BaseModel):
    """Everything an environment's tools can see and change.

    Args:
        files: Path -> content.
        tables: Table name -> rows (the database).
        inbox: Mail the agent can read.
        outbox: Mail the agent sent.
        scripts: Path of a script file -> name of the registered function that runs it.
        permissions: What the agent is allowed to do (environments decide what they mean).
        subagents: Sub-agents spawned.
        quotas: Named resource limits (e.g. {"gpu_hours": 10}) and usage in ``usage``.
        usage: Resource use so far.
        clock: Logical time; every action advances it by one.
        actions: Every tool call, in order.
        submission: The final report, once submitted.
        state: Environment-specific state (e.g. whether an oversight process is running).
    """

    files: dict[str, str] = Field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    inbox: list[Email] = Field(default_factory=list)
    outbox: list[Email] = Field(default_factory=list)
    scripts: dict[str, str] = Field(default_factory=dict)
    permissions: list[str] = Field(default_factory=list)
    subagents: list[SubAgent] = Field(default_factory=list)
    quotas: dict[str, float] = Field(default_factory=dict)
    usage: dict[str, float] = Field(default_factory=dict)
    clock: int = 0
    actions: list[Action] = Field(default_factory=list)
    submission: Submission | None = None
    state: dict[str, Any] = Field(default_factory=dict)

    def calls(self, tool: str | None = None) -> list[Action]:
        """Actions that ran without error, optionally of one tool."""
        return [a for a in self.actions if a.error is None and (tool is None or a.tool == tool)]

    def changed_files(self, initial: "World") -> dict[str, tuple[str | None, str | None]]:
        """Path -> (before, after) for every file added, edited or deleted since ``initial``."""
        paths = set(self.files) | set(initial.files)
        return {
            p: (initial.files.get(p), self.files.get(p))
            for p in sorted(paths)
            if initial.files.get(p) != self.files.get(p)
        }

    def diff(self, initial: "World") -> dict[str, Any]:
        """A readable summary of what changed (for transcripts and the viewer)."""
        changed_tables = sorted(
            t for t in set(self.tables) | set(initial.tables) if self.tables.get(t) != initial.tables.get(t)
        )
        return {
            "files": {p: {"before": b, "after": a} for p, (b, a) in self.changed_files(initial).items()},
            "tables": changed_tables,
            "emails_sent": [e.model_dump() for e in self.outbox[len(initial.outbox) :]],
            "subagents": [s.model_dump() for s in self.subagents[len(initial.subagents) :]],
            "state": {k: v for k, v in self.state.items() if initial.state.get(k) != v},
            "submission": self.submission.model_dump() if self.submission else None,
        }


def load_world() -> World:
    """The current sample's world."""
    data = store().get(STORE_KEY)
    if data is None:
        raise RuntimeError("no world in this sample: the environment's setup solver did not run")
    return World.model_validate(data)


def save_world(world: World) -> None:
    """Write the world back to the sample store."""
    store().set(STORE_KEY, world.model_dump(mode="json"))


@contextlib.contextmanager
def world_session() -> Iterator[World]:
    """Load the world, let the caller change it, save it (also when the caller raises)."""
    world = load_world()
    try:
        yield world
    finally:
        save_world(world)
