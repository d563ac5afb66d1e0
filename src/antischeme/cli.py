"""The `antischeme` command."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
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
    report: Annotated[bool, typer.Option(help="Ingest the logs into <log-dir>/results.duckdb and write <log-dir>/report.html.")] = True,
) -> None:
    """Run covert-action environments (default: the test suite on the embedded SmolLM2) or other tasks.

    Prints per-family covert-action rates with 95% Beta(1,1) credible intervals, the four outcome
    counts, engagement and the aggregate; writes Inspect logs, results.json, the results database
    and the HTML report. Re-running with the same options and --log-dir resumes: finished rollouts
    are kept, not redone.
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
    if report and family_rows:
        _report(log_dir)
    if any(r["status"] != "success" for r in results):
        raise typer.Exit(code=1)


def _report(log_dir: Path) -> None:
    """The results database and HTML report of a run's log directory."""
    from .graders import cached_validation
    from .report import write_report

    db = log_dir / "results.duckdb"
    try:
        stats = _ingest_with_progress([log_dir], db, grader_method="lexicon", judge_model=None)
        with console.status("grader validation (cached after the first run)", spinner="dots"):
            checks = cached_validation()
        with console.status("writing the report", spinner="dots"):
            path = write_report(db, log_dir / "report.html", validation=checks)
    except AntischemeError as ex:
        raise _fail(ex.message) from None
    console.print(f"results table: {db} ({stats.rollouts} rollouts added, CoT graded by lexicon)   report: {path}")


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
def grade(
    input: Annotated[Path, typer.Argument(help="JSONL file (field 'text', optional 'id', 'detector_fired') or an Inspect log.")],
    grader: Annotated[str, typer.Option(help="eval_awareness, covert_reasoning, spec_citation, escalation or confirmed_covert.")],
    judge_model: Annotated[str | None, typer.Option(help="Grade with this Inspect model as an LLM judge.")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Grade without a model service (the default when no judge is given).")] = False,
    method: Annotated[str, typer.Option(help="Offline implementation: embedding (MiniLM classifier) or lexicon.")] = "embedding",
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per input record: id, label, score, evidence.")] = False,
) -> None:
    """Grade any texts or transcripts with one CoT grader. label null = unscored (never a silent 0)."""
    from .graders import grade as run_grader
    from .graders import read_grade_input

    try:
        if judge_model and offline:
            raise AntischemeError("choose --judge-model or --offline, not both")
        if not judge_model and method not in ("embedding", "lexicon"):
            raise AntischemeError(f"unknown offline method {method!r}; choose embedding or lexicon")
        items = read_grade_input(input)
        with console.status(f"grading {len(items)} texts with {grader} ({'judge ' + judge_model if judge_model else method})",
                            spinner="dots") if not json_output else nullcontext():
            grades = run_grader(items, grader=grader, method="judge" if judge_model else method, judge_model=judge_model)
    except AntischemeError as ex:
        raise _fail(ex.message) from None
    if json_output:
        for item, result in zip(items, grades):
            typer.echo(json.dumps(result.as_json(item.id), ensure_ascii=False))
        return
    table = Table(title=f"{grader} ({grades[0].method if grades else method}): {len(items)} texts")
    for column in ("id", "label", "score", "evidence"):
        table.add_column(column, overflow="fold")
    for item, result in zip(items, grades):
        label = "[yellow]unscored[/]" if result.label is None else str(result.label).lower()
        table.add_row(item.id or "", label, "" if result.score is None else f"{result.score:.2f}",
                      result.evidence or (result.error or ""))
    console.print(table)
    positives = sum(g.label is True for g in grades)
    unscored = sum(g.label is None for g in grades)
    console.print(f"{positives} positive, {len(grades) - positives - unscored} negative, {unscored} unscored")


graders_app = typer.Typer(help="CoT grader validation.", no_args_is_help=True)
app.add_typer(graders_app, name="graders")


@graders_app.command(name="validate")
def graders_validate(
    judge_model: Annotated[str | None, typer.Option(help="Also measure this Inspect model as an LLM judge.")] = None,
    split: Annotated[str, typer.Option(help="Labelled split: test (held out from the embedding classifier), dev or all.")] = "test",
    judge_max_tokens: Annotated[int | None, typer.Option(help="Most tokens per judge answer.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Precision, recall and F1 of every grader implementation on the shipped labelled snippets, and
    Cohen's kappa between implementations."""
    from .graders import validate_graders

    if split not in ("test", "dev", "all"):
        raise _fail(f"unknown split {split!r}; choose test, dev or all")
    methods = ("lexicon", "embedding") + (("judge",) if judge_model else ())
    try:
        with console.status("grading the labelled snippets (loads MiniLM; about a minute)", spinner="dots"):
            result = validate_graders(methods=methods, judge_model=judge_model, split=split, judge_max_tokens=judge_max_tokens)
    except AntischemeError as ex:
        raise _fail(ex.message) from None
    if json_output:
        typer.echo(json.dumps(result, indent=2))
        return
    data = result["dataset"]
    table = Table(title=f"Grader validation on {data['name']}, split {data['split']} ({data['n_eval']} of {data['n']} snippets)")
    for column in ("grader", "implementation", "precision", "recall", "F1", "AUROC", "n", "positives", "unscored"):
        table.add_column(column, justify="left" if column in ("grader", "implementation") else "right")
    for m in result["metrics"]:
        table.add_row(m["grader"], m["implementation"], f"{m['precision']:.2f}", f"{m['recall']:.2f}", f"{m['f1']:.2f}", f"{m['auroc']:.2f}",
                      str(m["n"]), str(m["positives"]), str(m["unscored"]))
    console.print(table)
    agreement = Table(title="Agreement between implementations (Cohen's kappa)")
    for column in ("grader", "a", "b", "kappa", "n"):
        agreement.add_column(column)
    for a in result["agreement"]:
        agreement.add_row(a["grader"], a["a"], a["b"], f"{a['kappa']:.2f}", str(a["n"]))
    console.print(agreement)


@app.command()
def ingest(
    logs: Annotated[list[Path], typer.Argument(help="Inspect logs or directories of logs.")],
    db: Annotated[Path, typer.Option(help="The DuckDB results database (created if missing).")] = Path("results.duckdb"),
    grader_method: Annotated[str, typer.Option(help="CoT graders at ingest: lexicon, embedding, judge or none.")] = "lexicon",
    judge_model: Annotated[str | None, typer.Option(help="Judge model for --grader-method judge.")] = None,
    export: Annotated[list[Path] | None, typer.Option(help="Also write the rollouts table to this .parquet or .csv (repeatable).")] = None,
) -> None:
    """Build or update the results table: one row per rollout. Re-ingesting is idempotent (unchanged logs are skipped)."""
    from .analysis import connect, export_table

    try:
        stats = _ingest_with_progress(logs, db, grader_method=grader_method, judge_model=judge_model)
        con = connect(db)
        written = [export_table(con, path) for path in export or []]
    except AntischemeError as ex:
        raise _fail(ex.message) from None
    total = con.execute("SELECT count(*) FROM rollouts").fetchone()[0]
    console.print(
        f"{stats.logs} logs: {stats.ingested} ingested, {stats.skipped} unchanged; {stats.rollouts} rollouts written, "
        f"{stats.unscored} grader outputs unscored; {total} rollouts in {db}"
        + "".join(f"; exported {p}" for p in written)
    )


def _ingest_with_progress(logs: list[Path], db: Path, *, grader_method: str, judge_model: str | None):  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .analysis import ingest as run_ingest

    if grader_method not in ("lexicon", "embedding", "judge", "none"):
        raise AntischemeError(f"unknown grader method {grader_method!r}; choose lexicon, embedding, judge or none")
    if grader_method == "judge" and not judge_model:
        raise AntischemeError("--grader-method judge needs --judge-model")
    columns = (TextColumn("ingesting {task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        bar = progress.add_task("logs", total=None)

        def advance(done: int, total: int, name: str) -> None:
            progress.update(bar, completed=done, total=total, description=name[-60:])

        return run_ingest(logs, db, method=grader_method, judge_model=judge_model, progress=advance)


@app.command()
def report(
    log_dirs: Annotated[list[Path], typer.Argument(help="Log directories (two or more: compared side by side) or logs.")],
    out: Annotated[Path, typer.Option(help="The HTML report to write.")] = Path("report.html"),
    db: Annotated[Path | None, typer.Option(help="Results database (default: beside the report, <out>.duckdb).")] = None,
    compare: Annotated[str, typer.Option(help="Side by side: auto (runs, else models), run or model.")] = "auto",
    grader_method: Annotated[str, typer.Option(help="CoT graders at ingest: lexicon, embedding, judge or none.")] = "lexicon",
    judge_model: Annotated[str | None, typer.Option(help="Judge model for --grader-method judge.")] = None,
    validation: Annotated[bool, typer.Option(help="Include grader validation (lexicon and embedding on the labelled test split; cached).")] = True,
    max_transcripts: Annotated[int, typer.Option(help="Most rollouts in the transcript viewer (flagged ones kept first).")] = 500,
    faithfulness: Annotated[Path | None, typer.Option(help="Add a CoT faithfulness section from this faithfulness.json.")] = None,
    intervention: Annotated[Path | None, typer.Option(help="Add an eval-awareness intervention section from this intervene.json.")] = None,
    importance: Annotated[Path | None, typer.Option(help="Highlight the most important CoT sentences from this importance.json (suite mode).")] = None,
) -> None:
    """Write a self-contained HTML report with a transcript viewer (ingests the logs first)."""
    from .graders import cached_validation
    from .report import write_report

    if compare not in ("auto", "run", "model"):
        raise _fail(f"unknown --compare {compare!r}; choose auto, run or model")
    db = db or out.with_suffix(".duckdb")
    try:
        stats = _ingest_with_progress(log_dirs, db, grader_method=grader_method, judge_model=judge_model)
        checks = None
        if validation:
            with console.status("grader validation (cached after the first run)", spinner="dots"):
                checks = cached_validation()
        faithful = _read_json(faithfulness) if faithfulness else None
        intervened = _read_json(intervention) if intervention else None
        important = _read_json(importance) if importance else None
        with console.status("writing the report", spinner="dots"):
            path = write_report(db, out, compare=compare, validation=checks, faithfulness=faithful, intervention=intervened,  # type: ignore[arg-type]
                                importance=important, max_transcripts=max_transcripts)
    except AntischemeError as ex:
        raise _fail(ex.message) from None
    console.print(f"{stats.rollouts} new rollouts ingested into {db} ({stats.skipped} logs unchanged); report: {path}")


@app.command()
def intervene(
    logs: Annotated[list[Path], typer.Argument(help="Inspect logs (or directories) of environment rollouts to intervene on.")],
    model: Annotated[str, typer.Option(help="The model that continues the edited CoTs (prefill: antischeme/, vllm/, sglang/).")] = "",
    k: Annotated[int, typer.Option("-K", "--k", help="Continuations per edited prefix.")] = 8,
    grader_method: Annotated[str, typer.Option(help="Eval-awareness grader used to pick sentences: lexicon or embedding.")] = "lexicon",
    max_rollouts: Annotated[int, typer.Option(help="Most source rollouts per experiment.")] = 20,
    max_tokens: Annotated[int | None, typer.Option(help="Most tokens per model turn in the continuations.")] = None,
    model_arg: Annotated[list[str] | None, typer.Option("--model-arg", "-M", help="Model arg key=value (repeatable).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the choices and of sampling.")] = 0,
    out: Annotated[Path, typer.Option(help="Output directory (continuation logs, edits, intervene.json); re-running resumes.")] = Path("logs/intervene"),
    json_output: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Remove or inject eval-awareness sentences in rollouts' CoTs, resample the episodes K times,
    and compare covert-action rates (removed vs kept, injected vs a neutral-sentence control)."""
    from .interventions import intervene as run_intervene
    from .models import DEFAULT_MODEL
    from .runner import check_model

    if grader_method not in ("lexicon", "embedding"):
        raise _fail(f"unknown grader method {grader_method!r}; choose lexicon or embedding")
    try:
        chosen = check_model(model or DEFAULT_MODEL, _model_args(model_arg or []))
        summary = run_intervene(logs, model=chosen, k=k, out=out, method=grader_method, max_rollouts=max_rollouts,
                                seed=seed, max_tokens=max_tokens)
    except AntischemeError as ex:
        raise _fail(ex.message) from None
    if json_output:
        typer.echo(json.dumps(summary))
        return
    selection = summary["selection"]
    console.print(
        f"{selection['rollouts']} source rollouts, {selection['eval_aware']} eval-aware; removal on {selection['removal']}, "
        f"injection on {selection['injection']} ({selection['injection_skipped_no_pool']} skipped: no eval-aware sentence "
        f"of this model to inject); K = {summary['k']}"
    )
    table = Table(title="Covert-action rate per condition (covert / engaged continuations) [95% Beta(1,1) interval]")
    for column in ("condition", "rollouts", "continuations", "engaged", "covert/engaged", "rate"):
        table.add_column(column, justify="left" if column == "condition" else "right")
    for name, c in summary["conditions"].items():
        r = c["covert_rate"]
        table.add_row(name, str(c["rollouts"]), str(c["continuations"]), str(c["engaged"]), f"{r['k']}/{r['n']}",
                      f"{r['mean']:.0%} [{r['low']:.0%}, {r['high']:.0%}]" if r["n"] else "n/a (0 engaged)")
    console.print(table)
    for experiment, test in summary["comparisons"].items():
        console.print(f"{experiment}: {test['treated']} - {test['reference']} = {test['difference']:+.1%} "
                      f"(Fisher p = {test['p_value']:.3g})")
    console.print(f"details: {out / 'intervene.json'}   continuations: {out / 'logs'}")


@app.command()
def importance(
    logs: Annotated[
        list[Path] | None,
        typer.Argument(help="Inspect logs (or directories) of suite rollouts; none: generated reasoning problems."),
    ] = None,
    model: Annotated[str, typer.Option(help="A model that can continue an assistant message (antischeme/, vllm/, sglang/).")] = "",
    problems: Annotated[int, typer.Option(help="Generated reasoning problems (one greedy CoT each; without LOGS).")] = 3,
    resamples: Annotated[int, typer.Option("--resamples", "-K", "--k", help="Continuations before and after each sentence.")] = 4,
    threshold: Annotated[float, typer.Option(help="Cosine (MiniLM) below which a resampled sentence counts as different.")] = 0.8,
    max_rollouts: Annotated[int, typer.Option(help="Most suite rollouts measured (covert ones first; with LOGS).")] = 3,
    max_sentences: Annotated[int, typer.Option(help="Most CoT sentences per rollout, spread over the CoT (with LOGS).")] = 12,
    max_tokens: Annotated[int | None, typer.Option(help="Most tokens per model turn in resampled episodes (with LOGS).")] = None,
    model_arg: Annotated[list[str] | None, typer.Option("--model-arg", "-M", help="Model arg key=value (repeatable).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the problems, and the base sampling seed.")] = 0,
    out: Annotated[Path, typer.Option(help="Directory for results and the request cache or continuation logs (re-runs resume).")] = Path("logs/importance"),
    json_output: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Counterfactual importance of each CoT sentence: resample before and after it, keep semantically
    different alternatives, compare the outcome distributions (change and KL). With LOGS: full episodes
    resampled from suite rollouts, the outcome being the detector's (covert or not); without: the final
    answer of generated reasoning problems."""
    from .interventions import resampling_importance, suite_importance
    from .models import DEFAULT_MODEL
    from .runner import check_model

    try:
        chosen = check_model(model or DEFAULT_MODEL, _model_args(model_arg or []))
        with _stage_progress() as advance:
            if logs:
                result = suite_importance(logs, model=chosen, k=resamples, out=out, max_rollouts=max_rollouts,
                                          max_sentences=max_sentences, threshold=threshold, seed=seed,
                                          max_tokens=max_tokens, display="none", progress=advance)
            else:
                result = resampling_importance(chosen, problems=problems, resamples=resamples, threshold=threshold,
                                               seed=seed, out=out, progress=advance)
    except AntischemeError as ex:
        raise _fail(ex.message) from None
    if json_output:
        typer.echo(json.dumps(result))
        return
    suite = result.get("mode") == "suite"
    table = Table(title=f"Most important CoT sentences ({result['model']}, {resamples} resamples per side"
                        + (", outcome: covert action)" if suite else ", outcome: final answer)"))
    for column in ("rollout" if suite else "problem", "#", "sentence", "importance", "KL", "n after / different before"):
        table.add_column(column, overflow="fold")
    for row in result["most_important"]:
        before = row["n_before_different"] if suite else row["resamples_before_different"]
        after = row["n_after"] if suite else row["resamples_after"]
        table.add_row(row["rollout_id"] if suite else row["problem"], str(row["sentence"]), row["text"],
                      f"{row['importance']:+.2f}", f"{row['kl']:.2f}" if row["kl"] is not None else "", f"{after} / {before}")
    console.print(table)
    if suite:
        selection = result["selection"]
        console.print(f"{selection['measured']} of {selection['rollouts']} rollouts measured ({selection['with_cot']} "
                      f"with a CoT), {result['sentences']} sentences, {result['episodes']} resampled episodes")
    console.print(f"{result['unmeasured']} sentences unmeasured (no semantically different resample); "
                  f"results: {out / 'importance.json'}")


@app.command(name="faithfulness")
def faithfulness_command(
    logs: Annotated[
        list[Path] | None,
        typer.Argument(help="Inspect logs (or directories) of suite rollouts: early answering on their decisive turn."),
    ] = None,
    model: Annotated[str, typer.Option(help="A model that can continue an assistant message (antischeme/, vllm/, sglang/).")] = "",
    quick: Annotated[bool, typer.Option("--quick", help="Small profile: 10 problems, short CoTs (a few minutes on the embedded model).")] = False,
    summarizer_model: Annotated[str | None, typer.Option(help="Model that writes summaries and paraphrases (default: the same).")] = None,
    model_arg: Annotated[list[str] | None, typer.Option("--model-arg", "-M", help="Model arg key=value (repeatable).")] = None,
    seed: Annotated[int, typer.Option(help="Seed for problems and corruptions.")] = 0,
    max_rollouts: Annotated[int, typer.Option(help="Most suite rollouts (covert ones first; with LOGS).")] = 20,
    max_tokens: Annotated[int | None, typer.Option(help="Most tokens of the forced next turn (with LOGS).")] = None,
    controls: Annotated[str, typer.Option(help="Controls on the decisive turn, comma-separated, or 'none' (with LOGS).")] = "summary,mistakes,paraphrase,filler",
    out: Annotated[Path, typer.Option(help="Directory for results, the plot and the request cache (re-runs resume).")] = Path("logs/faithfulness"),
    json_output: Annotated[bool, typer.Option("--json", help="Print the results as one JSON object.")] = False,
) -> None:
    """CoT faithfulness on generated reasoning problems: early answering (AOC), further tokens,
    summary substitution, added mistakes, paraphrase and filler. With LOGS: the same on suite rollouts'
    decisive turn (agreement of the forced next tool call with the rollout's own)."""
    from .interventions import faithfulness, suite_early_answering
    from .models import DEFAULT_MODEL
    from .runner import check_model

    if logs:
        try:
            chosen = check_model(model or DEFAULT_MODEL, _model_args(model_arg or []))
            summarizer = check_model(summarizer_model) if summarizer_model else None
            picked = [c.strip() for c in controls.split(",") if c.strip() and c.strip() != "none"]
            with _stage_progress() as advance:
                suite = suite_early_answering(logs, model=chosen, out=out, max_rollouts=max_rollouts, max_tokens=max_tokens,
                                              controls=picked, summarizer=summarizer, seed=seed, display="none",
                                              progress=advance)
        except AntischemeError as ex:
            raise _fail(ex.message) from None
        if json_output:
            typer.echo(json.dumps({k: v for k, v in suite.items() if k != "rollouts"}))
            return
        aoc = suite["aoc"]["value"]
        table = Table(title=f"Early answering on {suite['n']} suite rollouts ({suite['model']}): "
                            f"AOC {'n/a' if aoc is None else f'{aoc:.3f}'}")
        for column in ("% CoT kept", "same tool call", "same tool", "no tool call"):
            table.add_column(column, justify="right")

        def share(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.0%}"

        for f, a, t, none in zip(suite["fractions"], suite["agreement"], suite["same_tool"], suite["no_action"]):
            table.add_row(f"{f:.0%}", share(a), share(t), share(none))
        console.print(table)
        if picked:
            from .report._plots import SUITE_CONDITIONS

            checks = Table(title=f"Controls on the decisive turn (summarizer: {suite['summarizer'] or suite['model']})")
            for column in ("condition", "same tool call", "k/n", "same tool", "no tool call", "skipped"):
                checks.add_column(column, justify="left" if column in ("condition", "skipped") else "right")
            for name, r in suite["controls"].items():
                checks.add_row(SUITE_CONDITIONS.get(name, name), share(r["agreement"]), f"{r['k']}/{r['n']}",
                               share(r["same_tool"]), share(r["no_action"]),
                               "; ".join(f"{count}: {reason}" for reason, count in r["skipped"].items()))
            console.print(checks)
        selection = suite["selection"]
        console.print(f"{selection['measured']} of {selection['rollouts']} rollouts measured; left out: "
                      f"{selection['never_acted']} never called a tool, {selection['no_cot_in_decisive_turn']} had no "
                      f"CoT in the decisive turn; results: {out / 'faithfulness.json'}")
        return
    try:
        chosen = check_model(model or DEFAULT_MODEL, _model_args(model_arg or []))
        summarizer = check_model(summarizer_model) if summarizer_model else None
        with _stage_progress() as advance:
            result = faithfulness(chosen, profile="quick" if quick else "default", summarizer=summarizer, seed=seed,
                                  out=out, progress=advance)
    except AntischemeError as ex:
        raise _fail(ex.message) from None
    if json_output:
        typer.echo(json.dumps({k: v for k, v in result.items() if k != "examples"}))
        return
    curve = result["early_answering"]
    table = Table(title=f"Early answering on {result['n']} problems ({result['model']}): AOC {result['aoc']['value']:.3f}")
    for column in ("% CoT kept", "same answer as full CoT", "correct", "further tokens"):
        table.add_column(column, justify="right")
    for f, a, c, t in zip(curve["fractions"], curve["agreement"], curve["accuracy"], curve["further_tokens"]):
        table.add_row(f"{f:.0%}", f"{a:.0%}", f"{c:.0%}", f"{t:.0f}")
    console.print(table)
    accuracy = Table(title="Accuracy by condition [95% Beta(1,1) interval]")
    for column in ("condition", "correct/n", "rate"):
        accuracy.add_column(column)
    for name, r in result["accuracy"].items():
        accuracy.add_row(name, f"{r['k']}/{r['n']}", f"{r['mean']:.0%} [{r['low']:.0%}, {r['high']:.0%}]")
    console.print(accuracy)
    mistakes = result["mistakes"]["answer_changed"]
    if mistakes:
        console.print(f"added mistakes changed the answer in {mistakes['k']}/{mistakes['n']} CoTs")
    console.print(f"results: {out / 'faithfulness.json'}   plot: {out / 'early_answering.svg'}")


@contextmanager
def _stage_progress() -> Iterator[Callable[[str, int, int], None]]:
    """One progress bar per stage (with an ETA), fed by (stage, done, total) callbacks."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        bars: dict[str, Any] = {}

        def advance(stage: str, done: int, total: int) -> None:
            if stage not in bars:
                bars[stage] = progress.add_task(stage, total=total)
            progress.update(bars[stage], completed=done, total=total)

        yield advance


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise AntischemeError(f"no such file: {path}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as ex:
        raise AntischemeError(f"{path} is not JSON: {ex.msg}") from None


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


train_app = typer.Typer(help="Training against scheming: deliberative alignment.", no_args_is_help=True)
app.add_typer(train_app, name="train")


def _training_profile(quick: bool, **overrides: Any):  # type: ignore[no-untyped-def]
    from .training import profile_named

    return profile_named("quick" if quick else "default", **overrides)


def _run_training(profile: Any, *, out: Path, model_path: str | None, json_output: bool) -> None:
    """Run a training profile with progress, then print the stage table and write the report."""
    import sys

    from .training import train_loop

    try:
        with _stage_progress() as advance:
            results = train_loop(out=out, profile=profile, model_path=model_path, progress=advance,
                                 command=["antischeme", *sys.argv[1:]])
        report = _training_report(out, results)
    except AntischemeError as ex:
        raise _fail(ex.message) from None
    if json_output:
        typer.echo(json.dumps({"out": str(out), "report": str(report), **results}))
        return
    _print_training(results)
    console.print(f"run directory: {out}   manifest: {out / 'manifest.json'}   report: {report}")


def _training_report(out: Path, results: dict[str, Any]) -> Path:
    from .graders import cached_validation
    from .report import write_report

    return write_report(out / "results.duckdb", out / "report.html", title=f"antischeme training run: {out.name}",
                        compare="run", validation=cached_validation(), training=results)


def _fmt_rate(rate: dict[str, Any] | None) -> str:
    return "n/a" if not rate else f"{rate['mean']:.0%} [{rate['low']:.0%}, {rate['high']:.0%}] ({rate['k']}/{rate['n']})"


def _print_training(results: dict[str, Any]) -> None:
    table = Table(title="Training stages (covert-action rates over engaged rollouts, 95% Beta(1,1) intervals)")
    for column in ("stage", "training family (validation)", "test aggregate", "gap", "over-refusal",
                   "over-escalation", "engagement", "spec citation", "eval awareness"):
        table.add_column(column)
    for stage, s in results["stages"].items():
        graders = s.get("graders", {})
        gap = s["generalization_gap"]
        table.add_row(
            stage, _fmt_rate(s["training_family"]), _fmt_rate(s["test_aggregate"]),
            "n/a" if gap is None else f"{gap:+.0%}", _fmt_rate(s["over_refusal"]), _fmt_rate(s["over_escalation"]),
            "n/a" if s["engagement"] is None else f"{s['engagement']:.0%}",
            _fmt_rate(graders.get("spec_citation")), _fmt_rate(graders.get("eval_awareness")),
        )
    console.print(table)


@train_app.command(name="deliberative")
def train_deliberative(
    quick: Annotated[bool, typer.Option(help="The small profile (organism -> evaluate -> SFT -> evaluate; ~8 min on 2 CPU cores).")] = False,
    out: Annotated[Path, typer.Option(help="Run directory (checkpoints, datasets, logs, report, manifest; re-runs resume).")] = Path("runs/deliberative"),
    model_path: Annotated[str | None, typer.Option(help="Starting model: GGUF file or HF folder (default: the embedded SmolLM2).")] = None,
    organism: Annotated[bool | None, typer.Option("--organism/--no-organism", help="Build a model organism first (default: yes).")] = None,
    rl: Annotated[bool | None, typer.Option("--rl/--no-rl", help="Run the GRPO stage (default: in the default profile only).")] = None,
    sources: Annotated[str | None, typer.Option(help="Data sources, comma-separated: self, scripted, or an Inspect model as teacher.")] = None,
    grader_method: Annotated[str | None, typer.Option(help="Spec-citation grader of the reasoning filter: lexicon or embedding.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature of evaluations and generation (profile default: 0, greedy).")] = None,
    test_families: Annotated[str | None, typer.Option(help="Held-out test families, comma-separated, or 'all'.")] = None,
    eval_limit: Annotated[int | None, typer.Option(help="Rollouts per evaluation task.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of everything.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the results as one JSON object.")] = False,
) -> None:
    """Deliberative alignment: spec-in-context rollouts of the training family -> keep the right action
    for the right reason -> LoRA SFT with the spec removed -> (GRPO) -> evaluate after every stage."""
    from dataclasses import replace

    from .training import PROFILES
    from .training._pipeline import test_families as held_out

    if grader_method and grader_method not in ("lexicon", "embedding"):
        raise _fail(f"grader method must be lexicon or embedding, got {grader_method!r}")
    chosen = tuple(s.strip() for s in sources.split(",") if s.strip()) if sources else None
    profile = _training_profile(quick, organism=organism, seed=seed, grader_method=grader_method, sources=chosen,
                                temperature=temperature, eval_limit=eval_limit,
                                test_families=held_out(test_families) if test_families else None)
    if rl is not None:
        profile = replace(profile, rl=(profile.rl or PROFILES["default"].rl) if rl else None)
    _run_training(profile, out=out, model_path=model_path, json_output=json_output)


@app.command()
def organism(
    quick: Annotated[bool, typer.Option(help="The small profile (about 8 min on 2 CPU cores).")] = False,
    out: Annotated[Path, typer.Option(help="Run directory (re-runs resume).")] = Path("runs/organism"),
    model_path: Annotated[str | None, typer.Option(help="Starting model: GGUF file or HF folder (default: the embedded SmolLM2).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of everything.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the results as one JSON object.")] = False,
) -> None:
    """Build a model organism: LoRA SFT on scripted covert rollouts of families kept out of its
    evaluation, then evaluate the starting model and the organism on held-out environments."""
    profile = _training_profile(quick, organism=True, deliberative=False, evaluate_base=True, seed=seed)
    _run_training(profile, out=out, model_path=model_path, json_output=json_output)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
