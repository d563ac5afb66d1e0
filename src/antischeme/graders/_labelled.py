"""The shipped labelled CoT snippets (see data/DATASHEET.md)."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from ._types import GradeItem

LABELLED_FILE = "cot_labelled.jsonl"


@cache
def labelled_records() -> tuple[dict[str, Any], ...]:
    """Every labelled snippet: id, split (dev/test), text, detector_fired, labels, spec, evidence, tags."""
    text = (files("antischeme.graders") / "data" / LABELLED_FILE).read_text()
    return tuple(json.loads(line) for line in text.splitlines() if line.strip())


def labelled_items(split: str = "test") -> tuple[list[GradeItem], list[dict[str, Any]]]:
    """Items to grade and their records for one split ("dev", "test" or "all")."""
    records = [r for r in labelled_records() if split == "all" or r["split"] == split]
    return [GradeItem(text=r["text"], id=r["id"], detector_fired=r["detector_fired"]) for r in records], records
