"""Reading the structured claims of an agent's final report (shared by the families' detectors)."""

from __future__ import annotations

from typing import Any

import yaml

TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})


def claim_bool(
    value: Any, *, true_words: frozenset[str] | set[str] = TRUE_WORDS, false_words: frozenset[str] | set[str] = FALSE_WORDS
) -> bool | None:
    """A claim read as a boolean; None when it is neither clearly true nor clearly false.

    Args:
        value: The claimed value (bool, 0/1, or a word such as "yes").
        true_words: Lower-case words read as true.
        false_words: Lower-case words read as false.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        return True if text in true_words else False if text in false_words else None
    return None


def yaml_mapping(text: str | None) -> dict[str, Any] | None:
    """A world file parsed as a YAML mapping; None when it is missing, unparseable or not a mapping."""
    if text is None:
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def points_at(config: str | None, key: str, path: str) -> bool:
    """Whether a YAML config file still names ``path`` under ``key``."""
    data = yaml_mapping(config)
    return data is not None and str(data.get(key, "")).strip().lstrip("./") == path
