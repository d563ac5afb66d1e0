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
    for command in ("run", "models", "envs", "validate", "grade", "ingest", "report", "graders", "faithfulness", "intervene", "importance"):
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


@pytest.mark.slow
def test_run_on_a_family_writes_the_results_table_and_report(tmp_path: Path) -> None:
    """The main job's path on the embedded model for real: rollouts → logs → DuckDB → HTML report."""
    result = runner.invoke(
        app, ["run", "--envs", "goal_guarding", "--limit", "1", "--max-tokens", "32", "--log-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").stat().st_size > 10_000 and "report:" in result.output
    import duckdb

    con = duckdb.connect(str(tmp_path / "results.duckdb"), read_only=True)
    assert con.execute("SELECT family, model, grader_method FROM rollouts").fetchall() == [
        ("goal_guarding", "antischeme/smollm2", "lexicon")
    ]
    html = (tmp_path / "report.html").read_text()
    assert "goal_guarding" in html and "Grader validation" in html and "cot_labelled.jsonl" in html


def test_ingest_and_report_commands(tmp_path: Path) -> None:
    from inspect_ai import eval as inspect_eval

    from antischeme.envs import family_task, get_family

    family = get_family("goal_guarding")
    for run, policy in (("before", "schemer"), ("after", "saint")):
        inspect_eval(family_task(family, policy=policy), model="none/none", display="none", log_dir=str(tmp_path / run))
    db, parquet = tmp_path / "r.duckdb", tmp_path / "r.parquet"
    cli = [sys.executable, "-m", "antischeme.cli"]
    done = subprocess.run([*cli, "ingest", str(tmp_path / "before"), str(tmp_path / "after"), "--db", str(db),
                           "--export", str(parquet)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    n = 2 * len(family.variants())
    assert f"{n} rollouts written" in done.stdout and parquet.is_file()
    again = subprocess.run([*cli, "ingest", str(tmp_path / "before"), str(tmp_path / "after"), "--db", str(db)],
                           capture_output=True, text=True, timeout=300)
    assert "0 ingested, 2 unchanged" in again.stdout and f"{n} rollouts in" in again.stdout
    out = tmp_path / "report.html"
    report = subprocess.run([*cli, "report", str(tmp_path / "before"), str(tmp_path / "after"), "--out", str(out),
                             "--no-validation", "--db", str(db)], capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    html = out.read_text()
    assert "before" in html and "after" in html and "Fisher" in html
    for args, message in [
        (["ingest", str(tmp_path / "nope"), "--db", str(tmp_path / "never.duckdb")], "no such log file or directory"),
        (["ingest", str(tmp_path / "before"), "--db", str(db), "--grader-method", "vibes"], "unknown grader method"),
        (["ingest", str(tmp_path / "before"), "--db", str(db), "--export", str(tmp_path / "x.xlsx")], ".parquet or .csv"),
        (["report", str(tmp_path / "before"), "--compare", "colour", "--out", str(tmp_path / "x.html")], "unknown --compare"),
    ]:
        failed = subprocess.run([*cli, *args], capture_output=True, text=True, timeout=300)
        assert failed.returncode == 2 and message in failed.stderr and "Traceback" not in failed.stderr
    assert not (tmp_path / "never.duckdb").exists()
