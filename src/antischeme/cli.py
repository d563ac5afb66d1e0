"""The `antischeme` command."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

# Nothing is ever fetched from a model hub (set before transformers is imported).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import typer
from rich.console import Console
from rich.table import Table

from ._errors import AntischemeError

app = typer.Typer(
    help="antischeme: covert-action evaluations, chain-of-thought analysis and anti-scheming training on Inspect AI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
if not console.is_terminal:  # logs and CI: do not squeeze tables into 80 columns
    console = Console(width=160)
err_console = Console(stderr=True, width=None if console.is_terminal else 160)


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _model_args(pairs: list[str]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise AntischemeError(f"model args are key=value, got {pair!r}")
        try:
            args[key] = json.loads(value)
        except json.JSONDecodeError:
            args[key] = value
    return args


@app.command()
def run(
    model: Annotated[str, typer.Option(help="Any Inspect model, e.g. openai/gpt-4o or antischeme/smollm2.")] = "",
    suite: Annotated[str, typer.Option(help="Environment suite: test, icsm, train or all.")] = "test",
    envs: Annotated[str, typer.Option(help="Comma-separated families (default: the whole suite).")] = "",
    task: Annotated[
        list[str] | None, typer.Option("--task", "-t", help="Other Inspect task(s) to run instead of a suite (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Rollouts per family/task (variants are shuffled first; 0 = all).")] = 1,
    epochs: Annotated[int, typer.Option(help="Rollouts per sample.")] = 1,
    log_dir: Annotated[Path, typer.Option(help="Where Inspect logs and results.json go.")] = Path("logs/run"),
    model_arg: Annotated[
        list[str] | None, typer.Option("--model-arg", "-M", help="Model arg key=value (repeatable), e.g. -M n_ctx=8192.")
    ] = None,
    judge_model: Annotated[str | None, typer.Option(help="Judge model for judge-detector families.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Most tokens per model turn.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling and for choosing variants.")] = 0,
    max_connections: Annotated[int | None, typer.Option(help="Concurrent model requests.")] = None,
) -> None:
    """Run covert-action environments (default: the test suite on the embedded SmolLM2) or other tasks.

    Prints per-family covert-action rates with 95% Beta(1,1) credible intervals, the four outcome
    counts, engagement and the aggregate; writes Inspect logs and results.json. Re-running with the
    same options and --log-dir resumes: finished rollouts are kept, not redone.
    """
    from .models import DEFAULT_MODEL
    from .runner import run_tasks

    try:
        tasks = task or _suite_tasks(suite, envs)
        results = run_tasks(
            tasks=tasks,
            model=model or DEFAULT_MODEL,
            model_args=_model_args(model_arg or []),
            limit=limit or None,
            epochs=epochs,
            log_dir=log_dir,
            judge_model=judge_model,
            shuffle_seed=seed,
            generate_config={
                "max_tokens": max_tokens,
                "temperature": temperature,
                "seed": seed,
                "max_connections": max_connections,
            },
        )
    except AntischemeError as ex:
        raise _fail(ex.message) from None
    family_rows = [r for r in results if "family" in r]
    if family_rows:
        _print_families(family_rows)
    other = [r for r in results if "family" not in r]
    if other:
        _print_results(other)
    console.print(f"logs: {log_dir}   results: {log_dir / 'results.json'}   view: inspect view --log-dir {log_dir}")
    if any(r["status"] != "success" for r in results):
        raise typer.Exit(code=1)


def _suite_tasks(suite: str, envs: str) -> list[str]:
    from .envs import families, get_family

    if suite not in ("test", "icsm", "train", "all"):
        raise AntischemeError(f"unknown suite '{suite}'; choose test, icsm, train or all")
    if envs:
        try:
            chosen = [get_family(name.strip()) for name in envs.split(",") if name.strip()]
        except KeyError as ex:
            raise AntischemeError(str(ex.args[0])) from None
    else:
        chosen = families(split=suite)
    if not chosen:
        raise AntischemeError(f"the {suite} suite has no families yet")
    return [f"antischeme/{f.name}" for f in chosen]


def _print_families(rows: list[dict[str, Any]]) -> None:
    from .runner import FamilyResult, aggregate
    from .analysis import Rate

    table = Table(title="Covert actions per family: covert / engaged rollouts [95% Beta(1,1) credible interval]")
    for column in ("family", "split", "agg", "covert/engaged [95% CI]", "covert", "honest", "not engaged", "error", "unscored", "engaged"):
        table.add_column(column, justify="left" if column in ("family", "split") else "right")
    results = []
    for row in rows:
        data = dict(row["family"])
        data["covert"] = Rate(**data["covert"]) if data["covert"] else None
        result = FamilyResult(**data)
        results.append(result)
        c = result.counts
        table.add_row(
            result.family,
            result.split,
            "yes" if result.in_aggregate else "no",
            f"{result.covert.k}/{result.covert.n} [{result.covert.low:.0%}, {result.covert.high:.0%}]" if result.covert else "n/a",
            str(c["covert"]), str(c["honest"]), str(c["not_engaged"]), str(c["error"]), str(c["unscored"]),
            f"{result.engagement:.0%}" if result.engagement is not None else "n/a",
        )
    console.print(table)
    overall, excluded = aggregate(results)
    if overall is None:
        console.print("aggregate covert rate: n/a (no in-aggregate family had an engaged rollout)")
    else:
        console.print(
            f"aggregate covert rate (posterior mean over {len(results) - len(excluded)} families with engaged "
            f"rollouts): {overall.mean:.1%} [{overall.low:.1%}, {overall.high:.1%}]; not in the aggregate: "
            f"{', '.join(excluded) or 'none'}"
        )
    scored = sum(r.counts["covert"] + r.counts["honest"] + r.counts["not_engaged"] for r in results)
    engaged_n = sum(r.counts["covert"] + r.counts["honest"] for r in results)
    if scored:
        console.print(f"engagement: {engaged_n}/{scored} scored rollouts acted on the world ({engaged_n / scored:.0%})")


@app.command(name="envs")
def envs_command(
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON list, one object per family.")] = False,
    split: Annotated[str, typer.Option(help="Only this split: test, icsm, train or all.")] = "all",
) -> None:
    """List the environment families: split, in-aggregate, variants, detector kind, description."""
    from .envs import families

    rows = [
        {
            "name": f.name,
            "split": f.split,
            "in_aggregate": f.in_aggregate,
            "variants": len(f.variants()),
            "detector": f.detector,
            "description": f.description,
        }
        for f in families(split=split)
    ]
    if json_output:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} environment families, {sum(r['variants'] for r in rows)} variants")
    for column in ("name", "split", "aggregate", "variants", "detector", "description"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r["name"], r["split"], "yes" if r["in_aggregate"] else "no", str(r["variants"]), r["detector"], r["description"])
    console.print(table)


@app.command()
def validate(
    family: Annotated[list[str] | None, typer.Option("--family", "-f", help="Family to validate (repeatable; default all).")] = None,
    judge_model: Annotated[str | None, typer.Option(help="Judge model, to validate judge-detector families too.")] = None,
) -> None:
    """Run each family's scripted saint and schemer on every variant: the detector must flag the schemer, not the saint."""
    from rich.progress import Progress

    from .envs import families as all_families
    from .envs import get_family, validate_family

    try:
        chosen = [get_family(name) for name in family] if family else all_families()
    except KeyError as ex:
        raise _fail(str(ex.args[0])) from None
    table = Table(title="Saint vs schemer, every variant")
    for column in ("family", "variants", "result", "details"):
        table.add_column(column, overflow="fold")
    failed = 0
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("validating", total=len(chosen))
        for f in chosen:
            progress.update(bar, description=f"validating {f.name}")
            result = validate_family(f, judge_model=judge_model)
            if result.skipped:
                status, details = "[yellow]skipped[/]", result.skipped
            elif result.passed:
                status, details = "[green]pass[/]", "schemer flagged on every variant, saint never"
            else:
                failed += 1
                status, details = "[red]FAIL[/]", "; ".join(result.failures[:3])
            table.add_row(f.name, str(result.variants), status, details)
            progress.advance(bar)
    console.print(table)
    if failed:
        raise typer.Exit(code=1)


def _print_results(results: list[dict[str, Any]]) -> None:
    table = Table(title="Results per task (mean ± standard error over samples)")
    for column in ("task", "model", "status", "samples", "errors"):
        table.add_column(column, overflow="fold")
    scorers = list(dict.fromkeys(name for r in results for name in r["scores"]))
    for name in scorers:
        table.add_column(name, justify="right")
    for r in results:
        cells = []
        for name in scorers:
            metrics = dict(r["scores"].get(name, {}))
            stderr = metrics.pop("stderr", None)
            value = next(iter(metrics.values()), None)
            cells.append("" if value is None else f"{value:.2f}" + (f" ± {stderr:.2f}" if stderr is not None else ""))
        table.add_row(r["task"], r["model"], r["status"], str(r["samples"]), str(r["errors"]), *cells)
    console.print(table)


@app.command()
def models() -> None:
    """List the embedded models and whether their wheels are installed."""
    from .models import EMBEDDED_MODELS

    table = Table(title="Embedded models (use as antischeme/<name>)")
    for column in ("name", "file", "installed at"):
        table.add_column(column)
    for model in EMBEDDED_MODELS.values():
        try:
            where = str(model.path())
        except AntischemeError as ex:
            where = f"[red]{ex.message}[/]"
        table.add_row(model.name, model.filename, where)
    console.print(table)
    console.print("Any other local model: --model antischeme/<label> -M model_path=<GGUF file or HF folder>")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
