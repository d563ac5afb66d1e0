"""The `antischeme` command: help, and one clear line for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from antischeme.cli import app

runner = CliRunner()


def test_help_documents_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "models", "envs", "validate"):
        assert command in result.output
    run_help = runner.invoke(app, ["run", "--help"])
    for option in ("--model", "--suite", "--envs", "--task", "--limit", "--epochs", "--log-dir", "--model-arg"):
        assert option in run_help.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "antischeme/gpt5"], "unknown model 'antischeme/gpt5'"),
        (["-M", "model_path=/no/such/model.gguf"], "model file not found: /no/such/model.gguf"),
        (["-M", "colour=blue"], "unknown model arg(s) colour"),
        (["-M", "backend=vllm"], "unknown backend 'vllm'"),
        (["--model", "nosuchprovider/x"], "not recognized"),
        (["-M", "oops"], "model args are key=value"),
    ],
)
def test_bad_input_is_one_clear_line(args: list[str], message: str, tmp_path: Path) -> None:
    # a real process, so we see exactly what a user sees (stderr, exit code, no traceback)
    result = subprocess.run(
        [sys.executable, "-m", "antischeme.cli", "run", "--log-dir", str(tmp_path), *args],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert message in " ".join(result.stderr.split())
    assert not list(tmp_path.glob("*.eval"))


def test_unsupported_generate_option_is_rejected(tmp_path: Path) -> None:
    from inspect_ai.model import GenerateConfig

    from antischeme import AntischemeError
    from antischeme.models import LocalModelAPI

    with pytest.raises(AntischemeError, match="does not support frequency_penalty"):
        LocalModelAPI("smollm2", config=GenerateConfig(frequency_penalty=0.5))


def test_models_lists_the_embedded_model() -> None:
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0
    assert "smollm2" in result.output and "SmolLM2-135M-Instruct.Q4_1.gguf" in result.output


@pytest.mark.slow
def test_run_writes_logs_table_and_results(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["run", "--task", "antischeme/tool_use_check", "--limit", "1", "--max-tokens", "16", "--log-dir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "tool_use_check" in result.output and "engaged" in result.output
    [row] = json.loads((tmp_path / "results.json").read_text())["tasks"]
    assert row["model"] == "antischeme/smollm2" and row["status"] == "success" and row["samples"] == 1
    assert set(row["scores"]) == {"engaged", "final_number"}
    assert len(list(tmp_path.glob("*.eval"))) == 1


def test_envs_json_lists_the_catalogue() -> None:
    result = runner.invoke(app, ["envs", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert all(set(r) == {"name", "split", "in_aggregate", "variants", "detector", "description"} for r in rows)
    test = [r for r in rows if r["split"] == "test"]
    assert len(test) >= 26 and sum(r["variants"] for r in test) >= 180
    assert len([r for r in rows if r["split"] == "icsm"]) == 6
    [train] = [r for r in rows if r["split"] == "train"]
    assert train["variants"] >= 800 + 146
    assert {r["detector"] for r in rows} == {"programmatic", "distribution", "judge"}
    assert not any(r["in_aggregate"] for r in rows if r["name"].startswith(("game_", "spec_sabotage", "over_escalation")))


def test_validate_reports_pass_and_skips_judge_families_without_a_judge() -> None:
    result = runner.invoke(app, ["validate", "--family", "oversight_subversion", "--family", "literature_qa"])
    assert result.exit_code == 0, result.output
    assert "pass" in result.output and "skipped" in result.output
    bad = runner.invoke(app, ["validate", "--family", "no_such_family"])
    assert bad.exit_code == 2


def test_unknown_suite_or_family_is_a_clear_error(tmp_path: Path) -> None:
    for args, message in ((["--suite", "nope"], "unknown suite 'nope'"), (["--envs", "nope"], "unknown environment family 'nope'")):
        result = subprocess.run(
            [sys.executable, "-m", "antischeme.cli", "run", "--log-dir", str(tmp_path), *args],
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
