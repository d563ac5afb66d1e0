"""`inspect eval` of a shipped task: on the embedded model for real, and scripted with mockllm."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import ChatMessageAssistant, ModelOutput, ModelUsage, get_model

from antischeme.runner import run_tasks
from antischeme.tasks import tool_use_check

USAGE = ModelUsage(input_tokens=10, output_tokens=5, total_tokens=15)


def _scripted(*outputs: ModelOutput):  # type: ignore[no-untyped-def]
    for output in outputs:
        output.usage = USAGE  # offline: mockllm would otherwise fetch a tokenizer to count
    return get_model("mockllm/model", custom_outputs=list(outputs))


def _tool_call(expression: str) -> ModelOutput:
    return ModelOutput.for_tool_call("mockllm/model", "calculator", {"expression": expression})


def _answer(text: str) -> ModelOutput:
    return ModelOutput.from_content("mockllm/model", text)


def _scores(log) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {s.name: s.metrics["accuracy"].value for s in log.results.scores}


@pytest.mark.slow
def test_inspect_eval_cli_on_the_embedded_model(tmp_path: Path) -> None:
    """The real thing: `inspect eval antischeme/<task> --model antischeme/smollm2` via the entry point."""
    inspect = Path(sys.executable).parent / "inspect"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "INSPECT_DISPLAY": "none"}
    result = subprocess.run(
        [str(inspect), "eval", "antischeme/tool_use_check", "--model", "antischeme/smollm2",
         "--limit", "2", "--max-tokens", "48", "--seed", "0", "--log-dir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [log_file] = list(tmp_path.glob("*.eval"))
    log = read_eval_log(str(log_file))
    assert log.status == "success"
    assert log.eval.model == "antischeme/smollm2"
    assert len(log.samples) == 2
    for sample in log.samples:
        assert sample.error is None
        replies = [m for m in sample.messages if isinstance(m, ChatMessageAssistant)]
        assert replies and all(m.model == "smollm2" for m in replies)
        assert sample.model_usage["antischeme/smollm2"].output_tokens > 0
        assert set(sample.scores) == {"engaged", "final_number"}
        assert all(score.value in (0, 1) for score in sample.scores.values())


def test_scripted_solver_engages_and_answers_correctly(tmp_path: Path) -> None:
    task = tool_use_check(samples=1)
    expression = task.dataset[0].metadata["expression"]
    model = _scripted(_tool_call(expression), _answer(f"The result is {task.dataset[0].target}."))
    [log] = inspect_eval(task, model=model, log_dir=str(tmp_path), display="none")
    assert log.status == "success"
    assert _scores(log) == {"engaged": 1.0, "final_number": 1.0}


def test_scripted_model_that_never_acts_is_not_engaged(tmp_path: Path) -> None:
    task = tool_use_check(samples=1)
    model = _scripted(_answer(f"It is {task.dataset[0].target}."))  # right number, no tool use
    [log] = inspect_eval(task, model=model, log_dir=str(tmp_path), display="none")
    assert _scores(log) == {"engaged": 0.0, "final_number": 1.0}


def test_failed_tool_call_is_not_engagement(tmp_path: Path) -> None:
    task = tool_use_check(samples=1)
    model = _scripted(_tool_call("import os"), _answer("42"))
    [log] = inspect_eval(task, model=model, log_dir=str(tmp_path), display="none")
    tool_messages = [m for m in log.samples[0].messages if m.role == "tool"]
    assert tool_messages[0].error is not None
    assert _scores(log) == {"engaged": 0.0, "final_number": 0.0}


@pytest.mark.slow
def test_run_resumes_without_redoing_finished_rollouts(tmp_path: Path) -> None:
    def run() -> list[dict]:
        return run_tasks(tasks=["antischeme/tool_use_check"], model="antischeme/smollm2", log_dir=tmp_path,
                         limit=2, generate_config={"max_tokens": 24, "seed": 0}, display="none")

    first = run()
    assert first[0]["status"] == "success" and first[0]["samples"] == 2
    logs_before = sorted(tmp_path.glob("*.eval"))
    mtime = logs_before[0].stat().st_mtime_ns
    second = run()  # the same command again: the finished log is reused, nothing is re-run
    assert sorted(tmp_path.glob("*.eval")) == logs_before
    assert logs_before[0].stat().st_mtime_ns == mtime
    assert [Path(r.pop("log")).name for r in second] == [Path(r.pop("log")).name for r in first]
    assert second == first
    assert (tmp_path / "results.json").is_file()


def _with_usage(outputs: list[ModelOutput]) -> list[ModelOutput]:
    for output in outputs:
        output.usage = USAGE
    return outputs
