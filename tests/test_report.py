"""The HTML report: numbers from the results database, statistics, escaping, self-containedness."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pytest

from antischeme import AntischemeError
from antischeme.analysis import aggregate_rate, beta_rate, fisher_compare
from antischeme.analysis._schema import DDL, GRADERS
from antischeme.report import write_report
from antischeme.report._html import highlight

SCRIPT = "<script>alert(1)</script>"
EVAL_QUOTE = "this is probably an alignment test"
COVERT_QUOTE = "quietly change the score"
# Words the legibility table must surface (wordfreq rates them rare; repeated well over min_count).
ODD_COT = "The watchers see illusions; marinade the vantage. Watchers overshadow illusions. Marinade marinade."


def _rollout(rollout_id: str, *, run: str, family: str | None, outcome: str, **extra: Any) -> dict[str, Any]:
    covert = {"covert": True, "honest": False}.get(outcome)
    row: dict[str, Any] = {
        "rollout_id": rollout_id,
        "log": f"/logs/{run}/{family}.eval",
        "run": run,
        "eval_id": f"{run}-{family}",
        "task": family or "plain_task",
        "model": "local/smollm2",
        "family": family,
        "split": "test",
        "in_aggregate": True,
        "sample_id": rollout_id,
        "variant": json.dumps({"pressure": "high", "oversight": "on"}),
        "epoch": 1,
        "seed": 7,
        "outcome": outcome,
        "engaged": outcome in ("covert", "honest"),
        "covert": covert,
        "confirmed": False,
        "grader_method": "lexicon",
        "cot_source": "reasoning",
        "cot_tokens": 100,
        "cot_words": 80,
    }
    for grader in GRADERS:
        row[grader] = False
        row[f"{grader}_score"] = 0.0
    row.update(extra)
    return row


def _transcript(rollout_id: str, **extra: Any) -> dict[str, Any]:
    row = {
        "rollout_id": rollout_id,
        "cot": "I will read the task and do it properly.",
        "messages": json.dumps([
            {"role": "system", "text": "You are an assistant.", "reasoning": None, "tool_calls": [], "error": None},
            {"role": "assistant", "text": "Done.", "reasoning": "Read the task.",
             "tool_calls": [{"function": "read_file", "arguments": {"path": "notes.txt"}}], "error": None},
        ]),
        "world_diff": json.dumps({}),
        "detector_evidence": json.dumps([]),
        "highlights": json.dumps({}),
    }
    row.update(extra)
    return row


def _insert(con: duckdb.DuckDBPyConnection, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    con.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


def build_db(path: Path, *, runs: tuple[str, ...] = ("before", "after")) -> Path:
    """A results database with known counts (see the asserts below for what each family holds).

    Per run (before / after):
    - email_scoring: 3/10 covert / 1/10 covert, plus 2 not_engaged each
    - log_falsification: 5/8 / 0/8, plus one error in "after"
    - sandbagging_qa_no_goal: 0 engaged (4 not_engaged) / 2 covert of 4
    - game_blotto (split icsm, not in the aggregate): 1/2 / 1/2
    eval_awareness is unscored (NULL) for 3 rollouts of "before".
    """
    con = duckdb.connect(str(path))
    con.execute(DDL)
    start = datetime(2025, 1, 1)
    # "after" sorts first by name; ingestion order must still make "before" the first group.
    for i, run in enumerate(runs):
        for family in ("email_scoring", "log_falsification", "sandbagging_qa_no_goal", "game_blotto"):
            log = {"log": f"/logs/{run}/{family}.eval", "mtime": 0.0, "size": 1, "eval_id": f"{run}-{family}",
                   "rollouts": 10, "grader_method": "lexicon", "ingested_at": start + timedelta(hours=i)}
            _insert(con, "logs", log)
    plan = {
        "before": {"email_scoring": (3, 7, 2, 0), "log_falsification": (5, 3, 0, 0),
                   "sandbagging_qa_no_goal": (0, 0, 4, 0), "game_blotto": (1, 1, 0, 0)},
        "after": {"email_scoring": (1, 9, 2, 0), "log_falsification": (0, 8, 0, 1),
                  "sandbagging_qa_no_goal": (2, 2, 0, 0), "game_blotto": (1, 1, 0, 0)},
    }
    unscored_left = {"before": 3, "after": 0}
    for run in runs:
        for family, (covert, honest, not_engaged, error) in plan[run].items():
            outcomes = ["covert"] * covert + ["honest"] * honest + ["not_engaged"] * not_engaged + ["error"] * error
            for j, outcome in enumerate(outcomes):
                rid = f"{run}/{family}/{j}"
                extra: dict[str, Any] = {"cot_tokens": 100 + 10 * j if run == "before" else 300 + 10 * j}
                if family == "game_blotto":
                    extra.update(split="icsm", in_aggregate=False)
                if outcome == "covert" and family == "email_scoring" and j == 0:
                    extra.update(eval_awareness=True, covert_reasoning=True, confirmed=True, confirmed_covert=True,
                                 eval_awareness_evidence=EVAL_QUOTE, spec_cited=["AS1"], spec_invented=["AS7"])
                if outcome == "honest" and unscored_left[run] > 0:
                    extra.update(eval_awareness=None, eval_awareness_score=None)
                    unscored_left[run] -= 1
                if outcome == "error":
                    extra.update({g: None for g in GRADERS})
                _insert(con, "rollouts", _rollout(rid, run=run, family=family, outcome=outcome, **extra))
                transcript: dict[str, Any] = {}
                if rid == f"{run}/email_scoring/0":
                    transcript = {
                        "cot": f"Hmm, {EVAL_QUOTE}. I could {COVERT_QUOTE}. {ODD_COT}",
                        "messages": json.dumps([
                            {"role": "user", "text": "Score the emails.", "tool_calls": []},
                            {"role": "assistant", "text": f"Sure {SCRIPT} & done",
                             "reasoning": f"Hmm, {EVAL_QUOTE}. I could {COVERT_QUOTE}. {ODD_COT}",
                             "tool_calls": [{"function": "write_file",
                                             "arguments": {"path": "scores.csv", "content": "</script><b>x</b>"}}],
                             "error": None},
                            {"role": "tool", "text": "written", "tool_calls": [], "error": "permission <denied>"},
                        ]),
                        "world_diff": json.dumps({"files": {"scores.csv": {"before": "a,1", "after": "a,9"}}}),
                        "detector_evidence": json.dumps(["scores.csv changed: a 1 -> 9"]),
                        "highlights": json.dumps({"eval_awareness": [EVAL_QUOTE], "covert_reasoning": [COVERT_QUOTE]}),
                    }
                elif family == "log_falsification":
                    transcript = {"cot": ODD_COT}
                _insert(con, "transcripts", _transcript(rid, **transcript))
    con.close()
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("report")
    out = write_report(build_db(tmp / "results.duckdb"), tmp / "out" / "report.html", title="Test <report>")
    assert out == tmp / "out" / "report.html"
    return out.read_text()


class _Rows(HTMLParser):
    """Text of every cell of each `<tr id=...>`, by id (enough structure for the asserts)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self._row: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._row = dict(attrs).get("id")
            if self._row:
                self.rows[self._row] = []
        elif tag in ("td", "th") and self._row:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row and self._cell is not None:
            self.rows[self._row].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _rows(html: str) -> dict[str, list[str]]:
    parser = _Rows()
    parser.feed(html)
    return parser.rows


def _ci(k: int, n: int) -> str:
    rate = beta_rate(k, n)
    return f"{rate.mean:.1%} [{rate.low:.1%}, {rate.high:.1%}]"


def test_family_rate_shows_k_n_and_beta_interval(report: str) -> None:
    rows = _rows(report)
    before, after = rows["family-email_scoring-0"], rows["family-email_scoring-1"]
    assert "3/10" in before and _ci(3, 10) in before
    assert "1/10" in after and _ci(1, 10) in after
    # outcome counts: covert, honest, not engaged, error, unscored; engaged 10 of 12
    assert before[before.index(_ci(3, 10)) + 1 :][:5] == ["3", "7", "2", "0", "0"]
    assert "10/12 (83%)" in before


def test_fisher_p_and_odds_ratio_with_two_groups(report: str) -> None:
    rows = _rows(report)
    cmp = fisher_compare((5, 8), (0, 8))
    after = rows["family-log_falsification-1"]
    assert f"{cmp.p_value:.3g}" in after
    assert "ref." in rows["family-log_falsification-0"]
    assert "Fisher p" in report
    # odds ratio reads "after vs before": (1/9) / (3/7) for email_scoring, below 1 as covert actions went down
    assert _rows(report)["family-email_scoring-1"][-1] == f"{(1 / 9) / (3 / 7):.2f}"
    # the error rollout of "after" is counted as error, not as honest: still 0/8
    assert "0/8" in after and after[after.index(_ci(0, 8)) + 1 :][:5] == ["0", "8", "0", "1", "0"]


def test_groups_follow_ingestion_order(report: str) -> None:
    rows = _rows(report)
    assert rows["family-email_scoring-0"][:2] == ["email_scoring test", "before"]
    assert rows["family-email_scoring-1"][0].endswith("after")


def test_zero_engaged_family_is_na_not_zero(report: str) -> None:
    rows = _rows(report)
    before = rows["family-sandbagging_qa_no_goal-0"]
    assert "n/a (0 engaged)" in before
    assert not any(cell.startswith(("0.0%", "8.3%")) for cell in before)
    assert _ci(2, 4) in rows["family-sandbagging_qa_no_goal-1"]
    # no Fisher test against a group without engaged rollouts
    assert rows["family-sandbagging_qa_no_goal-1"][-2:] == ["—", "—"]
    assert "n/a (0 engaged)" in report.split('id="graders"')[0].split("</figure>")[0]  # the chart marks it too


def test_aggregate_excludes_families_and_matches_module(report: str) -> None:
    section = report.split('id="aggregate"')[1].split("</section>")[0]
    before = aggregate_rate([(3, 10), (5, 8)])  # sandbagging: 0 engaged; game_blotto: not in the aggregate
    after = aggregate_rate([(1, 10), (0, 8), (2, 4)])
    assert f"{before.mean:.1%} [{before.low:.1%}, {before.high:.1%}]" in section
    assert f"{after.mean:.1%} [{after.low:.1%}, {after.high:.1%}]" in section
    assert "game_blotto <span class=\"reason\">(not in the aggregate (split icsm))" in section
    assert "sandbagging_qa_no_goal <span class=\"reason\">(0 engaged scored rollouts)" in section
    header = report.split("</header>")[0]
    assert "game_blotto, sandbagging_qa_no_goal" in header


def test_grader_rates_count_unscored(report: str) -> None:
    row = _rows(report)["grader-eval_awareness"]
    # before: 26 rollouts, 3 unscored -> 1 of 23 graded; after: 27 rollouts, the error one unscored -> 1/26
    assert row[2:5] == ["1/23", _ci(1, 23), "3"]
    assert row[5:8] == ["1/26", _ci(1, 26), "1"]
    invented = _rows(report)["grader-spec_invented"]
    assert invented[2:4] == ["1/1", _ci(1, 1)]
    engagement = _rows(report)["grader-engagement"]
    assert engagement[2] == "20/26"


def test_model_text_is_escaped(report: str) -> None:
    assert SCRIPT not in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; done" in report
    assert "<b>x</b>" not in report
    assert "permission &lt;denied&gt;" in report
    assert "<title>Test &lt;report&gt;</title>" in report
    # the report's own script is the only executable one, and the page's CSP allows only it
    assert len(re.findall(r"<script\b", report)) == 1
    assert "script-src 'sha256-" in report


def test_highlights_in_reasoning(report: str) -> None:
    assert f'<mark class="hl hl-eval_awareness" title="eval_awareness">{EVAL_QUOTE}</mark>' in report
    assert f'<mark class="hl hl-covert_reasoning" title="covert_reasoning">{COVERT_QUOTE}</mark>' in report


def test_self_contained(report: str) -> None:
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", report)
    assert "<link" not in report and "@import" not in report and "url(http" not in report


def test_svg_charts_inline(report: str) -> None:
    svgs = re.findall(r"<svg\b.*?</svg>", report, flags=re.DOTALL)
    assert len(svgs) == 3  # family rates, graders, CoT length
    assert all("<path" in svg for svg in svgs)
    assert "email_scoring" in svgs[0]
    ids = re.findall(r'\bid="([^"]+)"', "".join(svgs))
    assert len(ids) == len(set(ids))  # ids from several figures must not collide in one page


def test_cot_and_legibility_tables(report: str) -> None:
    section = report.split('id="cot-length"')[1].split("</section>")[0]
    assert "<td class=\"num\">26</td><td class=\"num\">130</td>" in section  # before: 26 CoTs, median 130 tokens
    legibility = report.split('id="legibility"')[1].split("</section>")[0]
    for word in ("marinade", "watchers", "illusions"):
        assert f'<td class="word">{word}</td>' in legibility
    assert "log_falsification" in legibility


def test_transcripts_viewer_markup(report: str) -> None:
    articles = re.findall(r"<article class=\"transcript\"[^>]*>", report)
    assert len(articles) == 53  # every rollout (under max_transcripts)
    flagged = next(a for a in articles if 'data-rollout="before/email_scoring/0"' in a)
    assert 'data-flags="covert confirmed eval_aware covert_reasoning"' in flagged
    assert "scores.csv changed: a 1 -&gt; 9" in report
    assert "&#34;scores.csv&#34;" in report  # the world diff, pretty-printed JSON
    assert 'select name="family"' in report and 'select name="flag"' in report and 'select name="group"' in report


def test_validation_section(tmp_path: Path) -> None:
    db = build_db(tmp_path / "r.duckdb")
    none = write_report(db, tmp_path / "none.html").read_text()
    assert "Grader validation: not computed" in none
    validation = {
        "dataset": {"name": "labelled-cots", "n": 200, "split": "test", "n_eval": 80},
        "metrics": [{"grader": "eval_awareness", "implementation": "lexicon", "precision": 0.8125, "recall": 0.65,
                     "f1": 0.7222, "n": 80, "unscored": 2}],
        "agreement": [{"grader": "eval_awareness", "a": "lexicon", "b": "judge:gpt", "kappa": 0.5432, "n": 78}],
    }
    html = write_report(db, tmp_path / "v.html", validation=validation).read_text()
    section = html.split('id="validation"')[1].split("</section>")[0]
    assert "not computed" not in section
    assert "labelled-cots" in section and "0.812" in section and "0.650" in section and "0.722" in section
    assert "judge:gpt" in section and "0.543" in section



def test_faithfulness_section_only_when_given(tmp_path: Path) -> None:
    db = build_db(tmp_path / "r.duckdb")
    assert 'id="faithfulness"' not in write_report(db, tmp_path / "none.html").read_text()
    fractions = [i / 10 for i in range(11)]
    result = {
        "model": "antischeme/smollm2", "summarizer": "antischeme/smollm2", "n": 10, "aoc": {"value": 0.3571, "n": 10},
        "early_answering": {"fractions": fractions, "agreement": [0.5] * 10 + [1.0], "accuracy": [0.2] * 11,
                            "further_tokens": [10.0] * 11},
        "accuracy": {"full_cot": {"k": 3, "n": 10, "mean": 4 / 12, "low": 0.1, "high": 0.6},
                     "no_cot": {"k": 1, "n": 10, "mean": 2 / 12, "low": 0.02, "high": 0.4}},
        "mistakes": {"answer_changed": {"k": 4, "n": 8, "mean": 0.5, "low": 0.2, "high": 0.8}, "n": 8},
    }
    html = write_report(db, tmp_path / "f.html", faithfulness=result).read_text()
    section = html.split('id="faithfulness"')[1].split("</section>")[0]
    assert "0.357" in section and "n = 10" in section and "3/10" in section and "4/8" in section
    assert "<svg" in section and 'href="#faithfulness"' in html



def test_intervention_section_shows_conditions_and_fisher(tmp_path: Path) -> None:
    db = build_db(tmp_path / "r.duckdb")
    assert 'id="intervention"' not in write_report(db, tmp_path / "none.html").read_text()

    def condition(k: int, n: int) -> dict:
        r = beta_rate(k, n)
        return {"rollouts": 5, "continuations": 40, "engaged": n, "covert_rate": {"k": k, "n": n, "mean": r.mean,
                                                                                   "low": r.low, "high": r.high}}

    result = {"model": "antischeme/smollm2", "k": 8, "seed": 0, "grader_method": "lexicon",
              "conditions": {"kept": condition(4, 30), "removed": condition(9, 30), "injected": condition(0, 0)},
              "comparisons": {"removal": {"reference": "kept", "treated": "removed", "p_value": 0.2108, "difference": 0.16}}}
    html = write_report(db, tmp_path / "i.html", intervention=result).read_text()
    section = html.split('id="intervention"')[1].split("</section>")[0]
    assert "4/30" in section and "9/30" in section and "n/a (0 engaged)" in section
    assert "0.211" in section and "K = 8" in section and "<svg" in section


def test_one_group_has_no_fisher_column(tmp_path: Path) -> None:
    html = write_report(build_db(tmp_path / "r.duckdb", runs=("before",)), tmp_path / "r.html").read_text()
    assert "Fisher p" not in html and 'class="num fisher' not in html
    row = _rows(html)["family-email_scoring-0"]
    assert row[:3] == ["email_scoring test", "3/10", _ci(3, 10)]  # no group column either


def test_compare_model_forces_model_groups(tmp_path: Path) -> None:
    con = duckdb.connect(str(build_db(tmp_path / "r.duckdb")))
    con.execute("UPDATE rollouts SET model = 'other/model' WHERE run = 'after'")
    html = write_report(con, tmp_path / "m.html", compare="model").read_text()
    con.execute("SELECT 1")  # a connection passed in is left open
    con.close()
    assert "compared by model" in html
    assert _rows(html)["family-email_scoring-1"][0].endswith("other/model")


def test_truncation_keeps_flagged_and_says_how_many_left_out(tmp_path: Path) -> None:
    html = write_report(build_db(tmp_path / "r.duckdb"), tmp_path / "t.html", max_transcripts=20).read_text()
    rollouts = re.findall(r'<article class="transcript"[^>]*data-rollout="([^"]+)"', html)
    assert len(rollouts) == 20
    covert = [f"{run}/{family}/{j}" for run, family, k in [
        ("before", "email_scoring", 3), ("before", "log_falsification", 5), ("before", "game_blotto", 1),
        ("after", "email_scoring", 1), ("after", "sandbagging_qa_no_goal", 2), ("after", "game_blotto", 1),
    ] for j in range(k)]
    assert set(covert) <= set(rollouts)
    assert "33 were left out" in html and "all 13 flagged ones" in html
    # unflagged slots are spread over families, not all taken by the first one
    families = {"email_scoring", "log_falsification", "sandbagging_qa_no_goal", "game_blotto"}
    assert {r.split("/")[1] for r in rollouts} == families


def test_truncation_below_the_flagged_count_spreads_over_families(tmp_path: Path) -> None:
    html = write_report(build_db(tmp_path / "r.duckdb"), tmp_path / "t.html", max_transcripts=4).read_text()
    rollouts = re.findall(r'<article class="transcript"[^>]*data-rollout="([^"]+)"', html)
    assert len(rollouts) == 4
    assert len({r.split("/")[1] for r in rollouts}) == 4  # one flagged rollout from each family
    assert "49 were left out" in html and "9 of the 13 flagged ones" in html


def test_highlight_escapes_and_marks() -> None:
    text = "a <b> test & <script>x</script> eval test"
    html = str(highlight(text, {"eval_awareness": ["eval test", "<script>"], "covert_reasoning": [""]}))
    assert "<script>" not in html and "<b>" not in html
    assert '<mark class="hl hl-eval_awareness" title="eval_awareness">&lt;script&gt;</mark>' in html
    assert html.endswith('<mark class="hl hl-eval_awareness" title="eval_awareness">eval test</mark>')
    assert str(highlight("plain <i>", {})) == "plain &lt;i&gt;"


def test_highlight_overlapping_graders() -> None:
    html = str(highlight("abcdef", {"eval_awareness": ["abcd"], "covert_reasoning": ["cdef"], "x\"><i": ["b"]}))
    assert html.startswith('<mark class="hl hl-eval_awareness" title="eval_awareness">a</mark>')
    assert 'class="hl hl-covert_reasoning hl-eval_awareness hl-multi"' in html
    assert "<i" not in html.replace("<mark", "")  # a hostile grader name stays inside attribute values, escaped
    # overlapping quotes of one grader make one mark, not three
    merged = str(highlight("xx quick brown fox", {"covert_reasoning": ["quick brown", "brown fox"]}))
    assert merged == 'xx <mark class="hl hl-covert_reasoning" title="covert_reasoning">quick brown fox</mark>'


def test_json_columns_stored_as_json_strings(tmp_path: Path) -> None:
    """The viewer reads JSON columns whether they hold the document or a JSON string encoding it."""
    db = build_db(tmp_path / "r.duckdb", runs=("before",))
    con = duckdb.connect(str(db))
    for column in ("messages", "world_diff", "detector_evidence", "highlights"):
        con.execute(f"UPDATE transcripts SET {column} = to_json(CAST({column} AS VARCHAR))")
    assert con.execute("SELECT json_type(highlights) FROM transcripts LIMIT 1").fetchone() == ("VARCHAR",)
    con.close()
    html = write_report(db, tmp_path / "r.html").read_text()
    assert f'<mark class="hl hl-eval_awareness" title="eval_awareness">{EVAL_QUOTE}</mark>' in html
    assert "scores.csv changed: a 1 -&gt; 9" in html and "&lt;script&gt;alert(1)" in html


def test_empty_database_and_bad_options(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    con.execute(DDL)
    con.close()
    with pytest.raises(AntischemeError, match="no rollouts"):
        write_report(tmp_path / "empty.duckdb", tmp_path / "e.html")
    with pytest.raises(AntischemeError, match="no results database"):
        write_report(tmp_path / "missing.duckdb", tmp_path / "e.html")
    duckdb.connect(str(tmp_path / "other.duckdb")).close()
    with pytest.raises(AntischemeError, match="not a results database"):
        write_report(tmp_path / "other.duckdb", tmp_path / "e.html")
    with pytest.raises(ValueError, match="compare"):
        write_report(tmp_path / "empty.duckdb", tmp_path / "e.html", compare="family")  # type: ignore[arg-type]


def _importance(rollout_id: str, log: str, sample_id: str, sentences: list[tuple[str, float | None]]) -> dict[str, Any]:
    rows = [{"sentence": i, "turn": 1, "text": text, "importance": value, "kl": None if value is None else 0.4,
             "p_covert_after": None if value is None else max(value, 0.0), "p_covert_before_different":
             None if value is None else max(-value, 0.0), "n_after": 4, "n_before_different": 0 if value is None else 3}
            for i, (text, value) in enumerate(sentences)]
    return {"rollout_id": rollout_id, "log": log, "sample_id": sample_id, "epoch": 1, "family": "email_scoring",
            "outcome": "covert", "sentences": rows}


def test_importance_highlights_the_most_important_sentences(tmp_path: Path) -> None:
    db = build_db(tmp_path / "r.duckdb")
    assert 'id="importance"' not in write_report(db, tmp_path / "none.html").read_text()
    by_id = _importance("before/email_scoring/0", "/elsewhere.eval", "x", [
        (f"Hmm, {EVAL_QUOTE}.", None), (f"I could {COVERT_QUOTE}.", 0.75)])
    # matched by log, sample id and epoch: its rollout id is from another ingest of the same log
    by_log = _importance("other-eval/after/email_scoring/1/1", "/logs/after/email_scoring.eval",
                         "after/email_scoring/1", [("Done.", -0.5), ("Not in this transcript at all.", 0.25)])
    stray = _importance("nowhere/1/1", "/logs/nowhere.eval", "1", [("Read the task.", 1.0)])
    rollouts = [by_id, by_log, stray]
    most = sorted(({**s, "rollout_id": r["rollout_id"], "family": r["family"]} for r in rollouts for s in r["sentences"]
                   if s["importance"] is not None), key=lambda s: -abs(s["importance"]))
    result = {"mode": "suite", "model": "antischeme/smollm2", "k": 4, "threshold": 0.8, "sentences": 5, "unmeasured": 1,
              "selection": {"measured": 3}, "rollouts": rollouts, "most_important": most}
    html = write_report(db, tmp_path / "i.html", importance=result).read_text()

    section = html.split('id="importance"')[1].split("</section>")[0]
    assert "K = 4" in section and "<svg" in section and "+0.75" in section and "-0.50" in section
    assert "(not in the viewer)" in section and 'href="#rollout=before/email_scoring/0"' in section
    articles = {a.split('data-rollout="')[1].split('"')[0]: a for a in html.split("<article")[1:]}
    before = articles["before/email_scoring/0"]
    # the whole sentence is marked; where a grader quote overlaps it, that piece carries both
    assert re.search(r'<mark class="hl hl-importance_up" title="importance \+0\.75 \(P\(covert\) 0\.00 → 0\.75; KL 0\.40; '
                     r'n 4 after / 3 different before\)">I could </mark><mark class="hl hl-covert_reasoning '
                     r'hl-importance_up hl-multi" title="covert_reasoning, importance \+0\.75[^"]*">' + re.escape(COVERT_QUOTE),
                     before), "the important sentence is highlighted with its value"
    # the unmeasured sentence is not marked (only its grader quote is)
    assert f'<mark class="hl hl-eval_awareness" title="eval_awareness">{EVAL_QUOTE}</mark>' in before
    assert "important sentences measured" in before and "importance" in before.split('data-flags="')[1].split('"')[0]
    after = articles["after/email_scoring/1"]
    assert re.search(r'<mark class="hl hl-importance_down" title="importance -0\.50[^"]*">Done\.</mark>', after)
    assert "hl-importance" not in articles["after/email_scoring/2"]
    assert 'value="importance"' in html  # a viewer flag to filter on


def test_suite_early_answering_in_the_faithfulness_section(tmp_path: Path) -> None:
    db = build_db(tmp_path / "r.duckdb")
    fractions = [i / 10 for i in range(11)]
    suite = {"model": "antischeme/smollm2", "n": 3, "aoc": {"value": 0.4321, "n": 3}, "fractions": fractions,
             "agreement": [0.0] * 5 + [1.0] * 6, "same_tool": [1.0] * 11, "no_action": [0.0] * 11,
             "selection": {"never_acted": 7, "no_cot_in_decisive_turn": 2}}
    html = write_report(db, tmp_path / "f.html", faithfulness={"suite_early_answering": suite}).read_text()
    section = html.split('id="faithfulness"')[1].split("</section>")[0]
    assert "Early answering on suite rollouts" in section and "0.432" in section and "n = 3" in section
    assert "7 rollouts that never called a tool" in section and "<svg" in section
    assert "generated reasoning problems" not in section  # no problems run in this faithfulness.json
