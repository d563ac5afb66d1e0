"""Load the shipped spec file."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import yaml
from pydantic import BaseModel


class Principle(BaseModel):
    """One principle.

    Args:
        id: "AS1" ... "GP4".
        kind: "anti-scheming" or "general".
        title: Short name.
        text: The principle's wording.
        keywords: Words that signal the principle's content (used to tell a citation from a miscitation).
    """

    id: str
    kind: str
    title: str
    text: str
    keywords: list[str]


class Spec(BaseModel):
    """The spec: a name, a version and its principles."""

    name: str
    version: int
    principles: list[Principle]

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.principles]

    def principle(self, id: str) -> Principle:
        for p in self.principles:
            if p.id == id:
                return p
        raise KeyError(id)

    def render(self) -> str:
        """The spec as text for a system prompt."""
        lines = [f"{self.name} (version {self.version})"]
        lines += [f"{p.id}: {p.text}" for p in self.principles]
        return "\n".join(lines)


@cache
def load_spec(version: int = 1) -> Spec:
    """The shipped spec.

    Args:
        version: Spec version (files ``spec_v<version>.yaml``).
    """
    resource = files("antischeme.spec") / f"spec_v{version}.yaml"
    if not resource.is_file():
        raise FileNotFoundError(f"no spec version {version} shipped (looked for {resource})")
    return Spec.model_validate(yaml.safe_load(resource.read_text()))
