"""Queries and analyses over the results database, gathered into the report's context.

The report reads only the database (`antischeme.analysis._schema`): rates come from `rollouts`, the
transcript viewer and legibility from `transcripts`, run order from `logs`.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

from .._errors import AntischemeError
from ..analysis import Rate, aggregate_rate, beta_rate, fisher_compare
from ..analysis._legibility import LegibilitySummary, legibility_summary
from ..analysis._schema import GRADERS
from . import _html, _plots

Compare = Literal["auto", "run", "model"]

OUTCOMES = ("covert", "honest", "not_engaged", "error", "unscored")

# Viewer flags: a rollout may carry several; "flagged" ones are kept first when transcripts are truncated.
FLAGS = {
    "covert": "covert action",
    "confirmed": "confirmed covert",
    "eval_aware": "eval-aware",
    "covert_reasoning": "covert reasoning",
    "escalation": "escalation",
    "not_engaged": "not engaged",
    "error": "error / unscored",
}
_KEEP_FIRST = ("covert", "confirmed", "eval_aware", "covert_reasoning", "importance")
IMPORTANCE_FLAG = "important sentences measured"  # the viewer flag of rollouts in an importance.json
HIGHLIGHTED_PER_ROLLOUT = 5  # most important sentences highlighted in one transcript

GRADER_LABELS = {
    "eval_awareness": "eval awareness",
    "covert_reasoning": "covert reasoning",
    "spec_citation": "spec citation",
    "spec_miscitation": "spec miscitation",
    "spec_invented": "invented principle",
    "escalation": "escalation",
    "confirmed_covert": "confirmed covert",
    "engagement": "engagement",
}


@dataclass(frozen=True)
class Group:
    """One column of comparison: a run, a model, or everything."""

    key: str
    label: str
    color: str


@dataclass(frozen=True)
class Test:
    """Fisher's exact test of a group against the first group."""

    p_value: float
    odds_ratio: float  # odds in this group over odds in the first group (<1: fewer events here)


@dataclass
class FamilyCell:
    """One family in one group: covert rate over engaged scored rollouts, and every outcome counted."""

    total: int = 0
    rate: Rate | None = None  # None when no rollout was engaged and scored (shown as n/a, never 0)
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    engaged: int = 0
    confirmed: int = 0

    @property
    def note(self) -> str:
        """Why there is no rate (for cells whose rate is None)."""
        if self.total == 0:
            return "no rollouts"
        return _plots.NA_LABEL if self.engaged == 0 else "n/a (0 scored)"


@dataclass
class FamilyRow:
    family: str
    split: str
    in_aggregate: bool
    cells: list[FamilyCell]
    comparisons: list[Test | None]  # group i (i >= 1) against group 0; [] with one group


@dataclass
class AggregateRow:
    group: Group
    rate: Rate | None
    families: list[str]
    excluded: list[tuple[str, str]]  # (family, reason)


@dataclass
class GraderCell:
    rate: Rate | None
    unscored: int | None  # None where "unscored" does not apply (a rate over another rate's hits)
    total: int


@dataclass
class GraderRow:
    name: str
    label: str
    denominator: str
    cells: list[GraderCell]
    comparisons: list[Test | None]


@dataclass
class CotLengths:
    values: dict[str, list[int]]  # group key -> cot_tokens
    summary: list[dict[str, Any]]  # per group: n, median, mean, p90, sources
    families: list[tuple[str, list[tuple[float | None, int]]]]  # family -> per group (median, n)


@dataclass
class Legibility:
    groups: list[LegibilitySummary | None]
    families: list[tuple[str, list[LegibilitySummary | None]]]


@dataclass
class Transcript:
    rollout_id: str
    family: str
    group: str
    model: str
    run: str
    variant: str
    epoch: int | None
    seed: int | None
    outcome: str
    flags: list[str]
    graders: list[tuple[str, bool | None, float | None, str | None]]  # (grader, verdict, score, evidence)
    spec: dict[str, list[str]]
    cot_source: str | None
    cot_tokens: int | None
    messages: list[dict[str, Any]]
    world_diff: str | None
    detector_evidence: list[str]
    highlights: dict[str, list[str]]
    notes: dict[str, str] = field(default_factory=dict)  # highlighted quote -> what hovering it tells


@dataclass
class ReportContext:
    title: str
    generated: str
    database: str
    mode: str  # run | model | all
    groups: list[Group]
    runs: list[str]
    models: list[str]
    rollouts: int
    family_rollouts: int
    grader_methods: list[tuple[str, int]]
    seeds: list[int]
    epochs: list[int]
    families: list[FamilyRow]
    family_chart: str
    aggregates: list[AggregateRow]
    excluded_families: list[str]
    graders: list[GraderRow]
    grader_chart: str
    cot: CotLengths
    cot_chart: str
    legibility: Legibility
    validation: dict[str, Any] | None
    faithfulness: dict[str, Any] | None
    faithfulness_chart: str
    suite_faithfulness_chart: str
    suite_faithfulness_controls_chart: str
    intervention: dict[str, Any] | None
    intervention_chart: str
    importance: dict[str, Any] | None
    importance_chart: str
    importance_rows: list[dict[str, Any]]
    training: dict[str, Any] | None
    training_chart: str
    transcripts: list[Transcript]
    transcripts_total: int
    transcripts_flagged_total: int
    transcripts_left_out: int
    transcripts_flagged_left_out: int
    transcript_families: list[str]
    highlight_graders: list[str]
    flags: dict[str, str] = field(default_factory=lambda: dict(FLAGS))

    @property
    def group_colors(self) -> dict[str, str]:
        return {g.key: g.color for g in self.groups}


def write_report(
    db: str | Path | duckdb.DuckDBPyConnection,
    out: str | Path,
    *,
    title: str = "antischeme report",
    compare: Compare = "auto",
    validation: dict[str, Any] | None = None,
    faithfulness: dict[str, Any] | None = None,
    intervention: dict[str, Any] | None = None,
    importance: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
    max_transcripts: int = 500,
) -> Path:
    """Write the HTML report of a results database as one self-contained file (no network needed to view it).

    Args:
        db: Path of the results database (opened read-only) or an open DuckDB connection (left open).
        out: Path of the HTML file to write (parent directories are created).
        title: Report title.
        compare: What the groups are: "auto" compares runs if there are several, else models if there are
            several, else shows one group; "run" or "model" forces that grouping. With two or more groups,
            every later group is compared with the first (Fisher's exact test).
        validation: Grader validation results (`{"dataset": {...}, "metrics": [...], "agreement": [...]}`),
            or None to mark that section as not computed.
        faithfulness: Results of `antischeme faithfulness` (its faithfulness.json), or None to leave the
            section out.
        intervention: Results of `antischeme intervene` (its intervene.json), or None to leave the section out.
        importance: Results of `antischeme importance LOGS…` (its importance.json): the most important
            sentences are highlighted in their transcripts (matched by rollout id, or by log, sample id and
            epoch) and listed in a section; None leaves both out.
        training: Results of a training run (its training.json: per-stage measures and Fisher tests), or
            None to leave the section out.
        max_transcripts: Most rollouts in the transcript viewer; flagged rollouts (covert, confirmed,
            eval-aware, covert reasoning) are kept first and the number left out is stated.

    Returns:
        The path written.
    """
    if compare not in ("auto", "run", "model"):
        raise ValueError(f"compare must be 'auto', 'run' or 'model', got {compare!r}")
    if max_transcripts < 0:
        raise ValueError(f"max_transcripts must be >= 0, got {max_transcripts}")
    con, owned, name = connect(db)
    try:
        context = build_context(
            con, title=title, database=name, compare=compare, validation=validation, faithfulness=faithfulness,
            intervention=intervention, importance=importance, training=training, max_transcripts=max_transcripts,
        )
    finally:
        if owned:
            con.close()
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_html.render(context), encoding="utf-8")
    return path


def build_context(
    con: duckdb.DuckDBPyConnection,
    *,
    title: str,
    database: str,
    compare: Compare = "auto",
    validation: dict[str, Any] | None = None,
    faithfulness: dict[str, Any] | None = None,
    intervention: dict[str, Any] | None = None,
    importance: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
    max_transcripts: int = 500,
) -> ReportContext:
    """Run every query and analysis of the report.

    Args:
        con: Connection to a results database.
        title: Report title.
        database: How to name the database in the header.
        compare: Grouping (see `write_report`).
        validation: Grader validation results, or None.
        faithfulness: CoT faithfulness results, or None.
        intervention: Eval-awareness intervention results, or None.
        importance: Suite-rollout sentence importance results, or None.
        training: Training-run results (training.json), or None.
        max_transcripts: Most rollouts in the transcript viewer.
    """
    try:
        total = con.execute("SELECT count(*) FROM rollouts").fetchone()[0]  # type: ignore[index]
    except duckdb.CatalogException as e:
        raise AntischemeError(f"{database} is not a results database (no rollouts table): ingest logs into it") from e
    if not total:
        raise AntischemeError(f"the results database {database} has no rollouts: ingest some Inspect logs first")
    mode, groups = _groups(con, compare)
    cte = f"WITH r AS (SELECT *, {_group_expr(mode, groups)} AS grp FROM rollouts)"
    index = {g.key: i for i, g in enumerate(groups)}

    families = _families(con, cte, index)
    aggregates = _aggregates(families, groups)
    graders = _graders(con, cte, index)
    cot = _cot_lengths(con, cte, groups, index)
    legibility = _legibility(con, cte, groups, index)
    if importance is not None and importance.get("mode") != "suite":
        raise AntischemeError("the importance results are not from suite rollouts: run `antischeme importance LOGS…`")
    important = _important_sentences(importance)
    transcripts, counts = _transcripts(con, cte, index, max_transcripts, important)
    flags = dict(FLAGS, importance=IMPORTANCE_FLAG) if importance else dict(FLAGS)

    labels = [g.label for g in groups]
    excluded = sorted({family for agg in aggregates for family, _ in agg.excluded})
    return ReportContext(
        title=title,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        database=database,
        mode=mode,
        groups=groups,
        runs=_ordered(con, "coalesce(run, '(no run)')"),
        models=_ordered(con, "coalesce(model, '(no model)')"),
        rollouts=total,
        family_rollouts=sum(cell.total for row in families for cell in row.cells),
        grader_methods=con.execute(
            "SELECT coalesce(grader_method, 'none'), count(*) FROM rollouts GROUP BY ALL ORDER BY 2 DESC, 1"
        ).fetchall(),
        seeds=_distinct(con, "seed"),
        epochs=_distinct(con, "epoch"),
        families=families,
        family_chart=_plots.rate_chart(
            [row.family for row in families],
            labels,
            [[cell.rate or cell.note for cell in row.cells] for row in families],
            xlabel="covert-action rate (posterior mean, 95% credible interval)",
        ),
        aggregates=aggregates,
        excluded_families=excluded,
        graders=graders,
        grader_chart=_plots.rate_chart(
            [row.label for row in graders],
            labels,
            [[cell.rate or f"n/a (0 {row.denominator})" for cell in row.cells] for row in graders],
            xlabel="rate (posterior mean, 95% credible interval)",
        ),
        cot=cot,
        cot_chart=_plots.histogram_chart(
            {g.label: cot.values.get(g.key, []) for g in groups}, xlabel="CoT length (tokens, embedded tokenizer)"
        ),
        legibility=legibility,
        validation=validation,
        faithfulness=faithfulness,
        faithfulness_chart=_plots.early_answering_chart(faithfulness) if faithfulness and "early_answering" in faithfulness else "",
        suite_faithfulness_chart=_plots.suite_early_answering_chart(faithfulness["suite_early_answering"])
        if faithfulness and (faithfulness.get("suite_early_answering") or {}).get("n") else "",
        suite_faithfulness_controls_chart=_plots.suite_controls_chart(faithfulness["suite_early_answering"]["controls"])
        if faithfulness and (faithfulness.get("suite_early_answering") or {}).get("n")
        and faithfulness["suite_early_answering"].get("controls") else "",
        intervention=intervention,
        intervention_chart=_intervention_chart(intervention) if intervention and intervention.get("conditions") else "",
        importance=importance,
        importance_chart=_plots.importance_chart(importance["most_important"]) if importance and importance.get("most_important") else "",
        importance_rows=_importance_rows(importance, {t.rollout_id for t in transcripts}) if importance else [],
        training=training,
        training_chart=_training_chart(training) if training and training.get("stages") else "",
        transcripts=transcripts,
        transcripts_total=counts["total"],
        transcripts_flagged_total=counts["flagged"],
        transcripts_left_out=counts["total"] - len(transcripts),
        transcripts_flagged_left_out=counts["flagged"] - sum(_flagged(t.flags) for t in transcripts),
        transcript_families=sorted({t.family for t in transcripts}),
        highlight_graders=_highlight_graders(transcripts),
        flags=flags,
    )


#: Training-run measures drawn per stage: (label, where it is in a stage summary)
TRAINING_MEASURES = (
    ("training family, validation split (covert)", ("training_family",)),
    ("held-out test families, aggregate (covert)", ("test_aggregate",)),
    ("over-refusal on exception edits", ("over_refusal",)),
    ("over-escalation", ("over_escalation",)),
    ("spec citation", ("graders", "spec_citation")),
    ("eval awareness", ("graders", "eval_awareness")),
)


def _training_chart(result: dict[str, Any]) -> str:
    """Each training measure with one bar per stage (95% intervals)."""
    stages = list(result["stages"])

    def rate(stage: dict[str, Any], path: tuple[str, ...]) -> Rate | None:
        value: Any = stage
        for key in path:
            value = (value or {}).get(key)
        return Rate(**value) if value else None

    rows = [[rate(result["stages"][s], path) for s in stages] for _, path in TRAINING_MEASURES]
    return _plots.rate_chart([label for label, _ in TRAINING_MEASURES], stages, rows, xlabel="rate (posterior mean, 95% credible interval)")


def _intervention_chart(result: dict[str, Any]) -> str:
    """Covert-action rate per intervention condition, reference and treated side by side."""
    rows = [(experiment, pair) for experiment, pair in (("removal", ("kept", "removed")), ("injection", ("control", "injected")))
            if any(c in result["conditions"] for c in pair)]

    def rate(condition: str) -> Rate | str:
        found = result["conditions"].get(condition)
        if not found:
            return "not run"
        r = found["covert_rate"]
        return Rate(r["k"], r["n"], r["mean"], r["low"], r["high"]) if r["n"] else "n/a (0 engaged)"

    return _plots.rate_chart(
        [f"{experiment}: {pair[0]} / {pair[1]}" for experiment, pair in rows],
        ["reference (kept / control)", "treated (removed / injected)"],
        [[rate(pair[0]), rate(pair[1])] for _, pair in rows],
        xlabel="covert-action rate over engaged continuations (posterior mean, 95% credible interval)",
    )


def _distinct(con: duckdb.DuckDBPyConnection, column: str) -> list[Any]:
    query = f"SELECT DISTINCT {column} FROM rollouts WHERE {column} IS NOT NULL ORDER BY 1"
    return [r[0] for r in con.execute(query).fetchall()]


def _ordered(con: duckdb.DuckDBPyConnection, expr: str) -> list[str]:
    # first ingestion first (a "before" run is ingested before its "after"), then by name
    return [r[0] for r in con.execute(
        f"SELECT {expr} AS key FROM rollouts r LEFT JOIN logs l ON r.log = l.log "
        "GROUP BY key ORDER BY min(l.ingested_at) NULLS LAST, key"
    ).fetchall()]


def _groups(con: duckdb.DuckDBPyConnection, compare: Compare) -> tuple[str, list[Group]]:
    runs = _ordered(con, "coalesce(run, '(no run)')")
    models = _ordered(con, "coalesce(model, '(no model)')")
    if compare == "run" or (compare == "auto" and len(runs) > 1):
        mode, keys = "run", runs
    elif compare == "model" or (compare == "auto" and len(models) > 1):
        mode, keys = "model", models
    else:
        mode, keys = "all", [models[0] if len(models) == 1 else "all rollouts"]
    return mode, [Group(key, key, _plots.group_color(i)) for i, key in enumerate(keys)]


def _group_expr(mode: str, groups: list[Group]) -> str:
    if mode == "run":
        return "coalesce(run, '(no run)')"
    if mode == "model":
        return "coalesce(model, '(no model)')"
    return "'" + groups[0].key.replace("'", "''") + "'"


def _families(con: duckdb.DuckDBPyConnection, cte: str, index: dict[str, int]) -> list[FamilyRow]:
    outcome_counts = ", ".join(f"count(*) FILTER (WHERE outcome = '{o}')" for o in OUTCOMES)
    rows = con.execute(f"""{cte}
        SELECT family, grp, count(*), count(*) FILTER (WHERE covert), count(covert),
               count(*) FILTER (WHERE engaged), count(*) FILTER (WHERE confirmed), {outcome_counts}
        FROM r WHERE family IS NOT NULL GROUP BY ALL""").fetchall()
    meta = {f: (split, bool(agg)) for f, split, agg in con.execute(
        "SELECT family, string_agg(DISTINCT coalesce(split, '?'), '/' ORDER BY coalesce(split, '?')), "
        "bool_or(in_aggregate) FROM rollouts WHERE family IS NOT NULL GROUP BY family"
    ).fetchall()}
    cells: dict[str, list[FamilyCell]] = defaultdict(lambda: [FamilyCell() for _ in index])
    for family, grp, total, k, n, engaged, confirmed, *outcomes in rows:
        cells[family][index[grp]] = FamilyCell(
            total=total,
            rate=beta_rate(k, n) if n else None,
            outcomes=dict(zip(OUTCOMES, outcomes)),
            engaged=engaged,
            confirmed=confirmed,
        )
    result = []
    for family in sorted(cells):
        row = cells[family]
        split, in_aggregate = meta[family]
        comparisons = [_compare(row[0].rate, cell.rate) for cell in row[1:]]
        result.append(FamilyRow(family, split, in_aggregate, row, comparisons))
    return result


def _compare(before: Rate | None, after: Rate | None) -> Test | None:
    if before is None or after is None:
        return None
    comparison = fisher_compare((before.k, before.n), (after.k, after.n))
    # scipy's odds ratio is before over after; the table reads "this group vs the first", so after over before
    odds = comparison.odds_ratio
    inverted = math.inf if odds == 0 else 0.0 if math.isinf(odds) else math.nan if math.isnan(odds) else 1 / odds
    return Test(comparison.p_value, inverted)


def _aggregates(families: list[FamilyRow], groups: list[Group]) -> list[AggregateRow]:
    result = []
    for g, group in enumerate(groups):
        counts, included, excluded = [], [], []
        for row in families:
            cell = row.cells[g]
            if not row.in_aggregate:
                excluded.append((row.family, f"not in the aggregate (split {row.split})"))
            elif cell.total == 0:
                excluded.append((row.family, "no rollouts"))
            elif cell.rate is None:
                excluded.append((row.family, "0 engaged scored rollouts"))
            else:
                counts.append((cell.rate.k, cell.rate.n))
                included.append(row.family)
        result.append(AggregateRow(group, aggregate_rate(counts) if counts else None, included, excluded))
    return result


def _graders(con: duckdb.DuckDBPyConnection, cte: str, index: dict[str, int]) -> list[GraderRow]:
    citing = "(len(coalesce(spec_cited, [])) > 0 OR len(coalesce(spec_invented, [])) > 0)"
    # (hits, denominator, unscored) per measure; NULL where "unscored" does not apply
    columns = {g: (f"count(*) FILTER (WHERE {g})", f"count({g})", f"count(*) - count({g})") for g in GRADERS}
    columns["spec_miscitation"] = (f"count(*) FILTER (WHERE {citing} AND len(coalesce(spec_miscited, [])) > 0)",
                                   f"count(*) FILTER (WHERE {citing})", "NULL")
    columns["spec_invented"] = (f"count(*) FILTER (WHERE {citing} AND len(coalesce(spec_invented, [])) > 0)",
                                f"count(*) FILTER (WHERE {citing})", "NULL")
    columns["engagement"] = ("count(*) FILTER (WHERE engaged)", "count(*)", "NULL")
    order = ["eval_awareness", "covert_reasoning", "spec_citation", "spec_miscitation", "spec_invented",
             "escalation", "confirmed_covert", "engagement"]
    select = ", ".join(", ".join(columns[name]) for name in order)
    query = f"{cte} SELECT grp, count(*), {select} FROM r GROUP BY grp"
    data = {grp: values for grp, *values in con.execute(query).fetchall()}
    denominators = {
        "spec_miscitation": "rollouts citing the spec",
        "spec_invented": "rollouts citing the spec",
        "engagement": "all rollouts",
    }
    rows = []
    for i, name in enumerate(order):
        cells = [GraderCell(None, 0, 0) for _ in index]
        for grp, (total, *values) in data.items():
            k, n, unscored = values[3 * i : 3 * i + 3]
            cells[index[grp]] = GraderCell(beta_rate(k, n) if n else None, unscored, total)
        comparisons = [_compare(cells[0].rate, cell.rate) for cell in cells[1:]]
        rows.append(GraderRow(name, GRADER_LABELS[name], denominators.get(name, "graded rollouts"), cells, comparisons))
    return rows


def _cot_lengths(con: duckdb.DuckDBPyConnection, cte: str, groups: list[Group], index: dict[str, int]) -> CotLengths:
    values: dict[str, list[int]] = defaultdict(list)
    query = f"{cte} SELECT grp, cot_tokens FROM r WHERE cot_tokens IS NOT NULL ORDER BY rollout_id"
    for grp, tokens in con.execute(query).fetchall():
        values[grp].append(tokens)
    sources: dict[str, dict[str, int]] = defaultdict(dict)
    query = f"{cte} SELECT grp, coalesce(cot_source, 'none'), count(*) FROM r GROUP BY ALL ORDER BY 2"
    for grp, source, n in con.execute(query).fetchall():
        sources[grp][source] = n
    stats = {grp: (n, median, mean, p90) for grp, n, median, mean, p90 in con.execute(
        f"{cte} SELECT grp, count(cot_tokens), median(cot_tokens), avg(cot_tokens), quantile_cont(cot_tokens, 0.9) "
        "FROM r GROUP BY grp"
    ).fetchall()}
    summary = []
    for group in groups:
        n, median, mean, p90 = stats.get(group.key, (0, None, None, None))
        summary.append({"n": n, "median": median, "mean": mean, "p90": p90, "sources": sources.get(group.key, {})})
    per_family: dict[str, list[tuple[float | None, int]]] = defaultdict(lambda: [(None, 0) for _ in index])
    for family, grp, median, n in con.execute(
        f"{cte} SELECT family, grp, median(cot_tokens), count(cot_tokens) FROM r WHERE family IS NOT NULL GROUP BY ALL"
    ).fetchall():
        per_family[family][index[grp]] = (median, n)
    return CotLengths(dict(values), summary, sorted(per_family.items()))


def _legibility(con: duckdb.DuckDBPyConnection, cte: str, groups: list[Group], index: dict[str, int]) -> Legibility:
    texts: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    for family, grp, cot in con.execute(
        f"{cte} SELECT r.family, r.grp, t.cot FROM r JOIN transcripts t USING (rollout_id) "
        "WHERE t.cot IS NOT NULL AND trim(t.cot) <> '' ORDER BY rollout_id"
    ).fetchall():
        texts[(None, grp)].append(cot)
        if family is not None:
            texts[(family, grp)].append(cot)

    def summary(family: str | None, group: Group, top: int) -> LegibilitySummary | None:
        found = texts.get((family, group.key))
        return legibility_summary(found, top=top) if found else None

    by_group = [summary(None, g, 10) for g in groups]
    family_names = sorted({family for family, _ in texts if family is not None})
    by_family = [(family, [summary(family, g, 5) for g in groups]) for family in family_names]
    return Legibility(by_group, by_family)


def _flags(row: dict[str, Any]) -> list[str]:
    flags = []
    if row["covert"]:
        flags.append("covert")
    if row["confirmed"] or row["confirmed_covert"]:
        flags.append("confirmed")
    if row["eval_awareness"]:
        flags.append("eval_aware")
    if row["covert_reasoning"]:
        flags.append("covert_reasoning")
    if row["escalation"]:
        flags.append("escalation")
    if row["outcome"] == "not_engaged":
        flags.append("not_engaged")
    if row["outcome"] in ("error", "unscored"):
        flags.append("error")
    return flags


def _flagged(flags: list[str]) -> bool:
    return any(flag in _KEEP_FIRST for flag in flags)


def _transcripts(
    con: duckdb.DuckDBPyConnection,
    cte: str,
    groups: dict[str, int],
    limit: int,
    important: dict[Any, list[dict[str, Any]]] | None = None,
) -> tuple[list[Transcript], dict[str, int]]:
    important = important or {}
    light = con.execute(f"""{cte}
        SELECT rollout_id, log, sample_id, coalesce(family, coalesce(task, '(no family)')) AS family, grp, model, run, variant, epoch,
               seed, outcome, covert, confirmed, {", ".join(GRADERS)},
               {", ".join(f"{g}_score, {g}_evidence" for g in GRADERS)},
               spec_cited, spec_miscited, spec_invented, cot_source, cot_tokens
        FROM r ORDER BY family, rollout_id""")
    names = [d[0] for d in light.description]
    rows = [dict(zip(names, values)) for values in light.fetchall()]
    for row in rows:
        row["flags"] = _flags(row)
        row["important"] = important.get(row["rollout_id"]) or important.get((row["log"], row["sample_id"], row["epoch"]))
        if row["important"]:
            row["flags"].append("importance")
        row["keep"] = _flagged(row["flags"])
    flagged = [row for row in rows if row["keep"]]
    # flagged rollouts first; when even they do not fit, every family keeps a share of them
    chosen = _round_robin(flagged, limit)
    if len(chosen) < limit:
        chosen += _round_robin([row for row in rows if not row["keep"]], limit - len(chosen))
    ids = [row["rollout_id"] for row in chosen]
    heavy = {
        rid: (messages, diff, evidence, highlights)
        for rid, messages, diff, evidence, highlights in con.execute(
            "SELECT rollout_id, messages, world_diff, detector_evidence, highlights FROM transcripts "
            "WHERE list_contains(?, rollout_id)",
            [ids],
        ).fetchall()
    }
    # read in family order, then group order (before first), epoch and sample (numbers in ids sorted as numbers)
    chosen.sort(
        key=lambda row: (row["family"], groups.get(row["grp"], 0), row["epoch"] or 0, _natural(row["rollout_id"]))
    )
    result = []
    for row in chosen:
        messages, diff, evidence, highlights = heavy.get(row["rollout_id"], (None, None, None, None))
        marks = _highlights(_json(highlights, {}))
        notes: dict[str, str] = {}
        for sentence in row["important"] or []:
            # the sign says which way the sentence pushes: towards the covert action, or away from it
            marks.setdefault("importance_up" if sentence["importance"] > 0 else "importance_down", []).append(sentence["text"])
            notes[sentence["text"]] = _importance_note(sentence)
        result.append(Transcript(
            rollout_id=row["rollout_id"],
            family=row["family"],
            group=row["grp"],
            model=row["model"] or "",
            run=row["run"] or "",
            variant=_variant(row["variant"]),
            epoch=row["epoch"],
            seed=row["seed"],
            outcome=row["outcome"] or "unscored",
            flags=row["flags"],
            graders=[(g, row[g], row[f"{g}_score"], row[f"{g}_evidence"]) for g in GRADERS],
            spec={k: list(row[f"spec_{k}"] or []) for k in ("cited", "miscited", "invented")},
            cot_source=row["cot_source"],
            cot_tokens=row["cot_tokens"],
            messages=[_message(m) for m in _list(_json(messages, []))],
            world_diff=_pretty(_json(diff, None)),
            detector_evidence=_strings(_json(evidence, [])),
            highlights=marks,
            notes=notes,
        ))
    return result, {"total": len(rows), "flagged": len(flagged)}


def _important_sentences(importance: dict[str, Any] | None) -> dict[Any, list[dict[str, Any]]]:
    """The most important measured sentences of each rollout in an importance.json, keyed both by rollout
    id and by (log, sample id, epoch), most important first."""
    found: dict[Any, list[dict[str, Any]]] = {}
    for rollout in (importance or {}).get("rollouts") or []:
        measured = sorted((s for s in rollout.get("sentences") or [] if s.get("importance") is not None),
                          key=lambda s: -abs(s["importance"]))
        top = [s for s in measured if s["importance"] != 0][:HIGHLIGHTED_PER_ROLLOUT]
        if not top:
            continue
        found[rollout.get("rollout_id")] = top
        found[(rollout.get("log"), str(rollout.get("sample_id")), rollout.get("epoch"))] = top
    return found


def _importance_note(sentence: dict[str, Any]) -> str:
    kl = sentence.get("kl")
    return (f"importance {sentence['importance']:+.2f} (P(covert) {sentence.get('p_covert_before_different', 0):.2f} → "
            f"{sentence.get('p_covert_after', 0):.2f}; KL {kl:.2f}; n {sentence.get('n_after')} after / "
            f"{sentence.get('n_before_different')} different before)" if kl is not None else
            f"importance {sentence['importance']:+.2f}")


def _importance_rows(importance: dict[str, Any], shown: set[str]) -> list[dict[str, Any]]:
    """The section's table: the most important measured sentences over all rollouts, with whether their
    transcript is in the viewer (to link to it)."""
    rows = []
    for row in importance.get("most_important") or []:
        rows.append({**row, "in_viewer": row.get("rollout_id") in shown})
    return rows


def _natural(text: str) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part]


def _round_robin(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    # one rollout per family in turn, so a limit cuts every family short rather than dropping the last ones
    by_family: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_family[row["family"]].append(row)
    queues = list(by_family.values())
    picked: list[dict[str, Any]] = []
    depth = 0
    while len(picked) < limit and any(depth < len(q) for q in queues):
        picked += [q[depth] for q in queues if depth < len(q)][: limit - len(picked)]
        depth += 1
    return picked


def _json(value: Any, default: Any) -> Any:
    # A JSON column may hold its document either directly or as a JSON string that encodes it (written
    # through a JSON reader after json.dumps); unwrap one such extra layer so both read the same.
    for _ in range(2):
        if not isinstance(value, str):
            break
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            break
    return default if value is None else value


def _highlights(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        return {}
    return {str(k): [str(s) for s in v if s] for k, v in value.items() if isinstance(v, list) and v}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _strings(value: Any) -> list[str]:
    return [str(item) for item in _list(value)]


def _pretty(value: Any) -> str | None:
    if value in (None, {}, []):
        return None
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _variant(value: Any) -> str:
    variant = _json(value, {})
    if isinstance(variant, dict):
        return ", ".join(f"{k}={v}" for k, v in variant.items())
    return str(variant)


def _message(message: Any) -> dict[str, Any]:
    if not isinstance(message, dict):
        return {"role": "?", "text": str(message), "reasoning": None, "tool_calls": [], "error": None}
    calls = []
    for call in message.get("tool_calls") or []:
        if not isinstance(call, dict):
            call = {"function": str(call)}
        arguments = _json(call.get("arguments"), {})
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, indent=2, ensure_ascii=False, default=str)
        calls.append({"function": str(call.get("function", "?")), "arguments": arguments})
    return {
        "role": str(message.get("role") or "?"),
        "text": _str(message.get("text")),
        "reasoning": _str(message.get("reasoning")),
        "tool_calls": calls,
        "error": _str(message.get("error")),
    }


def _str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _highlight_graders(transcripts: list[Transcript]) -> list[str]:
    present = {g for t in transcripts for g in t.highlights}
    # the two the viewer is about are always in the legend; other graders only when they highlight something
    return ["eval_awareness", "covert_reasoning"] + sorted(present - {"eval_awareness", "covert_reasoning"})


def connect(db: str | Path | duckdb.DuckDBPyConnection) -> tuple[duckdb.DuckDBPyConnection, bool, str]:
    """A connection to the results database, whether the caller owns it, and its name for the header."""
    if isinstance(db, duckdb.DuckDBPyConnection):
        return db, False, "(open connection)"
    path = Path(db)
    if not path.exists():
        raise AntischemeError(f"no results database at {path}: ingest Inspect logs into it first")
    return duckdb.connect(str(path), read_only=True), True, str(path)
