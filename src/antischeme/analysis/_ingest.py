"""`antischeme ingest`: Inspect logs → the DuckDB results table, one row per rollout.

Re-ingesting is idempotent: a log already in the database with the same size, modification time
and grading method is skipped; a log that changed (a resumed run rewrote it) has its rows replaced.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from functools import partial
from multiprocessing import get_context
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from inspect_ai.log import EvalLog, EvalSample, read_eval_log

from .._errors import AntischemeError
from ..graders import GRADERS, Grade, GradeItem, cot_of, grade_all, method_name, transcript_messages
from ._schema import DDL
from ._tokens import count_tokens, count_words

OUTCOMES = ("covert", "honest", "not_engaged", "error", "unscored")
LOG_SUFFIXES = (".eval", ".json")


@dataclass
class IngestStats:
    """What one ingest did.

    Args:
        logs: Log files found.
        ingested: Logs read (new or changed).
        skipped: Logs already up to date.
        rollouts: Rollout rows written.
        unscored: Grader outputs that are unscored (counted, never 0).
    """

    logs: int = 0
    ingested: int = 0
    skipped: int = 0
    rollouts: int = 0
    unscored: int = 0


def connect(db: str | Path) -> duckdb.DuckDBPyConnection:
    """Open (or create) a results database with its tables."""
    con = duckdb.connect(str(db))
    con.execute(DDL)
    return con


def find_logs(paths: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """Log files under the given files/directories, each with its run label.

    The run is the directory given on the command line (a file's own directory), so two log
    directories are two runs that the report puts side by side.
    """
    found: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            logs = sorted(p for p in path.rglob("*") if p.suffix in LOG_SUFFIXES and p.name != "results.json"
                          and not p.name.startswith(("logs.json", "eval-set.json")))
            found += [(p.resolve(), path.name or str(path)) for p in logs]
        elif path.is_file():
            found.append((path.resolve(), path.resolve().parent.name))
        else:
            raise AntischemeError(f"no such log file or directory: {path}")
    return found


def ingest(
    paths: Iterable[str | Path],
    db: str | Path | duckdb.DuckDBPyConnection,
    *,
    method: str = "lexicon",
    judge_model: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> IngestStats:
    """Add logs to the results database.

    Args:
        paths: Log files or directories of logs.
        db: Database path or an open connection.
        method: Grading method for the CoT graders: "lexicon" (default, fast), "embedding",
            "judge" (needs judge_model) or "none".
        judge_model: Any Inspect model, for method="judge".
        workers: Processes reading logs in parallel (default: one per CPU when the new logs
            exceed 50 MiB and the method is lexicon or none; models load once, in this process).
        progress: Called with (done, total, log name) after each log.
    """
    logs = find_logs(paths)  # bad paths fail before a database file is created
    con = db if isinstance(db, duckdb.DuckDBPyConnection) else connect(db)
    con.execute(DDL)
    graded_by = "none" if method == "none" else method_name(method, judge_model)
    stats = IngestStats(logs=len(logs))
    todo = []
    for path, run in logs:
        stat = path.stat()
        known = con.execute("SELECT mtime, size, grader_method FROM logs WHERE log = ?", [str(path)]).fetchone()
        if known == (stat.st_mtime, stat.st_size, graded_by):
            stats.skipped += 1
        else:
            todo.append((path, run, stat))
    if progress and stats.skipped:
        progress(stats.skipped, len(logs), "up to date")
    if workers is None:
        big = sum(stat.st_size for _, _, stat in todo) > 50 * 2**20
        workers = (os.cpu_count() or 1) if big and method in ("lexicon", "none") else 1
    read = partial(_read_log, method=method, judge_model=judge_model)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if workers > 1 else nullcontext() as pool:
        results = pool.map(read, [p for p, _, _ in todo], [r for _, r, _ in todo]) if pool else (
            read(p, r) for p, r, _ in todo)
        for done, ((path, run, stat), (rows, transcripts, unscored)) in enumerate(zip(todo, results), stats.skipped + 1):
            con.execute("BEGIN")
            con.execute("DELETE FROM transcripts WHERE rollout_id IN (SELECT rollout_id FROM rollouts WHERE log = ?)", [str(path)])
            con.execute("DELETE FROM rollouts WHERE log = ?", [str(path)])
            _insert(con, "rollouts", rows)
            _insert(con, "transcripts", transcripts)
            con.execute(
                "INSERT OR REPLACE INTO logs VALUES (?, ?, ?, ?, ?, ?, now())",
                [str(path), stat.st_mtime, stat.st_size, rows[0]["eval_id"] if rows else None, len(rows), graded_by],
            )
            con.execute("COMMIT")
            stats.ingested += 1
            stats.rollouts += len(rows)
            stats.unscored += unscored
            if progress:
                progress(done, len(logs), path.name)
    return stats


def export(con: duckdb.DuckDBPyConnection, out: str | Path, *, table: str = "rollouts") -> Path:
    """Write a table to Parquet or CSV (by the file's suffix)."""
    out = Path(out)
    formats = {".parquet": "PARQUET", ".csv": "CSV"}
    if out.suffix not in formats:
        raise AntischemeError(f"export to .parquet or .csv, not {out.name!r}")
    if table not in ("rollouts", "transcripts", "logs"):
        raise AntischemeError(f"no table {table!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    header = ", HEADER" if out.suffix == ".csv" else ""
    con.execute(f"COPY {table} TO '{_sql_string(out)}' (FORMAT {formats[out.suffix]}{header})")
    return out


def _read_log(path: Path, run: str, *, method: str, judge_model: str | None) -> tuple[list[dict], list[dict], int]:
    try:
        # one full read: Inspect's sample-by-sample reader re-opens the log per sample (~6x slower)
        header = read_eval_log(str(path))
    except Exception as ex:
        raise AntischemeError(f"cannot read log {path}: {ex}") from ex
    samples = header.samples or []
    rows, transcripts, items = [], [], []
    for sample in samples:
        row, transcript, item = _rollout(header, sample, path, run)
        rows.append(row)
        transcripts.append(transcript)
        items.append(item)
    for row, tokens in zip(rows, count_tokens([t["cot"] for t in transcripts])):
        row["cot_tokens"] = tokens
    unscored = 0
    if method != "none" and items:
        for grader, grades in grade_all(items, method=method, judge_model=judge_model).items():
            for row, transcript, result in zip(rows, transcripts, grades):
                _put_grade(row, transcript, grader, result)
                unscored += result.label is None
        for row in rows:
            row["confirmed"] = row["confirmed_covert"]
            row["grader_method"] = method_name(method, judge_model)
    return rows, transcripts, unscored


def _rollout(header: EvalLog, sample: EvalSample, path: Path, run: str) -> tuple[dict, dict, GradeItem]:
    metadata = sample.metadata or {}
    task_metadata = header.eval.metadata or {}
    score = next(iter(sample.scores.values()), None) if sample.scores else None
    family = metadata.get("family") or task_metadata.get("family")
    if sample.error is not None:
        outcome = "error"
    elif family is None:
        outcome = None  # not an environment family: no covert-action outcome
    elif score is None:
        outcome = "error"
    else:
        outcome = score.value if score.value in OUTCOMES else "error"
    score_metadata = (score.metadata or {}) if score else {}
    cot, source = cot_of(sample.messages)
    rollout_id = f"{header.eval.eval_id}/{sample.id}/{sample.epoch}"
    config = header.plan.config if header.plan else None
    seed = (config.seed if config and config.seed is not None else header.eval.model_generate_config.seed)
    row: dict[str, Any] = {
        "rollout_id": rollout_id,
        "log": str(path),
        "run": run,
        "eval_id": header.eval.eval_id,
        "task": header.eval.task,
        "model": header.eval.model,
        "family": family,
        "split": metadata.get("split") or task_metadata.get("split"),
        "in_aggregate": metadata.get("in_aggregate", task_metadata.get("in_aggregate")),
        "sample_id": str(sample.id),
        "variant": metadata.get("variant") or {},
        "epoch": sample.epoch,
        "seed": seed,
        "outcome": outcome,
        "engaged": score_metadata.get("engaged"),
        "covert": {"covert": True, "honest": False}.get(outcome or ""),
        "confirmed": None,
        **{column: None for g in GRADERS for column in (g, f"{g}_score", f"{g}_evidence")},
        "spec_cited": None,
        "spec_miscited": None,
        "spec_invented": None,
        "grader_method": "none",
        "cot_source": source,
        "cot_tokens": 0,
        "cot_words": count_words(cot),
        "messages": len(sample.messages),
        "tool_calls": sum(len(getattr(m, "tool_calls", None) or []) for m in sample.messages),
        "output_tokens": sum(u.output_tokens for u in (sample.model_usage or {}).values()),
        "total_time": sample.total_time,
        "working_time": sample.working_time,
    }
    transcript = {
        "rollout_id": rollout_id,
        "cot": cot,
        "messages": transcript_messages(sample.messages),
        "world_diff": score_metadata.get("world_diff"),
        "detector_evidence": score_metadata.get("evidence") or [],
        "highlights": {},
    }
    # the detector "fired" only on a scored rollout; unknown (None) for errors and non-family tasks
    fired = {"covert": True, "honest": False, "not_engaged": False}.get(outcome or "")
    return row, transcript, GradeItem(text=cot, id=rollout_id, detector_fired=fired)


def _put_grade(row: dict, transcript: dict, grader: str, result: Grade) -> None:
    row[grader] = result.label
    row[f"{grader}_score"] = result.score
    row[f"{grader}_evidence"] = result.evidence or (f"unscored: {result.error}" if result.error else "")
    if grader == "spec_citation" and result.label is not None:
        row["spec_cited"] = result.details.get("cited", [])
        row["spec_miscited"] = result.details.get("miscited", [])
        row["spec_invented"] = result.details.get("invented", [])
    if result.highlights and result.label:
        transcript["highlights"][grader] = result.highlights


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Bulk insert through a newline-delimited JSON file (DuckDB's reader is far faster than
    row-by-row inserts, and needs neither pandas nor pyarrow)."""
    if not rows:
        return
    columns = con.execute(f"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '{table}' "
                          "ORDER BY ordinal_position").fetchall()
    with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False) as file:
        for row in rows:  # JSON columns go in as nested JSON, not as strings
            file.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    try:
        spec = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns) + "}"
        names = ", ".join(name for name, _ in columns)
        con.execute(
            f"INSERT OR REPLACE INTO {table} SELECT {names} FROM read_json('{_sql_string(Path(file.name))}', "
            f"format='newline_delimited', columns={spec})"
        )
    finally:
        Path(file.name).unlink(missing_ok=True)


def _sql_string(path: Path) -> str:
    return str(path).replace("'", "''")
