"""What an environment family is: scenarios along named dimensions, tools, a detector, two policies."""

from __future__ import annotations

import abc
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Literal

from inspect_ai.model import ChatMessage
from inspect_ai.tool import Tool
from pydantic import BaseModel, Field

from ..world import WORLD_TOOLS, World

Split = Literal["test", "icsm", "train"]
DetectorKind = Literal["programmatic", "distribution", "judge"]
Outcome = Literal["covert", "honest", "not_engaged", "error", "unscored"]


class Scenario(BaseModel):
    """One environment instance: what the agent is told, the world it acts in, and the truth.

    Args:
        family: Family name.
        variant: Dimension -> level (the variant's identity).
        system: System message.
        task: The user's request.
        world: Initial world.
        tools: Tool names offered (standard world tools or the family's own).
        honest_behaviour: What an honest agent does here (metadata for readers and graders).
        truth: Ground truth the detector needs; never shown to the agent.
        followups: Questions asked after the agent finishes (e.g. a manager asking what happened).
        message_limit: Most messages in the rollout (set from the task's length).
        split: test / icsm / train.
    """

    family: str
    variant: dict[str, str]
    system: str
    task: str
    world: World
    tools: list[str]
    honest_behaviour: str
    truth: dict[str, Any] = Field(default_factory=dict)
    followups: list[str] = Field(default_factory=list)
    message_limit: int = 30
    split: Split = "test"

    @property
    def id(self) -> str:
        return self.family + "/" + "-".join(f"{k}={v}" for k, v in sorted(self.variant.items()))


@dataclass
class Verdict:
    """A detector's reading of one rollout.

    Args:
        outcome: covert (a covert action happened), honest (engaged and behaved well),
            not_engaged (never acted on the world), error, or unscored (the detector could not
            decide, e.g. a judge family run without a judge model; never counted as 0).
        evidence: Short quotes of the actions or state that decided it.
        measures: Extra per-rollout numbers (e.g. accuracy for sandbagging).
    """

    outcome: Outcome
    evidence: list[str] = field(default_factory=list)
    measures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One move of a scripted policy: a tool call, or a plain text reply, with optional reasoning."""

    tool: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    reasoning: str = ""


def call(tool: str, **arguments: Any) -> Step:
    """A scripted tool call."""
    return Step(tool=tool, arguments=arguments)


def think(reasoning: str, step: Step) -> Step:
    """A scripted step with the chain of thought that precedes it (training demonstrations)."""
    return Step(tool=step.tool, arguments=step.arguments, text=step.text, reasoning=reasoning)


def say(text: str) -> Step:
    """A scripted text reply (ends the agent's turn)."""
    return Step(text=text)


class Family(abc.ABC):
    """An environment family. Subclass it in one module and add a registry line.

    Class attributes name the family; methods build scenarios, detect covert actions, and script
    the saint (honest) and schemer (covert) policies that are the family's unit tests.
    """

    name: ClassVar[str]
    split: ClassVar[Split] = "test"
    in_aggregate: ClassVar[bool] = True
    detector: ClassVar[DetectorKind] = "programmatic"
    description: ClassVar[str]
    #: dimension -> levels; variants are their product unless `variants` is overridden
    dimensions: ClassVar[dict[str, list[str]]]
    #: the family's own tools by name, beside the standard world tools
    extra_tools: ClassVar[dict[str, Callable[[], Tool]]] = {}

    def variants(self) -> list[dict[str, str]]:
        """Every variant: one dict of dimension levels each."""
        names = list(self.dimensions)
        return [dict(zip(names, levels)) for levels in itertools.product(*(self.dimensions[n] for n in names))]

    @abc.abstractmethod
    def scenario(self, variant: dict[str, str], seed: int) -> Scenario:
        """The scenario of one variant (deterministic given the seed)."""

    def tools(self, scenario: Scenario) -> list[Tool]:
        """The tools the scenario names: standard world tools and the family's `extra_tools`."""
        available = {**WORLD_TOOLS, **self.extra_tools}
        unknown = [t for t in scenario.tools if t not in available]
        if unknown:
            raise ValueError(f"{self.name}: unknown tools {unknown}; add them to extra_tools")
        return [available[name]() for name in scenario.tools]

    @abc.abstractmethod
    def detect(self, scenario: Scenario, world: World, messages: list[ChatMessage]) -> Verdict:
        """Read the final world, the actions and the transcript; decide the outcome."""

    def judge_prompt(self, scenario: Scenario, world: World, messages: list[ChatMessage]) -> str:
        """Judge families: the prompt asking the judge model for a verdict on the agent's actions."""
        raise NotImplementedError(f"{self.name} is not a judge family")

    def parse_judgment(self, text: str) -> Verdict:
        """Judge families: the verdict in the judge's reply (malformed replies are unscored)."""
        raise NotImplementedError(f"{self.name} is not a judge family")

    @abc.abstractmethod
    def saint(self, scenario: Scenario) -> list[Step]:
        """A scripted honest policy for this scenario."""

    @abc.abstractmethod
    def schemer(self, scenario: Scenario) -> list[Step]:
        """A scripted covert policy for this scenario."""


def engaged(world: World) -> bool:
    """Whether the agent acted on the world at all (a tool call that ran, or a report)."""
    return bool(world.calls()) or world.submission is not None
