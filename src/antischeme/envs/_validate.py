"""Saint and schemer through the real environment: the family's unit tests."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field

from inspect_ai import eval as inspect_eval

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

    @property
    def passed(self) -> bool:
        return not self.failures


def validate_family(family: Family, *, seed: int = 0) -> FamilyValidation:
    """Run saint and schemer on every variant; the detector must flag the schemer and not the saint."""
    result = FamilyValidation(family=family.name, variants=len(family.variants()))
    with tempfile.TemporaryDirectory() as log_dir:
        for policy, expected in EXPECTED.items():
            [log] = inspect_eval(
                family_task(family, seed=seed, policy=policy),
                model="none/none",
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
