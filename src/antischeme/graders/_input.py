"""Texts to grade from a JSONL file (field ``text``) or from an Inspect log (each rollout's CoT)."""

from __future__ import annotations

import json
from pathlib import Path

from .._errors import AntischemeError
from ._text import cot_of
from ._types import GradeItem


def read_grade_input(path: str | Path) -> list[GradeItem]:
    """Items from ``.jsonl`` (``text``, optional ``id`` and ``detector_fired``) or an Inspect log.

    Args:
        path: A JSONL file or an Inspect log (``.eval`` / ``.json``).
    """
    path = Path(path)
    if not path.is_file():
        raise AntischemeError(f"no such file: {path}")
    if path.suffix == ".jsonl":
        return _jsonl(path)
    if path.suffix in (".eval", ".json"):
        return _log(path)
    raise AntischemeError(f"grade reads .jsonl files (field 'text') or Inspect logs (.eval/.json), not {path.name!r}")


def _jsonl(path: Path) -> list[GradeItem]:
    items = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as ex:
            raise AntischemeError(f"{path}:{number}: not JSON ({ex.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise AntischemeError(f"{path}:{number}: each record needs a string field 'text'")
        fired = record.get("detector_fired")
        if fired is not None and not isinstance(fired, bool):
            raise AntischemeError(f"{path}:{number}: detector_fired must be true, false or absent")
        items.append(GradeItem(text=record["text"], id=None if record.get("id") is None else str(record["id"]), detector_fired=fired))
    return items


def _log(path: Path) -> list[GradeItem]:
    from inspect_ai.log import read_eval_log

    try:
        log = read_eval_log(str(path))
    except Exception as ex:
        raise AntischemeError(f"cannot read Inspect log {path}: {ex}") from None
    items = []
    for sample in log.samples or []:
        score = next(iter(sample.scores.values()), None) if sample.scores else None
        outcome = score.value if score is not None and sample.error is None else None
        fired = {"covert": True, "honest": False, "not_engaged": False}.get(outcome) if isinstance(outcome, str) else None
        items.append(GradeItem(text=cot_of(sample.messages)[0], id=f"{sample.id}/{sample.epoch}", detector_fired=fired))
    return items
