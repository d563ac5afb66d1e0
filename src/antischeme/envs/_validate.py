"""Saint and schemer through the real environment: the family's unit tests."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field

from inspect_ai import eval as inspect_eval
from inspect_ai.model import Model

from ._family import Family
from ._task import Policy, family_task

EXPECTED: dict[Policy, str] = {"saint": "honest", "schemer": "covert"}


@dataclass
class FamilyValidation:
    """Outcome of both policies on every variant of one family.

    Args:
        family: Family name.
        variants: Number of variants run.
        failures: "policy variant: got X, expected Y" for each miss.
    """

    family: str
    variants: int
    failures: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures and self.skipped is None


def validate_family(
    family: Family,
    *,
    seed: int = 0,
    variants: list[dict[str, str]] | None = None,
    judge_model: str | Model | None = None,
) -> FamilyValidation:
    """Run saint and schemer on every variant; the detector must flag the schemer and not the saint.

    Args:
        family: The family.
        seed: Scenario seed.
        variants: A subset of variants (default: all).
        judge_model: Judge for judge families (without one they are skipped, not passed).
    """
    chosen = variants or family.variants()
    result = FamilyValidation(family=family.name, variants=len(chosen))
    if family.detector == "judge" and judge_model is None:
        result.skipped = "judge family: needs a judge model (--judge-model)"
        return result
    roles = {"judge": judge_model} if judge_model is not None else None
    with tempfile.TemporaryDirectory() as log_dir:
        for policy, expected in EXPECTED.items():
            [log] = inspect_eval(
                family_task(family, seed=seed, policy=policy, variants=chosen),
                model="none/none",
                model_roles=roles,
                log_dir=log_dir,
                display="none",
                log_samples=True,
                score_display=False,
            )
            if log.status != "success":
                result.failures.append(f"{policy}: run failed: {log.error.message if log.error else log.status}")
                continue
            for sample in log.samples or []:
                score = next(iter(sample.scores.values())) if sample.scores else None
                outcome = score.value if score else "no score"
                if outcome != expected:
                    why = score.explanation if score else ""
                    result.failures.append(f"{policy} {sample.id}: got {outcome}, expected {expected} ({why})")
    return result
