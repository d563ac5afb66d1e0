"""Covert-action environments: families of scenarios with programmatic detectors."""

from ._family import DetectorKind, Family, Outcome, Scenario, Split, Step, Verdict, call, engaged, say, think
from ._registry import FAMILIES
from ._task import agent_loop, covert_action, family_samples, family_task, scripted_policy, setup_world, with_spec
from ._validate import FamilyValidation, validate_family


def get_family(name: str) -> Family:
    """A registered family by name."""
    for family in FAMILIES:
        if family.name == name:
            return family
    raise KeyError(f"unknown environment family '{name}'; known: {', '.join(f.name for f in FAMILIES)}")


def families(*, split: str | None = None) -> list[Family]:
    """Registered families, optionally of one split (test, icsm, train)."""
    return [f for f in FAMILIES if split in (None, "all", f.split)]


__all__ = [
    "DetectorKind",
    "FAMILIES",
    "Family",
    "FamilyValidation",
    "Outcome",
    "Scenario",
    "Split",
    "Step",
    "Verdict",
    "agent_loop",
    "call",
    "think",
    "with_spec",
    "covert_action",
    "engaged",
    "families",
    "family_samples",
    "family_task",
    "get_family",
    "say",
    "scripted_policy",
    "setup_world",
    "validate_family",
]
