"""CoT faithfulness: the generated problems, the CoT edits, prefill checks, and a real run on the
embedded model that resumes from its request cache."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.model import get_model

from antischeme._errors import AntischemeError
from antischeme.interventions import (
    FaithfulnessProfile,
    Generator,
    check_prefill,
    faithfulness,
    parse_answer,
    reasoning_problems,
    truncate,
)
from antischeme.interventions._faithfulness import MISTAKE_KINDS, corrupt, filler


def test_problems_are_reproducible_varied_and_correct() -> None:
    problems = reasoning_problems(12, seed=3)
    assert problems == reasoning_problems(12, seed=3)
    assert problems != reasoning_problems(12, seed=4)
    assert {p.kind for p in problems} == {"arithmetic", "ordering"} and {p.difficulty for p in problems} == {2, 3, 4}
    assert len({p.question for p in problems}) == 12
    ordering = next(p for p in problems if p.kind == "ordering")
    assert ordering.answer in ordering.question
    # the arithmetic answer follows from the stated steps
    arithmetic = reasoning_problems(1, seed=0)[0]
    assert arithmetic.answer.isdigit() and "How many" in arithmetic.question


def test_answers_are_parsed_from_the_answer_line() -> None:
    [arithmetic, ordering] = reasoning_problems(2, seed=0)
    assert parse_answer(" 1,234\nmore text 7", arithmetic) == "1234"
    assert parse_answer("I think the answer is 42.", arithmetic) == "42"
    assert parse_answer("no idea", arithmetic) is None
    name = ordering.answer
    assert parse_answer(f" {name}.", ordering) == name
    assert parse_answer(" Bob", ordering) is None  # not a person in the puzzle


def test_truncation_and_corruption_cut_at_sentence_boundaries() -> None:
    cot = "Mia has 5 apples. She gets 3 more, so 8. Then she gives 2 away. So 6 remain."
    assert truncate(cot, 0.0) == "" and truncate(cot, 1.0) == cot
    assert truncate(cot, 0.5) == "Mia has 5 apples. She gets 3 more, so 8."
    mistake = corrupt(cot, random.Random(0))
    assert mistake is not None and mistake.kind == "number" and "->" in mistake.change
    assert mistake.cot != cot[: len(mistake.cot)] and mistake.cot.endswith(".")
    assert corrupt("No numbers here at all.", random.Random(0)) is None


@pytest.mark.parametrize(
    ("cot", "kind", "old", "new", "cut"),
    [
        # a number still comes first, as on the problems
        ("Open notes.md. It has 3 rows. Done.", "number", "3", "8", "Open notes.md. It has 8 rows."),
        # another file the CoT names (the splitter breaks "notes.md" apart; the cut follows the path)
        ("Read notes.md first. Then I edit config/prompt.txt. Done.", "path", "config/prompt.txt", "notes.md",
         "Read notes.md first. Then I edit notes.md."),
        # the only file gets a suffix before its extension
        ("I plan to edit reports/summary.md. Done.", "path", "reports/summary.md", "reports/summary_draft.md",
         "I plan to edit reports/summary_draft.md."),
        # a quoted name swaps with the other one, apostrophes are not quotes
        ("The team's leads are 'Alpha' and 'Beta'. Pick one.", "quoted", "Beta", "Alpha",
         "The team's leads are 'Alpha' and 'Alpha'."),
        # a stated fact is negated, or loses its negation
        ("First I read. The memo is binding. Then I act. Done.", "negation", "is", "is not",
         "First I read. The memo is not binding."),
        ("I will not touch it. Fine.", "negation", "will not", "will", "I will touch it."),
    ],
)
def test_corruption_changes_exactly_one_thing(cot: str, kind: str, old: str, new: str, cut: str) -> None:
    """The seeded choices (number offset, suffix) are fixed by random.Random(0)."""
    mistake = corrupt(cot, random.Random(0), kinds=MISTAKE_KINDS)
    assert mistake is not None and (mistake.kind, mistake.old, mistake.new, mistake.cot) == (kind, old, new, cut)
    assert mistake.change.startswith(f"{old} -> {new} in sentence ")


def test_nothing_to_corrupt_and_filler() -> None:
    assert corrupt("Hmm. Okay then.", random.Random(0), kinds=MISTAKE_KINDS) is None
    assert corrupt("I will go.", random.Random(0)) is None  # numbers only by default, as on the problems
    assert filler("I will go now.") == "... ... ... ..." and filler("one") == "..."


def test_providers_that_cannot_prefill_are_a_clear_error() -> None:
    with pytest.raises(AntischemeError, match="cannot continue an assistant message"):
        check_prefill(get_model("none/none"))
    check_prefill(get_model("antischeme/smollm2"))


@pytest.mark.slow
def test_faithfulness_on_the_embedded_model_resumes_from_its_cache(tmp_path: Path) -> None:
    tiny = FaithfulnessProfile(problems=2, cot_tokens=24, answer_tokens=6, further_tokens=8, summary_tokens=12)
    first = faithfulness("antischeme/smollm2", profile=tiny, out=tmp_path)
    curve = first["early_answering"]
    assert first["n"] == 2 and first["aoc"]["n"] == 2 and 0.0 <= first["aoc"]["value"] <= 1.0
    assert len(curve["agreement"]) == len(curve["accuracy"]) == len(curve["further_tokens"]) == 11
    assert curve["agreement"][-1] == 1.0  # the full-CoT answer agrees with itself
    assert set(first["accuracy"]) == {"full_cot", "no_cot", "summary", "paraphrase", "filler"}
    assert all(r["n"] == 2 for r in first["accuracy"].values())
    assert (tmp_path / "early_answering.svg").read_text().startswith("<?xml")
    generated = len((tmp_path / "requests.jsonl").read_text().splitlines())
    assert first["requests"] >= 2 * 11 * 2 and 0 < generated <= first["requests"] - first["requests_from_cache"]
    again = faithfulness("antischeme/smollm2", profile=tiny, out=tmp_path)
    assert again["requests_from_cache"] == again["requests"] == first["requests"]  # nothing regenerated
    assert len((tmp_path / "requests.jsonl").read_text().splitlines()) == generated
    assert again["aoc"] == first["aoc"]
    saved = json.loads((tmp_path / "faithfulness.json").read_text())
    assert saved["aoc"] == first["aoc"]


def test_generator_cache_survives_a_restart(tmp_path: Path) -> None:
    from inspect_ai.model import ModelOutput, ModelUsage

    from antischeme.interventions import Request

    outputs = [ModelOutput.from_content("mockllm/model", f"reply {i}") for i in range(2)]
    for output in outputs:
        output.usage = ModelUsage(input_tokens=1, output_tokens=3, total_tokens=4)
    cache = tmp_path / "requests.jsonl"
    model = get_model("mockllm/model", custom_outputs=outputs)
    requests = [Request("q1", "<think>\n", 8), Request("q2", "<think>\n", 8)]
    done = Generator(model, cache=cache, max_connections=1).run(requests)
    assert [c.text for c in done] == ["reply 0", "reply 1"] and done[0].tokens == 3
    resumed = Generator(get_model("mockllm/model", custom_outputs=[]), cache=cache)
    assert resumed.run(requests) == done and resumed.cached_hits == 2


def test_faithfulness_command_rejects_a_model_that_cannot_prefill(tmp_path: Path) -> None:
    failed = subprocess.run([sys.executable, "-m", "antischeme.cli", "faithfulness", "--model", "none/none",
                             "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2 and "cannot continue an assistant message" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_kl_of_answer_distributions() -> None:
    from collections import Counter

    from antischeme.interventions._importance import _kl

    same = Counter({"4": 3, "5": 1})
    assert _kl(same, same) == pytest.approx(0.0)
    assert _kl(Counter({"4": 4}), Counter({"9": 4})) > _kl(Counter({"4": 4}), Counter({"4": 3, "9": 1})) > 0


@pytest.mark.slow
def test_resampling_importance_on_the_embedded_model(tmp_path: Path) -> None:
    from antischeme.interventions import resampling_importance

    result = resampling_importance("antischeme/smollm2", problems=1, resamples=2, cot_tokens=40, continuation_tokens=16,
                                   out=tmp_path)
    rows = result["sentences"]
    assert rows and all(r["resamples_after"] == 2 for r in rows)
    assert all(0 <= r["resamples_before_different"] <= 2 for r in rows)
    measured = [r for r in rows if r["importance"] is not None]
    assert all(-1.0 <= r["importance"] <= 1.0 and r["kl"] >= 0 for r in measured)
    assert len(measured) + result["unmeasured"] == len(rows)
    again = resampling_importance("antischeme/smollm2", problems=1, resamples=2, cot_tokens=40, continuation_tokens=16,
                                  out=tmp_path)
    assert again["requests_from_cache"] == again["requests"] and again["sentences"] == rows
