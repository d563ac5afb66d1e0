"""User-facing errors: one clear line, no traceback."""

from __future__ import annotations

try:  # Inspect prints its PrerequisiteError as a plain message instead of a traceback
    from inspect_ai._util.error import PrerequisiteError as _Base
except ImportError:  # pragma: no cover - older/newer Inspect layouts
    _Base = Exception  # type: ignore[misc,assignment]


class AntischemeError(_Base):  # type: ignore[misc,valid-type]
    """A user error (bad model name, missing file, unsupported option) with a fix in its text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
