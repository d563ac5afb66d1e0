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
    task: Annotated[
        list[str] | None, typer.Option("--task", "-t", help="Task to run (repeatable); default: all shipped tasks.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Samples per task (0 = all).")] = 5,
    epochs: Annotated[int, typer.Option(help="Rollouts per sample.")] = 1,
    log_dir: Annotated[Path, typer.Option(help="Where Inspect logs and results.json go.")] = Path("logs/run"),
    model_arg: Annotated[
        list[str] | None, typer.Option("--model-arg", "-M", help="Model arg key=value (repeatable), e.g. -M n_ctx=8192.")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Most tokens per model turn.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature.")] = None,
    seed: Annotated[int | None, typer.Option(help="Sampling seed.")] = None,
    max_connections: Annotated[int | None, typer.Option(help="Concurrent model requests.")] = None,
) -> None:
    """Run tasks on a model (default: the embedded SmolLM2), print a per-task table, write logs and results.json.

    Re-running with the same --log-dir resumes: finished rollouts are kept, not redone.
    """
    from .models import DEFAULT_MODEL
    from .runner import run_tasks
    from .tasks import DEFAULT_TASKS

    try:
        results = run_tasks(
            tasks=task or DEFAULT_TASKS,
            model=model or DEFAULT_MODEL,
            model_args=_model_args(model_arg or []),
            limit=limit or None,
            epochs=epochs,
            log_dir=log_dir,
            generate_config={
                "max_tokens": max_tokens,
                "temperature": temperature,
                "seed": seed,
                "max_connections": max_connections,
            },
        )
    except AntischemeError as ex:
        raise _fail(ex.message) from None
    _print_results(results)
    console.print(f"logs: {log_dir}   results: {log_dir / 'results.json'}   view: inspect view --log-dir {log_dir}")
    if any(r["status"] != "success" for r in results):
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
